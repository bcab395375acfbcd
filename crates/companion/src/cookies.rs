//! The companion's cookies: HttpOnly, SameSite=Strict, Path=/, no Domain; `Secure` and the
//! `__Host-` prefix when the app is served over https (draft-ietf-oauth-browser-based-apps
//! §6.1.3.2 "Cookie Security"; RFC 6265bis §4.1.3.2).

use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use cookie::time::Duration;

/// The session cookie (the key to server-side tokens).
pub const SESSION: &str = "pleo_walkthrough_session";
/// The sign-in attempt cookie (binds state + challenge to this browser).
pub const ATTEMPT: &str = "pleo_walkthrough_attempt";

/// The cookie's name as set: `__Host-` prefixed over https.
pub fn name(base: &'static str, secure: bool) -> String {
    if secure { format!("__Host-{base}") } else { base.to_owned() }
}

/// `jar` with cookie `base` set to `value` for `max_age_secs`.
pub fn set(jar: CookieJar, base: &'static str, value: String, max_age_secs: i64, secure: bool) -> CookieJar {
    let cookie = Cookie::build((name(base, secure), value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .secure(secure)
        .max_age(Duration::seconds(max_age_secs))
        .build();
    jar.add(cookie)
}

/// `jar` with cookie `base` removed in the browser.
pub fn clear(jar: CookieJar, base: &'static str, secure: bool) -> CookieJar {
    jar.remove(Cookie::build((name(base, secure), "")).path("/").build())
}

/// The value of cookie `base`, if the browser sent it.
pub fn get(jar: &CookieJar, base: &'static str, secure: bool) -> Option<String> {
    jar.get(&name(base, secure)).map(|c| c.value().to_owned())
}
