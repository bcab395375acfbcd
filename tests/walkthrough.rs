//! The walkthrough end to end in every engine: configuration, PKCE in WASM, consent at
//! the stand-in, the callback, the companion's code exchange, and an API call.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a step that fails fails the test, with the value in its message"
)]

use e2e_harness::{
    Browser, Engine, Mode, Walkthrough, assert_nothing_secret_reached_the_browser, dist_dir, sign_in_and_call_the_api,
};

async fn local_flow_completes_and_no_secret_or_token_reaches_the_browser(engine: Engine) {
    let wt = Walkthrough::start(Mode::Local).await;
    let browser = Browser::launch(engine).await;
    sign_in_and_call_the_api(&browser, &wt, "local").await;
    assert_eq!(wt.stand_in.token_requests("authorization_code"), 1);
    assert_nothing_secret_reached_the_browser(&browser, &wt).await;

    // Reloading the walkthrough shows the session kept by the companion.
    browser.client.goto(&wt.url("/")).await.unwrap();
    browser.find("#token-summary").await;
    browser.close().await;
}

async fn custom_server_flow_runs_with_only_the_contract_variables(engine: Engine) {
    let wt = Walkthrough::start(Mode::Custom).await;
    assert!(wt.state.stand_in.is_none(), "custom mode embeds no stand-in");
    let browser = Browser::launch(engine).await;
    assert_eq!(wt.state.config.client_id, e2e_harness::CUSTOM_CLIENT_ID);
    sign_in_and_call_the_api(&browser, &wt, "custom").await;
    assert!(wt.standalone.is_some());
    assert_eq!(wt.stand_in.token_requests("authorization_code"), 1);
    assert_nothing_secret_reached_the_browser(&browser, &wt).await;
    browser.close().await;
}

async fn denied_consent_is_shown_as_authorization_denied(engine: Engine) {
    let wt = Walkthrough::start(Mode::Local).await;
    let browser = Browser::launch(engine).await;
    browser.client.goto(&wt.url("/")).await.unwrap();
    browser.click("#generate").await;
    browser.click("#authorize-go").await;
    browser.click("#deny").await;
    assert_eq!(browser.error_code("body").await, "authorization_denied");
    assert!(browser.text("[role=alert]").await.contains("access_denied"));
    assert_eq!(
        wt.stand_in.token_requests("authorization_code"),
        0,
        "no exchange after a denial"
    );
    e2e_harness::record_case(
        "Callback and flow",
        "Deny on the consent screen",
        "page shows `authorization_denied` with the server's `access_denied`",
    );
    browser.find("#start-again").await;
    browser.close().await;
}

async fn all_six_steps_refresh_single_flight_revocation_and_a_return_to_step_6(engine: Engine) {
    let wt = Walkthrough::start(Mode::Local).await;
    let browser = Browser::launch(engine).await;
    sign_in_and_call_the_api(&browser, &wt, "steps").await;

    // Step 4: the explorer, with the id filled from the list.
    browser.click("#step-4 input[name=endpoint][value='1']").await;
    browser.click("#call-selected").await;
    browser.wait_for_text("[data-testid=api-status]", "200").await;
    assert!(browser.text("[data-testid=api-body]").await.contains("\"data\""));

    // Step 5: countdown, manual refresh, single flight.
    let left: u64 = browser.text("[data-testid=expires-left]").await.parse().unwrap();
    assert!((800..=900).contains(&left), "{left}");
    browser.click("#refresh-now").await;
    browser
        .wait_for_text("#step-5 [data-testid=outcome]", "Refreshed")
        .await;
    browser.click("#single-flight").await;
    let proof = browser
        .wait_for_text("#step-5 [data-testid=outcome]", "after 1 refresh")
        .await;
    assert!(proof.contains("[200, 200, 200, 200, 200]"), "{proof}");
    browser.screenshot_of("step-5", "steps-6-refresh").await;

    // Step 6: expiry recovered, a failing token endpoint survived, revocation ends in re-authorization.
    browser.click("#fault-expire").await;
    browser.wait_for_text("#step-6 [data-testid=outcome]", "HTTP 200").await;
    browser.click("#fault-token-endpoint").await;
    let survived = browser
        .wait_for_text("#step-6 [data-testid=outcome]", "token_endpoint_failed")
        .await;
    assert!(survived.contains("Still signed in: true"), "{survived}");
    browser.click("#fault-revoke").await;
    assert_eq!(browser.error_code("#step-6").await, "reauthorization_required");
    browser.screenshot_of("step-6", "steps-7-revoked").await;
    browser.click("#step-6 [data-testid=authorize-again]").await;
    browser.click("#approve").await;
    browser.find("#exchanged").await;
    let address = browser.client.current_url().await.unwrap();
    assert_eq!(address.fragment(), Some("step-6"), "the user is back where they were");
    browser.screenshot_of("step-6", "steps-8-back-at-step-6").await;
    assert_nothing_secret_reached_the_browser(&browser, &wt).await;

    // Disconnect needs the explicit confirmation.
    let disconnect = browser.find("#disconnect").await;
    assert!(disconnect.attr("disabled").await.unwrap().is_some());
    browser.click("#confirm-disconnect").await;
    browser.click("#disconnect").await;
    browser
        .wait_for_text("#step-6 [data-testid=outcome]", "Disconnected")
        .await;
    browser.close().await;
}

async fn the_documentation_page_embeds_the_walkthrough_and_completes_step_2(engine: Engine) {
    let wt = Walkthrough::start(Mode::Local).await;
    let browser = Browser::launch(engine).await;
    browser.client.goto(&wt.url("/docs-example.html")).await.unwrap();
    browser.find("#pleo-oauth-walkthrough #step-1").await;
    assert_eq!(
        browser.text("#pleo-oauth-walkthrough [data-testid=client-id]").await,
        wt.state.config.client_id
    );
    assert!(
        browser.client.find(fantoccini::Locator::Css("#step-4")).await.is_err(),
        "data-steps=1-3 shows steps 1 to 3 only"
    );
    assert!(
        browser
            .client
            .find(fantoccini::Locator::Css("#step-1 details.guide-details"))
            .await
            .is_ok(),
        "compact mode"
    );
    browser.click("#generate").await;
    browser.click("#authorize-go").await;
    browser.find("#approve").await;
    browser.screenshot("embed-consent").await;
    browser.click("#approve").await;
    browser.find("#pleo-oauth-walkthrough #exchanged").await;
    let address = browser.client.current_url().await.unwrap();
    assert_eq!(
        (address.path(), address.fragment()),
        ("/docs-example.html", Some("step-3"))
    );
    browser.close().await;
}

async fn replayed_callback_is_refused_without_a_second_exchange(engine: Engine) {
    let wt = Walkthrough::start(Mode::Local).await;
    let browser = Browser::launch(engine).await;
    sign_in_and_call_the_api(&browser, &wt, "replay").await;
    // The stand-in's redirect to the callback, as the browser received it.
    let redirect = wt
        .recorder
        .seen()
        .into_iter()
        .find(|s| s.request.starts_with("POST /stand-in/oauth/authorize/decision"))
        .expect("the consent decision was recorded");
    let location = redirect.location().expect("a redirect");
    assert!(location.contains("code=") && location.contains("state="));
    browser.client.goto(&location).await.unwrap();
    assert_eq!(browser.error_code("body").await, "no_pending_authorization");
    assert_eq!(
        wt.stand_in.token_requests("authorization_code"),
        1,
        "the replayed code never reached the token endpoint"
    );
    e2e_harness::record_case(
        "Callback and flow",
        "callback replayed after success (back button)",
        "page shows `no_pending_authorization`; no second exchange",
    );
    browser.close().await;
}

async fn page_names_the_command_when_the_companion_is_not_running(engine: Engine) {
    // What `trunk serve` does when its /api/ proxy finds no companion: an empty 500.
    let app = axum::Router::new()
        .route(
            "/api/{*rest}",
            axum::routing::any(|| async { axum::http::StatusCode::INTERNAL_SERVER_ERROR }),
        )
        .fallback_service(tower_http::services::ServeDir::new(dist_dir()));
    let server = e2e_harness::Server::spawn(e2e_harness::free_listener().await, app);
    let browser = Browser::launch(engine).await;
    browser
        .client
        .goto(&format!("http://localhost:{}/", server.addr.port()))
        .await
        .unwrap();
    assert_eq!(browser.error_code("body").await, "companion_unreachable");
    assert!(browser.text("[role=alert]").await.contains("cargo run -p companion"));
    browser.screenshot("companion-down").await;
    browser.close().await;
}

async fn the_app_arrives_compressed_from_the_companion_and_still_instantiates(engine: Engine) {
    e2e_harness::release_build().unwrap();
    let wt = Walkthrough::start(Mode::Local).await;
    let browser = Browser::launch(engine).await;
    browser.client.goto(&wt.url("/")).await.unwrap();
    // The step 2 button exists only once the module was compiled and the app mounted.
    browser.find("#generate").await;
    let seen = wt.recorder.seen();
    let wasm = seen
        .iter()
        .find(|s| s.request.contains("/app_bg-") && s.request.ends_with(".wasm"))
        .expect("the browser fetched the wasm from the companion");
    // WebKitGTK (libsoup) does not ask for brotli: it gets the gzip file.
    let expected = match engine {
        Engine::Chromium | Engine::Firefox => "br",
        Engine::WebKit => "gzip",
    };
    assert!(
        wasm.head.contains(&format!("\"content-encoding\": \"{expected}\"")),
        "{}",
        wasm.head
    );
    assert!(wasm.head.contains("\"vary\": \"accept-encoding\""), "{}", wasm.head);
    let sizes = browser
        .client
        .execute(
            "const e = performance.getEntriesByType('resource').find(e => e.name.includes('/app_bg-')); \
             return [e.encodedBodySize, e.decodedBodySize];",
            vec![],
        )
        .await
        .unwrap();
    let (encoded, decoded) = (sizes[0].as_u64().unwrap(), sizes[1].as_u64().unwrap());
    assert!(
        encoded > 0 && encoded * 2 < decoded,
        "the browser decoded {encoded} B of {expected} into {decoded} B"
    );
    browser.close().await;
}

#[test]
fn a_build_that_is_not_the_release_one_is_refused_with_the_command_that_makes_it() {
    let dir = std::env::temp_dir().join(format!("walkthrough-dist-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // What `trunk serve` writes: its files under their plain names.
    std::fs::write(
        dir.join("index.html"),
        r#"<script type="module">import init from "/app.js"; init("/app_bg.wasm");</script>"#,
    )
    .unwrap();
    let refused = e2e_harness::release_build_in(&dir).unwrap_err();
    assert!(refused.contains("cargo xtask build-app"), "{refused}");
    std::fs::write(
        dir.join("index.html"),
        r#"<script type="module">import init from "/app-0123456789abcdef.js"; init("/app_bg-0123456789abcdef.wasm");</script>"#,
    )
    .unwrap();
    assert_eq!(e2e_harness::release_build_in(&dir), Ok(()));
    std::fs::remove_dir_all(&dir).unwrap();
}

e2e_harness::in_every_engine! {
    [Need::App] =>
        local_flow_completes_and_no_secret_or_token_reaches_the_browser,
        custom_server_flow_runs_with_only_the_contract_variables,
        denied_consent_is_shown_as_authorization_denied,
        all_six_steps_refresh_single_flight_revocation_and_a_return_to_step_6,
        the_documentation_page_embeds_the_walkthrough_and_completes_step_2,
        replayed_callback_is_refused_without_a_second_exchange,
        page_names_the_command_when_the_companion_is_not_running,
        the_app_arrives_compressed_from_the_companion_and_still_instantiates;
}
