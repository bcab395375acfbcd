//! The live sequence diagram above the steps: the browser's calls and the companion's
//! transcript, drawn by [`sequence`] as the transcript reloads after each step's work. A click on
//! a message shows that exchange (redacted) below the drawing.

use leptos::prelude::*;

use crate::browser_log;
use crate::live::Live;
use crate::views::widgets::event_element;

/// The diagram, its legend by step, and the detail of the message last clicked. The drawing is
/// SVG markup from [`sequence::svg`], set as the container's content: one element for the
/// whole drawing, rather than a view per line and label, each of whose elements would cost code
/// of its own (docs/benchmarks.md, "Teaching by showing").
#[component]
pub fn SequenceDiagram() -> impl IntoView {
    let live = expect_context::<Live>();
    let details = StoredValue::new(Vec::<String>::new());
    let drawing = move || {
        let transcript = live.transcript.get().unwrap_or_default();
        let messages = sequence::messages(&browser_log::events(), &transcript);
        let svg = sequence::svg(&messages);
        details.set_value(messages.into_iter().map(|m| m.detail).collect());
        svg
    };
    // One handler for every message: the link clicked names its number.
    let open = move |ev: web_sys::MouseEvent| {
        let Some(link) = event_element(ev.target()).and_then(|t| t.closest("[data-message]").ok().flatten()) else {
            return;
        };
        ev.prevent_default();
        let number: usize = link
            .get_attribute("data-message")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let detail = details
            .with_value(|d| d.get(number.wrapping_sub(1)).cloned())
            .unwrap_or_default();
        let pre = event_element(ev.current_target()).and_then(|drawing| drawing.next_element_sibling());
        if let Some(pre) = pre {
            pre.set_text_content(Some(&format!("{number}. {detail}")));
            let options = web_sys::ScrollIntoViewOptions::new();
            options.set_block(web_sys::ScrollLogicalPosition::Nearest);
            pre.scroll_into_view_with_scroll_into_view_options(&options);
        }
    };
    view! {
        <details class="card sequence" open>
            <summary>"Sequence diagram: who talks to whom, as it happens (click a message for its exchange)"</summary>
            <div class="sequence-drawing" data-testid="sequence" on:click=open inner_html=drawing></div>
            <pre id="sequence-detail" class="snippet" data-testid="sequence-detail"></pre>
        </details>
    }
}
