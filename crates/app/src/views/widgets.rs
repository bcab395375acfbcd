//! Small pieces every step uses.

use contract::wire::{TokenSummary, TranscriptEntry, TranscriptStep};
use flow::ErrorCode;
use leptos::prelude::*;

use crate::api::ClientError;
use crate::authorization;
use crate::live::Live;
use crate::popup::{self, PopupStatus};
use crate::views::step_card::CurrentStep;

/// An error where it happened: the stable code, the sentence, and what to do next. When the
/// tokens are gone it offers to authorise again and come back to this step.
#[component]
pub fn ErrorNotice(error: ClientError) -> impl IntoView {
    let code = error.code();
    let reauthorize = matches!(code, ErrorCode::ReauthorizationRequired | ErrorCode::NotSignedIn);
    view! {
        <div class="error" role="alert" data-error-code=code.as_str()>
            <strong>{code.as_str()}</strong>
            " "
            <span>{error.0.message.clone()}</span>
            {reauthorize.then(|| view! { <AuthorizeAgain/> })}
        </div>
    }
}

/// Starts a new authorization that returns to the current step: the tab goes to the
/// authorisation server, or, in the frame, a pop-up opens from this very click.
#[component]
pub fn AuthorizeAgain() -> impl IntoView {
    let live = use_context::<Live>();
    let step = use_context::<CurrentStep>().map_or(2, |s| s.0);
    let framed = crate::api::in_frame();
    let popup_status = RwSignal::new(PopupStatus::Idle);
    let authorize = Action::new_local(move |_: &()| {
        let config = live.and_then(Live::loaded_config);
        async move {
            match config {
                Some(config) => authorization::start_authorization(&config, step).await,
                None => Err(ClientError::from(ErrorCode::CompanionUnreachable)),
            }
        }
    });
    let again = move |_| {
        if !framed {
            authorize.dispatch(());
            return;
        }
        let prepared = live
            .and_then(Live::loaded_config)
            .ok_or_else(|| ClientError::from(ErrorCode::CompanionUnreachable))
            .and_then(|config| authorization::prepare(&config));
        match (prepared, live) {
            (Ok(prepared), Some(live)) => popup::sign_in(prepared, live, popup_status),
            (Err(error), _) => popup_status.set(PopupStatus::Failed(error)),
            (Ok(_), None) => popup_status.set(PopupStatus::Failed(ErrorCode::Internal.into())),
        }
    };
    view! {
        <p><button class="primary" data-testid="authorize-again" on:click=again disabled=move || authorize.pending().get()>
            {if framed { "Authorise again in a pop-up window" } else { "Authorise again and come back here" }}
        </button></p>
        {move || authorize.value().get().and_then(Result::err).map(|e| view! { <p class="error-inline">{e.0.message}</p> })}
        <PopupStatusView status=popup_status/>
    }
}

/// Where a pop-up sign-in of the framed walkthrough is. A blocked pop-up offers the full-page
/// flow in a new tab, where the companion's own page is first-party. One template for every
/// state: each `view!` costs wasm.
#[component]
pub fn PopupStatusView(status: RwSignal<PopupStatus>) -> impl IntoView {
    move || {
        let (note, error) = match status.get() {
            PopupStatus::Idle => return None,
            PopupStatus::Waiting => ("Waiting for the sign-in window…", None),
            PopupStatus::Closed => (
                "Still listening for its answer through the companion…",
                Some(ClientError::from(ErrorCode::PopupClosed)),
            ),
            PopupStatus::SignedIn => (
                "✓ Signed in: the companion holds the tokens. Step 3 shows the exchange.",
                None,
            ),
            PopupStatus::Failed(error) => ("", Some(error)),
        };
        let signed_in = matches!(status.get_untracked(), PopupStatus::SignedIn);
        let blocked = error.as_ref().is_some_and(|e| e.code() == ErrorCode::PopupBlocked);
        Some(view! {
            <div class="popup-status" role="status" id=signed_in.then_some("popup-signed-in")>
                {error.map(|error| view! { <ErrorNotice error=error/> })}
                <p>{note}</p>
                {blocked.then(|| view! {
                    <p><a id="open-in-new-tab" href="/#step-2" target="_blank" rel="noopener">"Open the walkthrough in a new tab"</a></p>
                })}
            </div>
        })
    }
}

/// A labelled value with a stable test id.
#[component]
pub fn Field(label: &'static str, id: &'static str, value: String) -> impl IntoView {
    view! {
        <dt>{label}</dt>
        <dd><code data-testid=id>{value}</code></dd>
    }
}

/// A button that copies `text` to the clipboard and says whether it worked.
#[component]
pub fn CopyButton(text: String, label: String) -> impl IntoView {
    let copy = Action::new_local(move |_: &()| {
        let promise = web_sys::window().map(|w| w.navigator().clipboard().write_text(&text));
        async move {
            let copied = match promise {
                Some(p) => wasm_bindgen_futures::JsFuture::from(p).await.is_ok(),
                None => false,
            };
            if copied {
                Ok(())
            } else {
                Err(ClientError::from(ErrorCode::Internal))
            }
        }
    });
    let state = move || match copy.value().get() {
        None => "Copy",
        Some(Ok(())) => "Copied",
        Some(Err(_)) => "Select and copy",
    };
    view! { <button class="copy" aria-label=format!("Copy {label}") on:click=move |_| { copy.dispatch(()); }>{state}</button> }
}

/// A progress line, announced to screen readers.
#[component]
pub fn Progress(text: &'static str) -> impl IntoView {
    view! { <p class="progress" role="status" aria-live="polite" aria-busy="true">{text}</p> }
}

/// The redacted token summary.
#[component]
pub fn TokenSummaryView(summary: TokenSummary) -> impl IntoView {
    view! {
        <dl class="summary" id="token-summary">
            <Field label="Token type" id="token-type" value=summary.token_type/>
            <Field label="Access token (held by the companion)" id="access-token-hint" value=summary.access_token_hint/>
            <Field label="Expires in (seconds, at issue)" id="expires-in" value=summary.expires_in.to_string()/>
            <Field label="Scope" id="granted-scope" value=summary.scope/>
            <Field label="Refresh token held by the companion" id="has-refresh" value=summary.has_refresh_token.to_string()/>
        </dl>
    }
}

/// Pretty JSON in a collapsible block.
#[component]
pub fn JsonViewer(body: String, #[prop(default = "Response body")] summary: &'static str) -> impl IntoView {
    view! {
        <details class="json-viewer" open>
            <summary>{summary}</summary>
            <pre class="json" data-testid="api-body">{body}</pre>
        </details>
    }
}

/// One server-side exchange from the companion's transcript.
#[component]
pub fn TranscriptView(entry: TranscriptEntry) -> impl IntoView {
    let status = entry.status.map_or_else(|| "no response".to_owned(), |s| s.to_string());
    let headers = entry
        .request_headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}"))
        .collect::<Vec<_>>()
        .join("\n");
    view! {
        <div class="transcript-entry" data-step=entry.step.as_str()>
            <p class="request-line"><code>{format!("{} {}", entry.method, entry.url)}</code>
                " → " <strong data-testid="transcript-status">{status}</strong>
                {format!(" in {} ms", entry.duration_ms)}</p>
            <pre class="http">{headers}{entry.request_body.map(|b| format!("\n\n{b}"))}</pre>
            {entry.response_body.map(|b| view! { <pre class="http response">{b}</pre> })}
            {entry.error.map(|e| view! { <p class="error-inline">{e}</p> })}
        </div>
    }
}

/// The transcript entries of kinds `steps`, newest last, or a note that there are none.
#[component]
pub fn TranscriptList(steps: &'static [TranscriptStep]) -> impl IntoView {
    let live = expect_context::<Live>();
    view! {
        <div class="transcript" aria-label="What the companion did, server side">
            {move || {
                let entries: Vec<TranscriptEntry> = live.transcript.get().unwrap_or_default().into_iter().filter(|e| steps.contains(&e.step)).collect();
                if entries.is_empty() {
                    view! { <p class="muted">"Nothing yet on the server side for this step."</p> }.into_any()
                } else {
                    entries.into_iter().rev().take(6).collect::<Vec<_>>().into_iter().rev().map(|e| view! { <TranscriptView entry=e/> }).collect_view().into_any()
                }
            }}
        </div>
    }
}
