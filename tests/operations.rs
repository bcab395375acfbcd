//! Operating the companion as a service, with real processes (the production binary) on a real
//! Redis: the probes, the Prometheus scrape checked by `promtool`, one log line per request,
//! graceful shutdown under a slow token endpoint and a slow API, Redis over TLS with
//! certificates the test makes, and a rolling restart behind a real HAProxy under load.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a step that fails fails the test, with the value in its message"
)]

use std::io::Write as _;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use e2e_harness::cluster::{Cluster, EMPLOYEES, StandInServer, cookie_value, lifetime_due_after, session_key};
use e2e_harness::{HAPROXY, Need, PROMTOOL, record_case, skipped};
use futures_util::StreamExt as _;
use serde_json::Value;
use stand_in::TokenFaults;

const NEEDS: &[Need] = &[Need::RedisServer, Need::CompanionBinary];
const AREA: &str = "Operations";

/// A free loopback address for a listener the companion opens.
fn free_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// `GET /v2/employees` through replica 0 with `cookie`, on a task of its own.
fn call_in_the_background(
    cluster: &Cluster,
    cookie: &str,
) -> tokio::task::JoinHandle<Result<reqwest::Response, reqwest::Error>> {
    let (http, url, cookie) = (
        cluster.http.clone(),
        format!("{}{EMPLOYEES}", cluster.base(0)),
        cookie.to_owned(),
    );
    tokio::spawn(async move { http.get(url).header("cookie", cookie).send().await })
}

/// `GET url`: status and body.
async fn get(http: &reqwest::Client, url: &str) -> (u16, String) {
    let response = http.get(url).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_probes_answer_without_a_session_and_readiness_follows_the_session_store() {
    if skipped(NEEDS) {
        return;
    }
    let mut cluster = Cluster::start(1, 900, &[("COMPANION_SESSION_STORE_TIMEOUT_MS", "300")]).await;
    let base = cluster.base(0).to_owned();
    let http = reqwest::Client::new();
    let health = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.headers()["cache-control"], "no-store");
    assert_eq!(health.json::<Value>().await.unwrap()["status"], "ok");
    let (status, body) = get(&http, &format!("{base}/readyz")).await;
    assert_eq!((status, body.as_str()), (200, r#"{"ready":true,"session_store":"up"}"#));

    cluster.redis.stop().await;
    let (status, body) = get(&http, &format!("{base}/readyz")).await;
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"ready":true,"session_store":"unavailable"}"#),
        "a shared store's outage takes no replica out: the callers get the companion's JSON 503"
    );
    assert_eq!(get(&http, &format!("{base}/healthz")).await.0, 200);
    cluster.redis.start_again();
    let deadline = Instant::now() + Duration::from_secs(10);
    while get(&http, &format!("{base}/readyz")).await.1 != r#"{"ready":true,"session_store":"up"}"# {
        assert!(
            Instant::now() < deadline,
            "the store reported up again once Redis is back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let cookie = cluster.sign_in(0).await;
    for probe in ["/healthz", "/readyz"] {
        let answer = http
            .get(format!("{base}{probe}"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(
            answer.status(),
            200,
            "{probe} needs no CSRF header and reads no session"
        );
    }
    let (_, _, transcript) = cluster.get(0, "/api/transcript", &cookie).await;
    assert_eq!(
        transcript.as_array().unwrap().len(),
        1,
        "the probes are in no transcript: {transcript}"
    );
    record_case(
        AREA,
        "/healthz and /readyz asked with and without a session, with Redis up, down and back",
        "/healthz 200 throughout; /readyz 200 throughout, reporting `session_store` `up`, `unavailable` (a stable word, never the store's error text or URL) and `up` again; neither needs a CSRF header nor enters a transcript",
    );
}

/// The value of the sample `name{labels}` in a Prometheus text scrape (`labels` as written, in
/// the exporter's order), if it is there.
fn sample(scrape: &str, series: &str) -> Option<f64> {
    scrape
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

/// One replica whose access tokens are due 3 s after issue, with its metrics on an address of
/// their own: the cluster and that address.
async fn one_replica_with_metrics() -> (Cluster, String) {
    let metrics = free_addr();
    let cluster = Cluster::start(
        1,
        lifetime_due_after(3),
        &[("COMPANION_METRICS_ADDR", metrics.as_str())],
    )
    .await;
    (cluster, metrics)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_scrape_passes_promtool_and_counts_what_the_flow_did() {
    if skipped(&[Need::RedisServer, Need::CompanionBinary, Need::Promtool]) {
        return;
    }
    let (cluster, metrics) = one_replica_with_metrics().await;
    let cookie = cluster.sign_in(0).await;
    assert_eq!(cluster.get(0, EMPLOYEES, &cookie).await.0, 200);
    cluster.wait_until_stale(&cookie).await;
    assert_eq!(cluster.get(0, EMPLOYEES, &cookie).await.0, 200);
    assert_eq!(cluster.stand_in.refreshes(), 1);
    let http = reqwest::Client::new();
    assert!(
        http.get(format!("{}/metrics", cluster.base(0)))
            .send()
            .await
            .unwrap()
            .status()
            != 200,
        "metrics are not on the public listener"
    );
    let (status, scrape) = get(&http, &format!("http://{metrics}/metrics")).await;
    assert_eq!(status, 200);

    let mut promtool = Command::new(PROMTOOL)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    promtool.stdin.take().unwrap().write_all(scrape.as_bytes()).unwrap();
    let checked = promtool.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "promtool check metrics: {}{}\n{scrape}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    let expect = |series: &str, value: f64| {
        assert_eq!(sample(&scrape, series), Some(value), "{series} in\n{scrape}");
    };
    expect(r#"companion_refreshes_total{outcome="refreshed"}"#, 1.0);
    expect(
        r#"companion_http_requests_total{method="GET",route="/api/pleo/{*path}",status="200"}"#,
        2.0,
    );
    expect(r#"companion_api_duration_seconds_count{status="200"}"#, 2.0);
    expect(
        r#"companion_token_endpoint_duration_seconds_count{grant_type="authorization_code"}"#,
        1.0,
    );
    expect(
        r#"companion_token_endpoint_duration_seconds_count{grant_type="refresh_token"}"#,
        1.0,
    );
    expect("companion_sessions", 1.0);
    expect("companion_sign_in_attempts", 0.0);
    assert!(sample(&scrape, "companion_session_store_duration_seconds_count").is_some_and(|n| n >= 4.0));
    for secret in cluster.stand_in.stand_in.issued_tokens() {
        assert!(!scrape.contains(&secret), "no token in the scrape");
    }
    assert!(!scrape.contains(cookie_value(&cookie)));
    record_case(
        AREA,
        "the Prometheus scrape after a sign-in, two API calls and one refresh",
        "passes `promtool check metrics`; counts one refresh (`refreshed`), two proxied calls by route template and status, each token grant once, the live session; served only on COMPANION_METRICS_ADDR",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_made_up_methods_and_paths_leave_the_metrics_at_their_bound() {
    if skipped(&[Need::RedisServer, Need::CompanionBinary]) {
        return;
    }
    let (cluster, metrics) = one_replica_with_metrics().await;
    let http = reqwest::Client::new();
    let scrape = || async { get(&http, &format!("http://{metrics}/metrics")).await.1 };
    // One of each label the requests below can reach, so the bound is measured, not the first
    // sighting of a label.
    for method in ["GET", "NOTAMETHOD"] {
        for path in ["/api/made-up", "/made-up-file"] {
            let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            http.request(method, format!("{}{path}", cluster.base(0)))
                .send()
                .await
                .unwrap();
        }
    }
    let before = scrape().await;
    let base = cluster.base(0).to_owned();
    let sent = futures_util::stream::iter(0..10_000)
        .map(|i| {
            let (http, base) = (http.clone(), base.clone());
            async move {
                let method = reqwest::Method::from_bytes(format!("M{i:05}{}", "X".repeat(200)).as_bytes()).unwrap();
                let path = if i % 2 == 0 {
                    format!("/api/made-up-{i}")
                } else {
                    format!("/file-{i}")
                };
                http.request(method, format!("{base}{path}")).send().await.is_ok()
            }
        })
        .buffer_unordered(32)
        .filter(|ok| std::future::ready(*ok))
        .count()
        .await;
    assert_eq!(sent, 10_000);
    let after = scrape().await;
    let methods: std::collections::BTreeSet<&str> = after
        .lines()
        .filter(|line| line.starts_with("companion_http_requests_total{"))
        .filter_map(|line| line.split("method=\"").nth(1)?.split('"').next())
        .collect();
    assert!(
        methods.iter().all(|m| ["GET", "POST", "other"].contains(m)),
        "{methods:?}"
    );
    assert!(!after.contains("M0"), "no made-up method is a label");
    assert!(
        !after.contains("made-up-") && !after.contains("file-"),
        "no path is a label"
    );
    let series = |scrape: &str| scrape.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(series(&after), series(&before), "not one series more");
    assert!(
        after.len() < before.len() + 1024,
        "the scrape stays its size: {} -> {}",
        before.len(),
        after.len()
    );
    record_case(
        AREA,
        "10,000 requests with made-up 200-byte methods and distinct paths, no session",
        "the metrics keep the same series (methods outside the standard ones are `other`, unmatched paths one route label); the scrape stays its size; upkeep runs on a timer",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_is_one_log_line_with_its_request_id_and_the_log_holds_no_secret() {
    if skipped(NEEDS) {
        return;
    }
    let cluster = Cluster::start(
        1,
        lifetime_due_after(3),
        &[("COMPANION_LOG_FORMAT", "json"), ("RUST_LOG", "companion=info")],
    )
    .await;
    let cookie = cluster.sign_in(0).await;
    let http = reqwest::Client::new();
    let call = |request_id: Option<&'static str>| {
        let mut request = http
            .get(format!("{}{EMPLOYEES}", cluster.base(0)))
            .header("cookie", &cookie);
        if let Some(id) = request_id {
            request = request.header("x-request-id", id);
        }
        request.send()
    };
    let given = call(Some("lb-request-42")).await.unwrap();
    assert_eq!(
        given.headers()["x-request-id"],
        "lb-request-42",
        "the load balancer's id returned"
    );
    let made = call(None).await.unwrap();
    let made_id = made.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(made_id.len(), 36, "a UUID made here: {made_id}");
    cluster.wait_until_stale(&cookie).await;
    assert_eq!(call(None).await.unwrap().status(), 200, "refreshed");
    let logout = cluster
        .post(cluster.base(0), "/api/logout", Some(&cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = cluster.replicas[0].log();

    let requests: Vec<Value> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["target"] == "companion::request")
        .collect();
    let ours = requests
        .iter()
        .find(|line| line["request_id"] == "lb-request-42")
        .unwrap_or_else(|| panic!("no line with the given request id in\n{log}"));
    assert_eq!(
        ours["route"], "/api/pleo/{*path}",
        "the template, never the path with its query"
    );
    assert_eq!(ours["method"], "GET");
    assert_eq!(ours["status"], 200);
    assert!(ours["latency_ms"].as_f64().is_some());
    let session = ours["session"].as_str().unwrap();
    assert!(
        session.len() == 8 && session.bytes().all(|b| b.is_ascii_hexdigit()),
        "{session}"
    );
    assert!(requests.iter().any(|line| line["request_id"] == made_id.as_str()));
    for line in &requests {
        let route = line["route"].as_str().unwrap();
        assert!(!route.contains('?') && !route.contains("limit"), "{line}");
    }
    let mut secrets = cluster.stand_in.stand_in.issued_tokens();
    assert!(secrets.len() >= 4);
    secrets.extend([
        e2e_harness::SECRET.to_owned(),
        cookie_value(&cookie).to_owned(),
        session_key(),
    ]);
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "a secret or token is in the log");
    }
    // A request id made to forge fields in a text log line, or too long, is replaced by one
    // made here.
    for crafted in ["x\" level=ERROR msg=\"forged", "a b", &"a".repeat(65)] {
        let answer = http
            .get(format!("{}/api/config", cluster.base(0)))
            .header("x-request-id", crafted)
            .send()
            .await
            .unwrap();
        let id = answer.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_eq!(id.len(), 36, "a UUID instead of {crafted:?}: {id}");
    }
    // HAProxy's health checks: answered and counted, never a line each.
    for _ in 0..20 {
        assert_eq!(get(&http, &format!("{}/readyz", cluster.base(0))).await.0, 200);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = cluster.replicas[0].log();
    assert!(!log.contains("forged"), "the crafted id is not in the log");
    assert!(
        !log.lines()
            .any(|line| line.contains("/readyz") && line.contains("\"status\":200")),
        "a probe answered 200 is no log line"
    );
    record_case(
        AREA,
        "an `x-request-id` with quotes, spaces and `=` (forged fields in a text log), or longer than 64 bytes",
        "replaced by a UUID made here (the header and the log line); only letters, digits and `-_.:` up to 64 bytes are kept",
    );
    record_case(
        AREA,
        "a load balancer's health checks (`/readyz` answered 200, 20 times)",
        "counted in the metrics, logged at debug only: no request-log line per probe",
    );
    record_case(
        AREA,
        "the request log of a sign-in, API calls (one with the load balancer's x-request-id), a refresh and a sign-out, scanned for the secret, tokens and cookies",
        "one JSON line per request: method, route template, status, latency, request id (the load balancer's, or a UUID made and returned), a hash of the session; no secret, token or cookie value anywhere",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_slow_refresh_and_a_slow_api_call_finish_then_the_process_exits_0() {
    if skipped(NEEDS) {
        return;
    }
    // Due 8 s after issue: the first token is waited out, the refreshed one is not due again
    // before the test ends.
    let stand_in = StandInServer::start_with_api_latency(lifetime_due_after(8), 1500).await;
    let mut cluster = Cluster::start_with(
        1,
        stand_in,
        &[
            ("COMPANION_SHUTDOWN_DRAIN_SECS", "1"),
            ("COMPANION_SHUTDOWN_GRACE_SECS", "10"),
            // A grace shorter than a token call is refused at start.
            ("COMPANION_REFRESH_TIMEOUT_SECS", "8"),
            ("COMPANION_UPSTREAM_TIMEOUT_SECS", "8"),
        ],
    )
    .await;
    let cookie = cluster.sign_in(0).await;
    cluster.wait_until_stale(&cookie).await;
    // The token endpoint holds the refresh for 2 s, then the API takes 1.5 s.
    cluster.stand_in.stand_in.set_token_faults(TokenFaults {
        delay_ms: 2000,
        remaining: 1,
        ..TokenFaults::default()
    });
    let in_flight = call_in_the_background(&cluster, &cookie);
    let deadline = Instant::now() + Duration::from_secs(5);
    while cluster.stand_in.refreshes() == 0 {
        assert!(Instant::now() < deadline, "the refresh was not presented");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cluster.replicas[0].terminate();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let http = reqwest::Client::new();
    let (status, body) = get(&http, &format!("{}/readyz", cluster.base(0))).await;
    assert_eq!(status, 503, "not ready while draining: {body}");
    assert_eq!(body, r#"{"ready":false,"reason":"shutting_down"}"#);
    let answer = in_flight.await.unwrap().unwrap();
    assert_eq!(answer.status(), 200, "the call in flight finished");
    let exit = cluster.replicas[0].wait_exit(Duration::from_secs(15)).await;
    assert_eq!(
        exit,
        Some(0),
        "exit status 0 once the calls finished:\n{}",
        cluster.replicas[0].log()
    );
    assert_eq!(cluster.stand_in.refreshes(), 1);
    assert_eq!(cluster.stand_in.stand_in.grants_revoked_for_reuse(), 0);
    cluster.replicas[0].start_again().await;
    let (status, _, body) = cluster.get(0, EMPLOYEES, &cookie).await;
    assert_eq!(status, 200, "the refreshed tokens were written before the exit: {body}");
    assert_eq!(cluster.stand_in.refreshes(), 1, "no second refresh after the restart");

    // A refresh whose caller went away, then SIGTERM: the refresh still ends and is written.
    cluster.stand_in.stand_in.set_token_faults(TokenFaults {
        delay_ms: 3000,
        remaining: 1,
        process_before_delay: true,
        ..TokenFaults::default()
    });
    let forced = cluster
        .post(cluster.base(0), "/api/refresh", Some(&cookie))
        .timeout(Duration::from_millis(500))
        .send()
        .await;
    assert!(forced.is_err(), "the caller gave up 0.5 s into the refresh");
    cluster.replicas[0].terminate();
    let exit = cluster.replicas[0].wait_exit(Duration::from_secs(15)).await;
    assert_eq!(
        exit,
        Some(0),
        "exit status 0 once the refresh was written:\n{}",
        cluster.replicas[0].log()
    );
    assert_eq!(cluster.stand_in.refreshes(), 2);
    cluster.replicas[0].start_again().await;
    let (status, _, body) = cluster.get(0, EMPLOYEES, &cookie).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, session) = cluster.get(0, "/api/session", &cookie).await;
    assert_eq!(
        (status, &session["tokens"]["has_refresh_token"]),
        (200, &Value::Bool(true))
    );
    let again = cluster
        .post(cluster.base(0), "/api/refresh", Some(&cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200, "the rotated refresh token was written and works");
    assert_eq!(cluster.stand_in.stand_in.grants_revoked_for_reuse(), 0);
    record_case(
        AREA,
        "SIGTERM 0.5 s into a 3 s refresh whose caller already went away",
        "the refresh runs to its end and its rotated tokens are written before the exit (status 0); after the restart the session refreshes again with them, no grant revoked",
    );

    // A second signal ends it at once, whatever is in flight.
    let in_flight = call_in_the_background(&cluster, &cookie);
    tokio::time::sleep(Duration::from_millis(300)).await;
    cluster.replicas[0].terminate();
    tokio::time::sleep(Duration::from_millis(100)).await;
    cluster.replicas[0].terminate();
    let started = Instant::now();
    let exit = cluster.replicas[0].wait_exit(Duration::from_secs(5)).await;
    assert_eq!(exit, Some(130), "a second signal: at once");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(in_flight.await.unwrap().is_err(), "the call was cut off");
    record_case(
        AREA,
        "SIGTERM while a refresh waits 2 s at the token endpoint and the API then takes 1.5 s; then SIGTERM twice",
        "/readyz 503 at once; the call finishes 200, the refreshed tokens are written, exit status 0, the same cookie works after the restart with no second refresh; a second signal ends the process at once (130)",
    );
}

/// A certificate authority and a certificate for `127.0.0.1` it signed, as PEM files in `dir`:
/// (CA, certificate, key).
fn make_certificates(
    dir: &std::path::Path,
    name: &str,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("{name} test CA"));
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let server_params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let server_key = rcgen::KeyPair::generate().unwrap();
    let server = server_params.signed_by(&server_key, &issuer).unwrap();
    let paths = (
        dir.join(format!("{name}-ca.pem")),
        dir.join(format!("{name}-cert.pem")),
        dir.join(format!("{name}-key.pem")),
    );
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, server.pem()).unwrap();
    std::fs::write(&paths.2, server_key.serialize_pem()).unwrap();
    paths
}

/// `redis-server` with TLS only, on a free port, with `cert` and `key`; stopped when dropped.
struct TlsRedis {
    child: Child,
    port: u16,
}

impl TlsRedis {
    fn start(cert: &std::path::Path, key: &std::path::Path, ca: &std::path::Path, dir: &std::path::Path) -> Self {
        let port: u16 = free_addr().rsplit(':').next().unwrap().parse().unwrap();
        let child = Command::new(e2e_harness::cluster::REDIS_SERVER)
            .args(["--port", "0", "--tls-port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--tls-auth-clients", "no"])
            .arg("--tls-cert-file")
            .arg(cert)
            .arg("--tls-key-file")
            .arg(key)
            .arg("--tls-ca-cert-file")
            .arg(ca)
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server with TLS did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, port }
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The companion's sessions from its configuration contract, as `main` builds them.
fn sessions_for(vars: &[(&str, &str)]) -> Result<companion::AppState, String> {
    let config = companion::Config::from_lookup(|name| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
            .or_else(|| (name == "PLEO_CLIENT_SECRET").then(|| e2e_harness::SECRET.to_owned()))
    })
    .map_err(|e| e.to_string())?;
    Ok(companion::AppState::new(config))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_work_in_redis_over_tls_and_a_wrong_ca_or_plain_text_is_refused_without_the_url() {
    if skipped(NEEDS) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("walkthrough-redis-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ca, cert, key) = make_certificates(&dir, "server");
    let (other_ca, _, _) = make_certificates(&dir, "other");
    let redis = TlsRedis::start(&cert, &key, &ca, &dir);
    let url = format!("rediss://127.0.0.1:{}/0", redis.port);
    let key_b64 = session_key();
    let ca_path = ca.display().to_string();
    let store = |url: &str, ca: &str| {
        vec![
            ("COMPANION_SESSION_STORE", url.to_owned()),
            ("COMPANION_SESSION_KEY", key_b64.clone()),
            ("COMPANION_SESSION_STORE_CA", ca.to_owned()),
            ("COMPANION_SESSION_STORE_TIMEOUT_MS", "1000".to_owned()),
        ]
    };
    let good = store(&url, &ca_path);
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let state = sessions_for(&good).unwrap();
    state.sessions.ping().await.unwrap();
    let tokens = companion::oauth::tokens::TokenSet {
        access_token: "tls-access-token".to_owned().into(),
        refresh_token: None,
        token_type: "Bearer".into(),
        scope: "users:read".into(),
        expires_in: 900,
        expires_at: u64::MAX,
    };
    let now = state.clock.now();
    let id = state.sessions.create(tokens, vec![], now).await.unwrap();
    assert!(
        state.sessions.load(&id, now).await.unwrap().is_some(),
        "a session in Redis over TLS"
    );

    // The whole flow through a replica whose sessions are in Redis over TLS.
    let cluster = Cluster::start(
        1,
        900,
        &[
            ("COMPANION_SESSION_STORE", url.as_str()),
            ("COMPANION_SESSION_STORE_CA", ca_path.as_str()),
        ],
    )
    .await;
    let cookie = cluster.sign_in(0).await;
    assert_eq!(cluster.get(0, EMPLOYEES, &cookie).await.0, 200);

    // A CA that did not sign the server's certificate, and TLS to a server that speaks none.
    let wrong = store(&url, &other_ca.display().to_string());
    let wrong: Vec<(&str, &str)> = wrong.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let why = sessions_for(&wrong).unwrap().sessions.ping().await.unwrap_err();
    assert!(why.to_lowercase().contains("certificate"), "names what failed: {why}");
    assert!(
        !why.contains("rediss://") && !why.contains(&redis.port.to_string()),
        "never the URL: {why}"
    );
    let plain = e2e_harness::cluster::RedisServer::start();
    let plain_url = format!("rediss://127.0.0.1:{}/0", plain.port);
    let plain_vars = store(&plain_url, &ca_path);
    let plain_vars: Vec<(&str, &str)> = plain_vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let why = sessions_for(&plain_vars).unwrap().sessions.ping().await.unwrap_err();
    assert!(
        !why.is_empty() && !why.contains("rediss://"),
        "refused, never the URL: {why}"
    );
    let Err(error) = sessions_for(&[
        ("COMPANION_SESSION_STORE", "redis://127.0.0.1:6379/0"),
        ("COMPANION_SESSION_KEY", key_b64.as_str()),
        ("COMPANION_SESSION_STORE_CA", ca_path.as_str()),
    ]) else {
        panic!("a CA for a plain redis:// store is refused");
    };
    assert!(
        error.contains("COMPANION_SESSION_STORE_CA") && error.contains("rediss://"),
        "{error}"
    );
    drop(redis);
    std::fs::remove_dir_all(&dir).unwrap();
    record_case(
        AREA,
        "sessions in Redis over TLS (rediss://, a private CA in COMPANION_SESSION_STORE_CA), a wrong CA, TLS to a plain-text Redis",
        "sessions and the whole flow work over TLS; the wrong CA and the plain-text server are refused with a sentence naming what failed (the certificate), never the URL",
    );
}

/// HAProxy in front of the replicas, health-checking `/readyz`; stopped when dropped.
struct Haproxy {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    base: String,
    config: std::path::PathBuf,
}

impl Haproxy {
    fn start(servers: &[u16]) -> Self {
        let addr = free_addr();
        let config_text = haproxy_config(&addr, servers);
        // One file per HAProxy: the suite's tests run at once.
        let config = std::env::temp_dir().join(format!(
            "walkthrough-haproxy-{}-{}.cfg",
            std::process::id(),
            addr.replace([':', '.'], "-")
        ));
        std::fs::write(&config, config_text).unwrap();
        let child = Command::new(HAPROXY)
            .arg("-db")
            .arg("-f")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let port: u16 = addr.rsplit(':').next().unwrap().parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "haproxy did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            child,
            base: format!("http://{addr}"),
            config,
        }
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config);
    }
}

/// The HAProxy configuration the rolling-restart test uses (docs/running-as-a-service.md shows
/// it): round robin, `/readyz` checked every 200 ms (down after one failure, up after two
/// answers), and a request that found no connection tried once more on another replica.
fn haproxy_config(bind: &str, servers: &[u16]) -> String {
    let mut config = format!(
        "global\n    maxconn 4096\n\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n    timeout check 1s\n    retries 3\n    option redispatch\n    retry-on conn-failure empty-response\n\nfrontend walkthrough\n    bind {bind}\n    default_backend companions\n\nbackend companions\n    balance roundrobin\n    option httpchk GET /readyz\n    http-check expect status 200\n    default-server inter 200ms fall 1 rise 2\n"
    );
    for (i, port) in servers.iter().enumerate() {
        config.push_str(&format!("    server companion{i} 127.0.0.1:{port} check\n"));
    }
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_stopped_callers_behind_haproxy_get_the_companions_json_503_with_retry_after() {
    if skipped(&[Need::RedisServer, Need::CompanionBinary, Need::Haproxy]) {
        return;
    }
    let mut cluster = Cluster::start(2, 900, &[("COMPANION_SESSION_STORE_TIMEOUT_MS", "300")]).await;
    let ports: Vec<u16> = cluster.replicas.iter().map(|r| r.port()).collect();
    let haproxy = Haproxy::start(&ports);
    let cookie = cluster.sign_in(0).await;
    let http = reqwest::Client::new();
    let session = || {
        http.get(format!("{}/api/session", haproxy.base))
            .header("cookie", &cookie)
            .send()
    };
    assert_eq!(session().await.unwrap().status(), 200);
    cluster.redis.stop().await;
    // Several health-check rounds (every 200 ms, one failure takes a server out).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let answer = session().await.unwrap();
    let status = answer.status().as_u16();
    let retry_after = answer
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let content_type = answer.headers()["content-type"].to_str().unwrap().to_owned();
    let body: Value = answer.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 503);
    assert_eq!(
        content_type, "application/json",
        "the companion's answer, not HAProxy's page"
    );
    assert_eq!(body["error"], "session_store_unavailable", "{body}");
    assert!(retry_after.is_some(), "with Retry-After");
    cluster.redis.start_again();
    let deadline = Instant::now() + Duration::from_secs(10);
    while session().await.unwrap().status() != 200 {
        assert!(Instant::now() < deadline, "the same cookie works once Redis is back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    record_case(
        AREA,
        "Redis stopped behind HAProxy (health-checking /readyz every 200 ms) with two replicas",
        "every replica stays in the pool (/readyz reports the shared store, it does not follow it): callers get the companion's JSON 503 `session_store_unavailable` with `Retry-After`, never HAProxy's page; the same cookie works once Redis is back",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_behind_haproxy_under_load_fails_no_call_and_refreshes_once_per_expiry() {
    if skipped(&[Need::RedisServer, Need::CompanionBinary, Need::Haproxy]) {
        return;
    }
    const SESSIONS: usize = 50;
    // Due 10 s after sign-in, again 10 s after the refresh: one expiry inside the test.
    let mut cluster = Cluster::start(3, lifetime_due_after(10), &[("COMPANION_SHUTDOWN_DRAIN_SECS", "1")]).await;
    let ports: Vec<u16> = cluster.replicas.iter().map(|r| r.port()).collect();
    let haproxy = Haproxy::start(&ports);
    let mut cookies = Vec::new();
    let first_sign_in = Instant::now();
    for i in 0..SESSIONS {
        cookies.push(cluster.sign_in(i % 3).await);
    }
    let last_sign_in = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
    // 50 sessions, each calling every 250 ms: about 200 calls/s through HAProxy.
    let load: Vec<_> = cookies
        .iter()
        .map(|cookie| {
            let (http, url, cookie, stop) = (
                http.clone(),
                format!("{}{EMPLOYEES}", haproxy.base),
                cookie.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                let (mut calls, mut failed) = (0u64, Vec::new());
                while !stop.load(Ordering::Relaxed) {
                    let answer = http.get(&url).header("cookie", &cookie).send().await;
                    calls += 1;
                    match answer {
                        Ok(a) if a.status() == 200 => {}
                        Ok(a) => failed.push(format!("{} {}", a.status(), a.text().await.unwrap_or_default())),
                        Err(e) => failed.push(e.to_string()),
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                (calls, failed)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let roll_started = Instant::now();
    for i in 0..3 {
        cluster.replicas[i].terminate();
        let exit = cluster.replicas[i].wait_exit(Duration::from_secs(20)).await;
        assert_eq!(
            exit,
            Some(0),
            "replica {i} stopped gracefully:\n{}",
            cluster.replicas[i].log()
        );
        cluster.replicas[i].start_again().await;
        // Up again in HAProxy's eyes (two good checks) before the next one goes.
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    let roll = roll_started.elapsed();
    // Every session's token expired once (10 s after its sign-in) while the load ran, and none
    // twice (20 s after the first sign-in).
    let until = last_sign_in + Duration::from_secs(13);
    assert!(
        until < first_sign_in + Duration::from_secs(19),
        "the sign-ins took too long"
    );
    tokio::time::sleep(until.saturating_duration_since(Instant::now())).await;
    stop.store(true, Ordering::Relaxed);
    let mut calls = 0;
    let mut failed = Vec::new();
    for task in load {
        let (n, f) = task.await.unwrap();
        calls += n;
        failed.extend(f);
    }
    assert!(
        failed.is_empty(),
        "{} of {calls} calls failed, e.g. {:?}",
        failed.len(),
        failed.first()
    );
    assert_eq!(cluster.stand_in.stand_in.grants_revoked_for_reuse(), 0);
    assert_eq!(
        cluster.stand_in.refreshes(),
        SESSIONS as u64,
        "exactly one refresh per session for its one expiry"
    );
    println!(
        "rolling restart behind HAProxy: 3 replicas restarted one by one in {:.1} s under {calls} calls ({SESSIONS} sessions, every 250 ms each), 0 failed, {SESSIONS} refreshes, 0 grants revoked",
        roll.as_secs_f64()
    );
    record_case(
        AREA,
        "a rolling restart behind HAProxy (health-checking /readyz): each of 3 replicas sent SIGTERM and started again, under load from 50 sessions whose tokens expire during the roll",
        "zero failed calls, zero grants revoked, exactly one refresh per session for its expiry",
    );
}
