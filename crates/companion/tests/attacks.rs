//! The companion under attack and upstream failure: every case asserts a clear code, no panic,
//! no token or secret leaving, and that the session survives whatever it should survive. Each
//! case is recorded for the README's list (`cargo xtask attack-list`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a step that fails fails the test, with the value in its message"
)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing;
use companion::sessions::Limits;
use companion::{AppState, router};
use futures_util::StreamExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

mod support;
use attack_cases::record_case;
use support::*;

const AREA: &str = "Companion";

/// Sends `request`, asserts the status and code, records the case and returns the body.
async fn expect(app: &axum::Router, case: &str, request: Request<Body>, status: StatusCode, code: &str) -> Value {
    let (got, headers, body) = send(app, request).await;
    assert_eq!((got, body["error"].as_str()), (status, Some(code)), "{case}: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| m.len() > 10),
        "{case}: a sentence for a person"
    );
    assert_eq!(headers[header::CACHE_CONTROL], "no-store", "{case}");
    assert!(
        !body.to_string().contains(SECRET) && !format!("{headers:?}").contains(SECRET),
        "{case}: the secret leaked"
    );
    record_case(AREA, case, &outcome(got, &body));
    body
}

#[tokio::test]
async fn state_changing_calls_without_the_csrf_header_or_from_another_origin_are_refused() {
    let (_, app) = local();
    let paths = [
        "/api/authorize/start",
        "/api/token",
        "/api/refresh",
        "/api/logout",
        "/api/faults/clock",
        "/api/pleo/v2/employees",
    ];
    for path in paths {
        let bare = Request::post(path)
            .header(header::ORIGIN, ORIGIN)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .unwrap();
        expect(
            &app,
            "CSRF header missing (every state-changing call)",
            bare,
            StatusCode::FORBIDDEN,
            "csrf_header_missing",
        )
        .await;
        let wrong = Request::post(path)
            .header(contract::wire::CSRF_HEADER, "XMLHttpRequest")
            .header(header::ORIGIN, ORIGIN)
            .body(Body::from("{}"))
            .unwrap();
        expect(
            &app,
            "CSRF header with another value (every state-changing call)",
            wrong,
            StatusCode::FORBIDDEN,
            "csrf_header_missing",
        )
        .await;
        for (case, origin) in [
            (
                "cross-origin Origin (every state-changing call)",
                Some("https://evil.example"),
            ),
            (
                "Origin: null, a sandboxed frame (every state-changing call)",
                Some("null"),
            ),
            ("no Origin header (every state-changing call)", None),
            (
                "same host, other port (every state-changing call)",
                Some("http://localhost:9999"),
            ),
        ] {
            let mut builder =
                Request::post(path).header(contract::wire::CSRF_HEADER, contract::wire::CSRF_HEADER_VALUE);
            if let Some(origin) = origin {
                builder = builder.header(header::ORIGIN, origin);
            }
            expect(
                &app,
                case,
                builder.body(Body::from("{}")).unwrap(),
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
            )
            .await;
        }
    }
}

#[tokio::test]
async fn missing_forged_and_expired_session_cookies_get_not_signed_in_and_the_real_session_survives() {
    let (_, state, app) = against_standalone_stand_in().await;
    let cookie = sign_in(&state, &app).await;
    let forged = "pleo_walkthrough_session=aGVsbG8gd29ybGQgdGhpcyBpcyBmb3JnZWQ";
    for (case, cookie) in [
        ("session cookie missing", None),
        ("session cookie forged", Some(forged)),
        ("session cookie empty", Some("pleo_walkthrough_session=")),
    ] {
        expect(
            &app,
            case,
            get_with_cookie("/api/pleo/v2/employees", cookie),
            StatusCode::UNAUTHORIZED,
            "not_signed_in",
        )
        .await;
        let mut refresh = post("/api/refresh");
        if let Some(cookie) = cookie {
            refresh = refresh.header(header::COOKIE, cookie);
        }
        expect(
            &app,
            case,
            refresh.body(Body::empty()).unwrap(),
            StatusCode::UNAUTHORIZED,
            "not_signed_in",
        )
        .await;
    }
    let attempt_as_session = json_post(
        "/api/authorize/start",
        &start_body("s", &pkce::CodeVerifier::generate().unwrap()),
        None,
    );
    let (_, headers, _) = send(&app, attempt_as_session).await;
    let (attempt, _) = set_cookie(&headers);
    let (name, value) = attempt.split_once('=').unwrap();
    assert!(name.starts_with("pleo_walkthrough_attempt_"), "{name}");
    let confused = format!("pleo_walkthrough_session={value}");
    expect(
        &app,
        "sign-in attempt cookie presented as the session cookie",
        get_with_cookie("/api/pleo/v2/employees", Some(&confused)),
        StatusCode::UNAUTHORIZED,
        "not_signed_in",
    )
    .await;
    assert_eq!(
        send(&app, get_with_cookie("/api/pleo/v2/employees", Some(&cookie)))
            .await
            .0,
        StatusCode::OK,
        "the real session is untouched"
    );

    state.clock.shift_by(state.sessions.session_idle_secs() as i64 + 1);
    expect(
        &app,
        "session cookie expired (idle past the limit)",
        get_with_cookie("/api/pleo/v2/employees", Some(&cookie)),
        StatusCode::UNAUTHORIZED,
        "not_signed_in",
    )
    .await;
    assert!(!signed_in(&app, &cookie).await);
}

/// What the scripted upstream answers for a refresh.
#[derive(Clone, Copy)]
enum RefreshAnswer {
    Tokens,
    NotJson,
    HtmlServerError,
    /// Tokens, and the same values again nested and under names no spec gives them.
    TokensEchoedElsewhere,
    /// 200 with a body of [`HUGE_BYTES`], sent in chunks as the client reads.
    Huge,
}

/// The size of a huge scripted answer: far more than the companion reads of anything.
const HUGE_BYTES: usize = 256 * 1024 * 1024;
/// The chunk a huge scripted answer is sent in.
const HUGE_CHUNK: usize = 64 * 1024;

/// A body of [`HUGE_BYTES`] made as it is read, counting in `produced` what the reader took.
fn huge_body(produced: Arc<AtomicUsize>) -> Body {
    let chunks = futures_util::stream::iter(0..HUGE_BYTES / HUGE_CHUNK).map(move |_| {
        produced.fetch_add(HUGE_CHUNK, Ordering::SeqCst);
        Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(vec![b'x'; HUGE_CHUNK]))
    });
    Body::from_stream(chunks)
}

/// What the scripted upstream's API answers.
#[derive(Clone, Copy)]
enum ApiAnswer {
    /// 200 with what it received: method, path and query, headers.
    Echo,
    /// 401 `invalid_token`, whatever the token.
    Unauthorized,
    /// 200 with a body of [`HUGE_BYTES`].
    Huge,
}

/// An authorisation server and API that answer as scripted and record what reached them.
#[derive(Clone)]
struct Scripted {
    refresh: RefreshAnswer,
    api: ApiAnswer,
    refreshes: Arc<AtomicUsize>,
    api_requests: Arc<Mutex<Vec<Value>>>,
    /// Bytes of huge answers the companion read.
    produced: Arc<AtomicUsize>,
}

async fn scripted_authorize(Query(query): Query<HashMap<String, String>>) -> Redirect {
    let back = form_urlencoded::Serializer::new(String::new())
        .append_pair("code", "scripted-code")
        .append_pair("state", &query["state"])
        .finish();
    Redirect::to(&format!("{}?{back}", query["redirect_uri"]))
}

async fn scripted_token(State(scripted): State<Scripted>, Form(form): Form<HashMap<String, String>>) -> Response {
    let tokens = |n: usize| json!({"access_token": format!("at-{n}"), "refresh_token": format!("rt-{n}"), "token_type": "Bearer", "expires_in": 900, "scope": "users:read"});
    if form["grant_type"] == "authorization_code" {
        return axum::Json(tokens(0)).into_response();
    }
    let n = scripted.refreshes.fetch_add(1, Ordering::SeqCst) + 1;
    match scripted.refresh {
        RefreshAnswer::Tokens => axum::Json(tokens(n)).into_response(),
        RefreshAnswer::NotJson => (
            [(header::CONTENT_TYPE, "text/html")],
            "<html>Welcome to our captive portal</html>",
        )
            .into_response(),
        RefreshAnswer::HtmlServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/html")],
            "<h1>500</h1>",
        )
            .into_response(),
        RefreshAnswer::TokensEchoedElsewhere => {
            let mut answer = tokens(n);
            answer["debug"] = json!({"issued": {"access_token": format!("at-{n}")}, "grant": [format!("rt-{n}")]});
            answer["accessTok"] = json!(format!("at-{n}"));
            answer["note"] = json!(format!("rotated rt-{} into rt-{n}", n - 1));
            axum::Json(answer).into_response()
        }
        RefreshAnswer::Huge => (
            [(header::CONTENT_TYPE, "application/json")],
            huge_body(scripted.produced.clone()),
        )
            .into_response(),
    }
}

async fn scripted_api(
    State(scripted): State<Scripted>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    let headers: HashMap<String, String> = headers
        .iter()
        .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let seen = json!({"method": method.as_str(), "uri": uri.to_string(), "headers": headers});
    scripted.api_requests.lock().unwrap().push(seen.clone());
    match scripted.api {
        ApiAnswer::Echo => axum::Json(seen).into_response(),
        ApiAnswer::Unauthorized => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
            axum::Json(json!({"type": "invalid_token"})),
        )
            .into_response(),
        ApiAnswer::Huge => (
            [(header::CONTENT_TYPE, "application/json")],
            huge_body(scripted.produced.clone()),
        )
            .into_response(),
    }
}

/// A scripted upstream on a free port, a companion configured as `custom` for it, and a session.
async fn against_scripted(refresh: RefreshAnswer, api: ApiAnswer) -> (Scripted, AppState, axum::Router, String) {
    let scripted = Scripted {
        refresh,
        api,
        refreshes: Arc::default(),
        api_requests: Arc::default(),
        produced: Arc::default(),
    };
    let upstream = axum::Router::new()
        .route("/oauth/authorize", routing::get(scripted_authorize))
        .route("/oauth/token", routing::post(scripted_token))
        .fallback(scripted_api)
        .with_state(scripted.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, upstream).await.unwrap() });
    let vars = [
        ("PLEO_ENV", "custom"),
        ("PLEO_AUTHORIZATION_SERVER_URL", base.as_str()),
        ("PLEO_API_BASE_URL", base.as_str()),
        ("PLEO_CLIENT_ID", "client-1"),
        ("PLEO_SCOPES", "users:read"),
    ];
    let state = AppState::new(config(&vars));
    let app = router(state.clone());
    let cookie = sign_in(&state, &app).await;
    (scripted, state, app, cookie)
}

#[tokio::test]
async fn proxy_paths_that_try_to_escape_the_allow_list_never_reach_the_api() {
    let (scripted, _, app, cookie) = against_scripted(RefreshAnswer::Tokens, ApiAnswer::Echo).await;
    let escapes = [
        (
            "absolute URL in the path",
            "/api/pleo/https://evil.example/v2/employees",
        ),
        ("scheme-relative other host", "/api/pleo//evil.example/v2/employees"),
        ("`..` out of the API", "/api/pleo/v2/employees/../../../admin"),
        ("`..` as the identifier", "/api/pleo/v2/employees/.."),
        ("percent-encoded `..`", "/api/pleo/v2/employees/%2E%2E"),
        ("encoded slash", "/api/pleo/v2%2Femployees"),
        (
            "encoded slashes and `..` in the identifier",
            "/api/pleo/v2/employees/x%2F..%2F..%2Fadmin",
        ),
        ("userinfo other host", "/api/pleo/v2/employees@evil.example"),
        ("encoded backslash", "/api/pleo/v2/employees/%5C%5Cevil.example"),
        ("CRLF in the path", "/api/pleo/v2/employees/x%0D%0AHost:%20evil.example"),
        ("path off the allow-list", "/api/pleo/v9/admin/users"),
        (
            "overlong identifier",
            &format!("/api/pleo/v2/employees/{}", "a".repeat(65)),
        ),
    ];
    for (case, uri) in escapes {
        expect(
            &app,
            case,
            get_with_cookie(uri, Some(&cookie)),
            StatusCode::FORBIDDEN,
            "path_not_allowed",
        )
        .await;
    }
    let delete = Request::delete("/api/pleo/v2/employees")
        .header(contract::wire::CSRF_HEADER, contract::wire::CSRF_HEADER_VALUE)
        .header(header::ORIGIN, ORIGIN)
        .header(header::COOKIE, &cookie);
    expect(
        &app,
        "write method not configured",
        delete.body(Body::empty()).unwrap(),
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
    let long_query = format!("/api/pleo/v2/employees?q={}", "a".repeat(3000));
    expect(
        &app,
        "query string over 2 KiB",
        get_with_cookie(&long_query, Some(&cookie)),
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    assert!(
        scripted.api_requests.lock().unwrap().is_empty(),
        "nothing refused reached the API"
    );

    // Allowed path, hostile query and headers: the query is re-encoded and no browser header passes.
    let smuggle = Request::get("/api/pleo/v2/employees?limit=1%0D%0AX-Evil:%201&offset=0&offset=2")
        .header(header::COOKIE, &cookie)
        .header(header::AUTHORIZATION, "Bearer forged")
        .header("x-forwarded-host", "evil.example")
        .header("x-evil", "1")
        .body(Body::empty())
        .unwrap();
    let (status, _, relayed) = send(&app, smuggle).await;
    assert_eq!(status, StatusCode::OK);
    let seen = scripted.api_requests.lock().unwrap().last().cloned().unwrap();
    let upstream_headers = &seen["headers"];
    assert_eq!(
        upstream_headers["authorization"], "Bearer at-0",
        "the companion's token, not the browser's"
    );
    for smuggled in ["x-evil", "x-forwarded-host", "cookie"] {
        assert!(
            upstream_headers.get(smuggled).is_none(),
            "{smuggled} must not be forwarded: {seen}"
        );
    }
    assert_eq!(seen["uri"], "/v2/employees?limit=1%0D%0AX-Evil%3A+1&offset=0&offset=2");
    record_case(
        AREA,
        "CRLF in the query, browser Authorization/Cookie/X-Forwarded-Host headers",
        "200: query re-encoded, none of the browser's headers forwarded",
    );
    // The API echoed its Authorization header: the browser gets the answer without the token.
    let relayed = relayed.to_string();
    assert!(relayed.contains("[redacted sha256:"), "{relayed}");
    assert!(!relayed.contains("at-0") && !relayed.contains("rt-0"), "{relayed}");
    record_case(
        AREA,
        "an API that echoes the request's Authorization header in its answer",
        "relayed with the access token (and the refresh token, the client secret) replaced by fingerprints",
    );
}

#[tokio::test]
async fn oversized_malformed_and_mistyped_bodies_get_clear_codes() {
    let (_, app) = local();
    let big = format!("{{\"state\": \"{}\"}}", "a".repeat(companion::MAX_BODY_BYTES));
    expect(
        &app,
        "oversized JSON body",
        json_post("/api/authorize/start", &big, None),
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
    )
    .await;
    expect(
        &app,
        "oversized logout body",
        json_post("/api/logout", &big, None),
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
    )
    .await;
    expect(
        &app,
        "oversized proxied body",
        json_post("/api/pleo/v2/employees", &big, None),
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
    )
    .await;
    expect(
        &app,
        "malformed JSON",
        json_post("/api/token", r#"{"code": "#, None),
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    expect(
        &app,
        "JSON of the wrong shape",
        json_post("/api/token", r#"{"code": 7}"#, None),
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    expect(
        &app,
        "JSON array instead of an object",
        json_post("/api/authorize/start", "[]", None),
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    expect(
        &app,
        "malformed logout JSON",
        json_post("/api/logout", "{disconnect}", None),
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let request = Request::post("/api/authorize/start")
            .header(contract::wire::CSRF_HEADER, contract::wire::CSRF_HEADER_VALUE)
            .header(header::ORIGIN, ORIGIN)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from("state=x"))
            .unwrap();
        expect(
            &app,
            &format!("Content-Type {content_type}"),
            request,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;
    }
    let no_type = Request::post("/api/token")
        .header(contract::wire::CSRF_HEADER, contract::wire::CSRF_HEADER_VALUE)
        .header(header::ORIGIN, ORIGIN)
        .body(Body::from("{}"))
        .unwrap();
    expect(
        &app,
        "no Content-Type",
        no_type,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
}

#[tokio::test]
async fn a_token_endpoint_answering_html_keeps_the_session() {
    // Both answers came after the request reached the server: it may have rotated the refresh
    // token, so it is never presented again, and the access token serves until it expires.
    for (answer, case) in [
        (RefreshAnswer::NotJson, "token endpoint answers 200 with HTML, not JSON"),
        (RefreshAnswer::HtmlServerError, "token endpoint answers 500 with HTML"),
    ] {
        let (scripted, _, app, cookie) = against_scripted(answer, ApiAnswer::Echo).await;
        expect(
            &app,
            case,
            json_post("/api/refresh", "", Some(&cookie)),
            StatusCode::BAD_GATEWAY,
            "refresh_outcome_unknown",
        )
        .await;
        assert_eq!(
            scripted.refreshes.load(Ordering::SeqCst),
            1,
            "{case}: not retried with the same refresh token"
        );
        assert!(signed_in(&app, &cookie).await, "{case}: the session survives");
        assert_eq!(
            send(&app, get_with_cookie("/api/pleo/v2/employees", Some(&cookie)))
                .await
                .0,
            StatusCode::OK,
            "{case}: the access token still works"
        );
        let (_, _, again) = send(&app, json_post("/api/refresh", "", Some(&cookie))).await;
        assert_eq!(
            again["error"], "reauthorization_required",
            "{case}: the spent refresh token is not presented again"
        );
        assert_eq!(
            scripted.refreshes.load(Ordering::SeqCst),
            1,
            "{case}: still exactly one presentation"
        );
    }
}

#[tokio::test]
async fn an_api_still_answering_401_after_a_refresh_is_relayed_after_exactly_one_refresh() {
    let (scripted, _, app, cookie) = against_scripted(RefreshAnswer::Tokens, ApiAnswer::Unauthorized).await;
    let (status, headers, body) = send(&app, get_with_cookie("/api/pleo/v2/employees", Some(&cookie))).await;
    assert_eq!(
        (status, &headers["x-upstream-status"]),
        (
            StatusCode::UNAUTHORIZED,
            &"401".parse::<axum::http::HeaderValue>().unwrap()
        )
    );
    assert_eq!(body["type"], "invalid_token", "the API's own answer, relayed");
    assert_eq!(
        scripted.refreshes.load(Ordering::SeqCst),
        1,
        "one refresh, one retry, no loop"
    );
    assert_eq!(scripted.api_requests.lock().unwrap().len(), 2);
    assert!(
        signed_in(&app, &cookie).await,
        "the refresh succeeded, so the session stays"
    );
    record_case(
        AREA,
        "API answers 401 even after a refresh",
        "401 relayed with `x-upstream-status: 401`; exactly 1 refresh and 1 retry, no loop",
    );
}

#[tokio::test]
async fn an_old_refresh_token_replayed_after_rotation_revokes_the_grant_and_the_app_must_sign_in_again() {
    let (si, state, app) = against_standalone_stand_in().await;
    let cookie = sign_in(&state, &app).await;
    let stolen = si.issued_refresh_tokens().pop().unwrap();
    let token_url = format!("{}/oauth/token", state.config.authorization_server_url);
    let http = reqwest::Client::new();
    let replay = |auth: Option<(&'static str, &'static str)>| {
        let mut request = http
            .post(&token_url)
            .form(&[("grant_type", "refresh_token"), ("refresh_token", stolen.as_str())]);
        if let Some((id, secret)) = auth {
            request = request.basic_auth(id, Some(secret));
        }
        request.send()
    };
    let without_secret = replay(None).await.unwrap();
    assert_eq!(without_secret.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(without_secret.json::<Value>().await.unwrap()["error"], "invalid_client");
    assert!(signed_in(&app, &cookie).await);
    record_case(
        "Stand-in",
        "stolen refresh token presented without the client secret",
        "401 `invalid_client`; the real session keeps working",
    );

    assert_eq!(
        send(&app, json_post("/api/refresh", "", Some(&cookie))).await.0,
        StatusCode::OK,
        "rotation"
    );
    let old = replay(Some(("client-1", SECRET))).await.unwrap();
    assert_eq!(
        (old.status(), old.json::<Value>().await.unwrap()["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_grant"))
    );
    record_case(
        "Stand-in",
        "rotation: the old refresh token presented again",
        "400 `invalid_grant`; every token of the grant is revoked",
    );
    expect(
        &app,
        "next call after the old refresh token revoked the grant",
        get_with_cookie("/api/pleo/v2/employees", Some(&cookie)),
        StatusCode::UNAUTHORIZED,
        "reauthorization_required",
    )
    .await;
    assert!(!signed_in(&app, &cookie).await, "tokens gone");
}

#[tokio::test]
async fn sessions_and_sign_in_attempts_are_bounded_and_idle_ones_make_room() {
    let (_, base_state, _) = against_standalone_stand_in().await;
    let limits = Limits {
        max_sessions: 5,
        session_idle_secs: 600,
        max_attempts: 8,
        attempt_secs: 60,
        ..Limits::default()
    };
    let state = AppState::with_limits(base_state.config.clone(), limits);
    let app = router(state.clone());
    let mut cookies = Vec::new();
    for _ in 0..5 {
        cookies.push(sign_in(&state, &app).await);
    }
    let (status, body) = try_sign_in(&state, &app).await.unwrap_err();
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("overloaded"))
    );
    record_case(AREA, "more sessions than the limit", &outcome(status, &body));
    assert_eq!(
        state.sessions.count(state.clock.now()).await.unwrap(),
        5,
        "memory stays bounded"
    );
    assert!(signed_in(&app, &cookies[0]).await, "existing sessions keep working");

    let start = || {
        json_post(
            "/api/authorize/start",
            &start_body("s", &pkce::CodeVerifier::generate().unwrap()),
            None,
        )
    };
    let mut refused = 0;
    for _ in 0..200 {
        if send(&app, start()).await.0 == StatusCode::SERVICE_UNAVAILABLE {
            refused += 1;
        }
    }
    assert!(refused >= 190, "attempts are bounded: {refused} of 200 refused");
    expect(
        &app,
        "a flood of sign-in attempts",
        start(),
        StatusCode::SERVICE_UNAVAILABLE,
        "overloaded",
    )
    .await;

    state.clock.shift_by(601);
    sign_in(&state, &app).await;
    assert!(state.sessions.count(state.clock.now()).await.unwrap() <= 5);
}

#[tokio::test]
async fn a_restarted_companion_asks_to_sign_in_again_and_nothing_breaks() {
    let (_, state, app) = against_standalone_stand_in().await;
    let cookie = sign_in(&state, &app).await;
    let restarted_state = AppState::new(state.config.clone());
    let restarted = router(restarted_state.clone());
    let (status, _, session) = send(&restarted, get_with_cookie("/api/session", Some(&cookie))).await;
    assert_eq!((status, &session["signed_in"]), (StatusCode::OK, &json!(false)));
    expect(
        &restarted,
        "companion restarted: old session cookie",
        get_with_cookie("/api/pleo/v2/employees", Some(&cookie)),
        StatusCode::UNAUTHORIZED,
        "not_signed_in",
    )
    .await;
    sign_in(&restarted_state, &restarted).await;
}

#[tokio::test]
async fn raw_requests_with_a_cr_or_lf_inside_a_header_are_refused_by_the_http_layer_and_serving_goes_on() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_, app) = local();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(axum::serve(listener, app).into_future());
    let raw = |request: &'static [u8]| async move {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.write_all(request).await.unwrap();
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
        String::from_utf8_lossy(&answer).into_owned()
    };
    for (case, request) in [
        (
            "bare CR inside a header value (raw socket)",
            &b"GET /api/config HTTP/1.1\r\nHost: localhost\r\nX-Evil: a\rInjected: 1\r\nConnection: close\r\n\r\n"[..],
        ),
        (
            "header line without a colon, smuggled after a LF (raw socket)",
            &b"GET /api/config HTTP/1.1\r\nHost: localhost\nInjected header\r\nConnection: close\r\n\r\n"[..],
        ),
    ] {
        let answer = raw(request).await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{case}: {answer:?}");
        record_case(
            AREA,
            case,
            "400 from the HTTP layer before any handler; the connection is closed",
        );
    }
    let fine = raw(b"GET /api/config HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await;
    assert!(fine.starts_with("HTTP/1.1 200"), "the server goes on serving: {fine:?}");
    server.abort();
}

#[tokio::test]
async fn tokens_an_upstream_nests_or_renames_are_redacted_by_value_in_the_transcript() {
    let (scripted, _, app, cookie) = against_scripted(RefreshAnswer::TokensEchoedElsewhere, ApiAnswer::Echo).await;
    let (status, _, _) = send(&app, json_post("/api/refresh", "", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(scripted.refreshes.load(Ordering::SeqCst), 1);
    let (_, _, transcript) = send(&app, get_with_cookie("/api/transcript", Some(&cookie))).await;
    let text = transcript.to_string();
    for token in ["at-0", "rt-0", "at-1", "rt-1"] {
        assert!(!text.contains(token), "{token} is in the transcript: {text}");
    }
    assert!(
        text.contains("accessTok") && text.contains("[redacted sha256:"),
        "the answer is shown, redacted: {text}"
    );
    record_case(
        AREA,
        "token endpoint nests, renames and repeats the tokens in its answer",
        "every token it holds is fingerprinted wherever it appears in `/api/transcript`",
    );
}

#[tokio::test]
async fn huge_upstream_answers_are_refused_as_they_arrive_never_read_whole() {
    let (scripted, _, app, cookie) = against_scripted(RefreshAnswer::Huge, ApiAnswer::Huge).await;
    let (_, _, body) = send(&app, get_with_cookie("/api/pleo/v2/employees", Some(&cookie))).await;
    assert_eq!(body["error"], "api_unreachable", "{body}");
    let read = scripted.produced.swap(0, Ordering::SeqCst);
    assert!(
        read < 32 * 1024 * 1024,
        "the proxy read {read} bytes of a 256 MiB answer"
    );
    record_case(
        AREA,
        "API answers 256 MiB, chunked",
        "502 `api_unreachable` after at most the 4 MiB limit and socket buffers were read",
    );
    let (_, _, body) = send(&app, json_post("/api/refresh", "", Some(&cookie))).await;
    assert_eq!(body["error"], "refresh_outcome_unknown", "{body}");
    let read = scripted.produced.load(Ordering::SeqCst);
    assert!(
        read < 32 * 1024 * 1024,
        "the token client read {read} bytes of a 256 MiB answer"
    );
    record_case(
        AREA,
        "token endpoint answers 256 MiB, chunked",
        "502 `refresh_outcome_unknown` after at most the 64 KiB limit and socket buffers were read",
    );
}

#[tokio::test]
async fn a_get_with_a_body_is_refused_and_the_transcript_stays_small() {
    let (scripted, _, app, cookie) = against_scripted(RefreshAnswer::Tokens, ApiAnswer::Echo).await;
    let with_body = Request::get("/api/pleo/v2/employees")
        .header(header::COOKIE, &cookie)
        .body(Body::from("x".repeat(16 * 1024)))
        .unwrap();
    expect(
        &app,
        "GET with a 16 KiB body",
        with_body,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    assert!(
        scripted.api_requests.lock().unwrap().is_empty(),
        "nothing was sent upstream"
    );
    for _ in 0..150 {
        assert_eq!(
            send(&app, get_with_cookie("/api/pleo/v2/employees?limit=10", Some(&cookie)))
                .await
                .0,
            StatusCode::OK
        );
    }
    let (_, _, transcript) = send(&app, get_with_cookie("/api/transcript", Some(&cookie))).await;
    let entries = transcript.as_array().unwrap();
    assert!(entries.len() <= companion::transcript::MAX_ENTRIES);
    assert!(
        transcript.to_string().len() < 2 * companion::transcript::MAX_BYTES,
        "{} bytes",
        transcript.to_string().len()
    );
    let last = entries.last().unwrap();
    assert!(
        last["response_body"].as_str().unwrap().contains("bytes, hash "),
        "API bodies are kept as size and hash: {last}"
    );
    assert!(
        !last["response_body"].as_str().unwrap().contains("headers"),
        "no copy of the API's answer"
    );
    record_case(
        AREA,
        "150 API calls in one session",
        "the transcript keeps the last 100 steps, bodies as size and hash only",
    );
}

/// A token endpoint that refuses every code and echoes, in its `error_description`, what it was
/// sent: the Authorization header, the credentials decoded, the code and the verifier.
async fn echoing_token(headers: HeaderMap, Form(form): Form<HashMap<String, String>>) -> Response {
    use base64::Engine as _;
    let authorization = headers[header::AUTHORIZATION].to_str().unwrap().to_owned();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(authorization.trim_start_matches("Basic "))
        .unwrap();
    let description = format!(
        "bad client: {authorization} ({}), code {} with verifier {}\u{0}\r\nX-Evil: 1",
        String::from_utf8_lossy(&decoded),
        form["code"],
        form["code_verifier"],
    );
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": "invalid_grant", "error_description": description})),
    )
        .into_response()
}

#[tokio::test]
async fn a_token_endpoint_that_echoes_its_credentials_reaches_the_browser_redacted_and_bounded() {
    let upstream = axum::Router::new()
        .route("/oauth/authorize", routing::get(scripted_authorize))
        .route("/oauth/token", routing::post(echoing_token));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, upstream).await.unwrap() });
    let state = AppState::new(config(&[
        ("PLEO_ENV", "custom"),
        ("PLEO_AUTHORIZATION_SERVER_URL", base.as_str()),
        ("PLEO_CLIENT_ID", "client-1"),
        ("PLEO_SCOPES", "users:read"),
    ]));
    let app = router(state.clone());
    let (verifier, oauth_state, attempt) = start_attempt(&app).await.unwrap();
    let (status, headers, body) = authorize_and_exchange(&state, &app, &verifier, &oauth_state, &attempt).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("token_request_rejected")),
        "{body}"
    );
    let message = body["message"].as_str().unwrap();
    let basic = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!("client-1:{SECRET}"))
    };
    for leaked in [SECRET, basic.as_str(), verifier.as_str(), "scripted-code", "\r\n"] {
        assert!(!message.contains(leaked), "{leaked:?} reached the browser: {message}");
        assert!(!format!("{headers:?}").contains(leaked));
    }
    assert!(
        message.contains("invalid_grant") && message.contains("not shown"),
        "{message}"
    );
    assert!(message.chars().count() < 500, "bounded: {message}");
    record_case(
        AREA,
        "a token endpoint whose error_description echoes its Basic credentials, the code and the verifier",
        "400 `token_request_rejected` with the code `invalid_grant`; the description, which held the secret, is not shown",
    );
}

/// Waits until every token-endpoint call the companion started has ended and written its
/// outcome (the tasks of `AppState::token_calls`), at most `limit`.
async fn token_calls_ended(state: &AppState, limit: std::time::Duration) {
    let deadline = std::time::Instant::now() + limit;
    while !state.token_calls.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "a token call still runs after {limit:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A token endpoint that does its work at once (a refresh rotates, a code is spent) and answers
/// 5 s later, for the next request.
fn answers_after_five_seconds(si: &stand_in::StandIn) {
    si.set_token_faults(stand_in::TokenFaults {
        delay_ms: 5000,
        remaining: 1,
        process_before_delay: true,
        ..stand_in::TokenFaults::default()
    });
}

#[tokio::test]
async fn a_refresh_whose_browser_goes_away_after_a_second_still_writes_the_rotated_tokens() {
    let (si, state, app) = against_standalone_stand_in().await;
    let cookie = sign_in(&state, &app).await;
    answers_after_five_seconds(&si);
    let refresh = app.clone().oneshot(json_post("/api/refresh", "", Some(&cookie)));
    // The reader closes the tab 1 s into the refresh: the request's future is dropped.
    assert!(
        tokio::time::timeout(std::time::Duration::from_secs(1), refresh)
            .await
            .is_err(),
        "the refresh was still waiting for the token endpoint"
    );
    assert_eq!(si.token_requests("refresh_token"), 1, "the refresh was presented");
    token_calls_ended(&state, std::time::Duration::from_secs(10)).await;
    let (_, _, session) = send(&app, get_with_cookie("/api/session", Some(&cookie))).await;
    assert_eq!(session["tokens"]["has_refresh_token"], true, "{session}");
    let rotated = si.issued_refresh_tokens().pop().unwrap();
    // The next call refreshes with the rotated token: a lost one would present the old token
    // again, and the stand-in, like Pleo, would revoke the grant.
    let (status, _, body) = send(&app, json_post("/api/refresh", "", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(si.grants_revoked_for_reuse(), 0);
    assert_eq!(si.token_requests("refresh_token"), 2, "rotated once more");
    assert!(si.issued_refresh_tokens().contains(&rotated));
    assert_eq!(
        send(&app, get_with_cookie("/api/pleo/v2/employees", Some(&cookie)))
            .await
            .0,
        StatusCode::OK
    );
    record_case(
        "Companion",
        "the reader closes the tab 1 s into a refresh the token endpoint answers after 5 s",
        "the refresh runs to its end in a task of its own: the rotated tokens are written, the session keeps its refresh token, the next refresh presents the new one (no grant revoked)",
    );
}

#[tokio::test]
async fn a_code_exchange_whose_browser_goes_away_signs_in_the_readers_next_load() {
    let (si, state, app) = against_standalone_stand_in().await;
    let (verifier, oauth_state, attempt) = start_attempt(&app).await.unwrap();
    let exchange = exchange_body(&state, &verifier, &oauth_state).await;
    answers_after_five_seconds(&si);
    let token = app.clone().oneshot(json_post("/api/token", &exchange, Some(&attempt)));
    assert!(
        tokio::time::timeout(std::time::Duration::from_secs(1), token)
            .await
            .is_err(),
        "the exchange was still waiting for the token endpoint"
    );
    token_calls_ended(&state, std::time::Duration::from_secs(10)).await;
    // The next load: the browser still has the attempt cookie, never the session cookie.
    let (_, headers, session) = send(&app, get_with_cookie("/api/session", Some(&attempt))).await;
    assert_eq!(session["signed_in"], true, "{session}");
    let (taken, _) = session_cookie(&headers).expect("a session cookie");
    let cookies: Vec<&str> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with(attempt.split('=').next().unwrap()) && c.contains("Max-Age=0")),
        "the attempt cookie is cleared: {cookies:?}"
    );
    assert_eq!(
        send(&app, get_with_cookie("/api/pleo/v2/employees", Some(&taken)))
            .await
            .0,
        StatusCode::OK
    );
    // Once: the same attempt cookie signs in no second browser.
    let (_, _, again) = send(&app, get_with_cookie("/api/session", Some(&attempt))).await;
    assert_eq!(again["signed_in"], false);
    assert_eq!(si.token_requests("authorization_code"), 1);
    record_case(
        "Companion",
        "the reader closes the tab 1 s into a code exchange the token endpoint answers after 5 s",
        "the exchange runs to its end and makes the session; the reader's next load (`GET /api/session` with the attempt cookie) is signed in, once",
    );
}

/// Long tokens, as real ones are (redaction by spelling looks for 8 characters and more).
const LONG_ACCESS: &str = "access-9Xq+Lk/2mZpW8vBnR4tYcD7hJ0sE";
const LONG_REFRESH: &str = "refresh-Qw3+Er/5tYu7Io9Pa1Sd3Fg5Hj7K";

/// The spellings a server that echoes what it was sent gave a secret, by name.
fn spelled(secret: &str, spelling: &str) -> String {
    use base64::Engine as _;
    match spelling {
        "lower-case percent-encoding" => secret.bytes().map(|b| format!("%{b:02x}")).collect(),
        "base64" => base64::engine::general_purpose::STANDARD.encode(secret),
        "base64url" => base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("secret={secret}")),
        "upper case" => secret.to_ascii_uppercase(),
        "hex" => secret.bytes().map(|b| format!("{b:02x}")).collect(),
        "HTML entities" => secret.chars().map(|c| format!("&#{};", c as u32)).collect(),
        "one inserted non-ASCII character" => format!("{}\u{00e9}{}", &secret[..8], &secret[8..]),
        "JSON-escaped" => secret.replace('/', "\\/"),
        "\\u escapes" => secret.chars().map(|c| format!("\\u{:04x}", c as u32)).collect(),
        "percent-encoded" => form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
        other => panic!("no spelling {other}"),
    }
}

/// Whether `shown` holds 12 or more characters in a row of `text`.
fn shows_part_of(shown: &str, text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars.windows(12).any(|w| shown.contains(&w.iter().collect::<String>()))
}

/// An authorisation server and API that echo the secret and tokens they were sent, spelled as
/// `spelling` says: the code exchange refused with the client secret so spelled in its
/// `error_description` ("split" puts its halves in `error` and `error_description`), the
/// refresh refused with the form body it got, the API answering its Authorization header.
async fn spelling_echo(
    State(spelling): State<Arc<Mutex<String>>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    body: String,
) -> Response {
    let spelling = spelling.lock().unwrap().clone();
    if uri.path() == "/oauth/token" {
        let form: HashMap<String, String> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
        if form["grant_type"] == "refresh_token" {
            let echoed = json!({"error": "invalid_request", "error_description": format!("got {body}")});
            return (StatusCode::BAD_REQUEST, axum::Json(echoed)).into_response();
        }
        if spelling.is_empty() {
            return axum::Json(json!({"access_token": LONG_ACCESS, "refresh_token": LONG_REFRESH, "token_type": "Bearer", "expires_in": 900})).into_response();
        }
        let (error, description) = if spelling == "split" {
            (SECRET[..11].to_owned(), SECRET[11..].to_owned())
        } else {
            (
                "invalid_client".to_owned(),
                format!("bad client secret {}", spelled(SECRET, &spelling)),
            )
        };
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": error, "error_description": description})),
        )
            .into_response();
    }
    let token = headers[header::AUTHORIZATION]
        .to_str()
        .unwrap()
        .trim_start_matches("Bearer ")
        .to_owned();
    if spelling == "gzip" {
        return (
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CONTENT_ENCODING, "gzip"),
            ],
            token,
        )
            .into_response();
    }
    let echoed = format!(r#"{{"authorization":"Bearer {}"}}"#, spelled(&token, &spelling));
    ([(header::CONTENT_TYPE, "application/json")], echoed).into_response()
}

#[tokio::test]
async fn a_secret_or_token_an_upstream_echoes_in_another_spelling_reaches_no_browser_visible_byte() {
    let spelling = Arc::new(Mutex::new(String::new()));
    let upstream = axum::Router::new()
        .route("/oauth/authorize", routing::get(scripted_authorize))
        .fallback(spelling_echo)
        .with_state(spelling.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, upstream).await.unwrap() });
    let state = AppState::new(config(&[
        ("PLEO_ENV", "custom"),
        ("PLEO_AUTHORIZATION_SERVER_URL", base.as_str()),
        ("PLEO_API_BASE_URL", base.as_str()),
        ("PLEO_CLIENT_ID", "client-1"),
        ("PLEO_SCOPES", "users:read"),
    ]));
    let app = router(state.clone());

    // The page's error: the client secret in every spelling, and split between the fields.
    let page_spellings = [
        "lower-case percent-encoding",
        "base64",
        "base64url",
        "upper case",
        "hex",
        "HTML entities",
        "one inserted non-ASCII character",
        "split",
    ];
    for name in page_spellings {
        *spelling.lock().unwrap() = name.to_owned();
        let (status, body) = try_sign_in(&state, &app).await.unwrap_err();
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("token_request_rejected"))
        );
        let message = body["message"].as_str().unwrap();
        let sent = if name == "split" {
            SECRET.to_owned()
        } else {
            spelled(SECRET, name)
        };
        assert!(
            !shows_part_of(message, &sent) && !shows_part_of(message, SECRET),
            "{name}: {message}"
        );
    }
    record_case(
        AREA,
        "the client secret echoed in a refused exchange's error: lower-case percent-encoded, base64(url), upper case, hex, HTML entities, a non-ASCII character inserted, split over two fields",
        "400 `token_request_rejected`: `error` is shown only as one of RFC 6749's codes, a description that holds the secret in any such spelling is not shown, and no run of more than 20 token characters of any description is; no 12 characters of the secret reach the page",
    );

    // The transcript: a refresh refused with the form body echoed (the refresh token form-encoded).
    *spelling.lock().unwrap() = String::new();
    let cookie = sign_in(&state, &app).await;
    let (_, _, refused) = send(&app, json_post("/api/refresh", "", Some(&cookie))).await;
    assert_eq!(refused["error"], "reauthorization_required", "{refused}");
    let (status, _, transcript) = send(&app, get_with_cookie("/api/transcript", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
    let text = transcript.to_string();
    let form_encoded: String = form_urlencoded::byte_serialize(LONG_REFRESH.as_bytes()).collect();
    assert!(
        !shows_part_of(&text, &form_encoded) && !shows_part_of(&text, LONG_REFRESH),
        "{text}"
    );
    record_case(
        AREA,
        "a token endpoint that refuses a refresh with the form body it got (the refresh token form-encoded) in its description",
        "the transcript keeps that string as `[redacted: held a secret]`; the page's error shows no part of it",
    );

    // The proxy: the API answers its Authorization header in other spellings, or gzip-encoded.
    let cookie = sign_in(&state, &app).await;
    for name in ["JSON-escaped", "\\u escapes", "percent-encoded", "upper case", "base64"] {
        *spelling.lock().unwrap() = name.to_owned();
        let response = app
            .clone()
            .oneshot(get_with_cookie("/api/pleo/v2/employees", Some(&cookie)))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{name}");
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains("[redacted: held a secret]"), "{name}: {body}");
        assert!(!shows_part_of(&body, &spelled(LONG_ACCESS, name)), "{name}: {body}");
    }
    *spelling.lock().unwrap() = "gzip".to_owned();
    let (status, _, body) = send(&app, get_with_cookie("/api/pleo/v2/employees", Some(&cookie))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_GATEWAY, Some("api_unreachable")),
        "{body}"
    );
    assert!(!body.to_string().contains(LONG_ACCESS));
    record_case(
        AREA,
        "an API that echoes its Authorization header JSON-escaped (`\\/`, `\\u`), percent-encoded, upper case or base64",
        "200 with that string replaced by `[redacted: held a secret]`: the proxy reads what it relays decoded before it looks for the token",
    );
    record_case(
        AREA,
        "an API that answers gzip-encoded although the proxy asked for `identity`",
        "502 `api_unreachable` with a sentence: an encoded body cannot be checked for secrets, so none of it is relayed",
    );
}
