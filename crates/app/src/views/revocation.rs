//! Step 6: expiry and revocation, provoked with the stand-in's fault knobs.

use contract::FaultKnob;
use contract::wire::FaultParams;
use leptos::prelude::*;

use crate::api;
use crate::pending;
use crate::views::refresh::{Outcome, refreshes_since, run_action};
use crate::views::{Live, StepCard, StepGuide};

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
    let busy = RwSignal::new(false);
    let outcome = RwSignal::new(None);
    let confirm = RwSignal::new(false);
    let expire = move |_| {
        run_action(live, busy, outcome, async move {
            let since = js_sys::Date::now() as u64;
            api::fault(FaultKnob::ExpireAccessToken, FaultParams::default()).await?;
            let call = api::call_api("v2/employees").await?;
            let refreshes = refreshes_since(since).await;
            Ok(format!(
                "The API refused the expired token; the companion refreshed ({refreshes}x) and retried once: HTTP {}.",
                call.status
            ))
        })
    };
    let revoke = move |_| {
        run_action(live, busy, outcome, async move {
            api::fault(FaultKnob::RevokeRefreshToken, FaultParams::default()).await?;
            api::fault(FaultKnob::ExpireAccessToken, FaultParams::default()).await?;
            let call = api::call_api("v2/employees").await?;
            Ok(format!("Unexpected: the call succeeded with HTTP {}.", call.status))
        })
    };
    let token_endpoint_down = move |_| {
        run_action(live, busy, outcome, async move {
            api::fault(
                FaultKnob::TokenEndpoint,
                FaultParams {
                    status: Some(503),
                    remaining: Some(3),
                    ..FaultParams::default()
                },
            )
            .await?;
            let refreshed = api::refresh().await;
            let session = api::session().await?;
            match refreshed {
                Err(e) => Ok(format!(
                    "The token endpoint answered 503 with Retry-After three times (one try, two retries after the wait it asked for): {}. Still signed in: {}.",
                    e.code(),
                    session.signed_in
                )),
                Ok(_) => Ok("The refresh succeeded (the fault was used up elsewhere).".to_owned()),
            }
        })
    };
    let disconnect = move |_| {
        run_action(live, busy, outcome, async move {
            api::logout(true).await?;
            pending::clear_report();
            Ok("Disconnected: DELETE /v1/installations/me revoked every token of this client, and the companion forgot them.".to_owned())
        })
    };
    let sign_out = move |_| {
        run_action(live, busy, outcome, async move {
            api::logout(false).await?;
            pending::clear_report();
            Ok("Signed out: the companion forgot the tokens and cleared the session cookie.".to_owned())
        })
    };
    view! {
        <StepCard guide=guide compact=compact>
            {move || if live.is_local() {
                view! {
                    <p>"The local stand-in can break things on purpose:"</p>
                    <p>
                        <button id="fault-expire" on:click=expire disabled=move || busy.get() || !live.signed_in()>"Expire the access token, then call the API"</button>
                        <button id="fault-revoke" on:click=revoke disabled=move || busy.get() || !live.signed_in()>"Revoke the refresh token, then call the API"</button>
                        <button id="fault-token-endpoint" on:click=token_endpoint_down disabled=move || busy.get() || !live.signed_in()>"Make the token endpoint fail, then refresh"</button>
                    </p>
                }.into_any()
            } else {
                view! { <p class="muted">"Fault knobs exist only with the local stand-in (PLEO_ENV=local)."</p> }.into_any()
            }}
            <Outcome outcome=outcome busy=busy/>
            <h3>"End the connection"</h3>
            <p>
                <label><input type="checkbox" id="confirm-disconnect" prop:checked=move || confirm.get() on:change=move |ev| confirm.set(event_target_checked(&ev))/>
                    " I understand that disconnecting revokes every token of this client at Pleo"</label>
            </p>
            <p>
                <button id="disconnect" on:click=disconnect disabled=move || busy.get() || !confirm.get() || !live.signed_in()>"Disconnect (DELETE /v1/installations/me)"</button>
                <button id="sign-out" on:click=sign_out disabled=move || busy.get() || !live.signed_in()>"Sign out"</button>
            </p>
        </StepCard>
    }
}
