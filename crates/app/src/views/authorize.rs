//! Step 2: PKCE and state in WASM, and the redirect to the authorisation endpoint.

use contract::wire::{ApiError, AuthorizeStart, PublicConfig};
use flow::{AuthorizeRequest, ErrorCode};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ClientError};
use crate::pending::{self, PendingAuthorization};
use crate::views::widgets::{ErrorNotice, Field};
use crate::views::{StepCard, StepGuide};

/// What step 2 generated, shown before the redirect.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// The PKCE verifier (kept in this tab until the callback).
    pub verifier: String,
    /// Its S256 challenge.
    pub challenge: String,
    /// The state.
    pub state: String,
    /// The authorize URL.
    pub url: String,
    /// The URL's parameters.
    pub parameters: Vec<(&'static str, String)>,
    /// The issuer an `iss` in the response must name (RFC 9207 §2.4).
    pub issuer: String,
    /// Whether the server always sends `iss` (then it is required).
    pub iss_always_sent: bool,
}

fn internal(message: String) -> ClientError {
    ClientError(ApiError::with_message(ErrorCode::Internal, message))
}

/// Generates verifier, challenge and state, and builds the authorize URL.
pub fn prepare(config: &PublicConfig) -> Result<Prepared, ClientError> {
    let verifier = pkce::CodeVerifier::generate().map_err(|e| internal(e.to_string()))?;
    let challenge = pkce::CodeChallenge::s256(&verifier);
    let state = pkce::State::generate().map_err(|e| internal(e.to_string()))?;
    let request = AuthorizeRequest::for_config(config, state.as_str(), challenge.as_str());
    let url = request.url().map_err(ClientError::from)?;
    let parameters = request
        .parameters()
        .map(|(name, value)| (name, value.into_owned()))
        .to_vec();
    Ok(Prepared {
        verifier: verifier.into_string(),
        challenge: challenge.as_str().to_owned(),
        state: state.as_str().to_owned(),
        url,
        parameters,
        issuer: config.issuer.clone(),
        iss_always_sent: config.iss_always_sent,
    })
}

/// Where the callback should bring the user back: this page at step `step`.
fn return_to(step: u8) -> String {
    let location = web_sys::window().map(|w| w.location());
    let path = location
        .as_ref()
        .and_then(|l| l.pathname().ok())
        .unwrap_or_else(|| "/".to_owned());
    let search = location.as_ref().and_then(|l| l.search().ok()).unwrap_or_default();
    let path = if path == "/callback" { "/".to_owned() } else { path };
    format!("{path}{search}#step-{}", if step <= 2 { 3 } else { step })
}

/// Binds a prepared attempt to this browser at the companion, keeps verifier and state for the
/// callback, and navigates to the authorisation server.
pub async fn redirect(prepared: Prepared, step: u8) -> Result<(), ClientError> {
    let start = AuthorizeStart {
        state: prepared.state.clone(),
        code_challenge: prepared.challenge.clone(),
        code_challenge_method: "S256".into(),
    };
    api::authorize_start(&start).await?;
    let pending = PendingAuthorization {
        state: prepared.state,
        code_verifier: prepared.verifier,
        return_to: return_to(step),
        issuer: Some(prepared.issuer),
        iss_always_sent: prepared.iss_always_sent,
    };
    pending::store(&pending).map_err(internal)?;
    if let Some(window) = web_sys::window() {
        window
            .location()
            .set_href(&prepared.url)
            .map_err(|_| internal("The browser refused to navigate.".into()))?;
    }
    Ok(())
}

/// A whole new authorization in one go, returning to `step`.
pub async fn start_authorization(config: &PublicConfig, step: u8) -> Result<(), ClientError> {
    redirect(prepare(config)?, step).await
}

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
    let prepared = RwSignal::new(None::<Prepared>);
    let error = RwSignal::new(None::<ClientError>);
    let busy = RwSignal::new(false);
    let generate = move |_| match prepare(&config) {
        Ok(p) => {
            prepared.set(Some(p));
            error.set(None);
        }
        Err(e) => error.set(Some(e)),
    };
    let go = move |_| {
        let Some(p) = prepared.get_untracked() else { return };
        busy.set(true);
        spawn_local(async move {
            if let Err(e) = redirect(p, 2).await {
                busy.set(false);
                error.set(Some(e));
            }
        });
    };
    view! {
        <button id="generate" on:click=generate>"Generate PKCE verifier, challenge and state"</button>
        {move || prepared.get().map(|p| view! {
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
                {move || if busy.get() { "Redirecting…" } else { "Continue to the authorisation server" }}
            </button>
        })}
        {move || error.get().map(|e| view! { <ErrorNotice error=e/> })}
    }
}
