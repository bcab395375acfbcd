//! The stand-in's authorisation-server rules, each driven through the router without a socket.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a step that fails fails the test, with the value in its message"
)]

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use secrecy::SecretString;
use serde_json::Value;
use stand_in::{Registration, Settings, StandIn, router};
use tower::ServiceExt;

const CLIENT: &str = "client-1";
const SECRET: &str = "s3cret:with&odd=chars";
const REDIRECT: &str = "http://localhost:8080/callback";

fn stand_in(auto_approve: bool) -> (StandIn, Router) {
    let registration = Registration {
        client_id: CLIENT.into(),
        client_secret: SecretString::from(SECRET),
        redirect_uris: vec![REDIRECT.into()],
        scopes: vec!["users:read".into(), "test:test".into()],
        client_name: "Rules <test>".into(),
    };
    let si = StandIn::new(
        registration,
        Settings {
            auto_approve,
            ..Settings::default()
        },
    );
    (si.clone(), router(si))
}

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn authorize_query(verifier: &pkce::CodeVerifier, overrides: &[(&str, &str)]) -> String {
    let challenge = pkce::CodeChallenge::s256(verifier);
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", CLIENT),
        ("redirect_uri", REDIRECT),
        ("scope", "users:read"),
        ("state", "xyz"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    for (name, value) in overrides {
        params.retain(|(n, _)| n != name);
        if !value.is_empty() {
            params.push((name, value));
        }
    }
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        query.append_pair(name, value);
    }
    query.finish()
}

/// The redirect's query parameters.
fn redirect_params(headers: &axum::http::HeaderMap) -> Vec<(String, String)> {
    let location = headers[header::LOCATION].to_str().unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    form_urlencoded::parse(location.split_once('?').unwrap().1.as_bytes())
        .into_owned()
        .collect()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// An auto-approved code for `verifier`.
async fn code_for(app: &Router, verifier: &pkce::CodeVerifier) -> String {
    let (status, headers, _) = send(
        app,
        Request::get(format!("/oauth/authorize?{}", authorize_query(verifier, &[])))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let params = redirect_params(&headers);
    assert_eq!(param(&params, "state"), Some("xyz"));
    param(&params, "code").unwrap().to_owned()
}

fn basic(id: &str, secret: &str) -> String {
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", encode(id), encode(secret)))
    )
}

fn token_request(form: &[(&str, &str)], authorization: Option<String>) -> Request<Body> {
    let mut body = form_urlencoded::Serializer::new(String::new());
    for (name, value) in form {
        body.append_pair(name, value);
    }
    let mut builder = Request::post("/oauth/token").header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(authorization) = authorization {
        builder = builder.header(header::AUTHORIZATION, authorization);
    }
    builder.body(Body::from(body.finish())).unwrap()
}

fn exchange(code: &str, verifier: &str) -> Request<Body> {
    token_request(
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
        Some(basic(CLIENT, SECRET)),
    )
}

fn error_of(body: &str) -> String {
    serde_json::from_str::<Value>(body).unwrap()["error"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn bad_client_or_redirect_uri_gets_an_error_page_never_a_redirect() {
    let (_, app) = stand_in(true);
    let v = pkce::CodeVerifier::generate().unwrap();
    for overrides in [
        [("client_id", "other")],
        [("redirect_uri", "http://localhost:8080/callback/evil")],
        [("redirect_uri", "")],
    ] {
        let (status, headers, body) = send(
            &app,
            Request::get(format!("/oauth/authorize?{}", authorize_query(&v, &overrides)))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(headers.get(header::LOCATION).is_none());
        assert!(body.contains("<h1>"));
    }
}

#[tokio::test]
async fn pkce_s256_and_state_are_required_at_the_authorize_endpoint() {
    let (_, app) = stand_in(true);
    let v = pkce::CodeVerifier::generate().unwrap();
    for (overrides, error) in [
        (vec![("code_challenge_method", "plain")], "invalid_request"),
        (vec![("code_challenge", "")], "invalid_request"),
        (vec![("code_challenge_method", "")], "invalid_request"),
        (vec![("state", "")], "invalid_request"),
        (vec![("response_type", "token")], "unsupported_response_type"),
        (vec![("scope", "users:read accounts:write")], "invalid_scope"),
    ] {
        let (status, headers, _) = send(
            &app,
            Request::get(format!("/oauth/authorize?{}", authorize_query(&v, &overrides)))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{overrides:?}");
        assert_eq!(param(&redirect_params(&headers), "error"), Some(error), "{overrides:?}");
    }
}

#[tokio::test]
async fn consent_page_escapes_and_deny_sends_access_denied_with_the_state() {
    let (_, app) = stand_in(false);
    let v = pkce::CodeVerifier::generate().unwrap();
    let (status, headers, page) = send(
        &app,
        Request::get(format!("/oauth/authorize?{}", authorize_query(&v, &[])))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    assert!(page.contains("Rules &lt;test&gt;") && !page.contains("Rules <test>"));
    let request_id = page
        .split("name=\"request_id\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let deny = Request::post("/oauth/authorize/decision")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("request_id={request_id}&decision=deny")))
        .unwrap();
    let (_, headers, _) = send(&app, deny).await;
    let params = redirect_params(&headers);
    assert_eq!(
        (param(&params, "error"), param(&params, "state")),
        (Some("access_denied"), Some("xyz"))
    );
    // The consent request is answered once.
    let again = Request::post("/oauth/authorize/decision")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("request_id={request_id}&decision=approve")))
        .unwrap();
    assert_eq!(send(&app, again).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn token_endpoint_takes_client_secret_basic_only() {
    let (_, app) = stand_in(true);
    let v = pkce::CodeVerifier::generate().unwrap();
    let code = code_for(&app, &v).await;
    let in_body = token_request(
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", v.as_str()),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
        ],
        None,
    );
    let (status, headers, body) = send(&app, in_body).await;
    assert_eq!(
        (status, error_of(&body).as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_client")
    );
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    let wrong = token_request(
        &[("grant_type", "authorization_code"), ("code", &code)],
        Some(basic(CLIENT, "wrong")),
    );
    assert_eq!(error_of(&send(&app, wrong).await.2), "invalid_client");
    let (status, headers, body) = send(&app, exchange(&code, v.as_str())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    let tokens: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
}

#[tokio::test]
async fn the_verifier_must_hash_to_the_challenge_and_the_redirect_uri_must_match() {
    let (_, app) = stand_in(true);
    let v = pkce::CodeVerifier::generate().unwrap();
    let code = code_for(&app, &v).await;
    let other = pkce::CodeVerifier::generate().unwrap();
    assert_eq!(
        error_of(&send(&app, exchange(&code, other.as_str())).await.2),
        "invalid_grant"
    );
    let code = code_for(&app, &v).await;
    let wrong_redirect = token_request(
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://localhost:8080/other"),
            ("code_verifier", v.as_str()),
        ],
        Some(basic(CLIENT, SECRET)),
    );
    assert_eq!(error_of(&send(&app, wrong_redirect).await.2), "invalid_grant");
}

#[tokio::test]
async fn a_code_is_single_use_and_its_replay_revokes_what_it_issued() {
    let (_, app) = stand_in(true);
    let v = pkce::CodeVerifier::generate().unwrap();
    let code = code_for(&app, &v).await;
    let (status, _, body) = send(&app, exchange(&code, v.as_str())).await;
    assert_eq!(status, StatusCode::OK);
    let access = serde_json::from_str::<Value>(&body).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let call = || {
        Request::get("/v2/employees")
            .header(header::AUTHORIZATION, format!("Bearer {access}"))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(send(&app, call()).await.0, StatusCode::OK);
    assert_eq!(
        error_of(&send(&app, exchange(&code, v.as_str())).await.2),
        "invalid_grant"
    );
    let (status, headers, _) = send(&app, call()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        headers[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
}

#[tokio::test]
async fn refresh_rotates_both_tokens_and_an_old_refresh_token_revokes_the_authorization() {
    let (si, app) = stand_in(true);
    let v = pkce::CodeVerifier::generate().unwrap();
    let code = code_for(&app, &v).await;
    let first: Value = serde_json::from_str(&send(&app, exchange(&code, v.as_str())).await.2).unwrap();
    let refresh = |token: &str| {
        token_request(
            &[("grant_type", "refresh_token"), ("refresh_token", token)],
            Some(basic(CLIENT, SECRET)),
        )
    };
    let (status, _, body) = send(&app, refresh(first["refresh_token"].as_str().unwrap())).await;
    assert_eq!(status, StatusCode::OK);
    let second: Value = serde_json::from_str(&body).unwrap();
    assert_ne!(second["access_token"], first["access_token"]);
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    let call = |token: &Value| {
        Request::get("/v2/employees")
            .header(header::AUTHORIZATION, format!("Bearer {}", token.as_str().unwrap()))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(
        send(&app, call(&first["access_token"])).await.0,
        StatusCode::UNAUTHORIZED,
        "the old access token died with the rotation"
    );
    assert_eq!(send(&app, call(&second["access_token"])).await.0, StatusCode::OK);
    // Reusing the first refresh token revokes everything of this authorization.
    assert_eq!(
        error_of(&send(&app, refresh(first["refresh_token"].as_str().unwrap())).await.2),
        "invalid_grant"
    );
    assert_eq!(
        send(&app, call(&second["access_token"])).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        error_of(&send(&app, refresh(second["refresh_token"].as_str().unwrap())).await.2),
        "invalid_grant"
    );
    assert_eq!(si.token_requests("refresh_token"), 3);
}

#[tokio::test]
async fn the_api_checks_the_bearer_token_and_the_scope() {
    let (si, app) = stand_in(true);
    let v = pkce::CodeVerifier::generate().unwrap();
    let code = code_for(&app, &v).await;
    let tokens: Value = serde_json::from_str(&send(&app, exchange(&code, v.as_str())).await.2).unwrap();
    let (status, headers, _) = send(&app, Request::get("/v2/employees").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        headers[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let (status, _, body) = send(
        &app,
        Request::get("/v2/employees?limit=5&offset=20")
            .header(header::AUTHORIZATION, &bearer)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["data"].as_array().unwrap().len(), 4);
    assert_eq!(page["pagination"]["hasNextPage"], false);
    assert_eq!(page["pagination"]["hasPreviousPage"], true);
    si.clock().shift_by(901);
    let (status, _, _) = send(
        &app,
        Request::get("/v2/employees")
            .header(header::AUTHORIZATION, &bearer)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "expired");
}

/// A fresh set of tokens through the real flow.
async fn tokens(app: &Router) -> Value {
    let v = pkce::CodeVerifier::generate().unwrap();
    let code = code_for(app, &v).await;
    serde_json::from_str(&send(app, exchange(&code, v.as_str())).await.2).unwrap()
}

fn get_with(path: &str, tokens: &Value) -> Request<Body> {
    Request::get(path)
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", tokens["access_token"].as_str().unwrap()),
        )
        .body(Body::empty())
        .unwrap()
}

fn introspect(token: &str) -> Request<Body> {
    let body = format!(
        "token={}",
        form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>()
    );
    Request::post("/oauth/token/introspect")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::AUTHORIZATION, basic(CLIENT, SECRET))
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn introspection_reports_live_tokens_and_nothing_about_dead_ones() {
    let (si, app) = stand_in(true);
    let t = tokens(&app).await;
    let live: Value =
        serde_json::from_str(&send(&app, introspect(t["access_token"].as_str().unwrap())).await.2).unwrap();
    assert_eq!(live["active"], true);
    assert_eq!(live["client_id"], CLIENT);
    assert_eq!(live["scope"], "users:read");
    let refresh: Value =
        serde_json::from_str(&send(&app, introspect(t["refresh_token"].as_str().unwrap())).await.2).unwrap();
    assert_eq!(refresh["token_type"], "refresh_token");
    let unknown: Value = serde_json::from_str(&send(&app, introspect("nope")).await.2).unwrap();
    assert_eq!(unknown, serde_json::json!({"active": false}));
    si.clock().shift_by(901);
    let expired: Value =
        serde_json::from_str(&send(&app, introspect(t["access_token"].as_str().unwrap())).await.2).unwrap();
    assert_eq!(expired["active"], false);
    let unauthenticated = Request::post("/oauth/token/introspect")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("token=x"))
        .unwrap();
    assert_eq!(send(&app, unauthenticated).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn metadata_advertises_s256_basic_auth_and_the_endpoints() {
    let (_, app) = stand_in(true);
    let (status, _, body) = send(
        &app,
        Request::get("/.well-known/oauth-authorization-server")
            .header(header::HOST, "127.0.0.1:9090")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let meta: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(meta["issuer"], "http://127.0.0.1:9090");
    assert_eq!(meta["token_endpoint"], "http://127.0.0.1:9090/oauth/token");
    assert_eq!(meta["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(
        meta["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic"])
    );
}

#[tokio::test]
async fn api_catalog_answers_in_pleos_shapes() {
    let (_, app) = stand_in(true);
    let t = tokens(&app).await;
    let (_, _, list) = send(&app, get_with("/v2/employees", &t)).await;
    let id = serde_json::from_str::<Value>(&list).unwrap()["data"][1]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, one) = send(&app, get_with(&format!("/v2/employees/{id}"), &t)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_str::<Value>(&one).unwrap()["data"]["id"], id.as_str());
    assert_eq!(
        send(&app, get_with("/v2/employees/nope", &t)).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, _, companies) = send(&app, get_with("/v1/companies", &t)).await;
    let companies: Value = serde_json::from_str(&companies).unwrap();
    let company_id = companies["data"][0]["id"].as_str().unwrap();
    assert!(companies["data"][0]["address"]["country"].is_string());
    assert_eq!(
        send(&app, get_with(&format!("/v1/companies/{company_id}"), &t)).await.0,
        StatusCode::OK
    );
    let (_, _, me) = send(&app, get_with("/v1/introspect", &t)).await;
    let me: Value = serde_json::from_str(&me).unwrap();
    assert_eq!(me["data"]["clientId"], CLIENT);
    assert!(me["data"]["subjectURN"].as_str().unwrap().starts_with("urn:pleo:user:"));
    // The token has users:read only.
    let (status, headers, _) = send(&app, get_with("/v3/export-jobs", &t)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        headers[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .contains("insufficient_scope")
    );
    let (_, _, installation) = send(&app, get_with("/v1/installations/me", &t)).await;
    assert_eq!(
        serde_json::from_str::<Value>(&installation).unwrap()["status"],
        "ACTIVATED"
    );
}

#[tokio::test]
async fn export_jobs_cover_every_documented_status() {
    let registration = Registration {
        client_id: CLIENT.into(),
        client_secret: SecretString::from(SECRET),
        redirect_uris: vec![REDIRECT.into()],
        scopes: vec!["users:read".into(), "export-jobs:read".into()],
        client_name: "jobs".into(),
    };
    let app = router(StandIn::new(
        registration,
        Settings {
            auto_approve: true,
            ..Settings::default()
        },
    ));
    let v = pkce::CodeVerifier::generate().unwrap();
    let query = authorize_query(&v, &[("scope", "users:read export-jobs:read")]);
    let (_, headers, _) = send(
        &app,
        Request::get(format!("/oauth/authorize?{query}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let code = param(&redirect_params(&headers), "code").unwrap().to_owned();
    let t: Value = serde_json::from_str(&send(&app, exchange(&code, v.as_str())).await.2).unwrap();
    let (status, _, body) = send(&app, get_with("/v3/export-jobs?limit=100", &t)).await;
    assert_eq!(status, StatusCode::OK);
    let jobs: Value = serde_json::from_str(&body).unwrap();
    for status in ["pending", "in_progress", "failed", "completed", "completed_with_errors"] {
        assert!(
            jobs["data"].as_array().unwrap().iter().any(|j| j["status"] == status),
            "{status}"
        );
    }
}

#[tokio::test]
async fn deleting_the_installation_revokes_every_token_of_the_client() {
    let (_, app) = stand_in(true);
    let first = tokens(&app).await;
    let second = tokens(&app).await;
    let delete = Request::delete("/v1/installations/me")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", first["access_token"].as_str().unwrap()),
        )
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, delete).await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        send(&app, get_with("/v2/employees", &second)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let refresh = token_request(
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", second["refresh_token"].as_str().unwrap()),
        ],
        Some(basic(CLIENT, SECRET)),
    );
    assert_eq!(error_of(&send(&app, refresh).await.2), "invalid_grant");
}

#[tokio::test]
async fn fault_knobs_expire_revoke_and_break_the_token_endpoint() {
    let (si, app) = stand_in(true);
    let t = tokens(&app).await;
    assert!(si.expire_access_token(t["access_token"].as_str().unwrap()));
    assert_eq!(
        send(&app, get_with("/v2/employees", &t)).await.0,
        StatusCode::UNAUTHORIZED
    );

    let t = tokens(&app).await;
    assert!(si.revoke_refresh_token(t["refresh_token"].as_str().unwrap()));
    assert_eq!(
        send(&app, get_with("/v2/employees", &t)).await.0,
        StatusCode::OK,
        "the access token lives on"
    );
    let refresh = |token: &Value| {
        token_request(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", token["refresh_token"].as_str().unwrap()),
            ],
            Some(basic(CLIENT, SECRET)),
        )
    };
    assert_eq!(error_of(&send(&app, refresh(&t)).await.2), "invalid_grant");

    let t = tokens(&app).await;
    si.set_token_faults(stand_in::TokenFaults {
        status: Some(503),
        remaining: 2,
        ..Default::default()
    });
    assert_eq!(send(&app, refresh(&t)).await.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(send(&app, refresh(&t)).await.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        send(&app, refresh(&t)).await.0,
        StatusCode::OK,
        "the fault applied to two requests only"
    );
}

#[tokio::test]
async fn knob_endpoints_exist_only_when_enabled() {
    let (_, app) = stand_in(true);
    let knob = || {
        Request::post("/_knobs/clock")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"shift_secs":60}"#))
            .unwrap()
    };
    assert_eq!(send(&app, knob()).await.0, StatusCode::NOT_FOUND);
    let registration = Registration {
        client_id: CLIENT.into(),
        client_secret: SecretString::from(SECRET),
        redirect_uris: vec![REDIRECT.into()],
        scopes: vec!["users:read".into()],
        client_name: "knobs".into(),
    };
    let si = StandIn::new(
        registration,
        Settings {
            fault_knobs: true,
            ..Settings::default()
        },
    );
    let before = si.clock().now();
    let app = router(si.clone());
    assert_eq!(send(&app, knob()).await.0, StatusCode::OK);
    assert!(si.clock().now() >= before + 60);
}

#[tokio::test]
async fn a_code_older_than_60_seconds_is_refused() {
    let (si, app) = stand_in(true);
    let v = pkce::CodeVerifier::generate().unwrap();
    let code = code_for(&app, &v).await;
    si.clock().shift_by(60);
    assert_eq!(
        error_of(&send(&app, exchange(&code, v.as_str())).await.2),
        "invalid_grant"
    );
}

#[tokio::test]
async fn consent_requests_are_capped() {
    let (si, app) = stand_in(false);
    let v = pkce::CodeVerifier::generate().unwrap();
    let challenge = pkce::CodeChallenge::s256(&v);
    let uri = format!(
        "/oauth/authorize?response_type=code&client_id={CLIENT}&redirect_uri={}&scope=users%3Aread&state=s&code_challenge={}&code_challenge_method=S256",
        form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>(),
        challenge.as_str()
    );
    for _ in 0..10_000 {
        assert_eq!(
            send(&app, Request::get(&uri).body(Body::empty()).unwrap()).await.0,
            StatusCode::OK
        );
    }
    assert_eq!(
        send(&app, Request::get(&uri).body(Body::empty()).unwrap()).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(si.held().1, 10_000);
    si.clock().shift_by(601);
    assert_eq!(
        send(&app, Request::get(&uri).body(Body::empty()).unwrap()).await.0,
        StatusCode::OK,
        "expired ones were swept"
    );
    assert_eq!(si.held().1, 1);
}

#[tokio::test]
async fn lists_page_with_pleos_cursors_forward_to_the_last_page_and_back() {
    let (_, app) = stand_in(true);
    let tokens = tokens(&app).await;
    let page = |query: String| {
        let app = app.clone();
        let tokens = tokens.clone();
        async move {
            let (status, _, body) = send(&app, get_with(&format!("/v2/employees?{query}"), &tokens)).await;
            (status, serde_json::from_str::<Value>(&body).unwrap())
        }
    };
    let ids = |body: &Value| -> Vec<String> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (status, first) = page("limit=10".to_owned()).await;
    assert_eq!(status, StatusCode::OK);
    let total = first["pagination"]["total"].as_u64().unwrap() as usize;
    assert!(total > 20, "enough employees for three pages");
    let mut seen = ids(&first);
    let mut current = first;
    let mut pages = 1;
    while current["pagination"]["hasNextPage"] == true {
        let after = current["pagination"]["endCursor"].as_str().unwrap().to_owned();
        let (status, next) = page(format!("limit=10&after={after}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(next["pagination"]["hasPreviousPage"], true);
        assert_eq!(next["pagination"]["currentRequestPagination"]["after"], after.as_str());
        seen.extend(ids(&next));
        current = next;
        pages += 1;
    }
    assert_eq!(pages, total.div_ceil(10));
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(
        (seen.len(), unique.len()),
        (total, total),
        "every employee once, in order"
    );
    // Back from the last page: the page before its first item.
    let before = current["pagination"]["startCursor"].as_str().unwrap().to_owned();
    let (_, previous) = page(format!("limit=10&before={before}")).await;
    let previous_ids = ids(&previous);
    assert_eq!(previous_ids.as_slice(), &seen[(pages - 2) * 10..(pages - 1) * 10]);
    for (query, why) in [
        ("after=bm90LW91cnM".to_owned(), "a cursor it never issued"),
        (format!("after={before}&before={before}"), "after and before together"),
    ] {
        let (status, body) = page(query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{why}");
        assert_eq!(body["type"], "bad_request", "{why}");
    }
}
