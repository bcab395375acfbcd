//! Signing in from the walkthrough framed by a documentation page (`/embed`): authorisation
//! servers refuse to be framed, so the authorize request goes to a pop-up. The click handler
//! makes the PKCE pair, the state and the authorize URL in WebAssembly and opens the pop-up at
//! once ([`Popup::open`]: a browser allows one only there, so no await comes before it; the
//! attempt's binding at the companion is sent just before). The pop-up's conversation with its
//! callback page is `frame.js`'s (`PleoFrame.signIn`); the rest is the button's action, as on
//! the app's own page: [`complete`] waits for the binding and the callback and runs the callback
//! page's own checks and exchange ([`crate::callback::complete`]). The verifier never
//! leaves this frame, and no storage holds it.

use std::future::Future;
use std::pin::Pin;
use std::task::Context;

use flow::ErrorCode;
use leptos::prelude::*;

use wasm_bindgen::prelude::*;

use crate::api::ClientError;
use crate::authorization::{self, Prepared};
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
    /// `PleoFrame.cookiesRefused()` of `frame.js`.
    #[wasm_bindgen(catch, js_namespace = PleoFrame, js_name = cookiesRefused)]
    fn frame_cookies_refused() -> Result<bool, JsValue>;
}

/// The companion's binding of the attempt (`POST /api/authorize/start`), already sent.
type Binding = Pin<Box<dyn Future<Output = Result<(), ClientError>>>>;

/// A sign-in whose pop-up the click opened (or the browser refused to open).
pub struct Opened {
    prepared: Prepared,
    binding: Binding,
    answer: Result<wasm_bindgen_futures::JsFuture, ErrorCode>,
}

/// One button's pop-up: what its click opened, for its action to finish, the try that runs,
/// and whether the pop-up is closed (or out of reach) while the action still listens for its
/// answer.
#[derive(Clone, Copy)]
pub struct Popup {
    opened: StoredValue<Option<Opened>, LocalStorage>,
    running: StoredValue<Option<ActionAbortHandle>, LocalStorage>,
    /// The pop-up closed before it answered: its answer may still come through the companion.
    pub closed: RwSignal<bool>,
}

impl Popup {
    /// Nothing opened yet.
    pub fn new() -> Self {
        Self {
            opened: StoredValue::new_local(None),
            running: StoredValue::new_local(None),
            closed: RwSignal::new(false),
        }
    }

    /// Opens the pop-up at `prepared`'s authorize URL. Call it from the click handler itself,
    /// then [`Popup::dispatch`] the action that calls [`Popup::take`] and [`complete`].
    pub fn open(self, prepared: Prepared) {
        // The binding's request leaves first (its future polled once starts the fetch): making
        // the pop-up's window holds this page's thread for tens of milliseconds, and the
        // request then travels meanwhile; and the companion knows the sign-in before the
        // pop-up can hand its callback over.
        let start = prepared.clone();
        let mut binding: Binding = Box::pin(async move { authorization::bind(&start).await });
        // Where this browser keeps no cookie of the frame on this documentation page (`frame.js`
        // found it as the frame loaded), a sign-in here could not finish (RFC 10017 §6.1.3.2:
        // the companion's state lives in them): `PleoFrame.signIn` refuses it (and asks for
        // storage access, this click being the gesture that needs), and no attempt is started.
        if !frame_cookies_refused().unwrap_or(false) {
            let _ = binding
                .as_mut()
                .poll(&mut Context::from_waker(futures::task::noop_waker_ref()));
        }
        crate::browser_log::record(sequence::BrowserEvent::authorize(
            crate::browser_log::now_ms(),
            &prepared.url,
        ));
        let closed = self.closed;
        closed.set(false);
        let on_closed = Closure::once_into_js(move || closed.set(true));
        let answer = frame_sign_in(&prepared.url, &prepared.state, &on_closed)
            .map(wasm_bindgen_futures::JsFuture::from)
            .map_err(|thrown| {
                let thrown = thrown.as_string();
                [ErrorCode::PopupBlocked, ErrorCode::FrameCookiesRefused]
                    .into_iter()
                    .find(|code| thrown.as_deref() == Some(code.as_str()))
                    .unwrap_or(ErrorCode::Internal)
            });
        self.opened.set_value(Some(Opened {
            prepared,
            binding,
            answer,
        }));
    }

    /// Runs the button's action as a new try in place of the last one, which is aborted: a try
    /// the reader gave up on (its pop-up closed, a hand-off still awaited) must never answer
    /// after the new one, and Leptos keeps whichever answer comes last.
    pub fn dispatch(self, action: Action<(), Result<(), ClientError>>) {
        let handle = action.dispatch(());
        if let Some(last) = self
            .running
            .try_update_value(|running| running.replace(handle))
            .flatten()
        {
            last.abort();
        }
    }

    /// What the last click opened, once.
    pub fn take(self) -> Option<Opened> {
        self.opened.try_update_value(Option::take).flatten()
    }
}

impl Default for Popup {
    fn default() -> Self {
        Self::new()
    }
}

/// Binds the attempt at the companion, waits for the pop-up's callback, checks it and has the
/// companion exchange the code; step 3 then shows the exchange.
pub async fn complete(opened: Opened, live: Option<Live>) -> Result<(), ClientError> {
    let Opened {
        prepared,
        binding,
        answer,
    } = opened;
    let answer = answer.map_err(ClientError::from)?;
    if let Err(error) = binding.await {
        let _ = frame_cancel();
        return Err(error);
    }
    // Rejected: two callbacks came for this sign-in (neither is used), closed for good, or
    // superseded by a newer sign-in (whose result the action shows).
    let callback = answer
        .await
        .map_err(|rejected| {
            ClientError::from(match rejected.as_string().as_deref() {
                Some(code) if code == ErrorCode::HandoffConflict.as_str() => ErrorCode::HandoffConflict,
                _ => ErrorCode::PopupClosed,
            })
        })?
        .as_string()
        .unwrap_or_default();
    let pending = PendingAuthorization {
        state: prepared.state,
        code_verifier: prepared.verifier,
        return_to: String::new(),
        issuer: Some(prepared.issuer),
        iss_always_sent: prepared.iss_always_sent,
    };
    let completed = crate::callback::complete(&callback, Some(pending)).await?;
    if let Some(live) = live {
        live.report.set(Some(completed.report));
        live.signed_in_with(completed.tokens);
    }
    Ok(())
}
