//! One log line per request: method, route template (never the raw path with its query),
//! status, latency, request id (`x-request-id` from the load balancer when it is short and
//! plain, or made here, and returned), and a fingerprint of the session (a hash, never the
//! cookie); counted in the request metrics with the same labels, each from a closed set.
//! Probes answered 200 are counted but logged at `debug`.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};

use crate::metric_names;

/// The route template a request matched, carried on its response from the router that matched
/// it (a nested router's match is not visible from outside it).
#[derive(Debug, Clone)]
pub struct RouteTemplate(pub String);

/// Puts the matched route's template on the response ([`RouteTemplate`]); a `route_layer` of
/// each router.
pub async fn remember_route(request: Request, next: Next) -> Response {
    let template = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let mut response = next.run(request).await;
    if let Some(template) = template {
        response.extensions_mut().insert(RouteTemplate(template));
    }
    response
}

/// The methods a metric label or a log line names as they are (RFC 9110 §9 and PATCH); any
/// other is `other`, so that no client can mint label values (each one a series the process
/// keeps for good).
const KNOWN_METHODS: [Method; 9] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::OPTIONS,
    Method::CONNECT,
    Method::TRACE,
];

/// The label of `method`: its name when it is one of [`KNOWN_METHODS`], else `other`.
pub fn method_label(method: &Method) -> &'static str {
    KNOWN_METHODS
        .iter()
        .find(|known| *known == method)
        .map_or("other", Method::as_str)
}

/// The route label of a request that matched no route: a static file, the single-page
/// fallback, or nothing. One label whatever the path, never the path.
pub const UNMATCHED_ROUTE: &str = "(static file or none)";

/// The probes' routes: answered many times a second by every load balancer, so an answer of
/// 200 is logged at `debug` (counted all the same); one that is not 200 is logged as usual.
const PROBES: [&str; 2] = ["/healthz", "/readyz"];

/// The longest `x-request-id` taken from the caller, in bytes.
pub const MAX_REQUEST_ID_LEN: usize = 64;

/// Whether an incoming `x-request-id` is kept: at most [`MAX_REQUEST_ID_LEN`] bytes of
/// letters, digits and `-`, `_`, `.`, `:` (a UUID, a load balancer's id). Anything else (spaces,
/// quotes, `=`) could forge fields in a text log line, and is replaced by a new id.
pub fn is_acceptable_request_id(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_LEN
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The request id header.
const REQUEST_ID: &str = "x-request-id";

/// Drops an `x-request-id` that [`is_acceptable_request_id`] refuses, or one sent twice, before
/// the request id layer, which then makes a new one.
pub async fn refuse_unsafe_request_id(mut request: Request, next: Next) -> Response {
    let mut ids = request.headers().get_all(REQUEST_ID).iter();
    let kept = match (ids.next(), ids.next()) {
        (None, _) => true,
        (Some(id), None) => is_acceptable_request_id(id.as_bytes()),
        (Some(_), Some(_)) => false,
    };
    if !kept {
        request.headers_mut().remove(REQUEST_ID);
    }
    next.run(request).await
}

/// Logs and counts the request once it is answered; the outermost layer but the request id's.
pub async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let session = session_fingerprint(&request);
    let response = next.run(request).await;
    let route = response
        .extensions()
        .get::<RouteTemplate>()
        .map_or(UNMATCHED_ROUTE, |t| t.0.as_str())
        .to_owned();
    let status = response.status().as_u16();
    let latency = metric_names::seconds_since(started);
    ::metrics::counter!(metric_names::REQUESTS, "method" => method, "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    ::metrics::histogram!(metric_names::REQUEST_SECONDS, "route" => route.clone()).record(latency);
    if status == 200 && PROBES.contains(&route.as_str()) {
        tracing::debug!(target: "companion::request", method, route = %route, status, request_id = %request_id, "probe");
        return response;
    }
    tracing::info!(
        target: "companion::request",
        method,
        route = %route,
        status,
        latency_ms = latency * 1000.0,
        request_id = %request_id,
        session = %session,
        "request"
    );
    response
}

/// The first 8 hex digits of the SHA-256 of the session cookie's value (the page's or the
/// frame's), or `-` without one: enough to follow one session through the log, useless to
/// present as a cookie.
fn session_fingerprint(request: &Request) -> String {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| name.ends_with("session"))
        .map_or_else(
            || "-".to_owned(),
            |(_, value)| {
                Sha256::digest(value.as_bytes())
                    .iter()
                    .take(4)
                    .map(|b| format!("{b:02x}"))
                    .collect()
            },
        )
}
