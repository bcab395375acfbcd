//! Small pieces every step uses.

use contract::exports::SnippetLanguage;
use contract::wire::{TokenSummary, TranscriptEntry, TranscriptStep};
use flow::ErrorCode;
use leptos::prelude::*;

use crate::api::{self, ClientError};
use crate::authorization;
use crate::live::Live;
use crate::popup::{self, Popup};
use crate::views::step_card::CurrentStep;

/// An error where it happened: the stable code, the sentence, and what to do next. When the
/// tokens are gone it offers to authorise again and come back to this step; when the browser
/// blocked the sign-in pop-up, the walkthrough in a new tab.
#[component]
pub fn ErrorNotice(
    /// The error to show, with its stable code.
    error: ClientError,
) -> impl IntoView {
    let code = error.code();
    let reauthorize = matches!(code, ErrorCode::ReauthorizationRequired | ErrorCode::NotSignedIn);
    // A blocked pop-up, or the frame's cookies refused: the full-page flow in a new tab, where
    // the companion's page is first-party.
    let blocked = matches!(code, ErrorCode::PopupBlocked | ErrorCode::FrameCookiesRefused);
    view! {
        <div class="error" role="alert" data-error-code=code.as_str()>
            <strong>{code.as_str()}</strong>
            " "
            <span>{error.0.message.clone()}</span>
            {reauthorize.then(|| view! { <AuthorizeAgain/> })}
            {blocked.then(|| view! { <p><a id=contract::page::NEW_TAB_LINK_ID href="/#step-2" target="_blank" rel="noopener">"Open the walkthrough in a new tab"</a></p> })}
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
    let popup = Popup::new();
    let config = move || {
        live.and_then(Live::loaded_config)
            .ok_or_else(|| ClientError::from(ErrorCode::CompanionUnreachable))
    };
    let authorize = Action::new_local(move |_: &()| {
        let (config, opened) = (config(), popup.take());
        async move {
            match opened {
                Some(opened) => popup::complete(opened, live).await,
                // In the frame, never away from the documentation page: what kept the pop-up
                // from opening is the answer.
                _ if framed => Err(config
                    .and_then(|c| authorization::prepare(&c))
                    .err()
                    .unwrap_or_else(|| ErrorCode::Internal.into())),
                _ => authorization::start_authorization(&config?, step).await,
            }
        }
    });
    let again = move |_| {
        if framed && let Ok(prepared) = config().and_then(|c| authorization::prepare(&c)) {
            popup.open(prepared);
        }
        popup.dispatch(authorize);
    };
    view! {
        <p><button class="primary" data-testid="authorize-again" on:click=again disabled=move || authorize.pending().get() && !framed>
            {if framed { "Authorise again in a pop-up window" } else { "Authorise again and come back here" }}
        </button></p>
        {move || authorize.value().get().and_then(Result::err).map(|e| view! { <p class="error-inline">{e.0.message}</p> })}
    }
}

/// A labelled value with a stable test id.
#[component]
pub fn Field(
    /// What the value is.
    label: &'static str,
    /// The element id (the tests find the value by it).
    id: &'static str,
    /// The value shown and copied.
    value: String,
) -> impl IntoView {
    view! {
        <dt>{label}</dt>
        <dd><code data-testid=id>{value}</code></dd>
    }
}

/// Puts `text` on the clipboard; resolves to whether the browser allowed it. The write is asked
/// for at once: a browser may allow it only while it handles the click.
fn copy_to_clipboard(text: &str) -> impl std::future::Future<Output = bool> + use<> {
    let promise = web_sys::window().map(|w| w.navigator().clipboard().write_text(text));
    async move {
        match promise {
            Some(p) => wasm_bindgen_futures::JsFuture::from(p).await.is_ok(),
            None => false,
        }
    }
}

/// The element an event's `target` or `current_target` is, if it is one: how the handlers that
/// serve a block of buttons or links at once find the one clicked and the block.
pub fn event_element(target: Option<web_sys::EventTarget>) -> Option<web_sys::Element> {
    use wasm_bindgen::JsCast as _;
    target.and_then(|t| t.dyn_into::<web_sys::Element>().ok())
}

/// A button that copies `text` to the clipboard and says whether it worked.
#[component]
pub fn CopyButton(
    /// The text copied to the clipboard.
    text: String,
    /// The button's accessible name.
    label: String,
) -> impl IntoView {
    let copy = Action::new_local(move |_: &()| {
        let copied = copy_to_clipboard(&text);
        async move {
            if copied.await {
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
pub fn Progress(
    /// What is going on.
    text: &'static str,
) -> impl IntoView {
    view! { <p class="progress" role="status" aria-live="polite" aria-busy="true">{text}</p> }
}

/// The redacted token summary.
#[component]
pub fn TokenSummaryView(
    /// The tokens' summary (no token).
    summary: TokenSummary,
) -> impl IntoView {
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
pub fn JsonViewer(
    /// The JSON text, shown collapsible.
    body: String,
    /// The disclosure's title.
    #[prop(default = "Response body")]
    summary: &'static str,
) -> impl IntoView {
    view! {
        <details class="json-viewer" open>
            <summary>{summary}</summary>
            // Scrolls by itself: focusable, so that a keyboard can scroll it.
            <pre class="json" data-testid="api-body" tabindex="0">{body}</pre>
        </details>
    }
}

/// One server-side exchange from the companion's transcript.
#[component]
pub fn TranscriptView(
    /// The exchange, redacted as the companion serves it.
    entry: TranscriptEntry,
) -> impl IntoView {
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
            <CopyAs entry=entry.id/>
        </div>
    }
}

/// "Copy as curl, fetch or Rust" for one transcript entry: the companion writes the snippet
/// (environment variables where the secret and the tokens go); the page copies it to the
/// clipboard and shows it below the buttons (or why it could not), to select by hand where the
/// clipboard is refused. One click handler for the three buttons, writing the `<pre>` itself,
/// measured against the idioms: an `Action`, a result view and a copy button per entry cost
/// 2.1 KB gzipped more; a signal and a reactive text node instead, 1.3 KB more.
#[component]
fn CopyAs(entry: String) -> impl IntoView {
    let copy = move |ev: web_sys::MouseEvent| {
        let language = event_element(ev.target()).and_then(|b| b.get_attribute("data-language"));
        let pre = event_element(ev.current_target()).and_then(|block| block.query_selector("pre").ok().flatten());
        let (Some(language), Some(pre)) = (language, pre) else {
            return;
        };
        let entry = entry.clone();
        leptos::task::spawn_local(async move {
            let text = match api::snippet(&entry, &language).await {
                Ok(text) => {
                    copy_to_clipboard(&text).await;
                    text
                }
                Err(e) => e.0.message,
            };
            pre.set_text_content(Some(&text));
        });
    };
    view! {
        <div class="copy-as" on:click=copy>
            <p>"Copy as "
                {SnippetLanguage::ALL
                    .into_iter()
                    .enumerate()
                    .map(|(i, language)| view! {
                        {(i > 0).then_some(" · ")}
                        <button class="link" data-language=language.as_str()>{language.label()}</button>
                    })
                    .collect_view()}</p>
            <pre class="snippet" data-testid="snippet"></pre>
        </div>
    }
}

/// The transcript entries of kinds `steps`, newest last, or a note that there are none.
#[component]
pub fn TranscriptList(
    /// The transcript's steps to list.
    steps: &'static [TranscriptStep],
) -> impl IntoView {
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
