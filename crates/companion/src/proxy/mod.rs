//! `ANY /api/pleo/{path}`: the allow-listed API proxy that adds the Bearer token, refreshes
//! centrally ([`refresh`], the one refresh policy every caller goes through) and retries once on
//! a 401.

pub mod refresh;

use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use flow::ErrorCode;
use secrecy::{ExposeSecret, SecretString};

use contract::routes::Route;
use contract::wire::{UPSTREAM_DURATION, UPSTREAM_STATUS};

use crate::AppState;
use crate::allow_list::{WriteRule, check};
use crate::error::AppError;
use crate::http::extract::SignedIn;
use crate::oauth::tokens::TokenSet;
use crate::proxy::refresh::call_with_fresh_token;
use crate::redaction;
use crate::transcript::{self, TranscriptEntry, TranscriptStep};
use crate::upstream::read_limited;

/// The longest query string forwarded.
pub const MAX_QUERY_LEN: usize = 2048;
/// The largest API response relayed to the browser.
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// The API URL for a raw request URI under `/api/pleo/`, or why it is refused.
///
/// The path must match the allow-list segment by segment (BFF: allow-listed proxy paths); the
/// query is decoded and re-encoded so nothing but plain `name=value` pairs pass.
pub fn upstream_url(api_base: &str, method: &Method, uri: &Uri, writes: &[WriteRule]) -> Result<String, AppError> {
    let raw_path = uri.path().strip_prefix(&Route::Pleo.path(&[])).unwrap_or_default();
    check(raw_path, method, writes).map_err(AppError::new)?;
    let query = uri.query().unwrap_or_default();
    if query.len() > MAX_QUERY_LEN {
        return Err(AppError::with_message(
            ErrorCode::InvalidRequest,
            "The query string is longer than the proxy forwards.",
        ));
    }
    let mut clean = form_urlencoded::Serializer::new(String::new());
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        clean.append_pair(&name, &value);
    }
    let clean = clean.finish();
    let separator = if clean.is_empty() { "" } else { "?" };
    Ok(format!("{api_base}/{raw_path}{separator}{clean}"))
}

/// Forwards an API call to `url` (from [`upstream_url`]) with this session's access token.
pub async fn forward(
    state: &AppState,
    signed_in: &SignedIn,
    method: Method,
    url: String,
    body: Bytes,
) -> Result<Response, AppError> {
    let request = ApiRequest {
        step: TranscriptStep::ApiCall,
        method: &method,
        url: &url,
        body: Some(body).filter(|b| !b.is_empty()),
    };
    let answer = call_with_one_refresh(state, signed_in, &request).await?;
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = answer.status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(UPSTREAM_STATUS, HeaderValue::from(answer.status.as_u16()));
    headers.insert(UPSTREAM_DURATION, HeaderValue::from(answer.elapsed_ms));
    // A rate limit's wait, relayed as the API said it (RFC 9110 §10.2.3): the companion never
    // retries an API call on its own; when to try again is the caller's decision.
    if let Some(wait) = answer.retry_after {
        headers.insert(header::RETRY_AFTER, wait);
    }
    Ok(response)
}

/// The API's answer to one call.
struct ApiAnswer {
    status: StatusCode,
    body: Bytes,
    /// Milliseconds until the whole body was read.
    elapsed_ms: u64,
    /// Its `Retry-After`, if it sent a valid one (a 429 or 503).
    retry_after: Option<HeaderValue>,
}

impl ApiAnswer {
    /// The answer with the client secret and `tokens` replaced by their fingerprints where they
    /// stand as they are, then, in any other spelling (JSON-escaped, percent-encoded, base64,
    /// hex, another case: [`redaction::SecretSpellings`]), each JSON string that holds one replaced,
    /// or a body that is no JSON replaced by its size.
    fn redacted(mut self, state: &AppState, tokens: &TokenSet) -> Self {
        let mut known = vec![
            state.config.client_secret.expose_secret(),
            tokens.access_token.expose_secret(),
        ];
        known.extend(tokens.refresh_token.as_ref().map(ExposeSecret::expose_secret));
        self.body = transcript::redact_bytes(self.body, &known);
        let spellings = redaction::SecretSpellings::of(&known);
        let text = String::from_utf8_lossy(&self.body);
        if spellings.held_in(&text) {
            let replaced = spellings.redact_json_text(&text).unwrap_or_else(|| {
                serde_json::json!({ "redacted": redaction::held_a_secret(self.body.len()) }).to_string()
            });
            self.body = Bytes::from(replaced);
        }
        self
    }
}

/// A `Retry-After` worth relaying (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, nothing
/// else of whatever the API put there.
fn valid_retry_after(value: &reqwest::header::HeaderValue) -> Option<HeaderValue> {
    let text = value.to_str().ok()?.trim();
    let seconds = !text.is_empty() && text.len() <= 10 && text.bytes().all(|b| b.is_ascii_digit());
    (seconds || httpdate::parse_http_date(text).is_ok()).then(|| HeaderValue::from_str(text).ok())?
}

/// An API call under the one refresh policy ([`call_with_fresh_token`]: refreshed when due, one
/// refresh and one retry on a 401). The answer reaches the browser redacted by value against the
/// client secret and the tokens it was called with: an API that echoes its Authorization header
/// gives the page no token.
async fn call_with_one_refresh(
    state: &AppState,
    signed_in: &SignedIn,
    request: &ApiRequest<'_>,
) -> Result<ApiAnswer, AppError> {
    let id = signed_in.id.as_str();
    let (answer, tokens) = call_with_fresh_token(
        state,
        id,
        &signed_in.record,
        |token| async move { call_api(state, id, request, &token).await },
        |answer: &ApiAnswer| answer.status == StatusCode::UNAUTHORIZED,
    )
    .await?;
    Ok(answer.redacted(state, &tokens))
}

/// Pleo's "disconnect": `DELETE /v1/installations/me` revokes every token of the client. An
/// expired access token is refreshed and the call retried once, as the proxy does; any answer
/// but a 2xx is `disconnect_failed` (nothing was revoked), so the caller keeps the session.
/// Returns the API's status.
pub async fn disconnect(state: &AppState, signed_in: &SignedIn) -> Result<u16, AppError> {
    let url = format!("{}/v1/installations/me", state.config.api_base_url);
    let request = ApiRequest {
        step: TranscriptStep::Disconnect,
        method: &Method::DELETE,
        url: &url,
        body: None,
    };
    let failed = |detail: String| {
        AppError::with_message(
            ErrorCode::DisconnectFailed,
            format!("{} ({detail})", ErrorCode::DisconnectFailed.message()),
        )
    };
    let status = call_with_one_refresh(state, signed_in, &request)
        .await
        .map_err(|e| failed(format!("{}: {}", e.code, e.message)))?
        .status;
    if !status.is_success() {
        return Err(failed(format!("the API answered HTTP {}.", status.as_u16())));
    }
    Ok(status.as_u16())
}

/// An API request without its token.
struct ApiRequest<'a> {
    /// How the transcript names it.
    step: TranscriptStep,
    method: &'a Method,
    url: &'a str,
    /// A JSON body, for allowed writes.
    body: Option<Bytes>,
}

/// One API call, recorded (redacted, body summarised) in the session's transcript.
async fn call_api(
    state: &AppState,
    id: &str,
    request: &ApiRequest<'_>,
    token: &SecretString,
) -> Result<ApiAnswer, AppError> {
    let mut entry = TranscriptEntry::new(request.step, transcript::now_ms(), request.method.as_str(), request.url);
    let result = send_api(state, request, token).await;
    entry.request_headers = vec![
        (
            "Authorization".to_owned(),
            format!("Bearer {}", transcript::fingerprint(token.expose_secret())),
        ),
        ("Accept".to_owned(), "application/json".to_owned()),
    ];
    entry.request_body = request.body.as_ref().map(|b| transcript::summarise_body(b));
    entry.status = result.as_ref().ok().map(|a| a.status.as_u16());
    entry.duration_ms = result.as_ref().map_or(0, |a| a.elapsed_ms);
    entry.response_body = result.as_ref().ok().map(|a| transcript::summarise_body(&a.body));
    entry.error = result.as_ref().err().map(|e| e.message.clone());
    if let Err(e) = state.sessions.record(id, vec![entry]).await {
        tracing::warn!("an API call's transcript entry was not kept: {e}");
    }
    result
}

async fn send_api(state: &AppState, request: &ApiRequest<'_>, token: &SecretString) -> Result<ApiAnswer, AppError> {
    let started = Instant::now();
    let mut authorization = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
        .map_err(|_| AppError::with_message(ErrorCode::Internal, "The access token is not a valid header value."))?;
    authorization.set_sensitive(true);
    let mut outgoing = state
        .http
        .request(request.method.clone(), request.url)
        .header(header::AUTHORIZATION, authorization)
        .header(header::ACCEPT, "application/json")
        // The body is scanned for secrets before it is relayed: it must come as it is.
        .header(header::ACCEPT_ENCODING, "identity");
    if let Some(body) = &request.body {
        outgoing = outgoing
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.clone());
    }
    let response = outgoing.send().await.map_err(|e| api_transport_error(&e))?;
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    if let Some(encoding) = response
        .headers()
        .get(reqwest::header::CONTENT_ENCODING)
        .filter(|e| !e.as_bytes().eq_ignore_ascii_case(b"identity"))
    {
        return Err(AppError::with_message(
            ErrorCode::ApiUnreachable,
            format!(
                "The API answered with Content-Encoding {:?} although the proxy asked for none; an encoded body cannot be checked for secrets, so none of it is relayed.",
                String::from_utf8_lossy(encoding.as_bytes())
                    .chars()
                    .take(32)
                    .collect::<String>()
            ),
        ));
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(valid_retry_after);
    let body = read_limited(response, MAX_RESPONSE_BYTES)
        .await
        .map_err(|e| api_transport_error(&e))?
        .ok_or_else(|| {
            AppError::with_message(
                ErrorCode::ApiUnreachable,
                "The API response is larger than the proxy relays.",
            )
        })?;
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    metrics::histogram!(crate::metric_names::API_SECONDS, "status" => status.as_u16().to_string())
        .record(crate::metric_names::seconds_since(started));
    Ok(ApiAnswer {
        status,
        body,
        elapsed_ms,
        retry_after,
    })
}

fn api_transport_error(error: &reqwest::Error) -> AppError {
    if error.is_timeout() {
        AppError::new(ErrorCode::ApiTimeout)
    } else {
        AppError::new(ErrorCode::ApiUnreachable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_valid_retry_after_is_relayed() {
        let relayed = |text: &str| valid_retry_after(&reqwest::header::HeaderValue::from_str(text).unwrap());
        assert_eq!(relayed("2").unwrap(), "2");
        assert_eq!(
            relayed("Wed, 21 Oct 2015 07:28:00 GMT").unwrap(),
            "Wed, 21 Oct 2015 07:28:00 GMT"
        );
        for refused in ["", "-1", "2.5", "soon", "Bearer at-123", "12345678901"] {
            assert!(relayed(refused).is_none(), "{refused:?}");
        }
    }
}
