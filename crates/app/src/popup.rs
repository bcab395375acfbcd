//! Signing in from the walkthrough framed by a documentation page (`/embed`): authorisation
//! servers refuse to be framed, so the authorize request goes to a pop-up. The click handler
//! makes the PKCE pair, the state and the authorize URL in WebAssembly and opens the pop-up at
//! once (a browser allows one only there: no await before it). The pop-up's conversation with
//! its callback page is `frame.js`'s (`PleoFrame.signIn`); the checks and the exchange are the
//! callback page's own ([`crate::views::callback::checked_exchange`]), run here: the verifier
//! never leaves this frame, and no storage holds it.

use contract::wire::AuthorizeStart;
use flow::ErrorCode;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use crate::api::{self, ClientError};
use crate::authorization::Prepared;
use crate::live::Live;
use crate::pending::PendingAuthorization;

#[wasm_bindgen]
extern "C" {
    /// `PleoFrame.signIn(url, state, onClosed)` of `frame.js`.
    #[wasm_bindgen(catch, js_namespace = PleoFrame, js_name = signIn)]
    fn frame_sign_in(url: &str, state: &str, on_closed: &JsValue) -> Result<js_sys::Promise, JsValue>;
    /// `PleoFrame.cancel()` of `frame.js`.
    #[wasm_bindgen(catch, js_namespace = PleoFrame, js_name = cancel)]
    fn frame_cancel() -> Result<(), JsValue>;
}

/// Where a pop-up sign-in is, as the step shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum PopupStatus {
    /// Nothing started.
    Idle,
    /// The pop-up is open; its answer is awaited.
    Waiting,
    /// The pop-up is closed or out of reach; its answer may still come through the companion.
    Closed,
    /// Signed in: the exchange is done.
    SignedIn,
    /// It ended with this error (blocked, closed for good, refused by a check or the companion).
    Failed(ClientError),
}

/// Opens the pop-up at `prepared`'s authorize URL and runs the sign-in to its end, reporting in
/// `status`. Call it from the click handler itself.
pub fn sign_in(prepared: Prepared, live: Live, status: RwSignal<PopupStatus>) {
    let on_closed = Closure::once_into_js(move || status.set(PopupStatus::Closed));
    let answer = match frame_sign_in(&prepared.url, &prepared.state, &on_closed) {
        Ok(promise) => wasm_bindgen_futures::JsFuture::from(promise),
        Err(thrown) => {
            let code = if thrown.as_string().as_deref() == Some("popup_blocked") {
                ErrorCode::PopupBlocked
            } else {
                ErrorCode::Internal
            };
            return status.set(PopupStatus::Failed(code.into()));
        }
    };
    status.set(PopupStatus::Waiting);
    leptos::task::spawn_local(async move {
        match complete(prepared, answer, live).await {
            Ok(()) => status.set(PopupStatus::SignedIn),
            Err(Outcome::Superseded) => {}
            Err(Outcome::Failed(error)) => status.set(PopupStatus::Failed(error)),
        }
    });
}

enum Outcome {
    /// Another sign-in started meanwhile: this one says nothing more.
    Superseded,
    Failed(ClientError),
}

impl From<ClientError> for Outcome {
    fn from(error: ClientError) -> Self {
        Self::Failed(error)
    }
}

/// Binds the attempt at the companion, waits for the callback, checks it and has the companion
/// exchange the code.
async fn complete(prepared: Prepared, answer: wasm_bindgen_futures::JsFuture, live: Live) -> Result<(), Outcome> {
    let start = AuthorizeStart {
        state: prepared.state.clone(),
        code_challenge: prepared.challenge.clone(),
        code_challenge_method: "S256".into(),
    };
    if let Err(error) = api::authorize_start(&start).await {
        let _ = frame_cancel();
        return Err(error.into());
    }
    let callback = match answer.await {
        Ok(callback) => callback.as_string().unwrap_or_default(),
        Err(code) => {
            return Err(match code.as_string().as_deref() {
                Some("superseded") => Outcome::Superseded,
                _ => ClientError::from(ErrorCode::PopupClosed).into(),
            });
        }
    };
    let pending = PendingAuthorization {
        state: prepared.state,
        code_verifier: prepared.verifier,
        return_to: String::new(),
        issuer: Some(prepared.issuer),
        iss_always_sent: prepared.iss_always_sent,
    };
    let exchange = crate::views::callback::checked_exchange(&callback, Some(pending))?;
    api::exchange(&exchange.request).await?;
    crate::pending::store_report(&exchange.report);
    live.report.set(Some(exchange.report));
    live.reload_session();
    Ok(())
}
