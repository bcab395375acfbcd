//! Step 2: PKCE and state in WASM, and the redirect to the authorisation endpoint.

use contract::wire::PublicConfig;
use flow::ErrorCode;
use leptos::prelude::*;

use crate::api::{self, ClientError};
use crate::authorization::{self, Prepared};
use crate::live::Live;
use crate::popup::{self, Popup};
use crate::views::step_card::{StepCard, StepGuide};
use crate::views::widgets::{ErrorNotice, Field};

/// Step 2 of Pleo's guide.
#[component]
pub fn StepAuthorize(
    /// The companion's public configuration.
    config: PublicConfig,
    /// Collapse the step's explanation (documentation pages).
    compact: bool,
) -> impl IntoView {
    let guide = StepGuide {
        number: 2,
        title: "Direct the user to the authorisation endpoint",
        purpose: "Send the user to Pleo to sign in and consent, with proof that only this browser can redeem the result.",
        input: "client_id, redirect_uri, scope, a fresh state, and the S256 challenge of a fresh PKCE verifier.",
        output: "A browser redirect to /oauth/authorize; the verifier and state wait in this tab's sessionStorage.",
        why: "state stops login CSRF; PKCE stops a stolen code from being redeemed (RFC 7636, RFC 9700 §2.1.1).",
    };
    view! {
        <StepCard guide=guide compact=compact>
            <AuthorizePanel config=config/>
        </StepCard>
    }
}

/// Generation, the parameters, and the redirect button (in the frame: the pop-up's).
#[component]
pub fn AuthorizePanel(
    /// The companion's public configuration.
    config: PublicConfig,
) -> impl IntoView {
    // Generating is synchronous (WebAssembly, no await); the redirect is an action. Framed by a
    // documentation page, the authorisation server opens in a pop-up from the click itself, and
    // the same action finishes the sign-in there.
    let generated = RwSignal::new(None::<Result<Prepared, ClientError>>);
    // The scopes to request: the configured ones the reader left ticked, in their order.
    let scopes = config.scopes.clone();
    let picked = RwSignal::new(scopes.clone());
    let generate = move |_| {
        let mut request = config.clone();
        request.scopes = picked.get_untracked();
        generated.set(Some(authorization::prepare(&request)));
    };
    let all = scopes.clone();
    let pick = move |scope: String, on: bool| {
        picked.update(|p| {
            *p = all
                .iter()
                .filter(|s| if **s == scope { on } else { p.contains(s) })
                .cloned()
                .collect()
        });
    };
    let prepared = move || generated.get().and_then(Result::ok);
    let live = use_context::<Live>();
    let framed = api::in_frame();
    let popup = Popup::new();
    let redirect = Action::new_local(move |_: &()| {
        let prepared = generated.get_untracked().and_then(Result::ok);
        let opened = popup.take();
        async move {
            match (opened, prepared) {
                (Some(opened), _) => popup::complete(opened, live).await,
                (None, Some(p)) => authorization::redirect(p, 2).await,
                (None, None) => Ok(()),
            }
        }
    });
    let go = move |_| {
        if let Some(prepared) = generated.get_untracked().and_then(Result::ok).filter(|_| framed) {
            popup.open(prepared);
        }
        popup.dispatch(redirect);
    };
    let busy = redirect.pending();
    let error = move || {
        // While a new try runs, the last one's error is history.
        let redirect_failed = redirect.value().get().and_then(Result::err).filter(|_| !busy.get());
        // Closed while still awaited: said at once (the answer may yet come through the
        // companion, and then replaces it).
        let closed = (busy.get() && popup.closed.get()).then(|| ClientError::from(ErrorCode::PopupClosed));
        closed
            .or(redirect_failed)
            .or_else(|| generated.get().and_then(Result::err))
    };
    let signed_in = move || framed && matches!(redirect.value().get(), Some(Ok(()))) && !busy.get();
    view! {
        <fieldset class="scopes">
            <legend>"Scopes to request"</legend>
            {scopes.into_iter().map(|scope| {
                let name = scope.clone();
                let pick = pick.clone();
                view! { <label><input type="checkbox" name="scope" value=scope.clone() checked=true on:change=move |ev| pick(name.clone(), event_target_checked(&ev))/>" "<code>{scope}</code></label>" " }
            }).collect_view()}
        </fieldset>
        <button id="generate" on:click=generate>"Generate PKCE verifier, challenge and state"</button>
        {move || prepared().map(|p| view! {
            <dl>
                <Field label="code_verifier (stays in this tab until the callback)" id="verifier" value=p.verifier.clone()/>
                <Field label="code_challenge = BASE64URL(SHA-256(code_verifier))" id="challenge" value=p.challenge.clone()/>
                <Field label="state" id="state" value=p.state.clone()/>
            </dl>
            <table class="params">
                <caption>"Authorize request parameters"</caption>
                <tbody>
                    {p.parameters.iter().map(|(name, value)| view! { <tr><th scope="row">{*name}</th><td><code>{value.clone()}</code></td></tr> }).collect_view()}
                </tbody>
            </table>
            <p class="url"><code data-testid="authorize-request-url">{p.url.clone()}</code></p>
            // In the frame the button stays live while a pop-up is awaited: closing it and
            // starting again must be possible.
            <button id="authorize-go" class="primary" on:click=go disabled=move || busy.get() && !framed>
                {move || match (framed, busy.get()) {
                    (true, true) => "Waiting for the sign-in window… (click to open a new one)",
                    (true, false) => "Authorise in a pop-up window",
                    (false, true) => "Redirecting…",
                    (false, false) => "Continue to the authorisation server",
                }}
            </button>
        })}
        {move || signed_in().then(|| view! { <p id="popup-signed-in" role="status">"✓ Signed in: the companion holds the tokens. Step 3 shows the exchange."</p> })}
        {move || error().map(|e| view! { <ErrorNotice error=e/> })}
    }
}
