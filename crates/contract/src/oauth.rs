//! The OAuth error codes an authorisation server answers with (RFC 6749 §4.1.2.1 at the
//! authorization endpoint, §5.2 at the token endpoint) and a protected resource with (RFC 6750
//! §3.1): the stand-in writes them, the companion and the app read them.

/// Where Pleo's authorisation server (and the stand-in) has its authorize endpoint, under its
/// base URL (RFC 6749 §3.1).
pub const AUTHORIZE_PATH: &str = "/oauth/authorize";
/// Where it has its token endpoint, under its base URL (RFC 6749 §3.2).
pub const TOKEN_PATH: &str = "/oauth/token";
/// Where it has its token introspection endpoint, under its base URL (RFC 7662 §2).
pub const INTROSPECTION_PATH: &str = "/oauth/token/introspect";
/// How the companion authenticates to the token endpoint: the client ID and secret in the
/// `Authorization: Basic` header (RFC 6749 §2.3.1), as Pleo asks; RFC 8414's name for it.
pub const CLIENT_AUTH_METHOD: &str = "client_secret_basic";

/// One OAuth error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthError {
    /// The request is missing a parameter, repeats one, or is otherwise malformed.
    InvalidRequest,
    /// Client authentication failed (RFC 6749 §5.2: 401 with `WWW-Authenticate`).
    InvalidClient,
    /// The code or refresh token is invalid, expired, revoked, or was issued to another client.
    InvalidGrant,
    /// The client may not use this grant type.
    UnauthorizedClient,
    /// The grant type is not supported.
    UnsupportedGrantType,
    /// The requested scope is invalid or exceeds what was granted.
    InvalidScope,
    /// The resource owner or the server denied the request.
    AccessDenied,
    /// The server does not issue a code with this `response_type`.
    UnsupportedResponseType,
    /// The server met an unexpected condition.
    ServerError,
    /// The server is overloaded or in maintenance.
    TemporarilyUnavailable,
    /// RFC 6750 §3.1: the access token is expired, revoked or malformed.
    InvalidToken,
    /// RFC 6750 §3.1: the access token lacks the scope the request needs.
    InsufficientScope,
}

impl OAuthError {
    /// Every code, in the order the RFCs list them.
    pub const ALL: [Self; 12] = [
        Self::InvalidRequest,
        Self::InvalidClient,
        Self::InvalidGrant,
        Self::UnauthorizedClient,
        Self::UnsupportedGrantType,
        Self::InvalidScope,
        Self::AccessDenied,
        Self::UnsupportedResponseType,
        Self::ServerError,
        Self::TemporarilyUnavailable,
        Self::InvalidToken,
        Self::InsufficientScope,
    ];

    /// The wire form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
        }
    }

    /// The code a wire form names, if it is one of these.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|code| code.as_str() == text)
    }
}

impl core::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::OAuthError;

    #[test]
    fn every_code_round_trips_through_its_wire_form() {
        for code in OAuthError::ALL {
            assert_eq!(OAuthError::parse(code.as_str()), Some(code));
        }
        assert_eq!(OAuthError::parse("invalid_grant "), None);
    }
}
