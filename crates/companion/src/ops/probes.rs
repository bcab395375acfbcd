//! `GET /healthz` (the process answers; nothing else is asked) and `GET /readyz` (no shutdown
//! has begun; the shared session store's state reported beside it), as Kubernetes and HAProxy
//! ask them. No secret in either, no CSRF header needed, never in a transcript: they sit
//! outside `/api`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::AppState;

/// `GET /healthz`: 200 while the process can answer at all.
pub async fn healthz() -> Response {
    no_store((StatusCode::OK, Json(json!({ "status": "ok" }))).into_response())
}

/// `GET /readyz`: 200 while this replica should get traffic, 503 `{"ready": false, "reason":
/// "shutting_down"}` once a shutdown has begun.
///
/// The session store is shared by every replica: when it is down it is down for all of them,
/// and a readiness that followed it would take every replica out of the load balancer at once,
/// so that callers got the balancer's own page instead of the companion's JSON 503
/// `session_store_unavailable` with `Retry-After` (Kubernetes' and Google's SRE guidance: a
/// shared dependency's outage must not empty the pool). So the store's state is reported
/// (`"session_store": "up"` or `"unavailable"`, a stable word, never the store's error text,
/// which names hosts and certificates), logged when it changes, and kept in the
/// `companion_session_store_up` gauge, but it does not decide readiness.
pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.lifecycle.is_shutting_down() {
        return no_store(
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "ready": false, "reason": "shutting_down" })),
            )
                .into_response(),
        );
    }
    let store = state.sessions.ping().await;
    let up = store.is_ok();
    metrics::gauge!(crate::metric_names::STORE_UP).set(if up { 1.0 } else { 0.0 });
    if state.lifecycle.note_session_store(up) {
        match &store {
            Ok(()) => tracing::info!("the session store answers again"),
            Err(why) => tracing::warn!("the session store does not answer: {why}"),
        }
    }
    let session_store = if up { "up" } else { "unavailable" };
    no_store(
        (
            StatusCode::OK,
            Json(json!({ "ready": true, "session_store": session_store })),
        )
            .into_response(),
    )
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
