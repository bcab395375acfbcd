//! The companion's cookies: HttpOnly, SameSite=Strict, Path=/, no Domain; `Secure` and the
//! `__Host-` prefix when the app is served over https (draft-ietf-oauth-browser-based-apps
//! §6.1.3.2 "Cookie Security"; RFC 6265bis §4.1.3.2).

use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use cookie::time::Duration;

/// The session cookie (the key to server-side tokens).
pub const SESSION: &str = "pleo_walkthrough_session";
/// The prefix of the sign-in attempt cookies (each binds one state + challenge to this browser).
pub const ATTEMPT: &str = "pleo_walkthrough_attempt";

/// The cookie of the sign-in attempt whose state is `state`: `ATTEMPT_` and 8 hex digits of the
/// state's SHA-256. One cookie per attempt, so two tabs that start at once each set their own
/// (with one shared cookie, the second answer's Set-Cookie dropped the first tab's attempt).
pub fn attempt_name(state: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(state.as_bytes());
    format!(
        "{ATTEMPT}_{}",
        digest.iter().take(4).map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// The attempt cookies the browser sent, as (name without prefix, attempt id).
pub fn attempts(jar: &CookieJar, secure: bool) -> Vec<(String, String)> {
    let prefix = name(&format!("{ATTEMPT}_"), secure);
    jar.iter()
        .filter_map(|cookie| {
            let unprefixed = cookie.name().strip_prefix(&prefix)?;
            Some((format!("{ATTEMPT}_{unprefixed}"), cookie.value().to_owned()))
        })
        .collect()
}

/// The cookie's name as set: `__Host-` prefixed over https.
pub fn name(base: &str, secure: bool) -> String {
    if secure {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

/// `jar` with cookie `base` set to `value` for `max_age_secs`.
pub fn set(jar: CookieJar, base: &str, value: String, max_age_secs: i64, secure: bool) -> CookieJar {
    jar.add(
        built(base, value, secure)
            .max_age(Duration::seconds(max_age_secs))
            .build(),
    )
}

/// `jar` with cookie `base` removed in the browser: the same attributes as when it was set (a
/// `__Host-` cookie is only replaced by one that is `Secure` with `Path=/`, RFC 6265bis
/// §4.1.3.2), an empty value and an expiry in the past.
pub fn clear(jar: CookieJar, base: &str, secure: bool) -> CookieJar {
    jar.remove(built(base, String::new(), secure).build())
}

/// Cookie `base` with the attributes every companion cookie has.
fn built(base: &str, value: String, secure: bool) -> cookie::CookieBuilder<'static> {
    Cookie::build((name(base, secure), value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .secure(secure)
}

/// The value of cookie `base`, if the browser sent it.
pub fn get(jar: &CookieJar, base: &str, secure: bool) -> Option<String> {
    jar.get(&name(base, secure)).map(|c| c.value().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_cookie_header(jar: CookieJar) -> String {
        use axum::response::IntoResponse as _;
        let response = jar.into_response();
        response.headers()[axum::http::header::SET_COOKIE]
            .to_str()
            .unwrap()
            .to_owned()
    }

    /// RFC 6265bis §4.1.3.2: a browser ignores a `__Host-` cookie without `Secure`, so a
    /// removal without it left the session cookie in place over https.
    #[test]
    fn a_removal_cookie_has_the_attributes_of_the_cookie_it_removes() {
        for secure in [false, true] {
            // The browser sent the cookie: only then is there one to remove.
            let mut sent = axum::http::HeaderMap::new();
            sent.insert(
                axum::http::header::COOKIE,
                format!("{}=v", name(SESSION, secure)).parse().unwrap(),
            );
            let removal = set_cookie_header(clear(CookieJar::from_headers(&sent), SESSION, secure));
            let original = set_cookie_header(set(CookieJar::new(), SESSION, "v".into(), 60, secure));
            for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
                assert!(
                    removal.contains(attribute) && original.contains(attribute),
                    "{removal} / {original}"
                );
            }
            assert_eq!(removal.contains("; Secure"), secure, "{removal}");
            assert_eq!(removal.starts_with("__Host-"), secure, "{removal}");
            assert!(
                removal.contains("Max-Age=0") || removal.contains("Expires="),
                "{removal}"
            );
        }
    }
}
