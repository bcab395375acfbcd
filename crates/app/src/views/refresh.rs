//! Step 5: refresh tokens: the countdown, a manual refresh, and single flight shown live.

use std::future::Future;
use std::time::Duration;

use contract::FaultKnob;
use contract::wire::{FaultParams, TranscriptStep};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ClientError};
use crate::views::widgets::{ErrorNotice, Progress, TranscriptList};
use crate::views::{Live, StepCard, StepGuide};

/// Seconds since the Unix epoch, by the browser's clock.
fn now_secs() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

/// Runs an action that ends in a sentence or an error, showing progress, then reloads the
/// session and transcript.
pub fn run_action(
    live: Live,
    busy: RwSignal<bool>,
    outcome: RwSignal<Option<Result<String, ClientError>>>,
    action: impl Future<Output = Result<String, ClientError>> + 'static,
) {
    busy.set(true);
    outcome.set(None);
    spawn_local(async move {
        outcome.set(Some(action.await));
        busy.set(false);
        live.reload_session();
    });
}

/// What an action ended in.
#[component]
pub fn Outcome(outcome: RwSignal<Option<Result<String, ClientError>>>, busy: RwSignal<bool>) -> impl IntoView {
    view! {
        {move || busy.get().then(|| view! { <Progress text="Working…"/> })}
        {move || outcome.get().map(|o| match o {
            Ok(text) => view! { <p class="outcome" role="status" data-testid="outcome">{text}</p> }.into_any(),
            Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
        })}
    }
}

/// How many refreshes the companion made since `since_ms`, from its transcript.
pub async fn refreshes_since(since_ms: u64) -> usize {
    api::transcript()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|e| e.step == TranscriptStep::Refresh && e.started_at_ms >= since_ms)
        .count()
}

/// Step 5 of Pleo's guide.
#[component]
pub fn StepRefresh(compact: bool) -> impl IntoView {
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
        Some(Ok(s)) => s.tokens.map(|t| t.expires_at),
        _ => None,
    };
    let busy = RwSignal::new(false);
    let outcome = RwSignal::new(None);
    let refresh_now = move |_| {
        run_action(live, busy, outcome, async move {
            let summary = api::refresh().await?;
            Ok(format!(
                "Refreshed: a new access token ({}) and a new refresh token; the old ones are now invalid.",
                summary.access_token_hint
            ))
        })
    };
    let single_flight = move |_| {
        run_action(live, busy, outcome, async move {
            let since = js_sys::Date::now() as u64;
            api::fault(FaultKnob::ExpireAccessToken, FaultParams::default()).await?;
            let calls = futures::future::join_all((0..5).map(|_| api::call_api("v2/employees"))).await;
            let statuses: Vec<String> = calls
                .iter()
                .map(|c| {
                    c.as_ref()
                        .map_or_else(|e| e.code().to_string(), |c| c.status.to_string())
                })
                .collect();
            let refreshes = refreshes_since(since).await;
            Ok(format!(
                "5 calls with an expired access token answered [{}] after {refreshes} refresh at the token endpoint.",
                statuses.join(", ")
            ))
        })
    };
    view! {
        <StepCard guide=guide compact=compact>
            <p class="countdown" aria-live="off">
                {move || match expires_at() {
                    Some(at) => {
                        let left = flow::expiry::seconds_left(now.get(), at);
                        let soon = flow::expiry::should_refresh(now.get(), at, flow::expiry::REFRESH_SKEW_SECS);
                        view! {
                            "The access token expires in " <strong data-testid="expires-left">{left}</strong> " s"
                            {soon.then_some(" — the companion refreshes it on the next call")}
                        }.into_any()
                    }
                    None => view! { <span class="muted">"No tokens yet: complete step 2."</span> }.into_any(),
                }}
            </p>
            <button id="refresh-now" on:click=refresh_now disabled=move || busy.get() || !live.signed_in()>"Refresh now"</button>
            {move || live.is_local().then(|| view! {
                <button id="single-flight" on:click=single_flight disabled=move || busy.get() || !live.signed_in()>
                    "Expire the access token and fire 5 calls at once"
                </button>
            })}
            <Outcome outcome=outcome busy=busy/>
            <h3>"On the companion"</h3>
            <TranscriptList steps=&[TranscriptStep::Refresh]/>
        </StepCard>
    }
}
