//! `/callback`: checks the response (state first), uses up the pending authorization, has the
//! companion exchange the code, and returns the user to where they started.

use contract::wire::{TokenExchange, TokenSummary};
use leptos::prelude::*;

use crate::api::{self, ClientError};
use crate::pending::{self, CallbackReport, PendingAuthorization};
use crate::views::widgets::{ErrorNotice, Progress};

/// What the callback page does after its checks: the exchange, and where to go when it worked.
#[derive(Debug, Clone)]
struct Exchange {
    request: TokenExchange,
    report: CallbackReport,
    return_to: String,
}

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

/// What a completed callback leaves: the report for step 3 (also kept in sessionStorage), the
/// companion's summary of the tokens, and where to go back to.
pub struct Completed {
    /// For step 3.
    pub report: CallbackReport,
    /// The exchange's answer.
    pub tokens: TokenSummary,
    /// A same-origin path.
    pub return_to: String,
}

/// The callback's checks against `pending`, then the companion's exchange of the code: the
/// callback page's work, and the framed walkthrough's once its pop-up has answered.
pub async fn complete(query: &str, pending: Option<PendingAuthorization>) -> Result<Completed, ClientError> {
    crate::browser_log::record(sequence::BrowserEvent::callback(
        crate::browser_log::now_ms(),
        &form_names(query),
    ));
    let exchange = checked_exchange(query, pending)?;
    let tokens = api::exchange(&exchange.request).await?;
    pending::store_report(&exchange.report);
    Ok(Completed {
        report: exchange.report,
        tokens,
        return_to: exchange.return_to,
    })
}

/// The callback's checks (`flow::check_callback`) against what this tab stored, and the exchange
/// they allow; a refusal as the page shows it, with what the server said.
fn checked_exchange(query: &str, pending: Option<PendingAuthorization>) -> Result<Exchange, ClientError> {
    let checked = flow::check_callback(
        query,
        pending.as_ref().map(|p| p.state.as_str()),
        pending.as_ref().and_then(PendingAuthorization::expected_issuer),
    );
    match (checked, pending) {
        (Err(e), _) => {
            let ClientError(mut error) = ClientError::from(e.code);
            if let Some(oauth_error) = e.oauth_error {
                error.message = format!(
                    "{} The server said: {oauth_error}{}",
                    error.message,
                    e.description.map(|d| format!(" ({d})")).unwrap_or_default()
                );
            }
            Err(ClientError(error))
        }
        (Ok(callback), Some(pending)) => Ok(Exchange {
            report: CallbackReport {
                parameters: form_names(query),
                code_hint: contract::wire::token_hint(callback.code()),
                state_hint: contract::wire::token_hint(&pending.state),
            },
            request: TokenExchange {
                code: callback.code().to_owned(),
                code_verifier: pending.code_verifier,
                state: pending.state,
            },
            return_to: Some(pending.return_to)
                .filter(|p| pending::is_local_path(p))
                .unwrap_or_else(|| "/#step-3".to_owned()),
        }),
        (Ok(_), None) => Err(flow::ErrorCode::NoPendingAuthorization.into()),
    }
}

/// The parameter names of a query, in order.
fn form_names(query: &str) -> Vec<String> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter_map(|pair| pair.split('=').next())
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect()
}
