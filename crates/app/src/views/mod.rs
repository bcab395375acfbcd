//! The pages: the walkthrough (six steps of Pleo's OAuth workflow guide) and the callback.

pub mod api_explorer;
pub mod authorize;
pub mod callback;
pub mod diagram;
pub mod exchange;
pub mod operations;
pub mod refresh;
pub mod register;
pub mod revocation;
pub mod step_card;
pub mod widgets;

use std::time::Duration;

use leptos::prelude::*;

use crate::live::Live;
use crate::options::EmbedOptions;
pub use callback::CallbackPage;
use widgets::{ErrorNotice, Progress};

/// The walkthrough, standalone at `/` or embedded in a documentation page: a progress line
/// while the configuration loads, a configuration error where the steps would be, and the
/// steps once it has arrived.
#[component]
pub fn WalkthroughPage(
    /// Which steps to show and how (the embed's `data-*` options).
    #[prop(default = EmbedOptions::default())]
    options: EmbedOptions,
) -> impl IntoView {
    let live = Live::new();
    provide_context(live);
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
        <diagram::SequenceDiagram/>
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
