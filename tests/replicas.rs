//! Companion replicas on one Redis behave as one companion: real `redis-server`, real companion
//! processes (the binary `cargo xtask test` builds without the stand-in), a stand-in on its own
//! port, all on loopback and stopped by each test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a step that fails fails the test, with the value in its message"
)]

use std::time::{Duration, Instant};

use companion::oauth::tokens::TokenSet;
use companion::sessions::seal::SealingKeys;
use companion::sessions::{Handoff, Limits, RedisSettings, Sessions};
use e2e_harness::cluster::{
    Cluster, EMPLOYEES, cookie_value, everything_in, lifetime_due_after, redis_key, session_key,
};
use e2e_harness::{Need, record_case, skipped};
use futures_util::future::join_all;
use serde_json::Value;
use stand_in::TokenFaults;

const NEEDS: &[Need] = &[Need::RedisServer, Need::CompanionBinary];
/// Access tokens that are due for a refresh 3 seconds after issue (the companion refreshes in
/// the second half of a short lifetime) and still valid for 3 more.
fn short_ttl() -> u64 {
    lifetime_due_after(3)
}

/// `n` calls of `path`, spread over the running replicas in turn, all at once: each call's
/// status, body and duration.
async fn burst(cluster: &Cluster, n: usize, path: &str, cookie: &str) -> Vec<(u16, Value, Duration)> {
    let running = cluster.running();
    let running = &running;
    join_all((0..n).map(|k| async move {
        let started = Instant::now();
        let (status, _, body) = cluster.get(running[k % running.len()], path, cookie).await;
        (status, body, started.elapsed())
    }))
    .await
}

fn assert_all_ok(results: &[(u16, Value, Duration)], what: &str) {
    let failed: Vec<_> = results.iter().filter(|(s, _, _)| *s != 200).collect();
    assert!(
        failed.is_empty(),
        "{what}: {} of {} calls failed, first {:?}",
        failed.len(),
        results.len(),
        failed[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_signed_in_on_one_replica_works_on_all_and_survives_their_restarts() {
    if skipped(NEEDS) {
        return;
    }
    let mut cluster = Cluster::start(3, 900, &[]).await;
    let cookie = cluster.sign_in(0).await;
    for i in [1, 2] {
        let (status, _, body) = cluster.get(i, EMPLOYEES, &cookie).await;
        assert_eq!(status, 200, "replica {i}: {body}");
    }
    for i in [0, 1] {
        cluster.replicas[i].kill();
        cluster.replicas[i].start_again().await;
    }
    for i in 0..3 {
        let (status, _, body) = cluster.get(i, EMPLOYEES, &cookie).await;
        assert_eq!(status, 200, "after the restarts, replica {i}: {body}");
    }
    let (status, _, transcript) = cluster.get(0, "/api/transcript", &cookie).await;
    assert_eq!(status, 200);
    let steps: Vec<&str> = transcript
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "token_exchange",
            "api_call",
            "api_call",
            "api_call",
            "api_call",
            "api_call"
        ],
        "every replica's steps, in order, kept across the restarts"
    );
    record_case(
        "Replicas",
        "sign-in on one replica, calls on the others, two of three replicas restarted",
        "the same cookie works on every replica; the session and its transcript intact",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_calls_with_an_expired_token_over_three_replicas_refresh_once_in_each_of_20_rounds() {
    if skipped(NEEDS) {
        return;
    }
    let cluster = Cluster::start(3, short_ttl(), &[]).await;
    let cookie = cluster.sign_in(0).await;
    for round in 0..20 {
        cluster.wait_until_stale(&cookie).await;
        let before = cluster.stand_in.refreshes();
        let results = burst(&cluster, 300, EMPLOYEES, &cookie).await;
        assert_all_ok(&results, &format!("round {round}"));
        assert_eq!(cluster.stand_in.refreshes() - before, 1, "round {round}: one refresh");
    }
    assert_eq!(cluster.stand_in.stand_in.grants_revoked_for_reuse(), 0);
    record_case(
        "Replicas",
        "300 concurrent calls with an expired access token over 3 replicas, 20 rounds",
        "exactly one refresh at the token endpoint per round, every call 200, no grant revoked",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_slower_than_the_lease_keeps_its_lease_by_renewal_and_stays_the_only_one() {
    if skipped(NEEDS) {
        return;
    }
    // The lease lives 300 ms unless renewed; the token endpoint takes 1.2 s.
    let cluster = Cluster::start(3, short_ttl(), &[("COMPANION_REFRESH_LEASE_MS", "300")]).await;
    let cookie = cluster.sign_in(0).await;
    cluster.wait_until_stale(&cookie).await;
    cluster.stand_in.stand_in.set_token_faults(TokenFaults {
        delay_ms: 1200,
        remaining: 1,
        ..TokenFaults::default()
    });
    let before = cluster.stand_in.refreshes();
    let results = burst(&cluster, 300, EMPLOYEES, &cookie).await;
    assert_all_ok(&results, "a slow refresh");
    assert_eq!(
        cluster.stand_in.refreshes() - before,
        1,
        "one refresh, though it outlived the lease's first lifetime 4 times"
    );
    assert_eq!(cluster.stand_in.stand_in.grants_revoked_for_reuse(), 0);
    record_case(
        "Replicas",
        "a refresh slower than the lease's first lifetime, 300 calls over 3 replicas",
        "one refresh (the holder renews its lease), every call 200",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_while_presenting_the_refresh_token_never_gets_it_presented_again() {
    if skipped(NEEDS) {
        return;
    }
    let lease = Duration::from_millis(500);
    let mut cluster = Cluster::start(3, short_ttl(), &[("COMPANION_REFRESH_LEASE_MS", "500")]).await;
    let cookie = cluster.sign_in(0).await;
    cluster.wait_until_stale(&cookie).await;
    // Replica 0 takes the lease and presents the refresh token; the token endpoint holds it.
    cluster.stand_in.stand_in.set_token_faults(TokenFaults {
        delay_ms: 3000,
        remaining: 1,
        ..TokenFaults::default()
    });
    let before = cluster.stand_in.refreshes();
    let stuck = {
        let (http, url, cookie) = (
            cluster.http.clone(),
            format!("{}{EMPLOYEES}", cluster.base(0)),
            cookie.clone(),
        );
        tokio::spawn(async move { http.get(url).header("cookie", cookie).send().await })
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while cluster.stand_in.refreshes() == before {
        assert!(Instant::now() < deadline, "replica 0 never presented");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    cluster.replicas[0].kill();
    assert!(stuck.await.unwrap().is_err(), "the killed replica answered nothing");
    // The others wait out the lease, find the refresh marked in flight, and do not present
    // again: the access token (due for refresh, not expired) serves.
    let results = burst(&cluster, 100, EMPLOYEES, &cookie).await;
    assert_all_ok(&results, "after the kill");
    let slowest = results.iter().map(|(_, _, d)| *d).max().unwrap();
    assert!(
        slowest < lease + Duration::from_secs(1),
        "no call waited much past the lease: {slowest:?}"
    );
    tokio::time::sleep(Duration::from_millis(3200)).await;
    assert_eq!(cluster.stand_in.refreshes() - before, 1, "presented once");
    assert_eq!(
        cluster.stand_in.stand_in.grants_revoked_for_reuse(),
        0,
        "the grant was not revoked"
    );
    let (_, _, session) = cluster.get(1, "/api/session", &cookie).await;
    assert_eq!(session["tokens"]["has_refresh_token"], false, "{session}");
    record_case(
        "Replicas",
        "a replica killed (SIGKILL) while it presents the refresh token",
        "the others wait out its lease and never present that token again (one presentation, grant not revoked); the access token serves until it expires, every call 200",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_left_by_a_replica_that_died_before_presenting_delays_the_refresh_by_at_most_the_lease() {
    if skipped(NEEDS) {
        return;
    }
    let lease_ms = 800;
    let cluster = Cluster::start(3, short_ttl(), &[("COMPANION_REFRESH_LEASE_MS", "800")]).await;
    let cookie = cluster.sign_in(0).await;
    cluster.wait_until_stale(&cookie).await;
    // What a replica killed right after `SET NX` leaves behind: a lease with an owner that will
    // never renew or release it, and no refresh marked in flight.
    let mut redis = cluster.redis.connection().await;
    let _: () = redis::cmd("SET")
        .arg(redis_key("lease", cookie_value(&cookie)))
        .arg("a-replica-that-died")
        .arg("PX")
        .arg(lease_ms)
        .query_async(&mut redis)
        .await
        .unwrap();
    let before = cluster.stand_in.refreshes();
    let started = Instant::now();
    let results = burst(&cluster, 30, EMPLOYEES, &cookie).await;
    let took = started.elapsed();
    assert_all_ok(&results, "behind a dead lease");
    assert_eq!(cluster.stand_in.refreshes() - before, 1, "then refreshed once");
    assert!(
        took >= Duration::from_millis(lease_ms - 200) && took < Duration::from_millis(lease_ms + 1000),
        "waited for the lease to lapse, not much longer: {took:?}"
    );
    let (_, _, session) = cluster.get(2, "/api/session", &cookie).await;
    assert_eq!(session["tokens"]["has_refresh_token"], true);
    record_case(
        "Replicas",
        "a lease left by a replica that died right after taking it (before presenting)",
        "the calls wait until it lapses, then one replica refreshes once; every call 200",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_redis_is_down_calls_answer_503_and_afterwards_the_same_cookie_works() {
    if skipped(NEEDS) {
        return;
    }
    let mut cluster = Cluster::start(2, 900, &[("COMPANION_SESSION_STORE_TIMEOUT_MS", "300")]).await;
    let cookie = cluster.sign_in(0).await;
    for i in 0..2 {
        assert_eq!(cluster.get(i, EMPLOYEES, &cookie).await.0, 200);
    }
    cluster.redis.stop().await;
    for i in 0..2 {
        for path in [EMPLOYEES, "/api/session", "/api/transcript"] {
            let (status, retry_after, body) = cluster.get(i, path, &cookie).await;
            assert_eq!(
                (status, retry_after.as_deref(), body["error"].as_str()),
                (503, Some("1"), Some("session_store_unavailable")),
                "replica {i}, {path}: {body}"
            );
        }
    }
    let logout = cluster
        .post(cluster.base(1), "/api/logout", Some(&cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 503);
    assert!(
        logout.headers().get("set-cookie").is_none(),
        "the cookie stays: the session was not removed"
    );
    record_case(
        "Replicas",
        "Redis down: any call with a session cookie, sign-out included",
        "503 `session_store_unavailable` with Retry-After: 1; the cookie kept, the session intact in Redis",
    );
    cluster.redis.start_again();
    let deadline = Instant::now() + Duration::from_secs(10);
    for i in 0..2 {
        loop {
            let (status, _, body) = cluster.get(i, EMPLOYEES, &cookie).await;
            if status == 200 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "replica {i} after Redis came back: {status} {body}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let (_, _, transcript) = cluster.get(1, "/api/transcript", &cookie).await;
    assert_eq!(
        transcript.as_array().unwrap().len(),
        5,
        "the exchange, two calls before, two after: {transcript}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_swapped_or_truncated_records_are_refused_as_not_signed_in() {
    if skipped(NEEDS) {
        return;
    }
    let cluster = Cluster::start(1, 900, &[]).await;
    let [flipped, truncated, swapped, garbled, donor] = [
        cluster.sign_in(0).await,
        cluster.sign_in(0).await,
        cluster.sign_in(0).await,
        cluster.sign_in(0).await,
        cluster.sign_in(0).await,
    ];
    let mut redis = cluster.redis.connection().await;
    let reader = redis.clone();
    let key = |cookie: &str| redis_key("session", cookie_value(cookie));
    let record = |cookie: String| {
        let mut redis = reader.clone();
        async move {
            let value: (Vec<u8>, u64) = redis::cmd("HMGET")
                .arg(redis_key("session", cookie_value(&cookie)))
                .arg("record")
                .arg("v")
                .query_async(&mut redis)
                .await
                .unwrap();
            value
        }
    };
    let (mut bytes, _) = record(flipped.clone()).await;
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let _: () = redis::cmd("HSET")
        .arg(key(&flipped))
        .arg("record")
        .arg(bytes)
        .query_async(&mut redis)
        .await
        .unwrap();
    let (bytes, _) = record(truncated.clone()).await;
    let _: () = redis::cmd("HSET")
        .arg(key(&truncated))
        .arg("record")
        .arg(&bytes[..bytes.len() / 2])
        .query_async(&mut redis)
        .await
        .unwrap();
    let (bytes, version) = record(donor.clone()).await;
    let _: () = redis::cmd("HSET")
        .arg(key(&swapped))
        .arg("record")
        .arg(bytes)
        .arg("v")
        .arg(version)
        .query_async(&mut redis)
        .await
        .unwrap();
    let _: () = redis::cmd("HSET")
        .arg(key(&garbled))
        .arg("v")
        .arg("not a number")
        .query_async(&mut redis)
        .await
        .unwrap();
    for (what, cookie) in [
        ("flipped", &flipped),
        ("truncated", &truncated),
        ("swapped", &swapped),
        ("garbled version", &garbled),
    ] {
        let (status, _, body) = cluster.get(0, EMPLOYEES, cookie).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("not_signed_in")), "{what}");
    }
    assert_eq!(
        cluster.get(0, EMPLOYEES, &donor).await.0,
        200,
        "the donor's own session is untouched"
    );
    assert_eq!(
        cluster.get(0, "/api/config", &donor).await.0,
        200,
        "the replica is alive"
    );
    record_case(
        "Replicas",
        "a session record in Redis tampered with, truncated, copied under another session's key, or its version garbled",
        "401 `not_signed_in` (it does not open: AES-GCM, the cookie's id as associated data); no panic",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_redis_holds_has_no_token_secret_or_cookie_in_clear() {
    if skipped(NEEDS) {
        return;
    }
    let cluster = Cluster::start(2, short_ttl(), &[]).await;
    let cookie = cluster.sign_in(0).await;
    assert_eq!(cluster.get(1, EMPLOYEES, &cookie).await.0, 200);
    cluster.wait_until_stale(&cookie).await;
    assert_eq!(cluster.get(1, EMPLOYEES, &cookie).await.0, 200);
    assert_eq!(cluster.stand_in.refreshes(), 1, "the tokens were refreshed once");
    // An attempt left open, so the scan sees one too.
    let state = pkce::State::generate().unwrap();
    let verifier = pkce::CodeVerifier::generate().unwrap();
    let challenge = pkce::CodeChallenge::s256(&verifier);
    let start = cluster
        .post(cluster.base(0), "/api/authorize/start", None)
        .json(&flow::start_request(state.as_str(), challenge.as_str()))
        .send()
        .await
        .unwrap();
    assert!(start.status().is_success());
    let held = everything_in(&cluster.redis).await;
    let kinds: std::collections::BTreeSet<&str> = held.iter().map(|(key, _)| key.split(':').nth(1).unwrap()).collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["attempt", "attempts", "finished", "session", "sessions", "transcript",]
    );
    let mut secrets = cluster.stand_in.stand_in.issued_tokens();
    assert!(secrets.len() >= 4, "two access and two refresh tokens issued");
    secrets.extend([
        e2e_harness::SECRET.to_owned(),
        cookie_value(&cookie).to_owned(),
        state.as_str().to_owned(),
        challenge.as_str().to_owned(),
        session_key(),
    ]);
    for (key, value) in &held {
        for secret in &secrets {
            assert!(
                !key.contains(secret.as_str()) && !value.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{key} holds a secret in clear"
            );
        }
    }
    record_case(
        "Replicas",
        "every key and value in Redis scanned for tokens, the client secret, cookies, state and challenge",
        "none in clear: values sealed, keys named by a hash of the cookie's id",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_sealed_with_the_previous_key_still_open_and_move_to_the_new_key_when_written() {
    if skipped(NEEDS) {
        return;
    }
    let new_key = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [42u8; 32]);
    let mut cluster = Cluster::start(1, short_ttl(), &[]).await;
    let cookie = cluster.sign_in(0).await;
    let replica = &mut cluster.replicas[0];
    replica.kill();
    replica.set("COMPANION_SESSION_KEY", &new_key);
    replica.set("COMPANION_SESSION_KEY_PREVIOUS", &session_key());
    replica.start_again().await;
    assert_eq!(
        cluster.get(0, EMPLOYEES, &cookie).await.0,
        200,
        "opens with the previous key"
    );
    cluster.wait_until_stale(&cookie).await;
    assert_eq!(cluster.get(0, EMPLOYEES, &cookie).await.0, 200);
    assert_eq!(cluster.stand_in.refreshes(), 1, "the refresh wrote the record anew");
    let replica = &mut cluster.replicas[0];
    replica.kill();
    replica.unset("COMPANION_SESSION_KEY_PREVIOUS");
    replica.start_again().await;
    assert_eq!(
        cluster.get(0, "/api/session", &cookie).await.2["signed_in"],
        true,
        "resealed with the new key alone"
    );
    record_case(
        "Replicas",
        "the session key rotated (new key, old one as COMPANION_SESSION_KEY_PREVIOUS), then the old one retired",
        "sessions stay signed in; a record opens with the old key until its next write seals it with the new one",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_test_over_three_replicas_on_redis_has_zero_errors_and_one_refresh_per_session_per_expiry() {
    if skipped(NEEDS) {
        return;
    }
    const SESSIONS: usize = 50;
    const CALLERS: usize = 4;
    const CALLS_PER_PHASE: usize = 10;
    // Fresh for at least 11 s: time for the sign-ins and the first phase before any expiry, and
    // for the second phase before the refreshed tokens are due again.
    let cluster = Cluster::start(3, lifetime_due_after(12), &[]).await;
    let mut cookies = Vec::new();
    for i in 0..SESSIONS {
        cookies.push(cluster.sign_in(i % 3).await);
    }
    let phase = |offset: usize| {
        let (cluster, cookies) = (&cluster, &cookies);
        join_all((0..SESSIONS * CALLERS).map(move |caller| async move {
            let cookie = &cookies[caller / CALLERS];
            let mut timings = Vec::new();
            let mut errors = Vec::new();
            for call in 0..CALLS_PER_PHASE {
                let started = Instant::now();
                let (status, _, body) = cluster.get((caller + call + offset) % 3, EMPLOYEES, cookie).await;
                timings.push(started.elapsed());
                if status != 200 {
                    errors.push(format!("{status} {body}"));
                }
            }
            (timings, errors)
        }))
    };
    let started = Instant::now();
    let mut results = phase(0).await;
    let first_phase = started.elapsed();
    assert_eq!(cluster.stand_in.refreshes(), 0, "no token was due in the first phase");
    for cookie in &cookies {
        cluster.wait_until_stale(cookie).await;
    }
    let second_started = Instant::now();
    results.extend(phase(1).await);
    let elapsed = first_phase + second_started.elapsed();
    let errors: Vec<&String> = results.iter().flat_map(|(_, e)| e).collect();
    assert!(errors.is_empty(), "{} errors, e.g. {:?}", errors.len(), errors.first());
    assert_eq!(
        cluster.stand_in.refreshes(),
        SESSIONS as u64,
        "exactly one refresh per session for the one expiry"
    );
    assert_eq!(cluster.stand_in.stand_in.grants_revoked_for_reuse(), 0);
    let mut timings: Vec<Duration> = results.into_iter().flat_map(|(t, _)| t).collect();
    timings.sort();
    let percentile =
        |p: f64| timings[((timings.len() as f64 * p).ceil() as usize).min(timings.len()) - 1].as_secs_f64() * 1000.0;
    let requests = timings.len();
    println!(
        "load over 3 replicas on Redis: {requests} proxied requests, {SESSIONS} sessions x {CALLERS} concurrent callers, \
         every token expiring between the phases: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms, {SESSIONS} refreshes, 0 errors",
        requests as f64 / elapsed.as_secs_f64(),
        percentile(0.50),
        percentile(0.99),
    );
    record_case(
        "Load",
        &format!(
            "{SESSIONS} sessions x {CALLERS} concurrent callers over 3 replicas on Redis, {requests} calls, every access token expiring between two phases"
        ),
        "0 errors; exactly 1 refresh per session for the expiry",
    );
}

/// Two session stores on one Redis, as two replicas hold them, with `limits`.
fn two_stores(redis: &e2e_harness::cluster::RedisServer, limits: Limits) -> [Sessions; 2] {
    let keys = SealingKeys::new(&[3; 32], None);
    [
        store_with_keys(redis, limits, keys.clone()),
        store_with_keys(redis, limits, keys),
    ]
}

/// A session store on `redis`, as a replica with these sealing keys holds it.
fn store_with_keys(redis: &e2e_harness::cluster::RedisServer, limits: Limits, keys: SealingKeys) -> Sessions {
    Sessions::in_redis(
        limits,
        RedisSettings {
            client: redis::Client::open(redis.url()).unwrap(),
            keys,
            lease: Duration::from_millis(500),
            call_timeout: Duration::from_secs(1),
        },
    )
}

/// The names of the keys of `kind` that Redis holds.
async fn keys_of(redis: &e2e_harness::cluster::RedisServer, kind: &str) -> Vec<String> {
    let mut connection = redis.connection().await;
    redis::cmd("KEYS")
        .arg(format!("walkthrough:{kind}:*"))
        .query_async(&mut connection)
        .await
        .unwrap()
}

fn tokens() -> TokenSet {
    TokenSet {
        access_token: "an-access-token".to_owned().into(),
        refresh_token: None,
        token_type: "Bearer".into(),
        scope: "users:read".into(),
        expires_in: 900,
        expires_at: u64::MAX,
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_and_attempt_limits_hold_across_replicas() {
    if skipped(&[Need::RedisServer]) {
        return;
    }
    let redis = e2e_harness::cluster::RedisServer::start();
    let limits = Limits {
        max_sessions: 2,
        max_attempts: 2,
        session_idle_secs: 2,
        ..Limits::default()
    };
    let [a, b] = two_stores(&redis, limits);
    let first = a.create(tokens(), vec![], now()).await.unwrap();
    b.create(tokens(), vec![], now()).await.unwrap();
    assert_eq!(
        a.create(tokens(), vec![], now()).await.unwrap_err().code,
        flow::ErrorCode::Overloaded,
        "two sessions in all, whichever replica made them"
    );
    assert_eq!(b.count(now()).await.unwrap(), 2);
    a.start_attempt("s1".into(), "c".into(), Handoff::None, now())
        .await
        .unwrap();
    let taken = b
        .start_attempt("s2".into(), "c".into(), Handoff::None, now())
        .await
        .unwrap();
    assert_eq!(
        a.start_attempt("s3".into(), "c".into(), Handoff::None, now())
            .await
            .unwrap_err()
            .code,
        flow::ErrorCode::Overloaded
    );
    // An attempt is single use across replicas: of two replicas taking it at once, one gets it.
    let (on_a, on_b) = tokio::join!(a.take_attempt(&taken, "s2", now()), b.take_attempt(&taken, "s2", now()));
    assert!(on_a.is_ok() != on_b.is_ok(), "exactly one took it: {on_a:?} {on_b:?}");
    // Idle sessions end by Redis expiry, for every replica, and make room.
    assert!(b.load(&first, now()).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert!(a.load(&first, now()).await.unwrap().is_none(), "idle past its lifetime");
    assert_eq!(a.count(now()).await.unwrap(), 0);
    a.create(tokens(), vec![], now()).await.unwrap();
    record_case(
        "Replicas",
        "more sessions or sign-in attempts than the limit, spread over replicas; one attempt taken by two replicas at once",
        "503 `overloaded` past the limit whichever replica is asked; the attempt goes to exactly one; idle sessions expire in Redis for all",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_rejected_on_one_replica_ends_the_session_on_every_replica() {
    if skipped(NEEDS) {
        return;
    }
    let cluster = Cluster::start(3, short_ttl(), &[]).await;
    let cookie = cluster.sign_in(0).await;
    for token in cluster.stand_in.stand_in.issued_refresh_tokens() {
        cluster.stand_in.stand_in.revoke_refresh_token(&token);
    }
    cluster.wait_until_stale(&cookie).await;
    let (status, _, body) = cluster.get(1, EMPLOYEES, &cookie).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("reauthorization_required")),
        "the refresh was rejected: {body}"
    );
    for i in [0, 2] {
        let (status, _, body) = cluster.get(i, EMPLOYEES, &cookie).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("reauthorization_required")),
            "replica {i}, the next call: {body}"
        );
    }
    assert_eq!(cluster.stand_in.refreshes(), 1, "presented once, not once per replica");
    record_case(
        "Replicas",
        "a refresh rejected with invalid_grant on one replica",
        "401 `reauthorization_required` on that call and on the next call to every other replica; the refresh token presented once",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_popups_handoff_crosses_replicas_once_and_is_sealed_in_redis() {
    if skipped(&[Need::RedisServer]) {
        return;
    }
    let redis = e2e_harness::cluster::RedisServer::start();
    let [a, b] = two_stores(&redis, Limits::default());
    let state = "the-frames-state";
    let callback = "?code=the-code-value&state=the-frames-state&iss=x";
    // Nobody waits for it yet: refused, nothing kept.
    assert_eq!(
        b.deliver_handoff(state, callback.into(), now()).await.unwrap_err().code,
        flow::ErrorCode::HandoffNotExpected
    );
    // The frame started on replica A; the pop-up hands over on B; the frame takes it on A.
    let frame = a
        .start_attempt(state.into(), "c".into(), Handoff::Armed, now())
        .await
        .unwrap();
    assert_eq!(
        a.take_handoff(state, &frame, now()).await.unwrap_err().code,
        flow::ErrorCode::HandoffPending
    );
    b.deliver_handoff(state, callback.into(), now()).await.unwrap();
    let mut connection = redis::Client::open(redis.url()).unwrap().get_connection().unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("walkthrough:handoff-slot:*")
        .query(&mut connection)
        .unwrap();
    assert_eq!(keys.len(), 1);
    assert!(!keys[0].contains(state), "the key names a hash of the state");
    let stored: Vec<u8> = redis::cmd("HGET")
        .arg(&keys[0])
        .arg("slot")
        .query(&mut connection)
        .unwrap();
    assert!(!String::from_utf8_lossy(&stored).contains("the-code-value"), "sealed");
    let ttl: i64 = redis::cmd("TTL").arg(&keys[0]).query(&mut connection).unwrap();
    assert!((1..=60).contains(&ttl), "kept at most a minute: {ttl}");
    let (on_a, on_b) = tokio::join!(
        a.take_handoff(state, &frame, now()),
        b.take_handoff(state, &frame, now())
    );
    assert!(on_a.is_ok() != on_b.is_ok(), "taken once: {on_a:?} {on_b:?}");
    assert_eq!(on_a.or(on_b).unwrap(), callback);
    assert_eq!(
        a.deliver_handoff(state, "?code=late&state=the-frames-state".into(), now())
            .await
            .unwrap_err()
            .code,
        flow::ErrorCode::HandoffConflict,
        "a callback after the take is told the slot is spent"
    );
    record_case(
        "Replicas",
        "a pop-up's hand-off delivered on one replica, taken on another, by two at once",
        "taken exactly once; sealed in Redis under a hash of the state, for at most 60 s",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handoff_slots_are_made_only_with_attempts_inside_the_limit_and_go_with_them() {
    if skipped(&[Need::RedisServer]) {
        return;
    }
    let redis = e2e_harness::cluster::RedisServer::start();
    let [a, b] = two_stores(
        &redis,
        Limits {
            max_attempts: 3,
            ..Limits::default()
        },
    );
    let mut attempts = Vec::new();
    for i in 0..3 {
        let store = if i % 2 == 0 { &a } else { &b };
        let state = format!("frame-state-{i}");
        attempts.push((
            store
                .start_attempt(state.clone(), "c".into(), Handoff::Armed, now())
                .await
                .unwrap(),
            state,
        ));
    }
    for i in 3..5 {
        assert_eq!(
            a.start_attempt(format!("frame-state-{i}"), "c".into(), Handoff::Armed, now())
                .await
                .unwrap_err()
                .code,
            flow::ErrorCode::Overloaded,
            "start {i} is past the limit"
        );
        // What the measured attack did next: an 8 KB delivery for each refused start.
        let callback = format!("?state=frame-state-{i}&code={}", "x".repeat(8 * 1024));
        assert_eq!(
            b.deliver_handoff(&format!("frame-state-{i}"), callback, now())
                .await
                .unwrap_err()
                .code,
            flow::ErrorCode::HandoffNotExpected,
            "a refused start armed no slot"
        );
    }
    assert_eq!(
        keys_of(&redis, "handoff-slot").await.len(),
        3,
        "one slot per attempt, no more"
    );
    assert_eq!(keys_of(&redis, "attempt").await.len(), 3);
    let (id, state) = &attempts[0];
    b.take_attempt(id, state, now()).await.unwrap();
    assert_eq!(
        keys_of(&redis, "handoff-slot").await.len(),
        2,
        "the slot went with its attempt"
    );
    let mut connection = redis.connection().await;
    for key in keys_of(&redis, "handoff-slot").await {
        let ttl: i64 = redis::cmd("TTL").arg(&key).query_async(&mut connection).await.unwrap();
        assert!((1..=600).contains(&ttl), "as long as its attempt at most: {ttl}");
    }
    record_case(
        "Replicas",
        "frame sign-ins started past the attempt limit, each followed by an 8 KB hand-off delivery",
        "503 `overloaded` and nothing written: a hand-off slot is made in the attempt's own atomic step, counted and removed with it; the deliveries 404 `handoff_not_expected`",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_callback_for_one_handoff_spends_it_and_a_second_start_never_rearms_it() {
    if skipped(&[Need::RedisServer]) {
        return;
    }
    let redis = e2e_harness::cluster::RedisServer::start();
    let [a, b] = two_stores(&redis, Limits::default());
    let state = "leaked-state";
    let frame = a
        .start_attempt(state.into(), "c".into(), Handoff::Armed, now())
        .await
        .unwrap();
    // Someone who signed in elsewhere with the leaked authorize URL delivers first...
    b.deliver_handoff(state, "?code=someone-elses&state=leaked-state".into(), now())
        .await
        .unwrap();
    // ...a second start of the same state changes nothing...
    b.start_attempt(state.into(), "c".into(), Handoff::Armed, now())
        .await
        .unwrap();
    // ...and the reader's own pop-up delivers: the slot is spent, for it and for the frame.
    assert_eq!(
        a.deliver_handoff(state, "?code=the-readers&state=leaked-state".into(), now())
            .await
            .unwrap_err()
            .code,
        flow::ErrorCode::HandoffConflict
    );
    assert_eq!(
        b.take_handoff(state, &frame, now()).await.unwrap_err().code,
        flow::ErrorCode::HandoffConflict,
        "neither callback is exchanged"
    );
    assert_eq!(
        a.take_handoff(state, &frame, now()).await.unwrap_err().code,
        flow::ErrorCode::HandoffConflict,
        "and it stays spent"
    );
    record_case(
        "Replicas",
        "two callbacks delivered for one frame's sign-in (a leaked authorize URL used elsewhere), and a second start of the same state",
        "the second delivery spends the slot: both it and the frame's take get 409 `handoff_conflict`, neither code is exchanged; a start never re-arms a slot",
    );
}

/// What someone who read a leaked authorize URL can do with its `state` against a frame's
/// hand-off, on `a` and `b` (one store, or two replicas of one): start an attempt of their own
/// with that state. The slot belongs to the reader's attempt, so theirs never takes, spends,
/// deletes or re-arms it.
async fn a_handoff_slot_answers_only_the_attempt_that_armed_it(a: &Sessions, b: &Sessions, store: &str) {
    use flow::ErrorCode::{HandoffConflict, HandoffNotExpected};
    // 1. Their attempt with the reader's state tries to take the reader's delivered callback.
    let state = "the-readers-state";
    let readers = a
        .start_attempt(state.into(), "readers-challenge".into(), Handoff::Armed, now())
        .await
        .unwrap();
    let theirs = b
        .start_attempt(state.into(), "their-challenge".into(), Handoff::Armed, now())
        .await
        .unwrap();
    let callback = "?code=the-readers-code&state=the-readers-state";
    b.deliver_handoff(state, callback.into(), now()).await.unwrap();
    assert_eq!(
        b.take_handoff(state, &theirs, now()).await.unwrap_err().code,
        HandoffNotExpected,
        "{store}: another attempt of the same state takes nothing"
    );
    assert_eq!(a.take_handoff(state, &readers, now()).await.unwrap(), callback);
    record_case(
        "Embed",
        &format!(
            "({store}) an attempt started with the state of a leaked authorize URL takes the reader's handed-off callback"
        ),
        "404 `handoff_not_expected`: the slot belongs to the attempt that armed it; the reader's frame takes its callback",
    );

    // 2. After the reader's pop-up delivered: their attempt exchanges (which removed the slot
    // of its state), starts again (which re-armed it) and delivers their own callback.
    let state = "another-readers-state";
    let readers = a
        .start_attempt(state.into(), "readers-challenge".into(), Handoff::Armed, now())
        .await
        .unwrap();
    let callback = "?code=the-readers-code&state=another-readers-state";
    a.deliver_handoff(state, callback.into(), now()).await.unwrap();
    let theirs = b
        .start_attempt(state.into(), "their-challenge".into(), Handoff::Armed, now())
        .await
        .unwrap();
    b.take_attempt(&theirs, state, now()).await.unwrap();
    b.start_attempt(state.into(), "their-challenge".into(), Handoff::Armed, now())
        .await
        .unwrap();
    assert_eq!(
        a.take_handoff(state, &readers, now()).await.unwrap(),
        callback,
        "{store}: the reader's callback is still there, its own"
    );
    assert_eq!(
        b.deliver_handoff(state, "?code=their-code&state=another-readers-state".into(), now())
            .await
            .unwrap_err()
            .code,
        HandoffConflict,
        "{store}: their callback finds the reader's slot, spent"
    );
    record_case(
        "Embed",
        &format!(
            "({store}) after the reader's pop-up delivered: an attempt with the same state exchanges, starts again and delivers its own callback"
        ),
        "the slot is neither deleted nor re-armed by another attempt: the reader's frame takes the reader's callback; theirs gets 409 `handoff_conflict`",
    );
}

#[tokio::test]
async fn in_memory_a_handoff_slot_answers_only_the_attempt_that_armed_it() {
    let store = Sessions::in_memory(Limits::default());
    a_handoff_slot_answers_only_the_attempt_that_armed_it(&store, &store, "memory").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_redis_a_handoff_slot_answers_only_the_attempt_that_armed_it() {
    if skipped(&[Need::RedisServer]) {
        return;
    }
    let redis = e2e_harness::cluster::RedisServer::start();
    let [a, b] = two_stores(&redis, Limits::default());
    a_handoff_slot_answers_only_the_attempt_that_armed_it(&a, &b, "Redis").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_writer_cannot_stretch_a_session_past_its_absolute_lifetime() {
    if skipped(&[Need::RedisServer]) {
        return;
    }
    let redis = e2e_harness::cluster::RedisServer::start();
    let limits = Limits {
        session_max_secs: 100,
        ..Limits::default()
    };
    let [a, _] = two_stores(&redis, limits);
    let signed_in = now();
    let id = a.create(tokens(), vec![], signed_in).await.unwrap();
    let [key] = <[String; 1]>::try_from(keys_of(&redis, "session").await).unwrap();
    let mut connection = redis.connection().await;
    // What a Redis writer tried: a sign-in time far in the future, in the clear beside the seal.
    let _: () = redis::cmd("HSET")
        .arg(&key)
        .arg("created")
        .arg(signed_in + 1_000_000)
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(a.load(&id, signed_in + 99).await.unwrap().is_some());
    assert!(
        a.load(&id, signed_in + 100).await.unwrap().is_none(),
        "over at 100 s after sign-in: the time inside the seal counts"
    );
    record_case(
        "Replicas",
        "a session's sign-in time rewritten in Redis to keep it alive past COMPANION_SESSION_MAX_SECS",
        "no effect: the sign-in time is sealed inside the record; the session ends at its absolute lifetime",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_only_read_during_a_key_rotation_survives_the_old_keys_retirement() {
    if skipped(&[Need::RedisServer]) {
        return;
    }
    let redis = e2e_harness::cluster::RedisServer::start();
    let (old, new) = ([1u8; 32], [2u8; 32]);
    let before = store_with_keys(&redis, Limits::default(), SealingKeys::new(&old, None));
    let id = before.create(tokens(), vec![], now()).await.unwrap();
    let entry = companion::transcript::TranscriptEntry::new(
        companion::transcript::TranscriptStep::ApiCall,
        1,
        "GET",
        "https://api.example/v2/employees",
    );
    before.record(&id, vec![entry.clone(), entry]).await.unwrap();
    // During the rotation: the new key, the old one as previous; the session is only read.
    let during = store_with_keys(&redis, Limits::default(), SealingKeys::new(&new, Some(&old)));
    assert!(during.load(&id, now()).await.unwrap().is_some());
    // The old key retired.
    let after = store_with_keys(&redis, Limits::default(), SealingKeys::new(&new, None));
    let record = after.load(&id, now()).await.unwrap();
    assert_eq!(record.map(|r| r.version), Some(1), "still signed in, never written");
    assert_eq!(after.transcript(&id).await.unwrap().len(), 2, "its transcript too");
    record_case(
        "Replicas",
        "the session key rotated while a session was only read (no refresh, no write), then the old key retired",
        "still signed in with its transcript: what is read under the previous key is sealed again with the new one",
    );
}
