//! What the browser keeps between the authorize redirect and the callback, in sessionStorage:
//! the verifier and state until the callback uses them once (RFC 7636 §4.1; single use,
//! RFC 9700 §4.7.1), and afterwards a report of the callback for step 3. Never a token.
//! A frame whose browser blocks its storage (third-party storage blocked) keeps nothing here:
//! its sign-in runs in a pop-up and keeps the verifier in memory ([`crate::popup`]).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

const PENDING: &str = contract::page::PENDING_AUTHORIZATION_KEY;
const REPORT: &str = "pleo-walkthrough.callback-report";

/// What the callback needs from the start of the flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAuthorization {
    /// The state sent to the authorize endpoint.
    pub state: String,
    /// The PKCE code verifier, sent once with the code.
    pub code_verifier: String,
    /// Where to return after the callback: a same-origin path such as `/#step-3`.
    #[serde(default = "default_return_to")]
    pub return_to: String,
    /// The authorisation server's issuer identifier: an `iss` in the response must equal it
    /// (RFC 9207 §2.4).
    #[serde(default)]
    pub issuer: Option<String>,
    /// Whether that server names itself in every response: then `iss` is required.
    #[serde(default)]
    pub iss_always_sent: bool,
}

impl PendingAuthorization {
    /// The issuer the callback must come from, if known.
    pub fn expected_issuer(&self) -> Option<flow::ExpectedIssuer<'_>> {
        self.issuer.as_deref().map(|identifier| flow::ExpectedIssuer {
            identifier,
            always_sends_iss: self.iss_always_sent,
        })
    }
}

fn default_return_to() -> String {
    "/#step-3".to_owned()
}

/// This tab's sessionStorage, if the browser lets this page have one.
fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

fn set<T: Serialize>(key: &str, value: &T) -> Result<(), String> {
    // No serde_json error text: formatting one links its whole message table into the wasm.
    let json = serde_json::to_string(value).map_err(|_| "it could not be written as JSON".to_owned())?;
    storage()
        .ok_or_else(|| "this page has no sessionStorage".to_owned())?
        .set_item(key, &json)
        .map_err(|_| "sessionStorage is full or blocked".to_owned())
}

fn get<T: DeserializeOwned>(key: &str) -> Option<T> {
    let json = storage()?.get_item(key).ok().flatten()?;
    serde_json::from_str(&json).ok()
}

fn delete(key: &str) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(key);
    }
}

/// Stores the pending authorization for the callback.
pub fn store(pending: &PendingAuthorization) -> Result<(), String> {
    set(PENDING, pending).map_err(|e| format!("sessionStorage refused the pending authorization: {e}"))
}

/// Removes and returns the pending authorization: whatever the callback finds, it is used up.
pub fn take() -> Option<PendingAuthorization> {
    let pending = get(PENDING);
    delete(PENDING);
    pending
}

/// What step 3 shows about the callback that was handled: hints, never the values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackReport {
    /// The callback's parameter names, in order.
    pub parameters: Vec<String>,
    /// The first characters of the code and its length.
    pub code_hint: String,
    /// The first characters of the state and its length.
    pub state_hint: String,
}

/// Keeps the report of a handled callback for the walkthrough page.
pub fn store_report(report: &CallbackReport) {
    // Losing the report only loses a display; the flow itself is complete.
    let _ = set(REPORT, report);
}

/// The report of the last handled callback, if any.
pub fn report() -> Option<CallbackReport> {
    get(REPORT)
}

/// Forgets the report (after signing out).
pub fn clear_report() {
    delete(REPORT);
}

/// Whether `path` is a same-origin path to return to (`/…`, not `//host/…`).
pub fn is_local_path(path: &str) -> bool {
    path.starts_with('/') && !path.starts_with("//") && !path.contains('\\')
}
