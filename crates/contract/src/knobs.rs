//! The stand-in's fault knobs, as `POST /api/faults/{knob}` names them (local only; each acts on
//! the calling session's grant alone).

use serde::{Deserialize, Serialize};

/// One knob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKnob {
    /// The session's access token expires now.
    ExpireAccessToken,
    /// The session's refresh token is revoked; its access token lives until it expires.
    RevokeRefreshToken,
    /// The token endpoint delays and/or fails the session's next refreshes.
    TokenEndpoint,
    /// Time passes (or goes back) for the session's grant alone.
    Clock,
    /// The refresh-race lab: two refreshes at once with the session's one refresh token, past
    /// the companion's one-refresh-at-a-time lock.
    RefreshRace,
    /// The API answers the session's next calls 429 with `Retry-After`.
    RateLimit,
}

impl FaultKnob {
    /// Every knob.
    pub const ALL: [Self; 6] = [
        Self::ExpireAccessToken,
        Self::RevokeRefreshToken,
        Self::TokenEndpoint,
        Self::Clock,
        Self::RefreshRace,
        Self::RateLimit,
    ];

    /// The name in the path.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ExpireAccessToken => "expire-access-token",
            Self::RevokeRefreshToken => "revoke-refresh-token",
            Self::TokenEndpoint => "token-endpoint",
            Self::Clock => "clock",
            Self::RefreshRace => "refresh-race",
            Self::RateLimit => "rate-limit",
        }
    }

    /// The knob a path segment names.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|knob| knob.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::FaultKnob;

    #[test]
    fn every_knob_round_trips_through_its_name() {
        for knob in FaultKnob::ALL {
            assert_eq!(FaultKnob::parse(knob.as_str()), Some(knob));
            assert_eq!(
                serde_json::to_string(&knob).unwrap(),
                std::format!("\"{}\"", knob.as_str())
            );
        }
        assert_eq!(FaultKnob::parse("self-destruct"), None);
    }
}
