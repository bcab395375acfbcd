//! Step 6: expiry and revocation, provoked with the stand-in's fault knobs.

use contract::FaultKnob;
use contract::wire::FaultParams;
use leptos::prelude::*;

use crate::api::{self, ClientError};
use crate::live::Live;
use crate::pending;
use crate::views::step_card::{StepCard, StepGuide};
use crate::views::widgets::Outcome;

/// What the buttons of step 6 do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step6 {
    /// Expire the access token at the stand-in, then call the API.
    ExpireAccessToken,
    /// Revoke the refresh token and expire the access token, then call the API.
    RevokeRefreshToken,
    /// Make the token endpoint answer 503 (with Retry-After) three times, then refresh.
    TokenEndpointDown,
    /// `POST /api/logout {"disconnect": true}`.
    Disconnect,
    /// `POST /api/logout`.
    SignOut,
}

/// Runs `op`, then reloads the session and the transcript; a sentence for the page.
async fn run(live: Live, op: Step6) -> Result<String, ClientError> {
    let outcome = match op {
        Step6::ExpireAccessToken => expire_and_call().await,
        Step6::RevokeRefreshToken => revoke_and_call().await,
        Step6::TokenEndpointDown => token_endpoint_down().await,
        Step6::Disconnect => api::logout(true).await.map(|()| {
            pending::clear_report();
            "Disconnected: DELETE /v1/installations/me revoked every token of this client, and the companion forgot them."
                .to_owned()
        }),
        Step6::SignOut => api::logout(false).await.map(|()| {
            pending::clear_report();
            "Signed out: the companion forgot the tokens and cleared the session cookie.".to_owned()
        }),
    };
    live.reload_session();
    outcome
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

/// Step 6 of Pleo's guide.
#[component]
pub fn StepRevocation(compact: bool) -> impl IntoView {
    let live = expect_context::<Live>();
    let guide = StepGuide {
        number: 6,
        title: "Handle expiry or revocation",
        purpose: "Recover when a token expires; stop cleanly when access is revoked.",
        input: "A 401 from the API, or invalid_grant from the token endpoint.",
        output: "A refresh and a retry, or: tokens discarded and the user asked to authorise again.",
        why: "A refresh failure is terminal (Pleo): never retry forever; keep the user's place with state.",
    };
    let action = Action::new_local(move |op: &Step6| run(live, *op));
    let busy = action.pending();
    let confirm = RwSignal::new(false);
    view! {
        <StepCard guide=guide compact=compact>
            {move || if live.is_local() {
                view! {
                    <p>"The local stand-in can break things on purpose:"</p>
                    <p>
                        <button id="fault-expire" on:click=move |_| { action.dispatch(Step6::ExpireAccessToken); } disabled=move || busy.get() || !live.signed_in()>"Expire the access token, then call the API"</button>
                        <button id="fault-revoke" on:click=move |_| { action.dispatch(Step6::RevokeRefreshToken); } disabled=move || busy.get() || !live.signed_in()>"Revoke the refresh token, then call the API"</button>
                        <button id="fault-token-endpoint" on:click=move |_| { action.dispatch(Step6::TokenEndpointDown); } disabled=move || busy.get() || !live.signed_in()>"Make the token endpoint fail, then refresh"</button>
                    </p>
                }.into_any()
            } else {
                view! { <p class="muted">"Fault knobs exist only with the local stand-in (PLEO_ENV=local)."</p> }.into_any()
            }}
            <Outcome pending=busy outcome=Signal::derive(move || action.value().get())/>
            <h3>"End the connection"</h3>
            <p>
                <label><input type="checkbox" id="confirm-disconnect" prop:checked=move || confirm.get() on:change=move |ev| confirm.set(event_target_checked(&ev))/>
                    " I understand that disconnecting revokes every token of this client at Pleo"</label>
            </p>
            <p>
                <button id="disconnect" on:click=move |_| { action.dispatch(Step6::Disconnect); } disabled=move || busy.get() || !confirm.get() || !live.signed_in()>"Disconnect (DELETE /v1/installations/me)"</button>
                <button id="sign-out" on:click=move |_| { action.dispatch(Step6::SignOut); } disabled=move || busy.get() || !live.signed_in()>"Sign out"</button>
            </p>
        </StepCard>
    }
}
