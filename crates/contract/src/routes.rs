//! The browser <-> companion routes: one table that the companion's router, the app's API client
//! and the sequence diagram read (docs/architecture.md, "The browser <-> companion API").
//! Templates are axum's: `{name}` is one segment, `{*name}` the rest of the path.

use crate::prelude::*;

/// Where the companion's API lives; every [`Route`] is under it.
pub const API_PREFIX: &str = "/api";

/// The page the authorisation server sends the reader back to (the redirect URI's path).
pub const CALLBACK_PATH: &str = "/callback";

/// The page a documentation site frames: the walkthrough embedded.
pub const EMBED_PATH: &str = "/embed";

/// One route of the companion's `/api`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET`: the public settings.
    Config,
    /// `GET`: step 1's Postman export (`collection` or `environment`).
    Postman,
    /// `POST`: binds a sign-in attempt to this browser.
    AuthorizeStart,
    /// `POST`: the code exchange.
    Token,
    /// `GET`: signed in or not.
    Session,
    /// `POST`: refresh now.
    Refresh,
    /// `POST`: sign out (and disconnect).
    Logout,
    /// Any method: the allow-listed API proxy.
    Pleo,
    /// `GET`: the session's server-side exchanges.
    Transcript,
    /// `GET`: the transcript as an HTTP Archive.
    TranscriptHar,
    /// `GET`: one exchange as a snippet.
    TranscriptSnippet,
    /// `POST`: a pop-up hands its callback over.
    Handoff,
    /// `POST`: the frame takes the handed-over callback.
    HandoffTake,
    /// `POST` sets the frame's probe cookie, `GET` says whether it came back.
    CookieCheck,
    /// `GET`: the documentation page the full page may lead back to.
    WayBack,
    /// `POST`: a fault knob (local only).
    Faults,
}

impl Route {
    /// Every route, in the order the router lists them.
    pub const ALL: [Self; 16] = [
        Self::Config,
        Self::Postman,
        Self::AuthorizeStart,
        Self::Token,
        Self::Session,
        Self::Refresh,
        Self::Logout,
        Self::Pleo,
        Self::Transcript,
        Self::TranscriptHar,
        Self::TranscriptSnippet,
        Self::Handoff,
        Self::HandoffTake,
        Self::CookieCheck,
        Self::WayBack,
        Self::Faults,
    ];

    /// The template under [`API_PREFIX`], as the companion's router is given it.
    pub const fn template(self) -> &'static str {
        match self {
            Self::Config => "/config",
            Self::Postman => "/postman/{file}",
            Self::AuthorizeStart => "/authorize/start",
            Self::Token => "/token",
            Self::Session => "/session",
            Self::Refresh => "/refresh",
            Self::Logout => "/logout",
            Self::Pleo => "/pleo/{*path}",
            Self::Transcript => "/transcript",
            Self::TranscriptHar => "/transcript/har",
            Self::TranscriptSnippet => "/transcript/{entry}/as/{language}",
            Self::Handoff => "/embed/handoff",
            Self::HandoffTake => "/embed/handoff/take",
            Self::CookieCheck => "/embed/cookie-check",
            Self::WayBack => "/embed/way-back",
            Self::Faults => "/faults/{knob}",
        }
    }

    /// The path the browser calls, `/api` and the template with `params` in its placeholders,
    /// in order (a `{*rest}` placeholder takes its value without a leading `/`).
    pub fn path(self, params: &[&str]) -> String {
        let mut path = String::from(API_PREFIX);
        let mut params = params.iter();
        for segment in self.template().split('/').skip(1) {
            path.push('/');
            if segment.starts_with('{') {
                path.push_str(params.next().map_or("", |p| p.trim_start_matches('/')));
            } else {
                path.push_str(segment);
            }
        }
        path
    }

    /// The route a browser path names (its query, if any, aside), if any: the template that
    /// matches it segment by segment.
    pub fn of_path(path: &str) -> Option<Self> {
        let path = path.split_once('?').map_or(path, |(path, _)| path);
        let rest = path.strip_prefix(API_PREFIX)?;
        let segments: Vec<&str> = rest.split('/').skip(1).collect();
        Self::ALL.into_iter().find(|route| {
            let template: Vec<&str> = route.template().split('/').skip(1).collect();
            let mut given = segments.iter();
            for part in &template {
                if part.starts_with("{*") {
                    return given.next().is_some_and(|s| !s.is_empty());
                }
                match given.next() {
                    Some(s) if part.starts_with('{') && !s.is_empty() => {}
                    Some(s) if s == part => {}
                    _ => return false,
                }
            }
            given.next().is_none()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_the_templates_filled_in() {
        assert_eq!(Route::Token.path(&[]), "/api/token");
        assert_eq!(Route::Postman.path(&["collection"]), "/api/postman/collection");
        assert_eq!(Route::Pleo.path(&["/v2/employees"]), "/api/pleo/v2/employees");
        assert_eq!(
            Route::TranscriptSnippet.path(&["abc", "curl"]),
            "/api/transcript/abc/as/curl"
        );
        assert_eq!(Route::Faults.path(&["clock"]), "/api/faults/clock");
    }

    #[test]
    fn every_route_is_found_again_by_its_path_and_nothing_else_is() {
        let example = |route: Route| match route {
            Route::Pleo => route.path(&["v2/employees/1"]),
            other => other.path(&["x", "y"]),
        };
        for route in Route::ALL {
            assert_eq!(Route::of_path(&example(route)), Some(route), "{route:?}");
        }
        assert_eq!(Route::of_path("/api/transcript/har"), Some(Route::TranscriptHar));
        assert_eq!(
            Route::of_path("/api/pleo/v2/employees?limit=5"),
            Some(Route::Pleo),
            "the query aside"
        );
        for other in [
            "/api",
            "/api/",
            "/api/nothing",
            "/api/token/x",
            "/api/pleo/",
            "/callback",
            "/token",
        ] {
            assert_eq!(Route::of_path(other), None, "{other}");
        }
    }
}
