//! Which authorisation server and API the walkthrough talks to (`PLEO_ENV`).

use serde::{Deserialize, Serialize};

/// The environments of the configuration contract; the wire form is the lowercase name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// The stand-in, embedded in the companion.
    Local,
    /// Pleo's staging environment.
    Staging,
    /// Pleo's production environment.
    Production,
    /// Any standard OAuth 2.0 server with `/oauth/authorize` and `/oauth/token`.
    Custom,
}

impl Environment {
    /// Every environment, in the order the documentation lists them.
    pub const ALL: [Self; 4] = [Self::Local, Self::Staging, Self::Production, Self::Custom];

    /// The `PLEO_ENV` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Staging => "staging",
            Self::Production => "production",
            Self::Custom => "custom",
        }
    }

    /// Pleo's authorisation server and API base URLs for this environment, when they are
    /// fixed (staging, production); `None` for the stand-in (its address is the companion's) and
    /// for `custom` (configured).
    pub const fn pleo_urls(self) -> Option<PleoUrls> {
        match self {
            Self::Staging => Some(PleoUrls {
                authorization_server: "https://auth.staging.pleo.io",
                api: "https://external.staging.pleo.io",
            }),
            Self::Production => Some(PleoUrls {
                authorization_server: "https://auth.pleo.io",
                api: "https://external.pleo.io",
            }),
            Self::Local | Self::Custom => None,
        }
    }

    /// The environment a `PLEO_ENV` value names.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|env| env.as_str() == text)
    }
}

/// Pleo's base URLs of one environment (docs/pleo.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PleoUrls {
    /// The authorisation server: `/oauth/authorize` and `/oauth/token` under it.
    pub authorization_server: &'static str,
    /// The API.
    pub api: &'static str,
}

/// The client ID the stand-in registers when none is configured (the embedded one and the
/// standalone binary alike).
pub const LOCAL_CLIENT_ID: &str = "6f1f5c4e-3c55-4a0e-9d4b-1f0d5b7a2c01";
/// The redirect URI of the local demo (`cargo xtask demo` serves the app here), and the one the
/// standalone stand-in registers by default.
pub const LOCAL_REDIRECT_URI: &str = "http://localhost:8080/callback";

/// Read by its wire name ([`Environment::as_str`]).
impl<'de> Deserialize<'de> for Environment {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::wire_name::deserialize(deserializer, &Self::ALL, Self::as_str)
    }
}

impl core::fmt::Display for Environment {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Environment;

    #[test]
    fn every_environment_round_trips_through_its_name_and_its_json() {
        for env in Environment::ALL {
            assert_eq!(Environment::parse(env.as_str()), Some(env));
            assert_eq!(
                serde_json::to_string(&env).unwrap(),
                std::format!("\"{}\"", env.as_str())
            );
        }
        assert_eq!(Environment::parse("prod"), None);
    }
}
