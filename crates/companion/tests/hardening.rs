//! The companion attacked from outside, each case one that was reproduced against an earlier
//! version: a refresh that timed out after the server had rotated, a disconnect that failed
//! silently, userinfo taken for loopback, an unbounded stand-in, knobs that acted on everyone,
//! cookies that were never removed over https, missing security headers, a secret printed from a
//! malformed `.env`, dotfiles served, sessions without an absolute end, and two tabs that lost
//! an attempt. Each case is recorded for the README's list (`cargo xtask attack-list`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a step that fails fails the test, with the value in its message"
)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use companion::{AppState, Config, router};
use serde_json::Value;

mod support;
use attack_cases::record_case;
use support::*;

const AREA: &str = "Companion";

/// Presents `refresh_token` at the stand-in's token endpoint as the registered client would:
/// the status and body.
async fn present_refresh_token(state: &AppState, refresh_token: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/oauth/token", state.config.authorization_server_url))
        .basic_auth("client-1", Some(SECRET))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh_token)])
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

/// Reproduced with `COMPANION_UPSTREAM_TIMEOUT_SECS=1` and a server that rotated after 1.2 s:
/// the companion presented the same refresh token again and the grant was revoked.
#[tokio::test]
async fn a_refresh_that_times_out_after_the_server_rotated_is_never_presented_again() {
    let (si, state, app) = against_standalone_stand_in_with(&[("COMPANION_REFRESH_TIMEOUT_SECS", "1")]).await;
    let cookie = sign_in(&state, &app).await;
    // The server rotates at once and answers after 1.5 s, whether the client still waits or not.
    si.set_token_faults(stand_in::TokenFaults {
        delay_ms: 1500,
        remaining: 1,
        process_before_delay: true,
        ..Default::default()
    });
    let (status, _, body) = send(&app, json_post("/api/refresh", "", Some(&cookie))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_GATEWAY, Some("refresh_outcome_unknown")),
        "{body}"
    );
    assert!(body["message"].as_str().unwrap().contains("not be presented again"));
    tokio::time::sleep(std::time::Duration::from_millis(700)).await; // the server's answer is done
    assert_eq!(
        si.token_requests("refresh_token"),
        1,
        "the refresh token was presented once"
    );
    // The rotation the companion never saw left a live grant: the refresh token it issued last
    // (the stand-in issues access then refresh token) still refreshes.
    let newest = si.issued_tokens().pop().unwrap();
    let (status, body) = present_refresh_token(&state, &newest).await;
    assert_eq!(status, 200, "the grant was not revoked: {body}");
    // The companion says what it knows: the old access token died with the rotation, and it
    // asks for a new authorisation without presenting the spent refresh token.
    let before = si.token_requests("refresh_token");
    let (status, _, body) = send(&app, get_with_cookie("/api/pleo/v2/employees", Some(&cookie))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("reauthorization_required"))
    );
    assert_eq!(si.token_requests("refresh_token"), before, "no second presentation");
    record_case(
        AREA,
        "refresh timed out after the server rotated (a server that answers after the client gave up)",
        "502 `refresh_outcome_unknown`; the refresh token presented once, the grant not revoked; then `reauthorization_required`",
    );
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_for_and_the_refresh_goes_through() {
    // The server says it did not take the request and when to come back: the refresh token is
    // unused, so it may be presented again.
    let (si, state, app) = against_standalone_stand_in().await;
    let cookie = sign_in(&state, &app).await;
    si.set_token_faults(stand_in::TokenFaults {
        status: Some(429),
        remaining: 1,
        retry_after_secs: Some(1),
        ..Default::default()
    });
    let (status, _, _) = send(&app, json_post("/api/refresh", "", Some(&cookie))).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "429 with Retry-After: 1 waited for, then the refresh went through"
    );
    assert_eq!(si.token_requests("refresh_token"), 2);
    record_case(
        AREA,
        "token endpoint answers 429 with Retry-After once",
        "200 after waiting as asked; the unused refresh token presented again",
    );
}

/// Reproduced with an expired access token: `disconnect_status: 401`, and another session of the
/// same installation still got 200.
#[tokio::test]
async fn disconnect_with_an_expired_access_token_refreshes_once_and_revokes_everything() {
    let (si, state, app) = against_standalone_stand_in().await;
    let cookie = sign_in(&state, &app).await;
    let other = sign_in(&state, &app).await;
    for token in si.issued_tokens() {
        si.expire_access_token(&token);
    }
    let (status, _, body) = send(&app, json_post("/api/logout", r#"{"disconnect": true}"#, Some(&cookie))).await;
    assert_eq!(
        (status, body["disconnect_status"].as_u64()),
        (StatusCode::OK, Some(204)),
        "{body}"
    );
    assert_eq!(si.token_requests("refresh_token"), 1, "one refresh, one retry");
    let (status, _, body) = send(&app, get_with_cookie("/api/pleo/v2/employees", Some(&other))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("reauthorization_required")),
        "every token of the client was revoked"
    );
    record_case(
        AREA,
        "disconnect with an expired access token",
        "200 after 1 refresh and 1 retry: `DELETE /v1/installations/me` 204, every session of the client revoked",
    );
}

#[tokio::test]
async fn a_disconnect_that_fails_says_so_and_keeps_the_session() {
    // The API is unreachable (nothing listens there): nothing can be revoked.
    let api = closed_port_url().await;
    let (_, state, app) = against_standalone_stand_in_with(&[("PLEO_API_BASE_URL", api.as_str())]).await;
    let cookie = sign_in(&state, &app).await;
    let (status, headers, body) = send(&app, json_post("/api/logout", r#"{"disconnect": true}"#, Some(&cookie))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_GATEWAY, Some("disconnect_failed")),
        "{body}"
    );
    assert!(headers.get(header::SET_COOKIE).is_none(), "the session cookie is kept");
    assert!(
        signed_in(&app, &cookie).await,
        "the session is kept, so the user can try again"
    );
    record_case(
        AREA,
        "disconnect while the API is unreachable",
        "502 `disconnect_failed`; the session and its cookie are kept",
    );
}

#[tokio::test]
async fn userinfo_and_backslashes_in_a_server_url_stop_the_companion_at_start() {
    for url in [
        "http://127.0.0.1:1@192.0.2.2:4001",
        "http://localhost:80@host.example/",
        "http://[::1]@host.example/",
        "http://localhost\\@host.example/",
    ] {
        let vars = [
            ("PLEO_ENV", "custom"),
            ("PLEO_AUTHORIZATION_SERVER_URL", url),
            ("PLEO_CLIENT_ID", "id"),
            ("PLEO_CLIENT_SECRET", "s"),
        ];
        let error = Config::from_lookup(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()))
            .unwrap_err();
        assert_eq!(error.variable, "PLEO_AUTHORIZATION_SERVER_URL", "{url}");
    }
    record_case(
        AREA,
        "`PLEO_AUTHORIZATION_SERVER_URL` with userinfo before another host (`http://127.0.0.1:1@192.0.2.2:4001`)",
        "refused at start, naming the variable; no secret sent anywhere",
    );
}

#[tokio::test]
async fn removal_cookies_over_https_are_secure_host_cookies() {
    let state = AppState::new(config(&[("PLEO_REDIRECT_URI", "https://app.example/callback")]));
    let app = router(state);
    let logout = Request::post("/api/logout")
        .header(contract::wire::CSRF_HEADER, contract::wire::CSRF_HEADER_VALUE)
        .header(header::ORIGIN, "https://app.example")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::COOKIE, "__Host-pleo_walkthrough_session=gone")
        .body(Body::from("{}"))
        .unwrap();
    let (status, headers, _) = send(&app, logout).await;
    assert_eq!(status, StatusCode::OK);
    let removal = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(removal.starts_with("__Host-pleo_walkthrough_session=;"), "{removal}");
    for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=0"] {
        assert!(removal.contains(attribute), "{attribute} missing: {removal}");
    }
    record_case(
        AREA,
        "sign-out over https (`__Host-` cookies)",
        "the removal cookie is `Secure; HttpOnly; SameSite=Strict; Path=/`, so the browser honours it",
    );
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let dir = std::env::temp_dir().join(format!("companion-static-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><script type=\"module\">boot()</script>",
    )
    .unwrap();
    std::fs::write(dir.join(".secret"), "never served").unwrap();
    let (_, app) = {
        let state = AppState::new(config(&[("COMPANION_STATIC_DIR", dir.to_str().unwrap())]));
        (state.clone(), router(state))
    };
    for uri in [
        "/",
        "/callback?code=c&state=s",
        "/api/config",
        "/api/session",
        "/api/nothing-here",
        "/stand-in/.well-known/oauth-authorization-server",
    ] {
        let (_, headers, _) = send(&app, get_with_cookie(uri, None)).await;
        assert_eq!(headers["referrer-policy"], "no-referrer", "{uri}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{uri}");
        let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            policy.contains("frame-ancestors 'none'") && policy.contains("default-src 'none'"),
            "{uri}: {policy}"
        );
        if uri.starts_with("/api") {
            assert_eq!(
                headers[header::CACHE_CONTROL],
                "no-store",
                "{uri}: successful answers too"
            );
        }
    }
    let (_, headers, _) = send(&app, get_with_cookie("/", None)).await;
    assert!(
        headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("'sha256-"),
        "the page's inline loader is allowed by its hash"
    );
    record_case(
        AREA,
        "`/`, `/callback?code=…`, `/api/*`",
        "`Referrer-Policy: no-referrer`, `nosniff`, a CSP with `frame-ancestors 'none'`; `Cache-Control: no-store` on every `/api` answer",
    );
    for uri in ["/.secret", "/%2esecret", "/.git/config"] {
        let (status, _, _) = send(&app, get_with_cookie(uri, None)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
    record_case(
        AREA,
        "dotfiles in `COMPANION_STATIC_DIR` (`/.secret`, `/%2esecret`)",
        "404; a folder holding a `.env` is refused at start",
    );
}

/// Runs the companion binary in `dir` with `vars`; its exit code and what it printed.
fn run_companion(dir: &std::path::Path, vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_companion"));
    command
        .current_dir(dir)
        .env_clear()
        .env("COMPANION_ADDR", "127.0.0.1:0");
    for (name, value) in vars {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    (
        output.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[tokio::test]
async fn a_malformed_env_line_is_reported_by_number_without_its_secret() {
    let dir = std::env::temp_dir().join(format!("companion-env-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("static")).unwrap();
    std::fs::write(
        dir.join(".env"),
        "PLEO_ENV=local\nPLEO_CLIENT_SECRET=s3cr3t-VALUE with-a-space\n",
    )
    .unwrap();
    let (code, printed) = run_companion(&dir, &[]);
    assert_eq!(code, Some(2), "{printed}");
    assert!(printed.contains("line 2"), "{printed}");
    assert!(!printed.contains("s3cr3t"), "the secret was printed: {printed}");
    record_case(
        AREA,
        "malformed `.env` line holding the secret",
        "exit 2 naming line 2; the line's content is never printed",
    );
    std::fs::remove_file(dir.join(".env")).unwrap();
    std::fs::write(dir.join("static/.env"), "PLEO_CLIENT_SECRET=x").unwrap();
    let (code, printed) = run_companion(&dir, &[("COMPANION_STATIC_DIR", "static")]);
    assert_eq!(code, Some(2), "{printed}");
    assert!(printed.contains("COMPANION_STATIC_DIR"), "{printed}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_busy_session_ends_at_its_absolute_lifetime() {
    let (_, state, app) = against_standalone_stand_in_with(&[("COMPANION_SESSION_MAX_SECS", "3600")]).await;
    let cookie = sign_in(&state, &app).await;
    for _ in 0..5 {
        state.clock.shift_by(700);
        assert!(signed_in(&app, &cookie).await, "used every 700 s: never idle");
    }
    state.clock.shift_by(200);
    let (status, _, body) = send(&app, get_with_cookie("/api/pleo/v2/employees", Some(&cookie))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("not_signed_in"))
    );
    record_case(
        AREA,
        "a session in constant use past `COMPANION_SESSION_MAX_SECS`",
        "401 `not_signed_in`: the absolute lifetime ends it however busy",
    );
}

#[tokio::test]
async fn two_tabs_starting_at_once_keep_both_attempts() {
    let (_, state, app) = against_standalone_stand_in().await;
    // Two starts sent together: neither carries the other's cookie, as when two tabs race.
    let verifiers = [
        pkce::CodeVerifier::generate().unwrap(),
        pkce::CodeVerifier::generate().unwrap(),
    ];
    let states = [pkce::State::generate().unwrap(), pkce::State::generate().unwrap()];
    let (a, b) = tokio::join!(
        send(
            &app,
            json_post(
                "/api/authorize/start",
                &start_body(states[0].as_str(), &verifiers[0]),
                None
            )
        ),
        send(
            &app,
            json_post(
                "/api/authorize/start",
                &start_body(states[1].as_str(), &verifiers[1]),
                None
            )
        ),
    );
    // The browser keeps both cookies (different names) and sends both.
    let jar = format!("{}; {}", set_cookie(&a.1).0, set_cookie(&b.1).0);
    for (verifier, oauth_state) in verifiers.iter().zip(&states) {
        let (status, _, body) = authorize_and_exchange(&state, &app, verifier, oauth_state, &jar).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    record_case(
        AREA,
        "two `authorize/start` calls from one browser at once",
        "both attempts kept (one cookie per attempt); both exchanges succeed",
    );
}

/// Reproduced: 60 POSTs of 1.9 MB with made-up grant types took the stand-in from 17 MB to
/// 148 MB for good, before any client authentication.
#[tokio::test]
async fn the_stand_in_stays_bounded_under_unauthenticated_and_abandoned_requests() {
    let (si, state, app) = against_standalone_stand_in().await;
    let token_url = format!("{}/oauth/token", state.config.authorization_server_url);
    let http = reqwest::Client::new();
    let big = format!("grant_type={}", "g".repeat(1_900_000));
    for _ in 0..3 {
        let response = http
            .post(&token_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 413, "refused before it is read whole");
    }
    for i in 0..300 {
        let response = http
            .post(&token_url)
            .form(&[("grant_type", format!("made-up-{i}"))])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "no client authentication");
    }
    assert_eq!(
        si.token_requests("unsupported"),
        0,
        "nothing unauthenticated is counted"
    );
    assert_eq!(si.token_requests("made-up-1"), 0);
    let authenticated = http
        .post(&token_url)
        .basic_auth("client-1", Some(SECRET))
        .form(&[("grant_type", "made-up")])
        .send()
        .await
        .unwrap();
    assert_eq!(authenticated.status(), 400);
    assert_eq!(
        si.token_requests("unsupported"),
        1,
        "an authenticated unknown grant type is counted under one name"
    );
    record_case(
        "Stand-in",
        "1.9 MB bodies and 300 made-up grant types, unauthenticated",
        "413 before reading, 401 after; nothing counted or kept",
    );
    // Grants that are dead are pruned with their tokens.
    let cookies = [
        sign_in(&state, &app).await,
        sign_in(&state, &app).await,
        sign_in(&state, &app).await,
    ];
    let (status, _, _) = send(
        &app,
        json_post("/api/logout", r#"{"disconnect": true}"#, Some(&cookies[0])),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    sign_in(&state, &app).await;
    assert_eq!(
        si.held().0,
        1,
        "the three revoked grants were pruned; the new one is held"
    );
    record_case(
        "Stand-in",
        "grants revoked by a disconnect",
        "pruned with their tokens at the next sign-in; consent requests, codes and grants are capped at 10,000 each",
    );
}
