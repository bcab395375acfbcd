//! Step 6: expiry and revocation, provoked with the stand-in's fault knobs.

use leptos::prelude::*;

use crate::api;
use crate::live::Live;
use crate::views::operations::{self, Operation, Outcome};
use crate::views::step_card::{StepCard, StepGuide};

/// Step 6 of Pleo's guide.
#[component]
pub fn StepRevocation(
    /// Collapse the step's explanation (documentation pages).
    compact: bool,
) -> impl IntoView {
    let live = expect_context::<Live>();
    let guide = StepGuide {
        number: 6,
        title: "Handle expiry or revocation",
        purpose: "Recover when a token expires; stop cleanly when access is revoked.",
        input: "A 401 from the API, or invalid_grant from the token endpoint.",
        output: "A refresh and a retry, or: tokens discarded and the user asked to authorise again.",
        why: "A refresh failure is terminal (Pleo): never retry forever; keep the user's place with state.",
    };
    let action = operations::action(live);
    let busy = action.pending();
    let confirm = RwSignal::new(false);
    view! {
        <StepCard guide=guide compact=compact>
            {move || if live.is_local() {
                view! {
                    <p>"The local stand-in can break things on purpose:"</p>
                    <p>
                        <button id="fault-expire" on:click=move |_| { action.dispatch(Operation::ExpireAndCall); } disabled=move || busy.get() || !live.signed_in()>"Expire the access token, then call the API"</button>
                        <button id="fault-revoke" on:click=move |_| { action.dispatch(Operation::RevokeAndCall); } disabled=move || busy.get() || !live.signed_in()>"Revoke the refresh token, then call the API"</button>
                        <button id="fault-token-endpoint" on:click=move |_| { action.dispatch(Operation::TokenEndpointDown); } disabled=move || busy.get() || !live.signed_in()>"Make the token endpoint fail, then refresh"</button>
                        <button id="fault-rate-limit" on:click=move |_| { action.dispatch(Operation::RateLimited); } disabled=move || busy.get() || !live.signed_in()>"Rate-limit the API (429), then call it"</button>
                    </p>
                }.into_any()
            } else {
                view! { <p class="muted">"Fault knobs exist only with the local stand-in (PLEO_ENV=local)."</p> }.into_any()
            }}
            <Outcome action=action/>
            <h3>"Take it home"</h3>
            <p><a class="button" id="download-har" download="" href=api::har_href()>"Download the session (HAR)"</a>
                " Every server-side exchange as an HTTP Archive, which browsers' developer tools open; the secret and tokens redacted."</p>
            <h3>"End the connection"</h3>
            <p>
                <label><input type="checkbox" id="confirm-disconnect" prop:checked=move || confirm.get() on:change=move |ev| confirm.set(event_target_checked(&ev))/>
                    " I understand that disconnecting revokes every token of this client at Pleo"</label>
            </p>
            <p>
                <button id="disconnect" on:click=move |_| { action.dispatch(Operation::Disconnect); } disabled=move || busy.get() || !confirm.get() || !live.signed_in()>"Disconnect (DELETE /v1/installations/me)"</button>
                <button id="sign-out" on:click=move |_| { action.dispatch(Operation::SignOut); } disabled=move || busy.get() || !live.signed_in()>"Sign out"</button>
            </p>
        </StepCard>
    }
}
