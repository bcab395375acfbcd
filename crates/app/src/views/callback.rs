//! `/callback`: the page that shows the callback's checks and the exchange
//! ([`crate::callback::complete`]) while they run, then returns the user to where they started.

use leptos::prelude::*;

use crate::api::ClientError;
use crate::callback::complete;
use crate::pending;
use crate::views::widgets::{ErrorNotice, Progress};

/// The callback page: the checks and the exchange are one action dispatched once, which on
/// success leaves for the page the flow started from.
#[component]
pub fn CallbackPage() -> impl IntoView {
    let window = web_sys::window();
    let query = window
        .as_ref()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    // Single use whatever happens next: a replayed callback finds nothing (RFC 9700 §4.7.1).
    let pending = pending::take();
    // The code must not linger in the address bar or the history.
    if let Some(history) = window.as_ref().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(contract::routes::CALLBACK_PATH));
    }
    let exchange = Action::new_local(move |_: &()| {
        let (query, pending) = (query.clone(), pending.clone());
        async move {
            let completed = complete(&query, pending).await?;
            if let Some(window) = web_sys::window() {
                let _ = window.location().replace(&completed.return_to);
            }
            Ok::<(), ClientError>(())
        }
    });
    exchange.dispatch(());
    let failure = move || exchange.value().get().and_then(Result::err);
    view! {
        <section class="card" id="callback">
            <h2>"Handling the redirect"</h2>
            {move || match failure() {
                None => view! {
                    <ul class="checks">
                        <li>"✓ state matches the one this tab sent"</li>
                        <li>"✓ Verifier and state removed from sessionStorage"</li>
                    </ul>
                    <Progress text="The companion is exchanging the code…"/>
                }.into_any(),
                Some(e) => view! {
                    <ErrorNotice error=e/>
                    <p><a href="/#step-2" id="start-again">"Start again"</a></p>
                }.into_any(),
            }}
        </section>
    }
}
