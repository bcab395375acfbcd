//! The callback's protocol work, for the app's own callback page and the framed walkthrough's
//! pop-up alike: the checks of `flow::check_callback` against what this tab stored (state first,
//! RFC 6749 §10.12; `iss`, RFC 9207), the pending authorization used up, and the companion's
//! exchange of the code. No view: the pages show what it returns.

use contract::wire::{TokenExchange, TokenSummary};

use crate::api::{self, ClientError};
use crate::pending::{self, CallbackReport, PendingAuthorization};

/// What the callback page does after its checks: the exchange, and where to go when it worked.
#[derive(Debug, Clone)]
struct Exchange {
    request: TokenExchange,
    report: CallbackReport,
    return_to: String,
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
