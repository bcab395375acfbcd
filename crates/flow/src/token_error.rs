//! The token endpoint's error response (RFC 6749 §5.2), as the companion reads it and the
//! stand-in writes it.

use crate::prelude::*;

use serde::{Deserialize, Serialize};

/// The token endpoint's error response (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, ...
    pub error: String,
    /// A human-readable description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}
