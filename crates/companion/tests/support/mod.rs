//! What the router, attack and load tests share: configuration, one-shot requests, a stand-in on a
//! loopback port and a complete sign-in.
#![allow(dead_code)]

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use companion::{AppState, Config, router};
use secrecy::SecretString;
use serde_json::Value;
use tower::ServiceExt;

pub const SECRET: &str = "router-test-secret-5e1f";
pub const ORIGIN: &str = "http://localhost:8080";

pub fn config(vars: &[(&str, &str)]) -> Config {
    Config::from_lookup(|name| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
            .or_else(|| (name == "PLEO_CLIENT_SECRET").then(|| SECRET.to_owned()))
    })
    .unwrap()
}

pub fn local() -> (AppState, Router) {
    let state = AppState::new(config(&[]));
    (state.clone(), router(state))
}

pub async fn send(app: &Router, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, headers, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// `GET uri`, with the cookie header `cookie` if any.
pub fn get_with_cookie(uri: &str, cookie: Option<&str>) -> Request<Body> {
    let mut builder = Request::get(uri);
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, cookie);
    }
    builder.body(Body::empty()).unwrap()
}

/// Whether `cookie` names a live, signed-in session (`GET /api/session`).
pub async fn signed_in(app: &Router, cookie: &str) -> bool {
    send(app, get_with_cookie("/api/session", Some(cookie))).await.2["signed_in"] == true
}

/// `http://127.0.0.1:<port>` for a port that was free a moment ago: nothing listens there.
pub async fn closed_port_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port())
}

pub fn post(path: &str) -> axum::http::request::Builder {
    Request::post(path)
        .header(contract::wire::CSRF_HEADER, contract::wire::CSRF_HEADER_VALUE)
        .header(header::ORIGIN, ORIGIN)
        .header(header::CONTENT_TYPE, "application/json")
}

pub fn json_post(path: &str, body: &str, cookie: Option<&str>) -> Request<Body> {
    let mut builder = post(path);
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, cookie);
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

pub fn start_body(state: &str, verifier: &pkce::CodeVerifier) -> String {
    serde_json::to_string(&flow::start_request(
        state,
        pkce::CodeChallenge::s256(verifier).as_str(),
    ))
    .unwrap()
}

/// `name=value` of the first Set-Cookie header, and the whole header.
pub fn set_cookie(headers: &axum::http::HeaderMap) -> (String, String) {
    let full = headers
        .get(header::SET_COOKIE)
        .expect("a cookie is set")
        .to_str()
        .unwrap()
        .to_owned();
    (full.split(';').next().unwrap().to_owned(), full)
}

/// A stand-in on a free port with auto-approve, and a companion configured as `custom` for it.
pub async fn against_standalone_stand_in() -> (stand_in::StandIn, AppState, Router) {
    against_standalone_stand_in_with(&[]).await
}

/// As [`against_standalone_stand_in`], with more configuration variables.
pub async fn against_standalone_stand_in_with(extra: &[(&str, &str)]) -> (stand_in::StandIn, AppState, Router) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let registration = stand_in::Registration {
        client_id: "client-1".into(),
        client_secret: SecretString::from(SECRET),
        redirect_uris: vec!["http://localhost:8080/callback".into()],
        scopes: vec!["users:read".into()],
        client_name: "router tests".into(),
    };
    let si = stand_in::StandIn::new(
        registration,
        stand_in::Settings {
            auto_approve: true,
            ..Default::default()
        },
    );
    let app = stand_in::router(si.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let base = format!("http://{addr}");
    let mut vars = vec![
        ("PLEO_ENV", "custom"),
        ("PLEO_AUTHORIZATION_SERVER_URL", base.as_str()),
        ("PLEO_CLIENT_ID", "client-1"),
        ("PLEO_SCOPES", "users:read"),
    ];
    vars.extend_from_slice(extra);
    let state = AppState::new(config(&vars));
    (si, state.clone(), router(state))
}

/// A `local` companion (the stand-in embedded, auto-approving) serving on a free loopback port,
/// so that a sign-in can go through its stand-in; more configuration variables in `extra`.
pub async fn local_on_a_port(extra: &[(&str, &str)]) -> (AppState, Router) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let mut vars = vec![("COMPANION_ADDR", addr.as_str()), ("STAND_IN_AUTO_APPROVE", "1")];
    vars.extend_from_slice(extra);
    let state = AppState::new(config(&vars));
    let app = router(state.clone());
    let served = app.clone();
    tokio::spawn(async move { axum::serve(listener, served).await.unwrap() });
    (state, app)
}

/// Signs in through the router: start, authorize (auto-approved), exchange. Returns the cookie.
pub async fn sign_in(state: &AppState, app: &Router) -> String {
    try_sign_in(state, app)
        .await
        .unwrap_or_else(|(status, body)| panic!("sign-in failed: {status} {body}"))
}

/// The rest of a sign-in started with `verifier` and `oauth_state`: the authorize request
/// (auto-approved by the stand-in), the callback's checks, and `POST /api/token` with `cookies`
/// (the browser's attempt cookies). The exchange's answer.
pub async fn authorize_and_exchange(
    state: &AppState,
    app: &Router,
    verifier: &pkce::CodeVerifier,
    oauth_state: &pkce::State,
    cookies: &str,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let exchange = exchange_body(state, verifier, oauth_state).await;
    send(app, json_post("/api/token", &exchange, Some(cookies))).await
}

/// The body of `POST /api/token` for a sign-in started with `verifier` and `oauth_state`: the
/// authorize request (auto-approved by the stand-in) and the callback's checks, for its code.
pub async fn exchange_body(state: &AppState, verifier: &pkce::CodeVerifier, oauth_state: &pkce::State) -> String {
    let config = state.config.public();
    let challenge = pkce::CodeChallenge::s256(verifier);
    let url = flow::AuthorizeRequest::for_config(&config, oauth_state.as_str(), challenge.as_str())
        .url()
        .unwrap();
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirect = no_redirects.get(url).send().await.unwrap();
    let location = redirect.headers()["location"].to_str().unwrap().to_owned();
    let callback = flow::check_callback(location.split_once('?').unwrap().1, Some(oauth_state.as_str()), None).unwrap();
    serde_json::json!({"code": callback.code(), "code_verifier": verifier.as_str(), "state": oauth_state.as_str()})
        .to_string()
}

/// `POST /api/authorize/start` with a new verifier and state, from the app's own page: the
/// verifier, the state and the attempt cookie (`name=value`); the status and body when refused.
pub async fn start_attempt(app: &Router) -> Result<(pkce::CodeVerifier, pkce::State, String), (StatusCode, Value)> {
    let verifier = pkce::CodeVerifier::generate().unwrap();
    let oauth_state = pkce::State::generate().unwrap();
    let (status, headers, body) = send(
        app,
        json_post(
            "/api/authorize/start",
            &start_body(oauth_state.as_str(), &verifier),
            None,
        ),
    )
    .await;
    if !status.is_success() {
        return Err((status, body));
    }
    let (attempt, _) = set_cookie(&headers);
    Ok((verifier, oauth_state, attempt))
}

/// The session cookie an answer sets (`name=value`), and the whole header, if it sets one.
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<(String, String)> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("pleo_walkthrough_session="))
        .map(|full| (full.split(';').next().unwrap().to_owned(), full))
}

/// As [`sign_in`], with the failing status and body instead of a panic.
pub async fn try_sign_in(state: &AppState, app: &Router) -> Result<String, (StatusCode, Value)> {
    let (verifier, oauth_state, attempt) = start_attempt(app).await?;
    let (status, headers, summary) = authorize_and_exchange(state, app, &verifier, &oauth_state, &attempt).await;
    if status != StatusCode::OK {
        return Err((status, summary));
    }
    assert_eq!(summary["token_type"], "Bearer");
    assert_eq!(summary["has_refresh_token"], true);
    let (session, full) = session_cookie(&headers).expect("a session cookie");
    assert!(full.contains("HttpOnly") && full.contains("SameSite=Strict"));
    Ok(session)
}

/// `401 \`code\``: a companion answer as the case list shows it.
pub fn outcome(status: StatusCode, body: &Value) -> String {
    format!(
        "{} `{}`",
        status.as_u16(),
        body["error"].as_str().unwrap_or("(no code)")
    )
}
