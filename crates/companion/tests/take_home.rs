//! Router tests of what a reader takes home from the transcript: the session as an HTTP Archive
//! and each exchange as a snippet, both without the secret or a token.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a step that fails fails the test, with the value in its message"
)]

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

mod support;
use support::*;

/// `GET uri` with `cookie`: status, headers and the body as text.
async fn get_text(app: &axum::Router, uri: &str, cookie: Option<&str>) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = app.clone().oneshot(get_with_cookie(uri, cookie)).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn the_transcript_downloads_as_a_har_archive_without_a_secret() {
    let (si, state, app) = against_standalone_stand_in().await;
    let cookie = sign_in(&state, &app).await;
    send(&app, get_with_cookie("/api/pleo/v2/employees?limit=2", Some(&cookie))).await;
    send(&app, json_post("/api/refresh", "", Some(&cookie))).await;
    let (status, headers, text) = get_text(&app, "/api/transcript/har", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(
        headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"pleo-walkthrough-custom.har\""
    );
    let har: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(har["log"]["version"], "1.2");
    let entries = har["log"]["entries"].as_array().unwrap();
    let comments: Vec<&str> = entries.iter().map(|e| e["comment"].as_str().unwrap()).collect();
    assert_eq!(comments, ["token_exchange", "api_call", "refresh"]);
    assert_eq!(entries[1]["request"]["queryString"][0]["name"], "limit");
    assert!(!text.contains(SECRET));
    for token in si.issued_tokens() {
        assert!(!text.contains(&token), "a token is in the archive");
    }
    let (status, _, body) = send(&app, get_with_cookie("/api/transcript/har", None)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("not_signed_in"))
    );
}

#[tokio::test]
async fn every_exchange_comes_as_curl_fetch_and_rust_with_variables_for_secrets() {
    let (si, state, app) = against_standalone_stand_in().await;
    let cookie = sign_in(&state, &app).await;
    send(&app, get_with_cookie("/api/pleo/v2/employees", Some(&cookie))).await;
    send(&app, json_post("/api/refresh", "", Some(&cookie))).await;
    let transcript = send(&app, get_with_cookie("/api/transcript", Some(&cookie))).await.2;
    let entries = transcript.as_array().unwrap();
    let ids: Vec<&str> = entries.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.iter().all(|id| id.len() == 16), "{ids:?}");
    let again = send(&app, get_with_cookie("/api/transcript", Some(&cookie))).await.2;
    assert_eq!(again[0]["id"], entries[0]["id"], "an entry keeps its id across reads");
    for (entry, variable) in ids
        .iter()
        .zip(["PLEO_CODE_VERIFIER", "PLEO_ACCESS_TOKEN", "PLEO_REFRESH_TOKEN"])
    {
        for language in ["curl", "fetch", "reqwest"] {
            let (status, headers, text) =
                get_text(&app, &format!("/api/transcript/{entry}/as/{language}"), Some(&cookie)).await;
            assert_eq!(status, StatusCode::OK, "{entry} as {language}");
            assert_eq!(headers[header::CONTENT_TYPE], "text/plain; charset=utf-8");
            assert!(text.contains(variable), "{language}: {text}");
            assert!(!text.contains(SECRET) && !text.contains("redacted"), "{text}");
            for token in si.issued_tokens() {
                assert!(!text.contains(&token), "a token is in a snippet");
            }
        }
    }
    for uri in [
        format!("/api/transcript/{}/as/cobol", ids[0]),
        "/api/transcript/0000000000000000/as/curl".to_owned(),
    ] {
        let (status, _, body) = send(&app, get_with_cookie(&uri, Some(&cookie))).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found")),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn a_download_link_names_the_frames_cookies_by_query_and_only_for_get() {
    let (_, state, app) = against_standalone_stand_in().await;
    let page_cookie = sign_in(&state, &app).await;
    let frame_cookie = page_cookie.replacen("pleo_walkthrough_", "pleo_walkthrough_embed_", 1);
    let (status, _, _) = get_text(&app, "/api/transcript/har?embed=frame", Some(&frame_cookie)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the frame's session cookie is read for ?embed=frame"
    );
    let (status, _, _) = get_text(&app, "/api/transcript/har", Some(&frame_cookie)).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "without it, the page's cookie is read"
    );
    let post = Request::post("/api/logout?embed=frame")
        .header(header::COOKIE, &frame_cookie)
        .header(contract::wire::CSRF_HEADER, contract::wire::CSRF_HEADER_VALUE)
        .header(header::ORIGIN, state.config.app_origin())
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = send(&app, post).await;
    let cleared: Vec<&str> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        status.is_success() && cleared.iter().all(|c| !c.starts_with("pleo_walkthrough_embed_")),
        "a POST does not take the scope from the query: {status} {cleared:?}"
    );
}
