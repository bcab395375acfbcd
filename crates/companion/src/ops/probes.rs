//! `GET /healthz` (the process answers; nothing else is asked) and `GET /readyz` (the
//! configuration is loaded, the session store answers when there is one, no shutdown has
//! begun), as Kubernetes and HAProxy ask them. No secret in either, no CSRF header needed, never
//! in a transcript: they sit outside `/api`.

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

/// `GET /readyz`: 200 when this replica should get traffic; 503 with the reason otherwise
/// (shutting down, or the session store not answering within its call timeout).
pub async fn readyz(State(state): State<AppState>) -> Response {
    let not_ready = |reason: &str| {
        no_store(
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "ready": false, "reason": reason })),
            )
                .into_response(),
        )
    };
    if state.lifecycle.is_shutting_down() {
        return not_ready("shutting down: finishing the calls in flight");
    }
    if let Err(why) = state.sessions.ping().await {
        tracing::warn!("not ready: the session store does not answer: {why}");
        return not_ready(&format!("the session store does not answer: {why}"));
    }
    no_store((StatusCode::OK, Json(json!({ "ready": true }))).into_response())
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
