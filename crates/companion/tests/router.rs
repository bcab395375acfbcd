//! Router tests: the companion driven through `Router::oneshot`, without a socket of its own.
//! Where an exchange is needed, the stand-in listens on a free loopback port.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a step that fails fails the test, with the value in its message"
)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use companion::{AppState, router};
use tower::ServiceExt;

mod support;
use attack_cases::record_case;
use support::*;

#[tokio::test]
async fn config_is_public_and_never_contains_the_secret() {
    let (_, app) = local();
    let (status, _, body) = send(&app, get_with_cookie("/api/config", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["environment"], "local");
    assert_eq!(body["token_endpoint_auth_method"], "client_secret_basic");
    assert!(!body.to_string().contains(SECRET));
}

#[tokio::test]
async fn postman_exports_download_the_public_config_and_never_the_secret() {
    let (_, app) = local();
    let config = send(&app, get_with_cookie("/api/config", None)).await.2;
    let mut exports = Vec::new();
    for file in ["collection", "environment"] {
        let (status, headers, body) = send(&app, get_with_cookie(&format!("/api/postman/{file}"), None)).await;
        assert_eq!(status, StatusCode::OK, "{file}");
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(
            headers[header::CONTENT_DISPOSITION],
            format!("attachment; filename=\"pleo-local.postman_{file}.json\"").as_str()
        );
        assert!(!body.to_string().contains(SECRET), "{file} carries the secret");
        exports.push(body);
    }
    assert_eq!(exports[0]["auth"]["type"], "oauth2");
    let client_id = exports[1]["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["key"] == "CLIENT_ID")
        .unwrap()["value"]
        .clone();
    assert_eq!(client_id, config["client_id"]);
    assert_eq!(
        send(&app, get_with_cookie("/api/postman/secrets", None)).await.2["error"],
        "not_found"
    );
}

#[tokio::test]
async fn state_changing_calls_need_the_csrf_header_and_the_app_origin() {
    let (_, app) = local();
    let no_header = Request::post("/api/logout")
        .header(header::ORIGIN, ORIGIN)
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send(&app, no_header).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("csrf_header_missing"))
    );
    let cross_origin = Request::post("/api/logout")
        .header(contract::wire::CSRF_HEADER, contract::wire::CSRF_HEADER_VALUE)
        .header(header::ORIGIN, "https://evil.example")
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send(&app, cross_origin).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("origin_not_allowed"))
    );
    let no_origin = Request::post("/api/logout")
        .header(contract::wire::CSRF_HEADER, contract::wire::CSRF_HEADER_VALUE)
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, no_origin).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn authorize_start_sets_an_httponly_strict_cookie_without_domain() {
    let (_, app) = local();
    let verifier = pkce::CodeVerifier::generate().unwrap();
    let (status, headers, _) = send(
        &app,
        json_post("/api/authorize/start", &start_body(&"s".repeat(43), &verifier), None),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, full) = set_cookie(&headers);
    assert!(
        full.starts_with(&format!(
            "pleo_walkthrough_{}=",
            companion::http::cookies::attempt_name(&"s".repeat(43))
        )),
        "{full}"
    );
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=600"] {
        assert!(full.contains(attribute), "{attribute} missing in {full}");
    }
    assert!(!full.contains("Domain") && !full.contains("Secure"));
}

#[tokio::test]
async fn https_apps_get_host_prefixed_secure_cookies() {
    let state = AppState::new(config(&[("PLEO_REDIRECT_URI", "https://app.example/callback")]));
    let app = router(state);
    let verifier = pkce::CodeVerifier::generate().unwrap();
    let request = Request::post("/api/authorize/start")
        .header(contract::wire::CSRF_HEADER, contract::wire::CSRF_HEADER_VALUE)
        .header(header::ORIGIN, "https://app.example")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(start_body("abc", &verifier)))
        .unwrap();
    let (_, headers, _) = send(&app, request).await;
    let (_, full) = set_cookie(&headers);
    assert!(
        full.starts_with("__Host-pleo_walkthrough_attempt_") && full.contains("Secure"),
        "{full}"
    );
}

#[tokio::test]
async fn authorize_start_refuses_plain_and_malformed_challenges() {
    let (_, app) = local();
    let plain = r#"{"state":"abc","code_challenge":"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk","code_challenge_method":"plain"}"#;
    let (status, _, body) = send(&app, json_post("/api/authorize/start", plain, None)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    let (_, _, body) = send(&app, json_post("/api/authorize/start", "{not json", None)).await;
    assert_eq!(body["error"], "invalid_request");
    let wrong_type = post("/api/authorize/start")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("{}"))
        .unwrap();
    let (_, _, body) = send(&app, wrong_type).await;
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn token_needs_this_browsers_attempt_with_matching_state_and_verifier() {
    let (_, app) = local();
    let exchange = |state: &str, verifier: &str| {
        serde_json::json!({"code": "c", "code_verifier": verifier, "state": state}).to_string()
    };
    let verifier = pkce::CodeVerifier::generate().unwrap();
    let (_, _, body) = send(&app, json_post("/api/token", &exchange("s", verifier.as_str()), None)).await;
    assert_eq!(body["error"], "attempt_missing");

    record_case(
        "Companion",
        "code exchanged with no sign-in started in this browser",
        "400 `attempt_missing`",
    );
    let state = "st".repeat(22);
    let (_, headers, _) = send(
        &app,
        json_post("/api/authorize/start", &start_body(&state, &verifier), None),
    )
    .await;
    let (cookie, _) = set_cookie(&headers);
    let other = pkce::CodeVerifier::generate().unwrap();
    let (status, _, body) = send(
        &app,
        json_post("/api/token", &exchange(&state, other.as_str()), Some(&cookie)),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("attempt_mismatch"))
    );
    record_case(
        "Companion",
        "code exchanged with the wrong verifier",
        &outcome(status, &body),
    );
    // The attempt is single use: the right verifier now finds nothing.
    let (_, _, body) = send(
        &app,
        json_post("/api/token", &exchange(&state, verifier.as_str()), Some(&cookie)),
    )
    .await;
    assert_eq!(body["error"], "attempt_missing");
}

#[tokio::test]
async fn proxy_refuses_what_is_off_the_allow_list_and_callers_without_a_session() {
    let (_, app) = local();
    for path in [
        "/api/pleo/v2/employees%2F..%2Fadmin",
        "/api/pleo/v1/admin",
        "/api/pleo/v2/employees/a/b",
        "/api/pleo/http:%2F%2Fevil.example",
    ] {
        let (status, _, body) = send(&app, get_with_cookie(path, None)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::FORBIDDEN, Some("path_not_allowed")),
            "{path}"
        );
    }
    let delete = post("/api/pleo/v2/employees").body(Body::empty()).unwrap();
    let delete = Request::from_parts(
        {
            let (mut p, _) = delete.into_parts();
            p.method = axum::http::Method::DELETE;
            p
        },
        Body::empty(),
    );
    let (status, _, body) = send(&app, delete).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed"))
    );
    let (status, _, body) = send(&app, get_with_cookie("/api/pleo/v2/employees", None)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("not_signed_in"))
    );
    let forged = get_with_cookie("/api/pleo/v2/employees", Some("pleo_walkthrough_session=forged"));
    assert_eq!(send(&app, forged).await.2["error"], "not_signed_in");
    let (status, _, body) = send(&app, get_with_cookie("/api/nothing-here", None)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

#[tokio::test]
async fn exchange_then_api_call_with_the_token_kept_server_side() {
    let (si, state, app) = against_standalone_stand_in().await;
    let cookie = sign_in(&state, &app).await;
    let call = get_with_cookie("/api/pleo/v2/employees?limit=3&offset=1", Some(&cookie));
    let (status, headers, body) = send(&app, call).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-upstream-status"], "200");
    assert_eq!(body["data"].as_array().unwrap().len(), 3);
    assert_eq!(body["pagination"]["currentRequestPagination"]["offset"], 1);
    for token in si.issued_tokens() {
        assert!(!body.to_string().contains(&token));
    }
    let (_, _, session) = send(&app, get_with_cookie("/api/session", Some(&cookie))).await;
    assert_eq!(session["signed_in"], true);
}

#[tokio::test]
async fn a_hundred_concurrent_calls_with_a_stale_token_cause_exactly_one_refresh() {
    let (si, state, app) = against_standalone_stand_in().await;
    let cookie = sign_in(&state, &app).await;
    state.clock.shift_by(15 * 60);
    let calls = (0..100).map(|_| {
        let app = app.clone();
        let request = get_with_cookie("/api/pleo/v2/employees", Some(&cookie));
        tokio::spawn(async move { app.oneshot(request).await.unwrap().status() })
    });
    for call in calls {
        assert_eq!(call.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(si.token_requests("refresh_token"), 1);
    record_case(
        "Companion",
        "100 concurrent calls with an expired access token",
        "all 200; exactly 1 refresh at the token endpoint",
    );
}

#[tokio::test]
async fn a_rejected_refresh_ends_in_reauthorization_required_with_the_tokens_gone() {
    let (si, state, app) = against_standalone_stand_in().await;
    let cookie = sign_in(&state, &app).await;
    // The stand-in's clock moves past the refresh token's 60-day lifetime: refresh is refused.
    si.clock().shift_by(61 * 24 * 3600);
    let refresh = json_post("/api/refresh", "", Some(&cookie));
    let (status, _, body) = send(&app, refresh).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("reauthorization_required"))
    );
    let (_, _, session) = send(&app, get_with_cookie("/api/session", Some(&cookie))).await;
    assert_eq!(session["signed_in"], false);
    let call = get_with_cookie("/api/pleo/v2/employees", Some(&cookie));
    assert_eq!(send(&app, call).await.2["error"], "reauthorization_required");
}

#[tokio::test]
async fn fault_knobs_need_a_session_and_act_on_its_grant_alone() {
    let (state, app) = local_on_a_port(&[]).await;
    let stand_in = state.stand_in.clone().unwrap();
    for knob in [
        "clock",
        "token-endpoint",
        "expire-access-token",
        "revoke-refresh-token",
        "refresh-race",
    ] {
        let (status, _, body) = send(
            &app,
            json_post(
                &format!("/api/faults/{knob}"),
                r#"{"shift_secs": 34560000, "status": 503, "remaining": 100}"#,
                None,
            ),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("not_signed_in")),
            "{knob}"
        );
        record_case(
            "Companion",
            "fault knob without a session (every knob)",
            "401 `not_signed_in`; nothing changed",
        );
    }
    let mine = sign_in(&state, &app).await;
    let other = sign_in(&state, &app).await;
    // +400 days and a token endpoint failing 100 times, for this session only.
    let (status, _, body) = send(
        &app,
        json_post("/api/faults/clock", r#"{"shift_secs": 34560000}"#, Some(&mine)),
    )
    .await;
    assert_eq!((status, body["applied"].as_str()), (StatusCode::OK, Some("clock")));
    let (status, _, _) = send(
        &app,
        json_post(
            "/api/faults/token-endpoint",
            r#"{"status": 503, "remaining": 100}"#,
            Some(&other),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let call = |cookie: &str| get_with_cookie("/api/pleo/v2/employees", Some(cookie));
    assert_eq!(
        send(&app, call(&mine)).await.2["error"],
        "reauthorization_required",
        "400 days passed for this grant: its refresh token expired"
    );
    assert_eq!(
        send(&app, call(&other)).await.0,
        StatusCode::OK,
        "the other session's grant did not age"
    );
    // The other session's token endpoint faults touch nobody else's sign-in.
    assert!(
        try_sign_in(&state, &app).await.is_ok(),
        "a new sign-in is not affected by another session's token-endpoint fault"
    );
    let (_, _, body) = send(&app, json_post("/api/refresh", "", Some(&other))).await;
    assert_eq!(
        body["error"], "token_endpoint_failed",
        "the fault does reach its own session's refreshes (503 with Retry-After, three times)"
    );
    assert!(stand_in.token_requests("authorization_code") >= 3);
    record_case(
        "Companion",
        "`clock` +400 days and `token-endpoint` 503 x100 from one session",
        "only that session's grant ages and only its refreshes fail; other sessions and new sign-ins work",
    );
    let (_, _, body) = send(&app, json_post("/api/faults/self-destruct", "", Some(&other))).await;
    assert_eq!(body["error"], "not_found");
    let (_, _, app) = against_standalone_stand_in().await;
    let (status, _, body) = send(&app, json_post("/api/faults/clock", "{}", None)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_once_after_the_apis_401_and_the_call_succeeds() {
    let (si, state, app) = against_standalone_stand_in().await;
    let cookie = sign_in(&state, &app).await;
    // The companion believes the token is fresh; the API says otherwise.
    si.clock().shift_by(901);
    let call = get_with_cookie("/api/pleo/v2/employees", Some(&cookie));
    let (status, _, _) = send(&app, call).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(si.token_requests("refresh_token"), 1);
    record_case(
        "Companion",
        "API answers 401 for an access token the companion thought fresh",
        "200 after exactly 1 refresh and 1 retry",
    );
}

#[tokio::test]
async fn a_token_endpoint_that_says_retry_after_is_retried_and_the_session_survives() {
    let (si, state, app) = against_standalone_stand_in().await;
    let cookie = sign_in(&state, &app).await;
    si.set_token_faults(stand_in::TokenFaults {
        status: Some(503),
        remaining: 3,
        retry_after_secs: Some(0),
        ..Default::default()
    });
    let (status, headers, body) = send(&app, json_post("/api/refresh", "", Some(&cookie))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_GATEWAY, Some("token_endpoint_failed"))
    );
    assert_eq!(
        si.token_requests("refresh_token"),
        3,
        "one try and two retries, each after the Retry-After it asked for"
    );
    assert_eq!(
        headers[header::RETRY_AFTER],
        "0",
        "the browser is told when to try again"
    );
    record_case(
        "Companion",
        "token endpoint answers 503 with Retry-After",
        "502 `token_endpoint_failed` after 2 retries; the session and its refresh token survive",
    );
    let (_, _, session) = send(&app, get_with_cookie("/api/session", Some(&cookie))).await;
    assert_eq!(
        (
            session["signed_in"].as_bool(),
            session["tokens"]["has_refresh_token"].as_bool()
        ),
        (Some(true), Some(true))
    );
    let (status, _, _) = send(&app, json_post("/api/refresh", "", Some(&cookie))).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the endpoint is back, and the refresh token was never spent"
    );
}

#[tokio::test]
async fn the_transcript_shows_every_server_side_step_with_secrets_fingerprinted() {
    let (si, state, app) = against_standalone_stand_in().await;
    let cookie = sign_in(&state, &app).await;
    send(&app, get_with_cookie("/api/pleo/v2/employees", Some(&cookie))).await;
    send(&app, json_post("/api/refresh", "", Some(&cookie))).await;
    let (status, _, transcript) = send(&app, get_with_cookie("/api/transcript", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
    let steps: Vec<&str> = transcript
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["token_exchange", "api_call", "refresh"]);
    let exchange = &transcript[0];
    assert_eq!(exchange["status"], 200);
    assert!(exchange["url"].as_str().unwrap().ends_with("/oauth/token"));
    assert_eq!(
        exchange["request_headers"][0],
        serde_json::json!(["Authorization", "Basic ••••"])
    );
    assert!(
        exchange["request_body"]
            .as_str()
            .unwrap()
            .contains("grant_type=authorization_code")
    );
    assert!(
        exchange["response_body"]
            .as_str()
            .unwrap()
            .contains("[redacted sha256:")
    );
    let text = transcript.to_string();
    assert!(!text.contains(SECRET));
    for token in si.issued_tokens() {
        assert!(!text.contains(&token), "a token is in the transcript");
    }
    assert_eq!(
        send(&app, get_with_cookie("/api/transcript", None)).await.2["error"],
        "not_signed_in"
    );
}

#[tokio::test]
async fn a_revoked_refresh_token_ends_in_reauthorization_required_on_the_next_api_call() {
    let (si, state, app) = against_standalone_stand_in().await;
    let cookie = sign_in(&state, &app).await;
    let (_, _, transcript) = send(&app, get_with_cookie("/api/transcript", Some(&cookie))).await;
    assert_eq!(transcript.as_array().unwrap().len(), 1);
    // Revoke the refresh token held for this session, then let the access token expire.
    let session_refresh = si.issued_tokens();
    for token in &session_refresh {
        si.revoke_refresh_token(token);
        si.expire_access_token(token);
    }
    let call = || get_with_cookie("/api/pleo/v2/employees", Some(&cookie));
    let (status, _, body) = send(&app, call()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("reauthorization_required"))
    );
    let (_, _, session) = send(&app, get_with_cookie("/api/session", Some(&cookie))).await;
    assert_eq!(session["signed_in"], false, "the tokens are discarded");
    assert_eq!(si.token_requests("refresh_token"), 1, "a rejection is not retried");
    record_case(
        "Companion",
        "refresh token revoked mid-session",
        "401 `reauthorization_required`; tokens discarded, not retried",
    );
}

#[tokio::test]
async fn an_unreachable_token_endpoint_gives_502_with_a_clear_code() {
    // Nothing listens there.
    let base = closed_port_url().await;
    let state = AppState::new(config(&[
        ("PLEO_ENV", "custom"),
        ("PLEO_AUTHORIZATION_SERVER_URL", &base),
        ("PLEO_CLIENT_ID", "c"),
    ]));
    let app = router(state);
    let verifier = pkce::CodeVerifier::generate().unwrap();
    let (_, headers, _) = send(
        &app,
        json_post("/api/authorize/start", &start_body("st", &verifier), None),
    )
    .await;
    let (cookie, _) = set_cookie(&headers);
    let exchange = serde_json::json!({"code": "c", "code_verifier": verifier.as_str(), "state": "st"}).to_string();
    let (status, _, body) = send(&app, json_post("/api/token", &exchange, Some(&cookie))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_GATEWAY, Some("token_endpoint_unreachable"))
    );
    record_case(
        "Companion",
        "token endpoint down (connection refused)",
        "502 `token_endpoint_unreachable`",
    );
}

#[tokio::test]
async fn disconnect_deletes_the_installation_and_revokes_every_token() {
    let (si, state, app) = against_standalone_stand_in().await;
    let cookie = sign_in(&state, &app).await;
    let other = sign_in(&state, &app).await;
    let (status, headers, body) = send(&app, json_post("/api/logout", r#"{"disconnect": true}"#, Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["disconnect_status"], 204);
    assert!(headers[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    // The other session's tokens were revoked at the server too.
    let call = get_with_cookie("/api/pleo/v2/employees", Some(&other));
    let (status, _, body) = send(&app, call).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("reauthorization_required"))
    );
    assert!(si.token_requests("refresh_token") >= 1);
}

/// Collects everything written through `tracing` in a test.
#[derive(Clone, Default)]
struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_log_line_contains_the_secret_or_a_token() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let (si, state, app) = against_standalone_stand_in().await;
    let cookie = sign_in(&state, &app).await;
    send(&app, get_with_cookie("/api/pleo/v2/employees", Some(&cookie))).await;
    si.set_token_faults(stand_in::TokenFaults {
        status: Some(500),
        remaining: 3,
        ..Default::default()
    });
    send(&app, json_post("/api/refresh", "", Some(&cookie))).await;
    send(&app, json_post("/api/refresh", "", Some(&cookie))).await;
    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        text.contains("refresh_outcome_unknown"),
        "the log captured the companion's warnings: {text}"
    );
    assert!(!text.contains(SECRET));
    for token in si.issued_tokens() {
        assert!(!text.contains(&token), "a token is in the log");
    }
}

#[tokio::test]
async fn a_write_is_forwarded_only_when_configured() {
    let (_, state, app) =
        against_standalone_stand_in_with(&[("COMPANION_API_WRITES", "DELETE v1/installations/me")]).await;
    let cookie = sign_in(&state, &app).await;
    let delete = post("/api/pleo/v1/installations/me")
        .method(axum::http::Method::DELETE)
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = send(&app, delete).await;
    assert_eq!(
        (status, headers["x-upstream-status"].to_str().unwrap()),
        (StatusCode::NO_CONTENT, "204")
    );
    let (_, _, app) = against_standalone_stand_in().await;
    let delete = post("/api/pleo/v1/installations/me")
        .method(axum::http::Method::DELETE)
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, delete).await.2["error"], "method_not_allowed");
}

/// The contract's catalog is the one list: every entry passes the companion's allow-list and is
/// served by the stand-in (routed: answered with data, or with 403 for a scope not granted).
#[tokio::test]
async fn every_catalog_entry_is_allowed_by_the_companion_and_served_by_the_stand_in() {
    let (_, state, app) = against_standalone_stand_in().await;
    let cookie = sign_in(&state, &app).await;
    let get = |path: String| get_with_cookie(&format!("/api/pleo/{path}"), Some(&cookie));
    for endpoint in contract::CATALOG {
        let path = if endpoint.takes_id() {
            let list = endpoint.path.trim_end_matches("/{id}").to_owned();
            let (_, _, body) = send(&app, get(list)).await;
            endpoint.with_id(body["data"][0]["id"].as_str().expect("the list names an id"))
        } else {
            endpoint.path.to_owned()
        };
        let (status, headers, body) = send(&app, get(path.clone())).await;
        let upstream = headers.get("x-upstream-status").map(|v| v.to_str().unwrap().to_owned());
        let granted = endpoint
            .scope
            .is_none_or(|scope| state.config.scopes.iter().any(|s| s == scope));
        let expected = if granted { "200" } else { "403" };
        assert_eq!(upstream.as_deref(), Some(expected), "{path}: {status} {body}");
    }
}

#[tokio::test]
async fn the_refresh_race_lab_shows_a_replayed_refresh_token_revoking_the_grant() {
    let (state, app) = local_on_a_port(&[]).await;
    let stand_in = state.stand_in.clone().unwrap();
    let cookie = sign_in(&state, &app).await;
    let (status, _, body) = send(&app, json_post("/api/faults/refresh-race", "", Some(&cookie))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("reauthorization_required"))
    );
    assert!(
        body["message"].as_str().unwrap().contains("revoked the whole grant"),
        "{body}"
    );
    assert_eq!(
        stand_in.token_requests("refresh_token"),
        2,
        "both refreshes reached the token endpoint"
    );
    assert_eq!(
        stand_in.grants_revoked_for_reuse(),
        1,
        "the second presentation revoked the grant"
    );
    let transcript = send(&app, get_with_cookie("/api/transcript", Some(&cookie))).await.2;
    let mut refreshes: Vec<(u64, bool)> = transcript
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["step"] == "refresh")
        .map(|e| {
            let body = e["response_body"].as_str().unwrap_or_default();
            (e["status"].as_u64().unwrap(), body.contains("invalid_grant"))
        })
        .collect();
    refreshes.sort_unstable();
    assert_eq!(refreshes, [(200, false), (400, true)], "{transcript}");
    let call = get_with_cookie("/api/pleo/v2/employees", Some(&cookie));
    assert_eq!(send(&app, call).await.2["error"], "reauthorization_required");
    // With one refresh at a time, a burst after a new sign-in spends the refresh token once.
    let cookie = sign_in(&state, &app).await;
    send(&app, json_post("/api/faults/expire-access-token", "", Some(&cookie))).await;
    let calls = (0..5).map(|_| send(&app, get_with_cookie("/api/pleo/v2/employees", Some(&cookie))));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(statuses, [StatusCode::OK; 5]);
    assert_eq!(
        stand_in.token_requests("refresh_token"),
        3,
        "one more refresh for the five calls"
    );
    assert_eq!(stand_in.grants_revoked_for_reuse(), 1);
    let (_, _, custom) = against_standalone_stand_in().await;
    let (status, _, body) = send(&custom, json_post("/api/faults/refresh-race", "", None)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    record_case(
        "Companion",
        "refresh-race lab: two refreshes at once with one refresh token, past the lock (local only)",
        "one 200 and one 400 `invalid_grant`; the grant revoked for reuse; `reauthorization_required`; \
         the same burst with the lock: one refresh, five 200s; 404 outside PLEO_ENV=local",
    );
}

#[tokio::test]
async fn a_rate_limited_api_call_is_relayed_with_its_retry_after_and_not_retried() {
    let (state, app) = local_on_a_port(&[]).await;
    let cookie = sign_in(&state, &app).await;
    let (status, _, _) = send(
        &app,
        json_post("/api/faults/rate-limit", r#"{"remaining": 1}"#, Some(&cookie)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, headers, body) = send(&app, get_with_cookie("/api/pleo/v2/employees", Some(&cookie))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers[header::RETRY_AFTER], "2");
    assert_eq!(headers["x-upstream-status"], "429");
    assert_eq!(body["type"], "rate_limited");
    let transcript = send(&app, get_with_cookie("/api/transcript", Some(&cookie))).await.2;
    let calls = transcript
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["step"] == "api_call")
        .count();
    assert_eq!(calls, 1, "the companion did not retry on its own");
    let (status, headers, _) = send(&app, get_with_cookie("/api/pleo/v2/employees", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK, "the knob answered one call 429");
    assert!(headers.get(header::RETRY_AFTER).is_none());
    record_case(
        "Companion",
        "API answers 429 with Retry-After (`rate-limit` knob)",
        "429 and `Retry-After` relayed unchanged; no retry by the companion; the next call 200",
    );
}

#[tokio::test]
async fn the_probes_need_no_session_and_readiness_ends_when_a_shutdown_begins() {
    let (state, app) = local();
    let probe = |path: &'static str| Request::get(path).body(Body::empty()).unwrap();
    let (status, headers, body) = send(&app, probe("/healthz")).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ok")));
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    assert!(headers.contains_key("x-request-id"), "every answer names its request");
    let (status, _, body) = send(&app, probe("/readyz")).await;
    assert_eq!((status, body["ready"].as_bool()), (StatusCode::OK, Some(true)));
    state.lifecycle.begin_shutdown();
    let (status, _, body) = send(&app, probe("/readyz")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["reason"], "shutting_down", "a stable word: {body}");
    assert_eq!(
        send(&app, probe("/healthz")).await.0,
        StatusCode::OK,
        "alive while it drains"
    );
}
