//! The companion's API, typed over the `contract::wire` types. Views never build URLs.

use contract::FaultKnob;
use contract::routes::Route;
use std::sync::atomic::{AtomicBool, Ordering};

use contract::wire::{
    ApiError, AuthorizeStart, CSRF_HEADER, CSRF_HEADER_VALUE, EMBED_HEADER, EMBED_HEADER_VALUE, EMBED_QUERY_PARAMETER,
    FaultParams, Logout, PublicConfig, SessionInfo, TokenExchange, TokenSummary, TranscriptEntry, UPSTREAM_DURATION,
    UPSTREAM_STATUS,
};
use flow::ErrorCode;
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;

/// A failed call to the companion, with a stable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {}", .0.error, .0.message)]
pub struct ClientError(pub ApiError);

impl ClientError {
    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.0.error
    }
}

impl From<ErrorCode> for ClientError {
    /// An error the browser raises itself, with its code's sentence (see [`own_sentence`]).
    fn from(code: ErrorCode) -> Self {
        Self(ApiError::with_message(code, own_sentence(code)))
    }
}

/// The sentence of a code the browser raises itself: the callback's refusals, an authorize URL
/// it cannot build, the companion out of reach; anything else here would be `internal`. The
/// companion's own errors arrive with their sentence. One arm per code, each with a constant,
/// so that the wasm carries only these sentences (1.1 KB gzipped less than all of them).
fn own_sentence(code: ErrorCode) -> &'static str {
    use ErrorCode::*;
    match code {
        ConfigInvalid => ConfigInvalid.message(),
        CallbackTooLarge => CallbackTooLarge.message(),
        CallbackParameterRepeated => CallbackParameterRepeated.message(),
        IssuerMismatch => IssuerMismatch.message(),
        IssuerMissing => IssuerMissing.message(),
        StateMissing => StateMissing.message(),
        NoPendingAuthorization => NoPendingAuthorization.message(),
        StateMismatch => StateMismatch.message(),
        AuthorizationDenied => AuthorizationDenied.message(),
        AuthorizationFailed => AuthorizationFailed.message(),
        CodeMissing => CodeMissing.message(),
        CompanionUnreachable => CompanionUnreachable.message(),
        PopupBlocked => PopupBlocked.message(),
        PopupClosed => PopupClosed.message(),
        FrameCookiesRefused => FrameCookiesRefused.message(),
        _ => Internal.message(),
    }
}

/// The outcome of one proxied API call, as the page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiCall {
    /// Method and path as called, e.g. `GET /v2/employees`.
    pub label: String,
    /// HTTP status of the API's answer.
    pub status: u16,
    /// Milliseconds from the browser's request to the full body.
    pub browser_ms: f64,
    /// Milliseconds the API took, as the companion measured it.
    pub upstream_ms: Option<u64>,
    /// The body, pretty-printed when it is JSON.
    pub body: String,
    /// The API's `Retry-After` (a 429 or 503), as relayed by the companion.
    pub retry_after: Option<String>,
}

async fn send(request: Result<Request, gloo_net::Error>) -> Result<Response, ClientError> {
    // Only a body that cannot be written as JSON fails here; the error's own text (serde_json's)
    // would link serde_json's message table into the wasm for this one sentence.
    let request = request.map_err(|_| {
        ClientError(ApiError::with_message(
            ErrorCode::Internal,
            "The request to the companion could not be written.",
        ))
    })?;
    let (method, url, at) = (
        request.method().to_string(),
        request.url(),
        crate::browser_log::now_ms(),
    );
    let answer = request.send().await;
    // The protocol's calls go into the sequence diagram; the page's own reads of the
    // configuration, the session and the transcript would only hide them.
    if method != "GET" || Route::of_path(sequence::path_of(&url)) == Some(Route::Pleo) {
        let status = answer.as_ref().map_or(0, Response::status);
        crate::browser_log::record(sequence::BrowserEvent::call(at, &method, &url, status));
    }
    answer.map_err(|_| ErrorCode::CompanionUnreachable.into())
}

/// A companion error body, or `companion_unreachable` when the answer is not one (the dev
/// server's proxy answers 5xx with its own text when the companion is down).
async fn error_of(response: Response) -> ClientError {
    let status = response.status();
    match response.json::<ApiError>().await {
        Ok(error) => ClientError(error),
        Err(_) if status >= 500 || status == 404 => ErrorCode::CompanionUnreachable.into(),
        Err(_) => ClientError(ApiError::with_message(
            ErrorCode::Internal,
            format!("The companion answered HTTP {status} without an error body."),
        )),
    }
}

async fn json_of<T: DeserializeOwned>(response: Response) -> Result<T, ClientError> {
    if !response.ok() {
        return Err(error_of(response).await);
    }
    response
        .json::<T>()
        .await
        .map_err(|_| ErrorCode::CompanionUnreachable.into())
}

/// Whether this page is the walkthrough framed by a documentation site (`/embed`).
static IN_FRAME: AtomicBool = AtomicBool::new(false);

/// Marks this page as the `/embed` frame: every call then says so, and the companion answers
/// with the frame's own partitioned cookies.
pub fn set_in_frame() {
    IN_FRAME.store(true, Ordering::Relaxed);
}

/// Whether this page is the `/embed` frame.
pub fn in_frame() -> bool {
    IN_FRAME.load(Ordering::Relaxed)
}

fn scoped(request: RequestBuilder) -> RequestBuilder {
    if in_frame() {
        request.header(EMBED_HEADER, EMBED_HEADER_VALUE)
    } else {
        request
    }
}

fn get(path: &str) -> RequestBuilder {
    scoped(Request::get(path))
}

fn post(path: &str) -> RequestBuilder {
    scoped(Request::post(path).header(CSRF_HEADER, CSRF_HEADER_VALUE))
}

/// `GET /api/config`.
pub async fn config() -> Result<PublicConfig, ClientError> {
    json_of(send(get(&Route::Config.path(&[])).build()).await?).await
}

/// `GET /api/session`.
pub async fn session() -> Result<SessionInfo, ClientError> {
    json_of(send(get(&Route::Session.path(&[])).build()).await?).await
}

/// `POST /api/authorize/start`: binds state and challenge to this browser.
pub async fn authorize_start(start: &AuthorizeStart) -> Result<(), ClientError> {
    let response = send(post(&Route::AuthorizeStart.path(&[])).json(start)).await?;
    if response.ok() {
        Ok(())
    } else {
        Err(error_of(response).await)
    }
}

/// `POST /api/token`: the code exchange, done by the companion.
pub async fn exchange(exchange: &TokenExchange) -> Result<TokenSummary, ClientError> {
    json_of(send(post(&Route::Token.path(&[])).json(exchange)).await?).await
}

/// `POST /api/refresh`.
pub async fn refresh() -> Result<TokenSummary, ClientError> {
    json_of(send(post(&Route::Refresh.path(&[])).build()).await?).await
}

/// `POST /api/logout`; with `disconnect`, the companion first revokes every token at Pleo.
pub async fn logout(disconnect: bool) -> Result<(), ClientError> {
    let response = send(post(&Route::Logout.path(&[])).json(&Logout { disconnect })).await?;
    if response.ok() {
        Ok(())
    } else {
        Err(error_of(response).await)
    }
}

/// `GET /api/transcript`: the companion's server-side steps, redacted.
pub async fn transcript() -> Result<Vec<TranscriptEntry>, ClientError> {
    json_of(send(get(&Route::Transcript.path(&[])).build()).await?).await
}

/// `GET /api/transcript/{entry}/as/{language}`: one exchange as a curl command, a `fetch`
/// module or a `reqwest` program (`language` is `curl`, `fetch` or `reqwest`), with
/// environment variables where the secret and the tokens go.
pub async fn snippet(entry: &str, language: &str) -> Result<String, ClientError> {
    let response = send(get(&Route::TranscriptSnippet.path(&[entry, language])).build()).await?;
    if !response.ok() {
        return Err(error_of(response).await);
    }
    response
        .text()
        .await
        .map_err(|_| ErrorCode::CompanionUnreachable.into())
}

/// `/api/transcript/har`, the transcript as an HTTP Archive, as a download link's address (a
/// link cannot send the frame's header: the query names the frame's cookies instead).
pub fn har_href() -> String {
    let path = Route::TranscriptHar.path(&[]);
    if in_frame() {
        format!("{path}?{EMBED_QUERY_PARAMETER}={EMBED_HEADER_VALUE}")
    } else {
        path
    }
}

/// How many refreshes the companion made since `since_ms`, from its transcript.
pub async fn refreshes_since(since_ms: u64) -> usize {
    transcript()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|e| e.step == contract::wire::TranscriptStep::Refresh && e.started_at_ms >= since_ms)
        .count()
}

/// `POST /api/faults/{knob}`: a fault knob of the embedded stand-in (local only).
pub async fn fault(knob: FaultKnob, params: FaultParams) -> Result<(), ClientError> {
    let response = send(post(&Route::Faults.path(&[knob.as_str()])).json(&params)).await?;
    if response.ok() {
        Ok(())
    } else {
        Err(error_of(response).await)
    }
}

/// `GET /api/pleo/{path}`: an API call through the companion. The API's own error statuses
/// are results to show; only the companion's errors are `Err`.
pub async fn call_api(path: &str) -> Result<ApiCall, ClientError> {
    let started = now_ms();
    let response = send(get(&Route::Pleo.path(&[path])).build()).await?;
    let Some(upstream_status) = response.headers().get(UPSTREAM_STATUS) else {
        return Err(error_of(response).await);
    };
    let upstream_ms = response.headers().get(UPSTREAM_DURATION).and_then(|v| v.parse().ok());
    let retry_after = response.headers().get("retry-after");
    let text = response
        .text()
        .await
        .map_err(|_| ClientError::from(ErrorCode::CompanionUnreachable))?;
    Ok(ApiCall {
        label: format!("GET /{}", path.trim_start_matches('/')),
        status: upstream_status.parse().unwrap_or(response.status()),
        browser_ms: now_ms() - started,
        upstream_ms,
        body: pretty_json(&text),
        retry_after,
    })
}

/// `text` pretty-printed if it is JSON, as it is otherwise. The browser's own `JSON.parse` and
/// `JSON.stringify` do it: members stay in the API's order, and the wasm carries no
/// pretty-printer.
pub fn pretty_json(text: &str) -> String {
    js_sys::JSON::parse(text)
        .and_then(|value| {
            js_sys::JSON::stringify_with_replacer_and_space(&value, &JsValue::NULL, &JsValue::from_f64(2.0))
        })
        .map_or_else(|_| text.to_owned(), String::from)
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}
