//! The authorization request (RFC 6749 §4.1.1 with RFC 7636 §4.3).

use crate::prelude::*;
use alloc::borrow::Cow;
use core::net::Ipv4Addr;

use crate::ErrorCode;
use contract::wire::{AuthorizeStart, PublicConfig};

/// The authorize endpoint of an authorisation server base URL: base +
/// [`contract::oauth::AUTHORIZE_PATH`].
pub fn authorize_endpoint(base: &str) -> String {
    format!("{}{}", base.trim_end_matches('/'), contract::oauth::AUTHORIZE_PATH)
}

/// The token endpoint of an authorisation server base URL: base + [`contract::oauth::TOKEN_PATH`].
pub fn token_endpoint(base: &str) -> String {
    format!("{}{}", base.trim_end_matches('/'), contract::oauth::TOKEN_PATH)
}

/// `POST /api/authorize/start`'s body: the attempt's state and S256 challenge (RFC 7636 §4.3),
/// which the companion binds to this browser before the redirect.
pub fn start_request(state: &str, code_challenge: &str) -> AuthorizeStart {
    AuthorizeStart {
        state: state.to_owned(),
        code_challenge: code_challenge.to_owned(),
        code_challenge_method: pkce::CodeChallenge::METHOD.to_owned(),
    }
}

/// Everything that goes into the authorize redirect. Built by the app, one per attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest<'a> {
    /// The authorize endpoint, e.g. `https://auth.staging.pleo.io/oauth/authorize`.
    pub endpoint: &'a str,
    /// The registered client ID.
    pub client_id: &'a str,
    /// The registered redirect URI, matched exactly by the server.
    pub redirect_uri: &'a str,
    /// Scopes, sent space-separated (RFC 6749 §3.3).
    pub scopes: &'a [String],
    /// The CSRF-binding state value (RFC 6749 §10.12).
    pub state: &'a str,
    /// The S256 code challenge (RFC 7636 §4.2).
    pub code_challenge: &'a str,
}

impl<'a> AuthorizeRequest<'a> {
    /// The request for the client `config` describes (`GET /api/config`), with this attempt's
    /// state and S256 challenge.
    pub fn for_config(config: &'a PublicConfig, state: &'a str, code_challenge: &'a str) -> Self {
        Self {
            endpoint: &config.authorize_url,
            client_id: &config.client_id,
            redirect_uri: &config.redirect_uri,
            scopes: &config.scopes,
            state,
            code_challenge,
        }
    }

    /// The ordered query parameters of the request (RFC 6749 §4.1.1, RFC 7636 §4.3).
    pub fn parameters(&self) -> [(&'static str, Cow<'a, str>); 7] {
        [
            ("response_type", Cow::Borrowed("code")),
            ("client_id", Cow::Borrowed(self.client_id)),
            ("redirect_uri", Cow::Borrowed(self.redirect_uri)),
            ("scope", Cow::Owned(space_separated(self.scopes))),
            ("state", Cow::Borrowed(self.state)),
            ("code_challenge", Cow::Borrowed(self.code_challenge)),
            ("code_challenge_method", Cow::Borrowed(pkce::CodeChallenge::METHOD)),
        ]
    }

    /// The full URL to navigate to, every parameter form-encoded (RFC 6749 Appendix B).
    ///
    /// Refuses an endpoint that is not http(s) or that has a fragment (RFC 6749 §3.1), and
    /// plain http anywhere but loopback (RFC 9700 §2.6: TLS for all OAuth traffic). Every
    /// refusal is [`ErrorCode::ConfigInvalid`].
    pub fn url(&self) -> Result<String, ErrorCode> {
        check_endpoint(self.endpoint)?;
        if self.client_id.is_empty() {
            return Err(ErrorCode::ConfigInvalid);
        }
        let parameters = self.parameters();
        let mut url = String::from(self.endpoint);
        // RFC 6749 §3.1: the endpoint's own query is kept, and no parameter may appear twice.
        let query_start = match self.endpoint.split_once('?') {
            Some((path, own)) => {
                if form_urlencoded::parse(own.as_bytes())
                    .any(|(name, _)| parameters.iter().any(|(ours, _)| *ours == name))
                {
                    return Err(ErrorCode::ConfigInvalid);
                }
                path.len() + 1
            }
            None => {
                url.push('?');
                url.len()
            }
        };
        let mut query = form_urlencoded::Serializer::for_suffix(url, query_start);
        query.extend_pairs(parameters);
        Ok(query.finish())
    }
}

/// Scope tokens joined by single spaces (RFC 6749 §3.3). The same as `scopes.join(" ")`, without
/// the generic code `join` brings into the JavaScript package's WebAssembly (0.2 KB gzipped).
fn space_separated(scopes: &[String]) -> String {
    let mut joined = String::new();
    for (i, scope) in scopes.iter().enumerate() {
        if i > 0 {
            joined.push(' ');
        }
        joined.push_str(scope);
    }
    joined
}

/// Whether `url` is an endpoint OAuth traffic may go to: https, or http on a loopback host.
///
/// A URI is printable ASCII (RFC 3986 §2): whitespace, control and non-ASCII characters are
/// refused (a host outside ASCII is written in its punycode form), as is a fragment (RFC 6749
/// §3.1).
///
/// Userinfo (`user:password@`) is refused: `http://127.0.0.1:1@evil.example/` names the host
/// after the `@`, and reading it as loopback would send the client secret there in plain text
/// (RFC 3986 §3.2.1; RFC 9700 §2.6). So is a backslash anywhere, which browsers read as a `/`
/// (WHATWG URL) where RFC 3986 does not.
pub fn check_endpoint(url: &str) -> Result<(), ErrorCode> {
    if !url.bytes().all(|b| b.is_ascii_graphic()) || url.contains('#') || url.contains('\\') {
        return Err(ErrorCode::ConfigInvalid);
    }
    let acceptable = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(rest), _) => !authority(rest).is_empty() && !authority(rest).contains('@'),
        (None, Some(rest)) => is_loopback_authority(rest),
        (None, None) => false,
    };
    if acceptable {
        Ok(())
    } else {
        Err(ErrorCode::ConfigInvalid)
    }
}

/// The authority at the start of `rest` (after `scheme://`): up to the path or the query.
fn authority(rest: &str) -> &str {
    rest.split(['/', '?']).next().unwrap_or_default()
}

/// Whether the authority at the start of `rest` (after `scheme://`) names a loopback host:
/// `localhost`, an IPv4 address in 127.0.0.0/8 or `[::1]` (RFC 8252 §7.3, RFC 9700 §2.6). IPv4
/// addresses are parsed, so a name such as `127.0.0.1.example.com` is not taken for one.
pub fn is_loopback_authority(rest: &str) -> bool {
    let authority = authority(rest);
    if authority.contains('@') {
        return false;
    }
    match authority.strip_prefix('[') {
        // The canonical text of the one IPv6 loopback address (RFC 5952 §4).
        Some(bracketed) => bracketed.split(']').next() == Some("::1"),
        None => {
            let host = authority.split(':').next().unwrap_or_default();
            host == "localhost" || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(endpoint: &'a str, scopes: &'a [String]) -> AuthorizeRequest<'a> {
        AuthorizeRequest {
            endpoint,
            client_id: "6a1c5a4e-0000-4000-8000-000000000001",
            redirect_uri: "http://localhost:8080/callback",
            scopes,
            state: "st&te=1",
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        }
    }

    #[test]
    fn url_carries_every_parameter_encoded() {
        let scopes = vec!["users:read".to_owned(), "test:test".to_owned()];
        let url = request("https://auth.staging.pleo.io/oauth/authorize", &scopes)
            .url()
            .unwrap();
        assert_eq!(
            url,
            "https://auth.staging.pleo.io/oauth/authorize?response_type=code\
             &client_id=6a1c5a4e-0000-4000-8000-000000000001\
             &redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback\
             &scope=users%3Aread+test%3Atest&state=st%26te%3D1\
             &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
        );
    }

    #[test]
    fn endpoint_with_a_query_gets_an_ampersand() {
        let url = request("https://as.example/authorize?tenant=a", &[]).url().unwrap();
        assert!(url.starts_with("https://as.example/authorize?tenant=a&response_type=code"));
    }

    #[test]
    fn endpoint_query_naming_one_of_our_parameters_is_refused() {
        assert_eq!(
            request("https://as.example/authorize?state=evil", &[]).url(),
            Err(ErrorCode::ConfigInvalid)
        );
        assert_eq!(
            request("https://as.example/authorize?x=1&redirect_uri=https://evil", &[]).url(),
            Err(ErrorCode::ConfigInvalid)
        );
    }

    #[test]
    fn plain_http_is_refused_except_on_loopback() {
        assert_eq!(
            request("http://auth.example/oauth/authorize", &[]).url(),
            Err(ErrorCode::ConfigInvalid)
        );
        assert!(request("http://127.0.0.1:3000/oauth/authorize", &[]).url().is_ok());
        assert!(request("http://[::1]:3000/oauth/authorize", &[]).url().is_ok());
        assert!(request("http://localhost/oauth/authorize", &[]).url().is_ok());
        assert_eq!(
            request("http://localhost.evil.example/x", &[]).url(),
            Err(ErrorCode::ConfigInvalid)
        );
        assert!(request("http://127.8.9.10:99/oauth/authorize", &[]).url().is_ok());
        // Names that only look like loopback addresses.
        assert_eq!(
            request("http://127.0.0.1.evil.example/x", &[]).url(),
            Err(ErrorCode::ConfigInvalid)
        );
        assert_eq!(
            request("http://127.evil.example/x", &[]).url(),
            Err(ErrorCode::ConfigInvalid)
        );
        assert_eq!(request("http://[::2]/x", &[]).url(), Err(ErrorCode::ConfigInvalid));
        assert_eq!(
            request("http://user@127.0.0.1/x", &[]).url(),
            Err(ErrorCode::ConfigInvalid)
        );
        // Userinfo before a non-loopback host, and backslashes (read as `/` by browsers).
        for endpoint in [
            "http://127.0.0.1:1@192.0.2.2:4001/oauth/authorize",
            "http://localhost:80@host.example/",
            "http://[::1]@host.example/",
            "https://user:pass@as.example/authorize",
            "http://localhost\\@evil.example/",
            "https://as.example\\.localhost/authorize",
            "https://as.example/a\\b",
        ] {
            assert_eq!(
                request(endpoint, &[]).url(),
                Err(ErrorCode::ConfigInvalid),
                "{endpoint}"
            );
        }
        assert_eq!(request("javascript:alert(1)", &[]).url(), Err(ErrorCode::ConfigInvalid));
        assert_eq!(
            request("https://as.example/a#frag", &[]).url(),
            Err(ErrorCode::ConfigInvalid)
        );
        assert_eq!(request("https://", &[]).url(), Err(ErrorCode::ConfigInvalid));
        assert_eq!(
            request("https:///oauth/authorize", &[]).url(),
            Err(ErrorCode::ConfigInvalid)
        );
        assert_eq!(request("https://?x=1", &[]).url(), Err(ErrorCode::ConfigInvalid));
    }

    /// RFC 3986 §2: a URI is printable ASCII.
    #[test]
    fn whitespace_control_and_non_ascii_endpoints_are_refused() {
        for endpoint in [
            "https://as.example/a b",
            "https://as.example/\tx",
            "https://as.example/\u{7f}",
            "https://bücher.example/authorize",
            "https://as.example/\u{a0}",
        ] {
            assert_eq!(
                request(endpoint, &[]).url(),
                Err(ErrorCode::ConfigInvalid),
                "{endpoint:?}"
            );
        }
    }

    #[test]
    fn endpoint_with_an_empty_query_gets_no_extra_separator() {
        let url = request("https://as.example/authorize?", &[]).url().unwrap();
        assert!(
            url.starts_with("https://as.example/authorize?response_type=code&"),
            "{url}"
        );
    }

    proptest::proptest! {
        #[test]
        fn scopes_are_joined_as_join_would(scopes in proptest::collection::vec("[ -~]{0,12}", 0..6)) {
            proptest::prop_assert_eq!(space_separated(&scopes), scopes.join(" "));
        }
    }

    #[test]
    fn endpoints_are_base_plus_the_documented_paths() {
        assert_eq!(
            authorize_endpoint("https://auth.pleo.io/"),
            "https://auth.pleo.io/oauth/authorize"
        );
        assert_eq!(
            token_endpoint("https://auth.pleo.io"),
            "https://auth.pleo.io/oauth/token"
        );
    }
}
