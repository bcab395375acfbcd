//! The walkthrough end to end in headless Chromium: configuration, PKCE in WASM, consent at
//! the stand-in, the callback, the companion's code exchange, and an API call.

use e2e_harness::{Browser, Mode, Walkthrough, dist_dir};

/// Steps 1-6 of the walking skeleton; returns the verifier and challenge the page showed.
async fn sign_in_and_call_the_api(browser: &Browser, wt: &Walkthrough, shots: &str) {
    browser.client.goto(&wt.url("/")).await.unwrap();
    assert_eq!(browser.text("[data-testid=client-id]").await, wt.state.config.client_id);
    assert_eq!(browser.text("[data-testid=redirect-uri]").await, wt.url("/callback"));
    assert_eq!(browser.text("[data-testid=auth-method]").await, "client_secret_basic");
    browser.screenshot(&format!("{shots}-1-config")).await;

    browser.click("#generate").await;
    let verifier = browser.text("[data-testid=verifier]").await;
    let challenge = browser.text("[data-testid=challenge]").await;
    let state = browser.text("[data-testid=state]").await;
    let parsed = pkce::CodeVerifier::parse(&verifier).expect("the page shows an RFC 7636 verifier");
    assert_eq!(pkce::CodeChallenge::s256(&parsed).as_str(), challenge, "the WASM challenge is S256 of the verifier");
    assert_eq!(state.len(), 43);
    let url = browser.text("[data-testid=authorize-request-url]").await;
    assert!(url.starts_with(&format!("{}/oauth/authorize?", wt.state.config.authorization_server_url)));
    assert!(url.contains(&format!("code_challenge={challenge}")) && url.contains("code_challenge_method=S256"));
    browser.screenshot(&format!("{shots}-2-authorize")).await;

    browser.click("#authorize-go").await;
    browser.find("#approve").await;
    browser.screenshot(&format!("{shots}-3-consent")).await;
    browser.click("#approve").await;

    browser.find("#exchanged").await;
    assert!(browser.text("[data-testid=access-token-hint]").await.contains("chars"));
    let address = browser.client.current_url().await.unwrap();
    assert_eq!(address.query(), None, "the code is removed from the address bar");
    browser.screenshot(&format!("{shots}-4-exchanged")).await;

    browser.click("#call-employees").await;
    assert_eq!(browser.text("[data-testid=api-status]").await, "200");
    let body: serde_json::Value = serde_json::from_str(&browser.text("[data-testid=api-body]").await).unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 10);
    assert!(body["data"][0]["email"].as_str().unwrap().contains('@'));
    assert_eq!(body["pagination"]["total"], 24);
    browser.screenshot(&format!("{shots}-5-api")).await;
}

/// Asserts that no forbidden string is in anything the browser received, in the built files,
/// or in the page's storage, script-visible cookies and DOM.
async fn assert_nothing_secret_reached_the_browser(browser: &Browser, wt: &Walkthrough) {
    let forbidden = wt.forbidden_strings();
    assert!(forbidden.len() >= 5, "the secret, its Basic forms, and at least one access and refresh token");
    let seen = wt.recorder.seen();
    assert!(seen.iter().any(|s| s.request.starts_with("POST /api/token")), "the recorder saw the browser's calls");
    for response in &seen {
        for secret in &forbidden {
            assert!(!response.body.contains(secret.as_str()), "a secret is in the body of {}", response.request);
            assert!(!response.head.contains(secret.as_str()), "a secret is in the headers of {}", response.request);
        }
    }
    for file in std::fs::read_dir(dist_dir()).unwrap() {
        let bytes = std::fs::read(file.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(e2e_harness::SECRET), "the secret is in a served file");
    }
    let page = browser.page_state().await;
    for secret in &forbidden {
        assert!(!page.contains(secret.as_str()), "a secret is in the page's storage, cookies or DOM");
    }
    let state: serde_json::Value = serde_json::from_str(&page).unwrap();
    assert_eq!(state["cookie"], "", "the session cookie is HttpOnly");
    assert_eq!(state["session"], serde_json::json!([]), "the verifier and state were used up");
    assert_eq!(state["local"], serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn local_flow_completes_and_no_secret_or_token_reaches_the_browser() {
    let wt = Walkthrough::start(Mode::Local).await;
    let browser = Browser::launch().await;
    sign_in_and_call_the_api(&browser, &wt, "local").await;
    assert_eq!(wt.stand_in.token_requests("authorization_code"), 1);
    assert_nothing_secret_reached_the_browser(&browser, &wt).await;

    // Reloading the walkthrough shows the session kept by the companion.
    browser.client.goto(&wt.url("/")).await.unwrap();
    browser.find("#token-summary").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn custom_server_flow_runs_with_only_the_contract_variables() {
    let wt = Walkthrough::start(Mode::Custom).await;
    assert!(wt.state.stand_in.is_none(), "custom mode embeds no stand-in");
    let browser = Browser::launch().await;
    assert_eq!(wt.state.config.client_id, e2e_harness::CUSTOM_CLIENT_ID);
    sign_in_and_call_the_api(&browser, &wt, "custom").await;
    assert!(wt.standalone.is_some());
    assert_eq!(wt.stand_in.token_requests("authorization_code"), 1);
    assert_nothing_secret_reached_the_browser(&browser, &wt).await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn denied_consent_is_shown_as_authorization_denied() {
    let wt = Walkthrough::start(Mode::Local).await;
    let browser = Browser::launch().await;
    browser.client.goto(&wt.url("/")).await.unwrap();
    browser.click("#generate").await;
    browser.click("#authorize-go").await;
    browser.click("#deny").await;
    let error = browser.find("[data-error-code]").await;
    assert_eq!(error.attr("data-error-code").await.unwrap().as_deref(), Some("authorization_denied"));
    assert!(browser.text("[role=alert]").await.contains("access_denied"));
    assert_eq!(wt.stand_in.token_requests("authorization_code"), 0, "no exchange after a denial");
    browser.find("#start-again").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn replayed_callback_is_refused_without_a_second_exchange() {
    let wt = Walkthrough::start(Mode::Local).await;
    let browser = Browser::launch().await;
    sign_in_and_call_the_api(&browser, &wt, "replay").await;
    // The stand-in's redirect to the callback, as the browser received it.
    let redirect = wt
        .recorder
        .seen()
        .into_iter()
        .find(|s| s.request.starts_with("POST /stand-in/oauth/authorize/decision"))
        .expect("the consent decision was recorded");
    let location = redirect.head.split("\"location\": \"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert!(location.contains("code=") && location.contains("state="));
    browser.client.goto(&location).await.unwrap();
    let error = browser.find("[data-error-code]").await;
    assert_eq!(error.attr("data-error-code").await.unwrap().as_deref(), Some("no_pending_authorization"));
    assert_eq!(wt.stand_in.token_requests("authorization_code"), 1, "the replayed code never reached the token endpoint");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn page_names_the_command_when_the_companion_is_not_running() {
    // What `trunk serve` does when its /api/ proxy finds no companion: an empty 500.
    let app = axum::Router::new()
        .route("/api/{*rest}", axum::routing::any(|| async { axum::http::StatusCode::INTERNAL_SERVER_ERROR }))
        .fallback_service(tower_http::services::ServeDir::new(dist_dir()));
    let server = e2e_harness::Server::spawn(e2e_harness::free_listener().await, app);
    let browser = Browser::launch().await;
    browser.client.goto(&format!("http://localhost:{}/", server.addr.port())).await.unwrap();
    let error = browser.find("[data-error-code]").await;
    assert_eq!(error.attr("data-error-code").await.unwrap().as_deref(), Some("companion_unreachable"));
    assert!(browser.text("[role=alert]").await.contains("cargo run -p companion"));
    browser.screenshot("companion-down").await;
    browser.close().await;
}
