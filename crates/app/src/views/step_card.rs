//! The frame of every step: its guide after Pleo's (Purpose, Input, Output, Why it matters) and
//! its live content.

use leptos::prelude::*;

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
pub fn StepCard(
    /// The step's Purpose, Input, Output and Why.
    guide: StepGuide,
    /// Collapse the step's explanation (documentation pages).
    compact: bool,
    /// The step's live content.
    children: Children,
) -> impl IntoView {
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
