//! The pending authorization: verifier and state, kept in sessionStorage from the authorize
//! redirect until the callback uses them once (RFC 7636 §4.1; single use, RFC 9700 §4.7.1).

use gloo_storage::{SessionStorage, Storage};
use serde::{Deserialize, Serialize};

const KEY: &str = "pleo-walkthrough.pending-authorization";

/// What the callback needs from the start of the flow. Never a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAuthorization {
    /// The state sent to the authorize endpoint.
    pub state: String,
    /// The PKCE code verifier, sent once with the code.
    pub code_verifier: String,
}

/// Stores the pending authorization for the callback.
pub fn store(pending: &PendingAuthorization) -> Result<(), String> {
    SessionStorage::set(KEY, pending).map_err(|e| format!("sessionStorage refused the pending authorization: {e}"))
}

/// Removes and returns the pending authorization: whatever the callback finds, it is used up.
pub fn take() -> Option<PendingAuthorization> {
    let pending = SessionStorage::get(KEY).ok();
    SessionStorage::delete(KEY);
    pending
}

/// Whether an authorization is pending (without using it).
pub fn is_pending() -> bool {
    SessionStorage::get::<PendingAuthorization>(KEY).is_ok()
}
