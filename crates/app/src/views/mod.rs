//! The pages: the walkthrough (six steps of Pleo's OAuth workflow guide) and the callback.

pub mod api_explorer;
pub mod authorize;
pub mod callback;
pub mod exchange;
pub mod refresh;
pub mod register;
pub mod revocation;
pub mod widgets;

use std::time::Duration;

use contract::wire::{PublicConfig, SessionInfo, TranscriptEntry};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ClientError};
use crate::embed::EmbedOptions;
use crate::pending::{self, CallbackReport};
pub use callback::CallbackPage;
use widgets::{ErrorNotice, Progress};

/// The live values every step reads: configuration, session, the companion's transcript.
#[derive(Debug, Clone, Copy)]
pub struct Live {
    /// `GET /api/config`.
    pub config: RwSignal<Option<Result<PublicConfig, ClientError>>>,
    /// `GET /api/session`.
    pub session: RwSignal<Option<Result<SessionInfo, ClientError>>>,
    /// `GET /api/transcript` (empty when signed out).
    pub transcript: RwSignal<Vec<TranscriptEntry>>,
    /// The last handled callback.
    pub report: RwSignal<Option<CallbackReport>>,
}

/// The `performance.mark` set once the configuration is on the page.
pub const INTERACTIVE_MARK: &str = "walkthrough-interactive";

impl Live {
    /// Empty signals; call [`Live::load`].
    pub fn new() -> Self {
        Self {
            config: RwSignal::new(None),
            session: RwSignal::new(None),
            transcript: RwSignal::new(Vec::new()),
            report: RwSignal::new(pending::report()),
        }
    }

    /// Loads the configuration, then the session and transcript.
    pub fn load(self) {
        spawn_local(async move {
            self.config.set(Some(api::config().await));
            // For bench/: navigation to a usable walkthrough (configuration shown, buttons live).
            if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
                let _ = performance.mark(INTERACTIVE_MARK);
            }
        });
        self.reload_session();
    }

    /// Reloads the session and the transcript (after anything the companion did).
    pub fn reload_session(self) {
        spawn_local(async move {
            let session = api::session().await;
            let signed_in = matches!(&session, Ok(s) if s.signed_in);
            self.session.set(Some(session));
            self.transcript.set(if signed_in {
                api::transcript().await.unwrap_or_default()
            } else {
                Vec::new()
            });
        });
    }

    /// Whether the companion holds tokens for this browser.
    pub fn signed_in(self) -> bool {
        matches!(self.session.get(), Some(Ok(s)) if s.signed_in)
    }

    /// Whether the embedded stand-in (and so the fault knobs) is in use.
    pub fn is_local(self) -> bool {
        matches!(self.config.get(), Some(Ok(c)) if c.environment == contract::Environment::Local)
    }
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}

/// The step a component is rendered in (for "authorise again and come back here").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrentStep(pub u8);

/// What a step card says about its step, after Pleo's guide.
pub struct StepGuide {
    /// The step number, 1 to 6.
    pub number: u8,
    /// The heading.
    pub title: &'static str,
    /// Purpose.
    pub purpose: &'static str,
    /// Input.
    pub input: &'static str,
    /// Output.
    pub output: &'static str,
    /// Why it matters.
    pub why: &'static str,
}

/// A step: its guide (Purpose, Input, Output, Why it matters; collapsed in compact mode) and
/// its live content.
#[component]
pub fn StepCard(guide: StepGuide, compact: bool, children: Children) -> impl IntoView {
    provide_context(CurrentStep(guide.number));
    let id = format!("step-{}", guide.number);
    let heading = format!("step-{}-title", guide.number);
    let labelled_by = heading.clone();
    let explained = view! {
        <dl class="guide">
            <dt>"Purpose"</dt><dd>{guide.purpose}</dd>
            <dt>"Input"</dt><dd>{guide.input}</dd>
            <dt>"Output"</dt><dd>{guide.output}</dd>
            <dt>"Why it matters"</dt><dd>{guide.why}</dd>
        </dl>
    };
    view! {
        <section class="card step" id=id aria-labelledby=labelled_by>
            <h2 id=heading><span class="step-number" aria-hidden="true">{guide.number}</span>{guide.title}</h2>
            {if compact {
                view! { <details class="guide-details"><summary>"What this step is"</summary>{explained}</details> }.into_any()
            } else {
                explained.into_any()
            }}
            {children()}
        </section>
    }
}

/// The walkthrough, standalone at `/` or embedded in a documentation page.
#[component]
pub fn WalkthroughPage(#[prop(default = EmbedOptions::default())] options: EmbedOptions) -> impl IntoView {
    let live = Live::new();
    provide_context(live);
    live.load();
    let start_step = options.start_step;
    // Deep links (`#step-4`) and the embed's start step scroll there once the steps exist.
    Effect::new(move || {
        if matches!(live.config.get(), Some(Ok(_))) {
            set_timeout(move || scroll_to_step(start_step), Duration::from_millis(50));
        }
    });
    let compact = options.compact;
    let steps = options.steps.clone();
    let shown = move |n: u8| steps.contains(&n);
    view! {
        <nav class="steps-nav" aria-label="Steps">
            {(1..=6u8).filter(|n| options.steps.contains(n)).map(|n| view! { <a href=format!("#step-{n}")>{format!("Step {n}")}</a> }).collect_view()}
        </nav>
        {move || match live.config.get() {
            None => view! { <Progress text="Loading the configuration from the companion…"/> }.into_any(),
            Some(Err(error)) => view! { <section class="card"><h2>"Configuration"</h2><ErrorNotice error=error/></section> }.into_any(),
            Some(Ok(config)) => view! {
                {shown(1).then(|| view! { <register::StepRegister config=config.clone() compact=compact/> })}
                {shown(2).then(|| view! { <authorize::StepAuthorize config=config.clone() compact=compact/> })}
                {shown(3).then(|| view! { <exchange::StepExchange compact=compact/> })}
                {shown(4).then(|| view! { <api_explorer::StepApi compact=compact/> })}
                {shown(5).then(|| view! { <refresh::StepRefresh compact=compact/> })}
                {shown(6).then(|| view! { <revocation::StepRevocation compact=compact/> })}
            }.into_any(),
        }}
    }
}

/// Scrolls to `#step-N` from the address, else to the embed's start step (when not 1).
fn scroll_to_step(start_step: u8) {
    let Some(window) = web_sys::window() else { return };
    let hash = window.location().hash().unwrap_or_default();
    let target = if hash.starts_with("#step-") {
        hash.trim_start_matches('#').to_owned()
    } else if start_step > 1 {
        format!("step-{start_step}")
    } else {
        return;
    };
    if let Some(element) = window.document().and_then(|d| d.get_element_by_id(&target)) {
        element.scroll_into_view();
    }
}
