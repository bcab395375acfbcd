//! The pages and panels of the walkthrough.

use flow::wire::{AuthorizeStart, PublicConfig, TokenExchange, TokenSummary};
use flow::{AuthorizeRequest, ErrorCode};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiCall, ClientError};
use crate::pending::{self, PendingAuthorization};

/// An error where it happened: the stable code, the sentence, and what to do next.
#[component]
pub fn ErrorNotice(error: ClientError) -> impl IntoView {
    let code = error.code().as_str();
    view! {
        <div class="error" role="alert" data-error-code=code>
            <strong>{code}</strong>
            " "
            <span>{error.0.message.clone()}</span>
        </div>
    }
}

/// A labelled value with a stable test id.
#[component]
fn Field(label: &'static str, id: &'static str, value: String) -> impl IntoView {
    view! {
        <dt>{label}</dt>
        <dd><code data-testid=id>{value}</code></dd>
    }
}

/// `/`: configuration, the authorize step, and the session with its API calls.
#[component]
pub fn WalkthroughPage() -> impl IntoView {
    let config = RwSignal::new(None::<Result<PublicConfig, ClientError>>);
    spawn_local(async move { config.set(Some(api::config().await)) });
    view! {
        {move || match config.get() {
            None => view! { <p class="progress" aria-busy="true">"Loading the configuration from the companion…"</p> }.into_any(),
            Some(Err(error)) => view! {
                <section class="card"><h2>"Configuration"</h2><ErrorNotice error=error/></section>
            }.into_any(),
            Some(Ok(config)) => view! {
                <ConfigPanel config=config.clone()/>
                <AuthorizePanel config=config/>
                <SessionPanel/>
            }.into_any(),
        }}
    }
}

/// Step 1: the configuration in use, from `GET /api/config`. Never the secret.
#[component]
pub fn ConfigPanel(config: PublicConfig) -> impl IntoView {
    view! {
        <section class="card" id="config">
            <h2>"1. The registered client"</h2>
            <p>"What the companion is configured with. The client secret stays on the companion."</p>
            <dl>
                <Field label="Environment" id="environment" value=config.environment/>
                <Field label="Client ID" id="client-id" value=config.client_id/>
                <Field label="Authorize URL" id="authorize-url" value=config.authorize_url/>
                <Field label="Token URL (used by the companion only)" id="token-url" value=config.token_url/>
                <Field label="Scopes" id="scopes" value=config.scopes.join(" ")/>
                <Field label="Redirect URI" id="redirect-uri" value=config.redirect_uri/>
                <Field label="Client authentication" id="auth-method" value=config.token_endpoint_auth_method/>
            </dl>
        </section>
    }
}

/// What step 2 generated, shown before the redirect.
#[derive(Debug, Clone, PartialEq)]
struct Prepared {
    verifier: String,
    challenge: String,
    state: String,
    url: String,
    parameters: Vec<(&'static str, String)>,
}

fn prepare(config: &PublicConfig) -> Result<Prepared, ClientError> {
    let invalid = |e: pkce::PkceError| ClientError(flow::wire::ApiError::with_message(ErrorCode::Internal, e.to_string()));
    let verifier = pkce::CodeVerifier::generate().map_err(invalid)?;
    let challenge = pkce::CodeChallenge::s256(&verifier);
    let state = pkce::State::generate().map_err(invalid)?;
    let request = AuthorizeRequest {
        endpoint: &config.authorize_url,
        client_id: &config.client_id,
        redirect_uri: &config.redirect_uri,
        scopes: &config.scopes,
        state: state.as_str(),
        code_challenge: challenge.as_str(),
    };
    let url = request.url().map_err(ClientError::from)?;
    let parameters = request.parameters();
    Ok(Prepared { verifier: verifier.into_string(), challenge: challenge.as_str().to_owned(), state: state.as_str().to_owned(), url, parameters })
}

/// Step 2: PKCE verifier, S256 challenge and state made in WASM; the authorize redirect.
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
            let start = AuthorizeStart { state: p.state.clone(), code_challenge: p.challenge.clone(), code_challenge_method: "S256".into() };
            let result = match api::authorize_start(&start).await {
                Ok(()) => pending::store(&PendingAuthorization { state: p.state, code_verifier: p.verifier })
                    .map_err(|m| ClientError(flow::wire::ApiError::with_message(ErrorCode::Internal, m))),
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => {
                    if let Some(window) = web_sys::window() {
                        let _ = window.location().set_href(&p.url);
                    }
                }
                Err(e) => {
                    busy.set(false);
                    error.set(Some(e));
                }
            }
        });
    };
    view! {
        <section class="card" id="authorize">
            <h2>"2. Direct the user to the authorisation endpoint"</h2>
            <p>"The browser makes a PKCE code verifier, its S256 challenge (RFC 7636) and a state value, in WebAssembly."</p>
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
        </section>
    }
}

/// The redacted token summary.
#[component]
pub fn TokenSummaryView(summary: TokenSummary) -> impl IntoView {
    view! {
        <dl class="summary" id="token-summary">
            <Field label="Token type" id="token-type" value=summary.token_type/>
            <Field label="Access token (held by the companion)" id="access-token-hint" value=summary.access_token_hint/>
            <Field label="Expires in (seconds)" id="expires-in" value=summary.expires_in.to_string()/>
            <Field label="Scope" id="granted-scope" value=summary.scope/>
            <Field label="Refresh token held by the companion" id="has-refresh" value=summary.has_refresh_token.to_string()/>
        </dl>
    }
}

/// The session: its token summary and the API call, or a note that there is none yet.
#[component]
pub fn SessionPanel() -> impl IntoView {
    let info = RwSignal::new(None::<Result<flow::wire::SessionInfo, ClientError>>);
    spawn_local(async move { info.set(Some(api::session().await)) });
    view! {
        <section class="card" id="session">
            <h2>"3. Session"</h2>
            {move || match info.get() {
                None => view! { <p class="progress" aria-busy="true">"Asking the companion for the session…"</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorNotice error=e/> }.into_any(),
                Some(Ok(s)) => match s.tokens {
                    Some(summary) => view! { <TokenSummaryView summary=summary/> <ApiCallPanel/> }.into_any(),
                    None => view! { <p id="not-signed-in">"Not signed in yet: complete step 2."</p> }.into_any(),
                },
            }}
        </section>
    }
}

/// Step 4: an API call through the companion, with status, timing and the JSON.
#[component]
pub fn ApiCallPanel() -> impl IntoView {
    let result = RwSignal::new(None::<Result<ApiCall, ClientError>>);
    let busy = RwSignal::new(false);
    let call = move |_| {
        busy.set(true);
        spawn_local(async move {
            result.set(Some(api::call_api("v2/employees").await));
            busy.set(false);
        });
    };
    view! {
        <div class="api-call" id="api-call">
            <h3>"4. Call Pleo's API"</h3>
            <p>"The companion adds the Bearer token; the browser never sees it."</p>
            <button id="call-employees" class="primary" on:click=call disabled=move || busy.get()>"Call GET /v2/employees"</button>
            {move || busy.get().then(|| view! { <p class="progress" aria-busy="true">"Calling…"</p> })}
            {move || result.get().map(|r| match r {
                Ok(c) => view! {
                    <p class="result-line">
                        <code>{c.label.clone()}</code>" → "
                        <strong data-testid="api-status">{c.status}</strong>
                        {format!(" in {:.0} ms", c.browser_ms)}
                        {c.upstream_ms.map(|ms| format!(" (API {ms} ms)"))}
                    </p>
                    <pre class="json" data-testid="api-body">{c.body.clone()}</pre>
                }.into_any(),
                Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
            })}
        </div>
    }
}

/// Where the callback stands.
#[derive(Debug, Clone, PartialEq)]
enum CallbackStage {
    Exchanging,
    Done(TokenSummary),
    Failed(ClientError),
}

/// `/callback`: checks the response (state first), uses up the pending authorization, and
/// has the companion exchange the code.
#[component]
pub fn CallbackPage() -> impl IntoView {
    let stage = RwSignal::new(CallbackStage::Exchanging);
    let query = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    // Single use whatever happens next: a replayed callback finds nothing (RFC 9700 §4.7.1).
    let pending = pending::take();
    // The code must not linger in the address bar or the history.
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/callback"));
    }
    match flow::check_callback(&query, pending.as_ref().map(|p| p.state.as_str()), None) {
        Err(e) => {
            let mut error = flow::wire::ApiError::new(e.code);
            if let Some(oauth_error) = e.oauth_error {
                error.message = format!("{} The server said: {oauth_error}{}", error.message, e.description.map(|d| format!(" ({d})")).unwrap_or_default());
            }
            stage.set(CallbackStage::Failed(ClientError(error)));
        }
        Ok(callback) => {
            let pending = pending.expect("check_callback succeeds only with a pending authorization");
            let exchange = TokenExchange { code: callback.code().to_owned(), code_verifier: pending.code_verifier, state: pending.state };
            spawn_local(async move {
                stage.set(match api::exchange(&exchange).await {
                    Ok(summary) => CallbackStage::Done(summary),
                    Err(e) => CallbackStage::Failed(e),
                });
            });
        }
    }
    view! {
        <section class="card" id="callback">
            <h2>"3. Handle the redirect and exchange the code"</h2>
            {move || match stage.get() {
                CallbackStage::Exchanging => view! {
                    <ul class="checks">
                        <li>"✓ State matches the one this tab sent"</li>
                        <li>"✓ Verifier and state removed from sessionStorage"</li>
                    </ul>
                    <p class="progress" aria-busy="true">"The companion is exchanging the code…"</p>
                }.into_any(),
                CallbackStage::Done(summary) => view! {
                    <ul class="checks">
                        <li>"✓ State matches the one this tab sent"</li>
                        <li>"✓ Verifier and state removed from sessionStorage"</li>
                        <li id="exchanged">"✓ The companion exchanged the code with client_secret_basic and kept the tokens"</li>
                    </ul>
                    <TokenSummaryView summary=summary/>
                    <ApiCallPanel/>
                }.into_any(),
                CallbackStage::Failed(e) => view! {
                    <ErrorNotice error=e/>
                    <p><a href="/" id="start-again">"Start again"</a></p>
                }.into_any(),
            }}
        </section>
        <p><a href="/">"Back to the walkthrough"</a></p>
    }
}
