//! The companion's cookies: HttpOnly, Path=/, no Domain (RFC 10017
//! §6.1.3.2 "Cookie Security"; RFC 6265bis §4.1.3.2), in two scopes:
//! - the app's own pages: `SameSite=Strict`, with `Secure` and the `__Host-` prefix when the app
//!   is served over https;
//! - the walkthrough framed by a documentation site (`/embed`, whose calls carry
//!   [`EMBED_HEADER`]): `Secure; SameSite=None; Partitioned` (CHIPS), so that the browser keys
//!   them to the documentation site and sends them in the frame even when it blocks third-party
//!   cookies. They have names of their own, so a frame on the companion's own site never reads
//!   the page's cookies or the reverse.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use contract::wire::{EMBED_HEADER, EMBED_HEADER_VALUE, EMBED_QUERY_PARAMETER};
use cookie::time::Duration;

use crate::AppState;

/// The session cookie (the key to server-side tokens).
pub const SESSION: &str = "session";
/// The prefix of the sign-in attempt cookies (each binds one state + challenge to this browser).
pub const ATTEMPT: &str = "attempt";

/// Which cookies a request reads and sets: the app page's or the embedded frame's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// The app is served over https (`Secure` and `__Host-` for the page's cookies).
    pub secure: bool,
    /// The request comes from the `/embed` frame.
    pub frame: bool,
}

impl FromRequestParts<AppState> for Scope {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let frame = parts.headers.get(EMBED_HEADER).is_some_and(|v| v == EMBED_HEADER_VALUE)
            || (parts.method == axum::http::Method::GET
                && parts.extensions.get::<FrameByQuery>().is_some()
                && names_frame_in_query(parts.uri.query()));
        Ok(Self {
            secure: state.config.secure_cookies(),
            frame,
        })
    }
}

/// Marks a route whose GET may name the frame's cookies by its query (`?embed=frame`): a
/// download link, which cannot carry [`EMBED_HEADER`]. Only read-only routes get it (the
/// transcript as HAR): any other request with only the frame's cookies and no header (an
/// `<img>` on a page of the documentation site) reads nothing of the frame's session and
/// changes nothing (RFC 10017 on CSRF: state changes need the custom header).
#[derive(Debug, Clone, Copy)]
pub struct FrameByQuery;

/// Whether a query says `embed=frame`. Only for GET on a [`FrameByQuery`] route, which changes
/// nothing: the query picks which of this browser's own cookies are read, and the browser still
/// decides which it sends.
fn names_frame_in_query(query: Option<&str>) -> bool {
    query.is_some_and(|q| {
        form_urlencoded::parse(q.as_bytes()).any(|(n, v)| n == EMBED_QUERY_PARAMETER && v == EMBED_HEADER_VALUE)
    })
}

impl Scope {
    /// The cookie's name as set: `pleo_walkthrough_` (the frame's: `pleo_walkthrough_embed_`)
    /// and `base`, `__Host-` prefixed over https.
    pub fn name(self, base: &str) -> String {
        let host = if self.secure { "__Host-" } else { "" };
        let scope = if self.frame { "embed_" } else { "" };
        format!("{host}pleo_walkthrough_{scope}{base}")
    }

    /// Cookie `base` with the attributes every cookie of this scope has.
    fn built(self, base: &str, value: String) -> cookie::CookieBuilder<'static> {
        let cookie = Cookie::build((self.name(base), value)).http_only(true).path("/");
        if self.frame {
            // CHIPS: a third-party cookie the browser keeps per top-level site.
            cookie.same_site(SameSite::None).secure(true).partitioned(true)
        } else {
            cookie.same_site(SameSite::Strict).secure(self.secure)
        }
    }

    /// `jar` with cookie `base` set to `value` for `max_age_secs`.
    pub fn set(self, jar: CookieJar, base: &str, value: String, max_age_secs: i64) -> CookieJar {
        jar.add(self.built(base, value).max_age(Duration::seconds(max_age_secs)).build())
    }

    /// `jar` with cookie `base` removed in the browser: the same attributes as when it was set
    /// (a `__Host-` cookie is only replaced by one that is `Secure` with `Path=/`, RFC 6265bis
    /// §4.1.3.2; a partitioned one only by one in the same partition), an empty value and an
    /// expiry in the past.
    pub fn clear(self, jar: CookieJar, base: &str) -> CookieJar {
        jar.remove(self.built(base, String::new()).build())
    }

    /// The value of cookie `base`, if the browser sent it.
    pub fn get(self, jar: &CookieJar, base: &str) -> Option<String> {
        jar.get(&self.name(base)).map(|c| c.value().to_owned())
    }

    /// The attempt cookies the browser sent, as (base name, attempt id).
    pub fn attempts(self, jar: &CookieJar) -> Vec<(String, String)> {
        let prefix = self.name(&format!("{ATTEMPT}_"));
        jar.iter()
            .filter_map(|cookie| {
                let unprefixed = cookie.name().strip_prefix(&prefix)?;
                Some((format!("{ATTEMPT}_{unprefixed}"), cookie.value().to_owned()))
            })
            .collect()
    }
}

/// The base name of the cookie of the sign-in attempt whose state is `state`: `attempt_` and 8
/// hex digits of the state's SHA-256. One cookie per attempt, so two tabs that start at once
/// each set their own (with one shared cookie, the second answer's Set-Cookie dropped the first
/// tab's attempt).
pub fn attempt_name(state: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(state.as_bytes());
    format!(
        "{ATTEMPT}_{}",
        digest.iter().take(4).map(|b| format!("{b:02x}")).collect::<String>()
    )
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

    fn scopes() -> [Scope; 4] {
        [(false, false), (true, false), (false, true), (true, true)].map(|(secure, frame)| Scope { secure, frame })
    }

    /// RFC 6265bis §4.1.3.2: a browser ignores a `__Host-` cookie without `Secure`, so a
    /// removal without it left the session cookie in place over https; CHIPS: a removal without
    /// `Partitioned` does not reach the partitioned cookie.
    #[test]
    fn a_removal_cookie_has_the_attributes_of_the_cookie_it_removes() {
        for scope in scopes() {
            // The browser sent the cookie: only then is there one to remove.
            let mut sent = axum::http::HeaderMap::new();
            sent.insert(
                axum::http::header::COOKIE,
                format!("{}=v", scope.name(SESSION)).parse().unwrap(),
            );
            let removal = set_cookie_header(scope.clear(CookieJar::from_headers(&sent), SESSION));
            let original = set_cookie_header(scope.set(CookieJar::new(), SESSION, "v".into(), 60));
            let same_site = if scope.frame {
                "SameSite=None"
            } else {
                "SameSite=Strict"
            };
            for attribute in ["HttpOnly", same_site, "Path=/"] {
                assert!(
                    removal.contains(attribute) && original.contains(attribute),
                    "{removal} / {original}"
                );
            }
            for header in [&removal, &original] {
                assert_eq!(header.contains("; Secure"), scope.secure || scope.frame, "{header}");
                assert_eq!(header.contains("; Partitioned"), scope.frame, "{header}");
                assert_eq!(header.starts_with("__Host-"), scope.secure, "{header}");
            }
            assert!(
                removal.contains("Max-Age=0") || removal.contains("Expires="),
                "{removal}"
            );
        }
    }

    #[test]
    fn the_frame_and_the_page_never_share_a_cookie_name() {
        let page = Scope {
            secure: false,
            frame: false,
        };
        let frame = Scope {
            secure: false,
            frame: true,
        };
        assert_eq!(page.name(SESSION), "pleo_walkthrough_session");
        assert_eq!(frame.name(SESSION), "pleo_walkthrough_embed_session");
        let mut sent = axum::http::HeaderMap::new();
        let attempt = attempt_name("some-state");
        sent.insert(
            axum::http::header::COOKIE,
            format!("{}=page; {}=frame", page.name(&attempt), frame.name(&attempt))
                .parse()
                .unwrap(),
        );
        let jar = CookieJar::from_headers(&sent);
        assert_eq!(page.attempts(&jar), [(attempt.clone(), "page".to_owned())]);
        assert_eq!(frame.attempts(&jar), [(attempt, "frame".to_owned())]);
    }
}
