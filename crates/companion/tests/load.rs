//! A bounded load test on loopback: many sessions make proxied calls, several at once per
//! session, while every access token expires half way. Zero errors, exactly one refresh per
//! session for that expiry; prints requests per second and p50/p99 latency.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a step that fails fails the test, with the value in its message"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Barrier;

mod support;
use attack_cases::record_case;
use support::*;

const SESSIONS: usize = 50;
/// Callers per session, each making [`CALLS_PER_PHASE`] calls before and after the expiry.
const CALLERS: usize = 4;
const CALLS_PER_PHASE: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_sessions_calling_through_an_expiry_refresh_once_each_with_zero_errors() {
    let (si, state, app) = against_standalone_stand_in().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(axum::serve(listener, app.clone()).into_future());
    let mut cookies = Vec::new();
    for _ in 0..SESSIONS {
        cookies.push(sign_in(&state, &app).await);
    }
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(SESSIONS * CALLERS)
        .build()
        .unwrap();
    let barrier = Arc::new(Barrier::new(SESSIONS * CALLERS));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for cookie in &cookies {
        for _ in 0..CALLERS {
            let (http, barrier, state, si, url, cookie) = (
                http.clone(),
                barrier.clone(),
                state.clone(),
                si.clone(),
                format!("{base}/api/pleo/v2/employees?limit=5"),
                cookie.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut timings = Vec::new();
                let mut errors = Vec::new();
                for phase in 0..2 {
                    if phase == 1 {
                        // Every caller is done with phase 0; one expires every access token, for
                        // the companion and for the API alike; then all go on.
                        if barrier.wait().await.is_leader() {
                            state.clock.shift_by(901);
                            si.clock().shift_by(901);
                        }
                        barrier.wait().await;
                    }
                    for _ in 0..CALLS_PER_PHASE {
                        let sent = Instant::now();
                        let response = http.get(&url).header("cookie", &cookie).send().await;
                        timings.push(sent.elapsed());
                        match response {
                            Ok(r) if r.status() == 200 => {}
                            Ok(r) => errors.push(format!("{} {}", r.status(), r.text().await.unwrap_or_default())),
                            Err(e) => errors.push(e.to_string()),
                        }
                    }
                }
                (timings, errors)
            }));
        }
    }
    let mut timings: Vec<Duration> = Vec::new();
    let mut errors = Vec::new();
    for task in tasks {
        let (t, e) = task.await.unwrap();
        timings.extend(t);
        errors.extend(e);
    }
    let elapsed = started.elapsed();
    server.abort();

    assert!(errors.is_empty(), "{} errors, e.g. {:?}", errors.len(), errors.first());
    assert_eq!(
        si.token_requests("refresh_token"),
        SESSIONS as u64,
        "exactly one refresh per session for the one expiry"
    );
    timings.sort();
    let percentile =
        |p: f64| timings[((timings.len() as f64 * p).ceil() as usize).min(timings.len()) - 1].as_secs_f64() * 1000.0;
    let requests = timings.len();
    println!(
        "load: {requests} proxied requests, {SESSIONS} sessions x {CALLERS} concurrent callers, every token expiring half way: \
         {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms, {} refreshes, 0 errors",
        requests as f64 / elapsed.as_secs_f64(),
        percentile(0.50),
        percentile(0.99),
        si.token_requests("refresh_token"),
    );
    record_case(
        "Load",
        &format!(
            "{SESSIONS} sessions x {CALLERS} concurrent callers, {} calls, every access token expiring half way",
            requests
        ),
        "0 errors; exactly 1 refresh per session for the expiry (figures in the test output and in docs/benchmarks.md)",
    );
}
