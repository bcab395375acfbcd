//! The walkthrough framed by a documentation site, at the router: the frame's own partitioned
//! cookies, who may frame `/embed`, the pop-up's hand-off through the companion, and how the
//! app's files are cached. (The browser's side is in `tests/embed.rs` at the workspace root.)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a step that fails fails the test, with the value in its message"
)]

use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use companion::{AppState, router};
use serde_json::{Value, json};
use tower::ServiceExt as _;

mod support;
use attack_cases::record_case;
use support::*;

const DOCS: &str = "http://127.0.0.1:4000";

/// A request as the `/embed` frame sends it.
fn frame_post(path: &str, body: &str, cookie: Option<&str>) -> Request<Body> {
    let mut builder = post(path).header(contract::wire::EMBED_HEADER, contract::wire::EMBED_HEADER_VALUE);
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, cookie);
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

/// The frame's session cookie as the exchange set it, with its attributes. Two Set-Cookie
/// headers come, in no fixed order: the attempt's removal and the session.
fn frame_session_cookie(headers: &axum::http::HeaderMap) -> String {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("pleo_walkthrough_embed_session="))
        .expect("a session cookie")
}

/// Starts a sign-in from the frame; its state, verifier and attempt cookie.
async fn frame_start(app: &axum::Router) -> (pkce::State, pkce::CodeVerifier, String, String) {
    let verifier = pkce::CodeVerifier::generate().unwrap();
    let state = pkce::State::generate().unwrap();
    let (status, headers, _) = send(
        app,
        frame_post("/api/authorize/start", &start_body(state.as_str(), &verifier), None),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (cookie, full) = set_cookie(&headers);
    (state, verifier, cookie, full)
}

#[tokio::test]
async fn the_frame_gets_partitioned_cookies_of_its_own() {
    let (state, app) = local_on_a_port(&[]).await;
    let (oauth_state, verifier, attempt, full) = frame_start(&app).await;
    assert!(full.starts_with("pleo_walkthrough_embed_attempt_"), "{full}");
    for attribute in ["HttpOnly", "SameSite=None", "Secure", "Partitioned", "Path=/"] {
        assert!(full.contains(attribute), "{attribute} missing in {full}");
    }
    assert!(!full.contains("Domain"), "{full}");
    // Without the frame's header the same call sets the page's strict cookie.
    let page = send(
        &app,
        json_post(
            "/api/authorize/start",
            &start_body(pkce::State::generate().unwrap().as_str(), &verifier),
            None,
        ),
    )
    .await;
    assert!(set_cookie(&page.1).1.contains("SameSite=Strict"));

    // The exchange reads the frame's attempt cookie only with the frame's header.
    let exchange = exchange_body(&state, &verifier, &oauth_state).await;
    let (status, _, body) = send(&app, json_post("/api/token", &exchange, Some(&attempt))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("attempt_missing"))
    );
    let (status, headers, _) = send(&app, frame_post("/api/token", &exchange, Some(&attempt))).await;
    assert_eq!(status, StatusCode::OK);
    let full = frame_session_cookie(&headers);
    assert!(full.contains("Partitioned") && full.contains("SameSite=None"), "{full}");
    let session = full.split(';').next().unwrap().to_owned();
    // The page's calls do not read the frame's session, nor the frame's the page's.
    assert!(!signed_in(&app, &session).await);
    let frame_session = Request::get("/api/session")
        .header(contract::wire::EMBED_HEADER, contract::wire::EMBED_HEADER_VALUE)
        .header(header::COOKIE, &session)
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, frame_session).await.2["signed_in"], true);
    let (_, headers, _) = send(&app, frame_post("/api/logout", "", Some(&session))).await;
    let removal = set_cookie(&headers).1;
    assert!(
        removal.starts_with("pleo_walkthrough_embed_session=;") && removal.contains("Partitioned"),
        "{removal}"
    );
    record_case(
        "Embed",
        "frame's cookies read without the frame's header, or the page's in the frame",
        "not read: each scope has cookies of its own (SameSite=None; Partitioned in the frame)",
    );
}

/// A built app in a temporary folder of the test `name`: its page, the callback page and one
/// hashed file.
fn static_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("embed-static-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<!doctype html><title>app</title>").unwrap();
    std::fs::write(dir.join("callback.html"), "<!doctype html><title>callback</title>").unwrap();
    std::fs::write(dir.join("embed.html"), "<!doctype html><title>embed</title>").unwrap();
    std::fs::write(dir.join("app-0123456789abcdef.js"), "export default 1;").unwrap();
    std::fs::write(dir.join("embed-frame.js"), "1;").unwrap();
    dir
}

async fn get(app: &axum::Router, path: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    use tower::ServiceExt as _;
    let response = app.clone().oneshot(get_with_cookie(path, None)).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, headers, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn only_the_embed_origins_may_frame_the_embed_page() {
    let dir = static_dir("frame-ancestors");
    let dir_text = dir.display().to_string();
    let app = router(AppState::new(config(&[
        ("COMPANION_STATIC_DIR", &dir_text),
        ("COMPANION_EMBED_ORIGINS", &format!("{DOCS}, https://docs.example.com")),
    ])));
    let policy =
        |headers: &axum::http::HeaderMap| headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
    let (status, headers, body) = get(&app, "/embed?steps=1-3").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<title>embed</title>"), "the frame's own page");
    assert!(
        policy(&headers).ends_with(&format!("frame-ancestors {DOCS} https://docs.example.com")),
        "{}",
        policy(&headers)
    );
    for path in ["/", "/index.html", "/callback", "/embed-frame.js", "/api/config"] {
        let (_, headers, _) = get(&app, path).await;
        assert!(
            policy(&headers).contains("frame-ancestors 'none'"),
            "{path}: {}",
            policy(&headers)
        );
    }
    // Without the variable nobody may frame it.
    let closed = router(AppState::new(config(&[("COMPANION_STATIC_DIR", &dir_text)])));
    assert!(policy(&get(&closed, "/embed").await.1).ends_with("frame-ancestors 'none'"));
    record_case(
        "Embed",
        "/embed framed by an origin not in COMPANION_EMBED_ORIGINS",
        "refused by the browser: frame-ancestors names only the configured origins ('none' when unset)",
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn hashed_files_are_cached_for_good_and_pages_revalidated() {
    let dir = static_dir("cache-control");
    let app = router(AppState::new(config(&[(
        "COMPANION_STATIC_DIR",
        &dir.display().to_string(),
    )])));
    let cache = |headers: &axum::http::HeaderMap| headers[header::CACHE_CONTROL].to_str().unwrap().to_owned();
    let (status, headers, _) = get(&app, "/app-0123456789abcdef.js").await;
    assert_eq!(
        (status, cache(&headers).as_str()),
        (StatusCode::OK, "public, max-age=31536000, immutable")
    );
    let (_, headers, body) = get(&app, "/callback?code=c&state=s").await;
    assert!(
        body.contains("<title>callback</title>"),
        "the callback has its own small page"
    );
    assert_eq!(cache(&headers), "no-store", "its URL holds the code");
    record_case(
        "Embed",
        "the callback page, whose URL holds the code, kept by a cache",
        "never: served `Cache-Control: no-store`",
    );
    for path in ["/", "/embed", "/embed-frame.js", "/app-fedcba9876543210.js"] {
        assert_eq!(cache(&get(&app, path).await.1), "no-cache", "{path}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// `POST /api/embed/handoff` as the pop-up's callback page sends it: the status and the error
/// code (empty when there is none).
async fn deliver(app: &axum::Router, callback: &str) -> (StatusCode, String) {
    let body = json!({ "callback": callback }).to_string();
    let (status, _, body) = send(app, json_post("/api/embed/handoff", &body, None)).await;
    error_of((status, body))
}

/// `POST /api/embed/handoff/take` for `state` with `cookie`, from the frame or (`frame` false)
/// from the app's own page: the status and the body.
async fn take(app: &axum::Router, state: &pkce::State, cookie: Option<&str>, frame: bool) -> (StatusCode, Value) {
    let body = json!({ "state": state.as_str() }).to_string();
    let request = if frame {
        frame_post("/api/embed/handoff/take", &body, cookie)
    } else {
        json_post("/api/embed/handoff/take", &body, cookie)
    };
    let (status, _, body) = send(app, request).await;
    (status, body)
}

/// The status and the error code (empty when there is none) of an answer.
fn error_of((status, body): (StatusCode, Value)) -> (StatusCode, String) {
    (status, body["error"].as_str().unwrap_or("").to_owned())
}

#[tokio::test]
async fn a_handoff_reaches_only_the_frame_that_started_the_sign_in_and_only_once() {
    let (_, app) = local();
    let expected = |status, code: &str| (status, code.to_owned());

    // A callback nobody in a frame waits for: the page's own sign-in, or none.
    let (page_state, verifier) = (
        pkce::State::generate().unwrap(),
        pkce::CodeVerifier::generate().unwrap(),
    );
    let start = start_body(page_state.as_str(), &verifier);
    send(&app, json_post("/api/authorize/start", &start, None)).await;
    let stray = format!("?code=abc&state={}", page_state.as_str());
    assert_eq!(
        deliver(&app, &stray).await,
        expected(StatusCode::NOT_FOUND, "handoff_not_expected")
    );
    record_case(
        "Embed",
        "hand-off of a callback no frame's sign-in waits for",
        "404 handoff_not_expected: nothing kept (the callback page then runs the app's own checks)",
    );

    let (state, _, attempt, _) = frame_start(&app).await;
    let callback = format!("?code=the-code&state={}&iss=x", state.as_str());
    // The frame asks before the pop-up has answered.
    assert_eq!(
        error_of(take(&app, &state, Some(&attempt), true).await),
        expected(StatusCode::CONFLICT, "handoff_pending")
    );
    assert_eq!(deliver(&app, &callback).await, expected(StatusCode::ACCEPTED, ""));
    // Without the frame's attempt cookie of that state (another browser, the page's cookie).
    assert_eq!(
        error_of(take(&app, &state, None, true).await),
        expected(StatusCode::BAD_REQUEST, "attempt_missing")
    );
    assert_eq!(
        error_of(take(&app, &state, Some(&attempt), false).await).1,
        "attempt_missing"
    );
    record_case(
        "Embed",
        "hand-off taken without the frame's attempt cookie of that state",
        "400 attempt_missing: the callback stays for the frame that started the sign-in",
    );
    let (status, body) = take(&app, &state, Some(&attempt), true).await;
    assert_eq!(
        (status, body["callback"].as_str()),
        (StatusCode::OK, Some(callback.as_str()))
    );
    assert_eq!(
        error_of(take(&app, &state, Some(&attempt), true).await),
        expected(StatusCode::CONFLICT, "handoff_conflict")
    );
    let late = format!("?code=late&state={}", state.as_str());
    assert_eq!(
        deliver(&app, &late).await,
        expected(StatusCode::CONFLICT, "handoff_conflict")
    );
    record_case(
        "Embed",
        "hand-off taken twice, or a callback handed off after the take",
        "once: the second take and the late callback are 409 handoff_conflict",
    );

    // Someone who signed in elsewhere with a leaked authorize URL delivers first; the reader's
    // own pop-up then delivers too: neither callback is taken, and a new start re-arms nothing.
    let (state, verifier, attempt, _) = frame_start(&app).await;
    let theirs = format!("?code=someone-elses&state={}", state.as_str());
    assert_eq!(deliver(&app, &theirs).await, expected(StatusCode::ACCEPTED, ""));
    let again = start_body(state.as_str(), &verifier);
    let (status, _, _) = send(&app, frame_post("/api/authorize/start", &again, None)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let readers = format!("?code=the-readers&state={}", state.as_str());
    assert_eq!(
        deliver(&app, &readers).await,
        expected(StatusCode::CONFLICT, "handoff_conflict")
    );
    assert_eq!(
        error_of(take(&app, &state, Some(&attempt), true).await),
        expected(StatusCode::CONFLICT, "handoff_conflict")
    );
    record_case(
        "Embed",
        "two callbacks handed off for one frame's sign-in (its authorize URL used elsewhere), and a second start of it",
        "409 handoff_conflict for the second callback and for the frame's take: neither code is exchanged, the frame asks to start again; a start never re-arms the slot",
    );

    // Malformed hand-offs lose nothing and say why.
    let (state, _, _, _) = frame_start(&app).await;
    let repeated = format!("?code=a&state={0}&state={0}", state.as_str());
    assert_eq!(deliver(&app, &repeated).await.1, "handoff_not_expected");
    let huge = format!("?state={}&code={}", state.as_str(), "x".repeat(9000));
    assert_eq!(
        deliver(&app, &huge).await,
        expected(StatusCode::BAD_REQUEST, "callback_too_large")
    );
    let fine = format!("?code=c&state={}", state.as_str());
    assert_eq!(deliver(&app, &fine).await, expected(StatusCode::ACCEPTED, ""));
}

#[tokio::test]
async fn a_get_with_only_the_frames_cookies_changes_nothing_and_reads_only_the_har() {
    let (state, app) = local_on_a_port(&[]).await;
    let (oauth_state, verifier, attempt, _) = frame_start(&app).await;
    let exchange = exchange_body(&state, &verifier, &oauth_state).await;
    let (status, headers, _) = send(&app, frame_post("/api/token", &exchange, Some(&attempt))).await;
    assert_eq!(status, StatusCode::OK);
    let session = frame_session_cookie(&headers).split(';').next().unwrap().to_owned();
    let stand_in = state.stand_in.clone().unwrap();
    let transcript_len = || async {
        let request = Request::get("/api/transcript")
            .header(contract::wire::EMBED_HEADER, contract::wire::EMBED_HEADER_VALUE)
            .header(header::COOKIE, &session)
            .body(Body::empty())
            .unwrap();
        send(&app, request).await.2.as_array().map_or(0, Vec::len)
    };
    let before = transcript_len().await;
    // The access token expired: a read of the frame's session would refresh it.
    state.clock.shift_by(901);
    stand_in.clock().shift_by(901);
    // What an <img> on any page of the documentation site sends: the frame's cookies, no header,
    // no Origin, `?embed=frame` in the query.
    for path in [
        "/api/pleo/v2/employees?embed=frame",
        "/api/session?embed=frame",
        "/api/transcript?embed=frame",
    ] {
        let (status, _, body) = send(&app, get_with_cookie(path, Some(&session))).await;
        assert_eq!(
            (status, body["error"].as_str(), body["signed_in"].as_bool()),
            if path.starts_with("/api/session") {
                (StatusCode::OK, None, Some(false))
            } else {
                (StatusCode::UNAUTHORIZED, Some("not_signed_in"), None)
            },
            "{path}: the frame's session is not read: {body}"
        );
    }
    assert_eq!(
        stand_in.token_requests("refresh_token"),
        0,
        "the refresh token was not presented"
    );
    assert_eq!(transcript_len().await, before, "nothing added to the transcript");
    // The download link, which cannot carry the header, still reads the frame's session.
    let har = app
        .clone()
        .oneshot(get_with_cookie("/api/transcript/har?embed=frame", Some(&session)))
        .await
        .unwrap();
    assert_eq!(har.status(), StatusCode::OK);
    record_case(
        "Embed",
        "a GET carrying only the frame's cookies and `?embed=frame` (an <img> on the documentation site) to the API proxy, the session or the transcript",
        "the frame's session is not read (401 `not_signed_in`): no API call, no refresh, no transcript entry; only the HAR download reads it",
    );
}

#[tokio::test]
async fn a_hashed_file_is_sent_precompressed_as_the_browser_accepts_and_plain_otherwise() {
    let dir = static_dir("precompressed");
    let wasm = "app_bg-0123456789abcdef.wasm";
    std::fs::write(dir.join(wasm), b"\0asm plain").unwrap();
    std::fs::write(dir.join(format!("{wasm}.br")), b"brotli bytes").unwrap();
    std::fs::write(dir.join(format!("{wasm}.gz")), b"gzip bytes").unwrap();
    let app = router(AppState::new(config(&[(
        "COMPANION_STATIC_DIR",
        &dir.display().to_string(),
    )])));
    let fetch = |accept: Option<&'static str>| {
        let app = app.clone();
        async move {
            let mut request = Request::get(format!("/{wasm}"));
            if let Some(accept) = accept {
                request = request.header(header::ACCEPT_ENCODING, accept);
            }
            let response = app.oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
            let headers = response.headers().clone();
            let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
            (headers, body)
        }
    };
    for (accept, encoding, body) in [
        (Some("gzip, deflate, br, zstd"), Some("br"), &b"brotli bytes"[..]),
        (Some("gzip, deflate"), Some("gzip"), &b"gzip bytes"[..]),
        (None, None, &b"\0asm plain"[..]),
    ] {
        let (headers, got) = fetch(accept).await;
        assert_eq!(
            headers.get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap()),
            encoding,
            "{accept:?}"
        );
        assert_eq!(&got[..], body, "{accept:?}");
        assert_eq!(headers[header::CONTENT_TYPE], "application/wasm", "{accept:?}");
        assert_eq!(headers[header::VARY], "accept-encoding", "{accept:?}");
        assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
    }
    // A range of it (206) and a revalidation (304) are of one encoding too: caches keep them
    // apart by Accept-Encoding as well.
    let (headers, _) = fetch(Some("br")).await;
    let modified = headers[header::LAST_MODIFIED].clone();
    for (extra, status) in [
        (
            (header::RANGE, HeaderValue::from_static("bytes=0-2")),
            StatusCode::PARTIAL_CONTENT,
        ),
        ((header::IF_MODIFIED_SINCE, modified), StatusCode::NOT_MODIFIED),
    ] {
        let request = Request::get(format!("/{wasm}"))
            .header(header::ACCEPT_ENCODING, "br")
            .header(extra.0.clone(), extra.1)
            .body(Body::empty())
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), status, "{}", extra.0);
        assert_eq!(response.headers()[header::VARY], "accept-encoding", "{status}");
    }
    record_case(
        "Embed",
        "a range (206) or a revalidation (304) of a precompressed file",
        "sent with `Vary: accept-encoding`, as the whole file is: no cache serves the brotli bytes to a browser that asked for gzip",
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn the_cookie_check_sets_a_frame_cookie_and_says_whether_it_came_back() {
    let (_, app) = local_on_a_port(&[]).await;
    let check = |cookie: Option<&str>| {
        let mut request = Request::get("/api/embed/cookie-check")
            .header(contract::wire::EMBED_HEADER, contract::wire::EMBED_HEADER_VALUE);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        request.body(Body::empty()).unwrap()
    };
    let (status, _, body) = send(&app, check(None)).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "kept": false })));

    let (status, headers, _) = send(&app, frame_post("/api/embed/cookie-check", "", None)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (cookie, full) = set_cookie(&headers);
    assert!(full.starts_with("pleo_walkthrough_embed_cookie_check=1"), "{full}");
    // The attributes of the frame's real cookies: a browser that keeps this one keeps those.
    for attribute in [
        "HttpOnly",
        "SameSite=None",
        "Secure",
        "Partitioned",
        "Path=/",
        "Max-Age=60",
    ] {
        assert!(full.contains(attribute), "{attribute} missing in {full}");
    }
    let (status, _, body) = send(&app, check(Some(&cookie))).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "kept": true })));

    // Setting it is a state-changing POST: without the CSRF header it is refused.
    let bare = Request::post("/api/embed/cookie-check")
        .header(contract::wire::EMBED_HEADER, contract::wire::EMBED_HEADER_VALUE)
        .header(header::ORIGIN, support::ORIGIN)
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = send(&app, bare).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("csrf_header_missing"))
    );
    assert!(headers.get(header::SET_COOKIE).is_none());
}

#[tokio::test]
async fn the_way_back_leads_only_to_a_page_of_a_site_allowed_to_frame_the_walkthrough() {
    let (_, app) = local_on_a_port(&[("COMPANION_EMBED_ORIGINS", DOCS)]).await;
    let ask = |to: &str| {
        let to: String = form_urlencoded::byte_serialize(to.as_bytes()).collect();
        Request::get(format!("/api/embed/way-back?to={to}"))
            .body(Body::empty())
            .unwrap()
    };
    let page = format!("{DOCS}/guides/oauth");
    let (status, _, body) = send(&app, ask(&page)).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "to": page })));
    for elsewhere in [
        "https://evil.example/",
        "http://127.0.0.1:4000.evil.example/",
        "javascript:alert(1)",
    ] {
        let (status, _, body) = send(&app, ask(elsewhere)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("way_back_refused")),
            "{elsewhere}"
        );
    }
    let bare = Request::get("/api/embed/way-back").body(Body::empty()).unwrap();
    assert_eq!(send(&app, bare).await.0, StatusCode::BAD_REQUEST);
    record_case(
        "Embed",
        "a link to the full page naming another site as the documentation page to return to",
        "way_back_refused: the full page offers no way back there",
    );
}
