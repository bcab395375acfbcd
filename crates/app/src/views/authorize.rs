//! Step 2: PKCE and state in WASM, and the redirect to the authorisation endpoint.

use contract::wire::PublicConfig;
use leptos::prelude::*;

use crate::api::{self, ClientError};
use crate::authorization::{self, Prepared};
use crate::live::Live;
use crate::popup::{self, PopupStatus};
use crate::views::step_card::{StepCard, StepGuide};
use crate::views::widgets::{ErrorNotice, Field, PopupStatusView};

/// Step 2 of Pleo's guide.
#[component]
pub fn StepAuthorize(config: PublicConfig, compact: bool) -> impl IntoView {
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

/// Generation, the parameters, and the redirect button.
#[component]
pub fn AuthorizePanel(config: PublicConfig) -> impl IntoView {
    // Generating is synchronous (WebAssembly, no await); the redirect is an action.
    let generated = RwSignal::new(None::<Result<Prepared, ClientError>>);
    let generate = move |_| generated.set(Some(authorization::prepare(&config)));
    let prepared = move || generated.get().and_then(Result::ok);
    let redirect = Action::new_local(move |_: &()| {
        let prepared = generated.get_untracked().and_then(Result::ok);
        async move {
            match prepared {
                Some(p) => authorization::redirect(p, 2).await,
                None => Ok(()),
            }
        }
    });
    // Framed by a documentation page, the authorisation server opens in a pop-up, from this
    // very click; on the app's own page, the tab goes there.
    let live = expect_context::<Live>();
    let popup_status = RwSignal::new(PopupStatus::Idle);
    let framed = api::in_frame();
    let go = move |_| {
        if framed {
            if let Some(prepared) = generated.get_untracked().and_then(Result::ok) {
                popup::sign_in(prepared, live, popup_status);
            }
        } else {
            redirect.dispatch(());
        }
    };
    let busy = redirect.pending();
    let error = move || {
        let redirect_failed = redirect.value().get().and_then(Result::err);
        redirect_failed.or_else(|| generated.get().and_then(Result::err))
    };
    view! {
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
            <button id="authorize-go" class="primary" on:click=go disabled=move || busy.get()>
                {move || match (framed, busy.get()) {
                    (true, _) => "Authorise in a pop-up window",
                    (false, true) => "Redirecting…",
                    (false, false) => "Continue to the authorisation server",
                }}
            </button>
        })}
        <PopupStatusView status=popup_status/>
        {move || error().map(|e| view! { <ErrorNotice error=e/> })}
    }
}
