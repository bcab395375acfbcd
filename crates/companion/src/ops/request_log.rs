//! One log line per request: method, route template (never the raw path with its query),
//! status, latency, request id (`x-request-id` from the load balancer, or made here, and
//! returned), and a fingerprint of the session (a hash, never the cookie); counted in the
//! request metrics with the same labels.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};

use crate::ops::metrics;

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

/// Logs and counts the request once it is answered; the outermost layer but the request id's.
pub async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let session = session_fingerprint(&request);
    let response = next.run(request).await;
    let route = response
        .extensions()
        .get::<RouteTemplate>()
        .map_or("(static file or none)", |t| t.0.as_str())
        .to_owned();
    let status = response.status().as_u16();
    let latency = metrics::seconds_since(started);
    ::metrics::counter!(metrics::REQUESTS, "method" => method.to_string(), "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    ::metrics::histogram!(metrics::REQUEST_SECONDS, "route" => route.clone()).record(latency);
    tracing::info!(
        target: "companion::request",
        method = %method,
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
