//! The tokens the token endpoint issues for one sign-in, as the companion keeps them.

use contract::wire::TokenSummary;
use secrecy::{ExposeSecret, SecretString};

/// The tokens of one session. Never sent to the browser; `Debug` is redacted by
/// [`SecretString`]; written to a shared store only sealed ([`seal`]).
#[derive(Debug, Clone)]
pub struct TokenSet {
    /// The access token.
    pub access_token: SecretString,
    /// The refresh token, if the server gave one.
    pub refresh_token: Option<SecretString>,
    /// `token_type` (`Bearer` when the server said nothing).
    pub token_type: String,
    /// Granted scopes.
    pub scope: String,
    /// Seconds of life given at issue.
    pub expires_in: u64,
    /// Expiry, seconds since the Unix epoch.
    pub expires_at: u64,
}

impl TokenSet {
    /// What the browser may see: no token, only a hint of the access token.
    pub fn summary(&self) -> TokenSummary {
        TokenSummary {
            token_type: self.token_type.clone(),
            expires_in: self.expires_in,
            expires_at: self.expires_at,
            scope: self.scope.clone(),
            access_token_hint: contract::wire::token_hint(self.access_token.expose_secret()),
            has_refresh_token: self.refresh_token.is_some(),
        }
    }
}
