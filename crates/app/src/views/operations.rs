//! What the buttons of steps 5 and 6 do, as one operation type: each step's buttons dispatch
//! one `Action` over it, and every operation ends in a sentence for the page or a coded error.

use contract::FaultKnob;
use contract::wire::FaultParams;
use leptos::prelude::*;

use crate::api::{self, ClientError};
use crate::live::Live;
use crate::pending;
use crate::views::widgets::{ErrorNotice, Progress};

/// One button's work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `POST /api/refresh`.
    RefreshNow,
    /// Expire the access token at the stand-in, then 5 API calls at once.
    SingleFlight,
    /// The refresh-race lab: two refreshes at once with one refresh token, past the companion's
    /// lock (the stand-in revokes the grant; the companion says so).
    RefreshRace,
    /// Expire the access token at the stand-in, then call the API.
    ExpireAndCall,
    /// Revoke the refresh token and expire the access token, then call the API.
    RevokeAndCall,
    /// Make the token endpoint answer 503 (with Retry-After) three times, then refresh.
    TokenEndpointDown,
    /// The API answers the next call 429 with Retry-After: call, wait as told, call again.
    RateLimited,
    /// `POST /api/logout {"disconnect": true}`.
    Disconnect,
    /// `POST /api/logout`.
    SignOut,
}

/// The action a step's buttons dispatch: runs the operation, then reloads the session and the
/// transcript. Its `pending()` is the step's busy flag.
pub fn action(live: Live) -> Action<Operation, Result<String, ClientError>> {
    Action::new_local(move |op: &Operation| run(live, *op))
}

/// Progress while the action runs, then what it ended in: a sentence or a coded error.
#[component]
pub fn Outcome(
    /// The operation whose outcome is shown.
    action: Action<Operation, Result<String, ClientError>>,
) -> impl IntoView {
    view! {
        {move || action.pending().get().then(|| view! { <Progress text="Working…"/> })}
        {move || action.value().get().map(|o| match o {
            Ok(text) => view! { <p class="outcome" role="status" data-testid="outcome">{text}</p> }.into_any(),
            Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
        })}
    }
}

/// Runs `op`, then reloads the session and the transcript; a sentence for the page.
async fn run(live: Live, op: Operation) -> Result<String, ClientError> {
    let outcome = match op {
        Operation::RefreshNow => api::refresh().await.map(|summary| {
            format!(
                "Refreshed: a new access token ({}) and a new refresh token; the old ones are now invalid.",
                summary.access_token_hint
            )
        }),
        Operation::SingleFlight => single_flight().await,
        // The companion answers with the race's outcome as a coded error: the grant is gone.
        Operation::RefreshRace => api::fault(FaultKnob::RefreshRace, FaultParams::default())
            .await
            .map(|()| String::new()),
        Operation::ExpireAndCall => expire_and_call().await,
        Operation::RevokeAndCall => revoke_and_call().await,
        Operation::TokenEndpointDown => token_endpoint_down().await,
        Operation::RateLimited => rate_limited().await,
        Operation::Disconnect => api::logout(true).await.map(|()| {
            pending::clear_report();
            "Disconnected: DELETE /v1/installations/me revoked every token of this client, and the companion forgot them."
                .to_owned()
        }),
        Operation::SignOut => api::logout(false).await.map(|()| {
            pending::clear_report();
            "Signed out: the companion forgot the tokens and cleared the session cookie.".to_owned()
        }),
    };
    live.reload_session();
    outcome
}

/// Five calls with an expired access token, and how many refreshes they caused.
async fn single_flight() -> Result<String, ClientError> {
    let since = js_sys::Date::now() as u64;
    api::fault(FaultKnob::ExpireAccessToken, FaultParams::default()).await?;
    // Five at once, joined without a collection type: `join!` adds less to the wasm.
    let call = || api::call_api("v2/employees");
    let (a, b, c, d, e) = futures::join!(call(), call(), call(), call(), call());
    let statuses: Vec<String> = [a, b, c, d, e]
        .iter()
        .map(|c| {
            c.as_ref()
                .map_or_else(|e| e.code().to_string(), |c| c.status.to_string())
        })
        .collect();
    let refreshes = api::refreshes_since(since).await;
    Ok(format!(
        "5 calls with an expired access token answered [{}] after {refreshes} refresh at the token endpoint.",
        statuses.join(", ")
    ))
}

async fn expire_and_call() -> Result<String, ClientError> {
    let since = js_sys::Date::now() as u64;
    api::fault(FaultKnob::ExpireAccessToken, FaultParams::default()).await?;
    let call = api::call_api("v2/employees").await?;
    let refreshes = api::refreshes_since(since).await;
    Ok(format!(
        "The API refused the expired token; the companion refreshed ({refreshes}x) and retried once: HTTP {}.",
        call.status
    ))
}

async fn revoke_and_call() -> Result<String, ClientError> {
    api::fault(FaultKnob::RevokeRefreshToken, FaultParams::default()).await?;
    api::fault(FaultKnob::ExpireAccessToken, FaultParams::default()).await?;
    let call = api::call_api("v2/employees").await?;
    Ok(format!("Unexpected: the call succeeded with HTTP {}.", call.status))
}

async fn token_endpoint_down() -> Result<String, ClientError> {
    let fault = FaultParams {
        status: Some(503),
        remaining: Some(3),
        ..FaultParams::default()
    };
    api::fault(FaultKnob::TokenEndpoint, fault).await?;
    let refreshed = api::refresh().await;
    let session = api::session().await?;
    Ok(match refreshed {
        Err(e) => format!(
            "The token endpoint answered 503 with Retry-After three times (one try, two retries after the wait it asked for): {}. Still signed in: {}.",
            e.code(),
            session.signed_in
        ),
        Ok(_) => "The refresh succeeded (the fault was used up elsewhere).".to_owned(),
    })
}

/// What a rate limit looks like through the companion, and what an integration does about it.
async fn rate_limited() -> Result<String, ClientError> {
    api::fault(FaultKnob::RateLimit, FaultParams::default()).await?;
    let limited = api::call_api("v2/employees").await?;
    let wait: i32 = limited
        .retry_after
        .as_deref()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
        .clamp(0, 10);
    // Waits as told: a promise the browser's timer resolves.
    let timer = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, wait * 1000);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(timer).await;
    let retried = api::call_api("v2/employees").await?;
    Ok(format!(
        "HTTP {} with Retry-After: {wait} s, relayed by the companion as the API sent it (it never retries an API call by itself). \
         Waiting as told, then trying again: HTTP {}. An integration does the same, with few retries, growing waits and jitter.",
        limited.status, retried.status
    ))
}
