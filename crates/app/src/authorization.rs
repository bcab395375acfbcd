//! Starting an authorization from the browser: PKCE pair and state made in WebAssembly, the
//! authorize URL, the attempt bound at the companion, the verifier and state kept in this tab
//! for the callback, and the navigation. No view: steps 2 and 6 and "authorise again" use it.

use contract::wire::{ApiError, PublicConfig};
use flow::{AuthorizeRequest, ErrorCode};

use crate::api::{self, ClientError};
use crate::pending::{self, PendingAuthorization};

/// What step 2 generated, shown before the redirect.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// The PKCE verifier (kept in this tab until the callback).
    pub verifier: String,
    /// Its S256 challenge.
    pub challenge: String,
    /// The state.
    pub state: String,
    /// The authorize URL.
    pub url: String,
    /// The URL's parameters.
    pub parameters: Vec<(&'static str, String)>,
    /// The issuer an `iss` in the response must name (RFC 9207 §2.4).
    pub issuer: String,
    /// Whether the server always sends `iss` (then it is required).
    pub iss_always_sent: bool,
}

fn internal(message: String) -> ClientError {
    ClientError(ApiError::with_message(ErrorCode::Internal, message))
}

/// Generating fails only when the browser's random source does (`crypto.getRandomValues`). One
/// sentence, not the `pkce` error's text: that would link every PKCE error message into the wasm.
fn no_randomness(_: pkce::PkceError) -> ClientError {
    internal("The browser's random source (crypto.getRandomValues) failed; nothing was sent.".into())
}

/// Generates verifier, challenge and state, and builds the authorize URL.
pub fn prepare(config: &PublicConfig) -> Result<Prepared, ClientError> {
    let verifier = pkce::CodeVerifier::generate().map_err(no_randomness)?;
    let challenge = pkce::CodeChallenge::s256(&verifier);
    let state = pkce::State::generate().map_err(no_randomness)?;
    let request = AuthorizeRequest::for_config(config, state.as_str(), challenge.as_str());
    let url = request.url().map_err(ClientError::from)?;
    let parameters = request
        .parameters()
        .map(|(name, value)| (name, value.into_owned()))
        .to_vec();
    Ok(Prepared {
        verifier: verifier.into_string(),
        challenge: challenge.as_str().to_owned(),
        state: state.as_str().to_owned(),
        url,
        parameters,
        issuer: config.issuer.clone(),
        iss_always_sent: config.iss_always_sent,
    })
}

/// Where the callback should bring the user back: this page at step `step`.
fn return_to(step: u8) -> String {
    let location = web_sys::window().map(|w| w.location());
    let path = location
        .as_ref()
        .and_then(|l| l.pathname().ok())
        .unwrap_or_else(|| "/".to_owned());
    let search = location.as_ref().and_then(|l| l.search().ok()).unwrap_or_default();
    let path = if path == contract::routes::CALLBACK_PATH {
        "/".to_owned()
    } else {
        path
    };
    format!("{path}{search}#step-{}", if step <= 2 { 3 } else { step })
}

/// Binds a prepared attempt to this browser at the companion (its state and challenge, under an
/// HttpOnly cookie), so that only this browser can have the code exchanged.
pub async fn bind(prepared: &Prepared) -> Result<(), ClientError> {
    api::authorize_start(&flow::start_request(&prepared.state, &prepared.challenge)).await
}

/// Binds a prepared attempt to this browser at the companion, keeps verifier and state for the
/// callback, and navigates to the authorisation server.
pub async fn redirect(prepared: Prepared, step: u8) -> Result<(), ClientError> {
    bind(&prepared).await?;
    let pending = PendingAuthorization {
        state: prepared.state,
        code_verifier: prepared.verifier,
        return_to: return_to(step),
        issuer: Some(prepared.issuer),
        iss_always_sent: prepared.iss_always_sent,
    };
    pending::store(&pending).map_err(internal)?;
    crate::browser_log::record(sequence::BrowserEvent::authorize(
        crate::browser_log::now_ms(),
        &prepared.url,
    ));
    if let Some(window) = web_sys::window() {
        window
            .location()
            .set_href(&prepared.url)
            .map_err(|_| internal("The browser refused to navigate.".into()))?;
    }
    Ok(())
}

/// A whole new authorization in one go, returning to `step`.
pub async fn start_authorization(config: &PublicConfig, step: u8) -> Result<(), ClientError> {
    redirect(prepare(config)?, step).await
}
