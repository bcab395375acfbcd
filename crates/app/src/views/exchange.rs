//! Step 3: the callback and the code exchange, from both sides.

use contract::wire::TranscriptStep;
use leptos::prelude::*;

use crate::live::Live;
use crate::views::step_card::{StepCard, StepGuide};
use crate::views::widgets::{ErrorNotice, Field, TokenSummaryView, TranscriptList};

/// Step 3 of Pleo's guide.
#[component]
pub fn StepExchange(
    /// Collapse the step's explanation (documentation pages).
    compact: bool,
) -> impl IntoView {
    let live = expect_context::<Live>();
    let guide = StepGuide {
        number: 3,
        title: "Handle the redirect and exchange the code",
        purpose: "Turn the one-time authorization code into tokens, on the server, after checking it belongs to this browser.",
        input: "code and state from the callback; the PKCE verifier kept since step 2; the client secret (companion only).",
        output: "An access token and a refresh token, kept by the companion; the browser gets an HttpOnly session cookie and a summary.",
        why: "The secret and the tokens never reach the browser; a code whose state does not match is never redeemed.",
    };
    view! {
        <StepCard guide=guide compact=compact>
            <h3>"In the browser"</h3>
            {move || match live.report.get() {
                Some(report) => view! {
                    <ul class="checks" id="callback-checks">
                        <li>{format!("✓ Callback received with {}", report.parameters.join(", "))}</li>
                        <li>"✓ state equals the one this tab sent (compared in constant time)"</li>
                        <li>"✓ Verifier and state removed from sessionStorage: a replayed callback finds nothing"</li>
                        <li>"✓ The code was removed from the address bar"</li>
                    </ul>
                    <dl>
                        <Field label="code (used once)" id="code-hint" value=report.code_hint/>
                        <Field label="state" id="state-hint" value=report.state_hint/>
                    </dl>
                }.into_any(),
                None => view! { <p class="muted">"No callback handled in this tab yet: complete step 2."</p> }.into_any(),
            }}
            <h3>"On the companion"</h3>
            <TranscriptList steps=&[TranscriptStep::TokenExchange]/>
            {move || match live.session.get() {
                Some(Ok(s)) => s.tokens.map(|summary| view! { <div id="exchanged"><TokenSummaryView summary=summary/></div> }.into_any()).unwrap_or_else(|| ().into_any()),
                Some(Err(e)) => view! { <ErrorNotice error=e/> }.into_any(),
                None => ().into_any(),
            }}
        </StepCard>
    }
}
