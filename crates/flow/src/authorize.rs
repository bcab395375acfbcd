//! The authorization request (RFC 6749 §4.1.1 with RFC 7636 §4.3).

use crate::prelude::*;

use crate::ErrorCode;
use crate::wire::PublicConfig;

/// The authorize endpoint of an authorisation server base URL: base + `/oauth/authorize`.
pub fn authorize_endpoint(base: &str) -> String {
    format!("{}/oauth/authorize", base.trim_end_matches('/'))
}

/// The token endpoint of an authorisation server base URL: base + `/oauth/token`.
pub fn token_endpoint(base: &str) -> String {
    format!("{}/oauth/token", base.trim_end_matches('/'))
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
    pub fn parameters(&self) -> Vec<(&'static str, String)> {
        vec![
            ("response_type", "code".to_owned()),
            ("client_id", self.client_id.to_owned()),
            ("redirect_uri", self.redirect_uri.to_owned()),
            ("scope", self.scopes.join(" ")),
            ("state", self.state.to_owned()),
            ("code_challenge", self.code_challenge.to_owned()),
            ("code_challenge_method", pkce::CodeChallenge::METHOD.to_owned()),
        ]
    }

    /// The full URL to navigate to, every parameter form-encoded (RFC 6749 Appendix B).
    ///
    /// Refuses an endpoint that is not http(s) or that has a fragment (RFC 6749 §3.1), and
    /// plain http anywhere but loopback (RFC 9700 §2.6: TLS for all OAuth traffic).
    pub fn url(&self) -> Result<String, ErrorCode> {
        check_endpoint(self.endpoint)?;
        if self.client_id.is_empty() {
            return Err(ErrorCode::ConfigInvalid);
        }
        let parameters = self.parameters();
        // RFC 6749 §3.1: the endpoint's own query is kept, and no parameter may appear twice.
        if let Some((_, own)) = self.endpoint.split_once('?') {
            if form_urlencoded::parse(own.as_bytes()).any(|(name, _)| parameters.iter().any(|(ours, _)| *ours == name)) {
                return Err(ErrorCode::ConfigInvalid);
            }
        }
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in parameters {
            query.append_pair(name, &value);
        }
        let mut url = String::from(self.endpoint);
        url.push(if self.endpoint.contains('?') { '&' } else { '?' });
        url.push_str(&query.finish());
        Ok(url)
    }
}

/// Whether `url` is an endpoint OAuth traffic may go to: https, or http on a loopback host.
pub fn check_endpoint(url: &str) -> Result<(), ErrorCode> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(ErrorCode::ConfigInvalid);
    };
    if url.contains('#') || rest.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ErrorCode::ConfigInvalid);
    }
    match scheme {
        "https" => Ok(()),
        "http" if is_loopback_authority(rest) => Ok(()),
        _ => Err(ErrorCode::ConfigInvalid),
    }
}

/// Whether the authority at the start of `rest` (after `scheme://`) names a loopback host.
pub fn is_loopback_authority(rest: &str) -> bool {
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host == "localhost" || host == "::1" || host.starts_with("127.")
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
        let url = request("https://auth.staging.pleo.io/oauth/authorize", &scopes).url().unwrap();
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
        assert_eq!(request("https://as.example/authorize?state=evil", &[]).url(), Err(ErrorCode::ConfigInvalid));
        assert_eq!(request("https://as.example/authorize?x=1&redirect_uri=https://evil", &[]).url(), Err(ErrorCode::ConfigInvalid));
    }

    #[test]
    fn plain_http_is_refused_except_on_loopback() {
        assert_eq!(request("http://auth.example/oauth/authorize", &[]).url(), Err(ErrorCode::ConfigInvalid));
        assert!(request("http://127.0.0.1:3000/oauth/authorize", &[]).url().is_ok());
        assert!(request("http://[::1]:3000/oauth/authorize", &[]).url().is_ok());
        assert!(request("http://localhost/oauth/authorize", &[]).url().is_ok());
        assert_eq!(request("http://localhost.evil.example/x", &[]).url(), Err(ErrorCode::ConfigInvalid));
        assert_eq!(request("javascript:alert(1)", &[]).url(), Err(ErrorCode::ConfigInvalid));
        assert_eq!(request("https://as.example/a#frag", &[]).url(), Err(ErrorCode::ConfigInvalid));
    }

    #[test]
    fn endpoints_are_base_plus_the_documented_paths() {
        assert_eq!(authorize_endpoint("https://auth.pleo.io/"), "https://auth.pleo.io/oauth/authorize");
        assert_eq!(token_endpoint("https://auth.pleo.io"), "https://auth.pleo.io/oauth/token");
    }
}
