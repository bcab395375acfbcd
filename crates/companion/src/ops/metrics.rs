//! The companion's Prometheus recorder (the `metrics` facade is a no-op until [`install`] runs,
//! as in the router tests) and the `/metrics` listener of its own (`COMPANION_METRICS_ADDR`),
//! rendered by `metrics-exporter-prometheus`. The metrics' names are in
//! [`crate::metric_names`].

use std::sync::OnceLock;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::AppState;
use crate::metric_names::{ATTEMPTS, SESSIONS};

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
    crate::metric_names::describe();
    Ok(HANDLE.get_or_init(|| handle).clone())
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
