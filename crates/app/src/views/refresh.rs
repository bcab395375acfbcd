//! Step 5: refresh tokens: the countdown, a manual refresh, and single flight shown live.

use std::time::Duration;

use contract::wire::TranscriptStep;
use leptos::prelude::*;

use crate::live::Live;
use crate::views::operations::{self, Operation, Outcome};
use crate::views::step_card::{StepCard, StepGuide};
use crate::views::widgets::TranscriptList;

/// Seconds since the Unix epoch, by the browser's clock.
fn now_secs() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

/// Step 5 of Pleo's guide.
#[component]
pub fn StepRefresh(
    /// Collapse the step's explanation (documentation pages).
    compact: bool,
) -> impl IntoView {
    let live = expect_context::<Live>();
    let guide = StepGuide {
        number: 5,
        title: "Refresh tokens",
        purpose: "Get a new access token before the old one expires, without asking the user again.",
        input: "The refresh token (companion only), grant_type=refresh_token, client_secret_basic.",
        output: "A new access token and a new refresh token; every earlier token of this authorization stops working.",
        why: "Pleo rotates both tokens on every refresh, so two refreshes at once would log the user out: refresh centrally, one at a time.",
    };
    let now = RwSignal::new(now_secs());
    if let Ok(handle) = set_interval_with_handle(move || now.set(now_secs()), Duration::from_secs(1)) {
        on_cleanup(move || handle.clear());
    }
    let expires_at = move || match live.session.get() {
        Some(Ok(s)) => s.tokens.map(|t| (t.expires_at, t.expires_in)),
        _ => None,
    };
    let action = operations::action(live);
    let busy = action.pending();
    view! {
        <StepCard guide=guide compact=compact>
            <p class="countdown" aria-live="off">
                {move || match expires_at() {
                    Some((at, lifetime)) => {
                        let left = flow::expiry::seconds_left(now.get(), at);
                        let soon = flow::expiry::should_refresh(now.get(), at, flow::expiry::refresh_margin(lifetime));
                        view! {
                            "The access token expires in " <strong data-testid="expires-left">{left}</strong> " s"
                            {soon.then_some(" — the companion refreshes it on the next call")}
                        }.into_any()
                    }
                    None => view! { <span class="muted">"No tokens yet: complete step 2."</span> }.into_any(),
                }}
            </p>
            <button id="refresh-now" on:click=move |_| { action.dispatch(Operation::RefreshNow); } disabled=move || busy.get() || !live.signed_in()>"Refresh now"</button>
            {move || live.is_local().then(|| view! {
                <button id="single-flight" on:click=move |_| { action.dispatch(Operation::SingleFlight); } disabled=move || busy.get() || !live.signed_in()>
                    "Expire the access token and fire 5 calls at once"
                </button>
                <button id="refresh-race" on:click=move |_| { action.dispatch(Operation::RefreshRace); } disabled=move || busy.get() || !live.signed_in()>
                    "Without one refresh at a time: race two refreshes"
                </button>
            })}
            <Outcome action=action/>
            <h3>"On the companion"</h3>
            <TranscriptList steps=&[TranscriptStep::Refresh]/>
        </StepCard>
    }
}
