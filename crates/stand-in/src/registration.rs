//! The one client registered with the stand-in.

use secrecy::{ExposeSecret, SecretString};

/// A registered client, as Pleo's Developer Partner Registration form records it.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The client ID (a UUID at Pleo).
    pub client_id: String,
    /// The client secret, compared in constant time, never logged.
    pub client_secret: SecretString,
    /// Registered redirect URIs, matched exactly (no wildcards, no prefix matching).
    pub redirect_uris: Vec<String>,
    /// Scopes this client may ask for.
    pub scopes: Vec<String>,
    /// The name shown on the consent page.
    pub client_name: String,
}

impl Registration {
    /// Every scope Pleo documents, as the stand-in's default grantable set.
    pub const ALL_SCOPES: &'static [&'static str] = &[
        "users:read",
        "export-jobs:read",
        "export-jobs:write",
        "export-items:read",
        "accounts:read",
        "accounts:write",
        "vendors:read",
        "vendors:write",
        "test:test",
    ];

    /// Whether `id` and `secret` are this client's credentials (secret compared in constant time).
    pub fn authenticates(&self, id: &str, secret: &str) -> bool {
        id == self.client_id && pkce::constant_time_eq(secret.as_bytes(), self.client_secret.expose_secret().as_bytes())
    }

    /// Whether `uri` is registered, by exact string comparison (RFC 9700 §2.1).
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|registered| registered == uri)
    }
}
