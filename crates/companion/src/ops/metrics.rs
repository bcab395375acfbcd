//! The companion's Prometheus metrics: their names, how they are recorded (the `metrics`
//! facade; a no-op until [`install`] runs, as in the router tests), and the `/metrics` listener
//! of their own (`COMPANION_METRICS_ADDR`), rendered by `metrics-exporter-prometheus`.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::AppState;

/// Requests answered, by method (a standard one, or `other`), route template (or one label for
/// every unmatched path) and status.
pub const REQUESTS: &str = "companion_http_requests_total";
/// Time to answer a request, by route template.
pub const REQUEST_SECONDS: &str = "companion_http_request_duration_seconds";
/// Time the token endpoint took, by grant type.
pub const TOKEN_ENDPOINT_SECONDS: &str = "companion_token_endpoint_duration_seconds";
/// Time the API took, by its status.
pub const API_SECONDS: &str = "companion_api_duration_seconds";
/// Time one session-store call took (Redis).
pub const STORE_SECONDS: &str = "companion_session_store_duration_seconds";
/// Whether the session store answered the last readiness probe (1) or not (0).
pub const STORE_UP: &str = "companion_session_store_up";
/// Session-store calls that failed or timed out.
pub const STORE_ERRORS: &str = "companion_session_store_errors_total";
/// Refreshes, by outcome: `refreshed`, `waited` (another request's or replica's result was
/// used), `invalid_grant`, `outcome_unknown`, `not_processed`, `dropped` (a refresh token a dead
/// replica was presenting, never presented again).
pub const REFRESHES: &str = "companion_refreshes_total";
/// Pop-up hand-offs, by what came of them (`kept`, `taken`, or the error code).
pub const HANDOFFS: &str = "companion_handoffs_total";
/// Live sessions (read from the store when scraped).
pub const SESSIONS: &str = "companion_sessions";
/// Live sign-in attempts (read from the store when scraped).
pub const ATTEMPTS: &str = "companion_sign_in_attempts";

/// Latency buckets, in seconds: from a Redis round trip to a slow token endpoint.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder for this process (once; later calls return the same
/// handle), or says why it cannot.
pub fn install() -> Result<PrometheusHandle, String> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &BUCKETS)
        .map_err(|e| e.to_string())?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|e| format!("a metrics recorder is already installed: {e}"))?;
    describe();
    Ok(HANDLE.get_or_init(|| handle).clone())
}

/// Each metric's help text (Prometheus's `# HELP`), with its unit where it has one.
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(REQUESTS, "Requests answered, by method, route template and status.");
    describe_histogram!(
        REQUEST_SECONDS,
        Unit::Seconds,
        "Time to answer a request, by route template."
    );
    describe_histogram!(
        TOKEN_ENDPOINT_SECONDS,
        Unit::Seconds,
        "Time the token endpoint took, by grant type."
    );
    describe_histogram!(API_SECONDS, Unit::Seconds, "Time Pleo's API took, by its status.");
    describe_histogram!(
        STORE_SECONDS,
        Unit::Seconds,
        "Time one session-store (Redis) call took."
    );
    describe_counter!(STORE_ERRORS, "Session-store calls that failed or timed out.");
    describe_gauge!(
        STORE_UP,
        "Whether the session store answered the last readiness probe (1) or not (0)."
    );
    describe_counter!(
        REFRESHES,
        "Refreshes by outcome: refreshed, waited, invalid_grant, outcome_unknown, not_processed, dropped."
    );
    describe_counter!(HANDOFFS, "Pop-up hand-offs, by what came of them.");
    describe_gauge!(SESSIONS, "Live sessions, read from the store when scraped.");
    describe_gauge!(ATTEMPTS, "Live sign-in attempts, read from the store when scraped.");
}

/// How often the recorder's upkeep runs: it drains the histograms' samples into their buckets,
/// which otherwise pile up between scrapes (and for good when nobody scrapes).
pub const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs the recorder's upkeep every [`UPKEEP_EVERY`], for as long as the process lives.
pub fn spawn_upkeep(handle: PrometheusHandle) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(UPKEEP_EVERY);
        loop {
            every.tick().await;
            handle.run_upkeep();
        }
    });
}

/// Seconds since `started`, for a histogram.
pub fn seconds_since(started: std::time::Instant) -> f64 {
    started.elapsed().as_secs_f64()
}

/// The metrics listener's router: `GET /metrics` in Prometheus's text format.
pub fn router(state: AppState, handle: PrometheusHandle) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state((state, handle))
}

/// The live counts read from the store, then every metric rendered.
async fn scrape(State((state, handle)): State<(AppState, PrometheusHandle)>) -> impl IntoResponse {
    let now = state.clock.now();
    match state.sessions.count(now).await {
        Ok(count) => metrics::gauge!(SESSIONS).set(count as f64),
        Err(e) => tracing::warn!("metrics: the session count is not available: {e}"),
    }
    match state.sessions.count_attempts(now).await {
        Ok(count) => metrics::gauge!(ATTEMPTS).set(count as f64),
        Err(e) => tracing::warn!("metrics: the attempt count is not available: {e}"),
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        handle.render(),
    )
}
