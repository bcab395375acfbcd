//! The callback and the flow under attack, in every engine against the real app: forged,
//! replayed and tampered responses, storage cleared, two tabs, reloads. Every case asserts the
//! code the page shows, that nothing reached the token endpoint that should not, and that the
//! session the user already had survives; and, at the end of each test, that no secret or token
//! is in anything the browser received or holds. Cases are recorded for docs/attacks.md.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a step that fails fails the test, with the value in its message"
)]

use e2e_harness::{
    Browser, Engine, Mode, Walkthrough, assert_nothing_secret_reached_the_browser, record_case,
    sign_in_and_call_the_api,
};
use serde_json::Value;

const AREA: &str = "Callback and flow";
const PENDING: &str = "pleo-walkthrough.pending-authorization";

/// Starts an authorization in the page, goes on to the consent screen and back to the app
/// (the authorisation server is another origin, with storage of its own); returns the pending
/// authorization the app stored (state, verifier, issuer). [`consent`] goes forward again.
async fn arm(browser: &Browser, wt: &Walkthrough) -> Value {
    browser.client.goto(&wt.url("/")).await.unwrap();
    browser.click("#generate").await;
    browser.click("#authorize-go").await;
    browser.find("#approve").await;
    browser.client.back().await.unwrap();
    browser.find("[data-testid=client-id]").await;
    let script = format!("return sessionStorage.getItem('{PENDING}');");
    let stored = browser.client.execute(&script, vec![]).await.unwrap();
    serde_json::from_str(stored.as_str().expect("a pending authorization is stored")).unwrap()
}

/// Forward to the consent screen after [`arm`].
async fn consent(browser: &Browser) {
    browser.client.forward().await.unwrap();
    browser.find("#approve").await;
}

/// Opens `/callback?{query}&iss=…` with the server's real issuer (public, so any forger can
/// add it: the cases test what comes after the RFC 9207 check), asserts the page shows `code`,
/// and records the case.
async fn forged(browser: &Browser, wt: &Walkthrough, case: &str, query: &str, code: &str) -> String {
    let with_issuer = if query.contains("iss=") {
        query.to_owned()
    } else {
        format!("{query}&iss={}", encode(&wt.state.config.authorization_server_url))
    };
    forged_exactly(browser, wt, case, &with_issuer, code).await
}

/// Opens `/callback?{query}` as it is, asserts the page shows `code`, and records the case.
async fn forged_exactly(browser: &Browser, wt: &Walkthrough, case: &str, query: &str, code: &str) -> String {
    browser
        .client
        .goto(&wt.url(&format!("/callback?{query}")))
        .await
        .unwrap();
    assert_eq!(browser.error_code("body").await, code, "{case}");
    let alert = browser.text("[role=alert]").await;
    browser.find("#start-again").await;
    record_case(
        AREA,
        case,
        &format!("page shows `{code}`; nothing sent to the token endpoint"),
    );
    alert
}

fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

async fn signed_in(browser: &Browser, wt: &Walkthrough) -> bool {
    browser.client.goto(&wt.url("/api/session")).await.unwrap();
    let body = browser
        .client
        .execute("return document.body.innerText;", vec![])
        .await
        .unwrap();
    serde_json::from_str::<Value>(body.as_str().unwrap()).unwrap()["signed_in"] == true
}

async fn forged_and_broken_callbacks_show_a_code_and_never_cost_the_session(engine: Engine) {
    let wt = Walkthrough::start(Mode::Local).await;
    let browser = Browser::launch(engine).await;
    sign_in_and_call_the_api(&browser, &wt, "attacks").await;

    let state = |p: &Value| p["state"].as_str().unwrap().to_owned();
    forged(&browser, &wt, "state missing", "code=abc", "state_missing").await;
    let s = state(&arm(&browser, &wt).await);
    let wrong = format!("{}{}", &s[..s.len() - 1], if s.ends_with('x') { 'y' } else { 'x' });
    forged(
        &browser,
        &wt,
        "state wrong",
        &format!("code=abc&state={wrong}"),
        "state_mismatch",
    )
    .await;
    state(&arm(&browser, &wt).await);
    forged(
        &browser,
        &wt,
        "error response with a forged state",
        &format!("error=access_denied&state={wrong}"),
        "state_mismatch",
    )
    .await;

    let s = state(&arm(&browser, &wt).await);
    browser.client.execute("sessionStorage.clear();", vec![]).await.unwrap();
    forged(
        &browser,
        &wt,
        "no stored verifier (new tab, cleared storage)",
        &format!("code=abc&state={s}"),
        "no_pending_authorization",
    )
    .await;

    let s = state(&arm(&browser, &wt).await);
    let alert = forged(
        &browser,
        &wt,
        "access_denied with a description",
        &format!("error=access_denied&error_description=The+user+said+no&state={s}"),
        "authorization_denied",
    )
    .await;
    assert!(alert.contains("The user said no"), "{alert}");
    let s = state(&arm(&browser, &wt).await);
    forged(
        &browser,
        &wt,
        "access_denied without a description",
        &format!("error=access_denied&state={s}"),
        "authorization_denied",
    )
    .await;
    for error in [
        "invalid_scope",
        "server_error",
        "temporarily_unavailable",
        "unauthorized_client",
    ] {
        let s = state(&arm(&browser, &wt).await);
        let alert = forged(
            &browser,
            &wt,
            &format!("error={error}"),
            &format!("error={error}&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E&state={s}"),
            "authorization_failed",
        )
        .await;
        assert!(alert.contains(error), "{alert}");
        assert!(
            browser
                .client
                .find(fantoccini::Locator::Css("[role=alert] script"))
                .await
                .is_err(),
            "the description is text, not markup"
        );
    }
    let s = state(&arm(&browser, &wt).await);
    forged(
        &browser,
        &wt,
        "oversized callback query",
        &format!("state={s}&code={}", "a".repeat(9000)),
        "callback_too_large",
    )
    .await;
    let s = state(&arm(&browser, &wt).await);
    forged(
        &browser,
        &wt,
        "duplicated parameter",
        &format!("code=a&code=b&state={s}"),
        "callback_parameter_repeated",
    )
    .await;
    let pending = arm(&browser, &wt).await;
    assert_eq!(pending["issuer"], wt.state.config.authorization_server_url.as_str());
    forged(
        &browser,
        &wt,
        "`iss` naming another server (RFC 9207)",
        &format!(
            "code=abc&state={}&iss={}",
            state(&pending),
            encode("https://evil.example")
        ),
        "issuer_mismatch",
    )
    .await;
    let pending = arm(&browser, &wt).await;
    assert_eq!(
        pending["iss_always_sent"], true,
        "the embedded stand-in names itself in every response"
    );
    forged_exactly(
        &browser,
        &wt,
        "`iss` missing from a server whose metadata says it always sends it (RFC 9207)",
        &format!("code=abc&state={}", state(&pending)),
        "issuer_missing",
    )
    .await;

    assert_eq!(
        wt.stand_in.token_requests("authorization_code"),
        1,
        "only the real sign-in reached the token endpoint"
    );
    assert!(
        signed_in(&browser, &wt).await,
        "no forged callback cost the existing session"
    );
    assert_nothing_secret_reached_the_browser(&browser, &wt).await;
    browser.close().await;
}

async fn a_swapped_verifier_a_reused_code_and_a_tampered_redirect_uri_are_refused(engine: Engine) {
    let wt = Walkthrough::start(Mode::Local).await;
    let browser = Browser::launch(engine).await;

    // A different (valid) verifier than the one the challenge was made from.
    arm(&browser, &wt).await;
    let other = pkce::CodeVerifier::generate().unwrap();
    let swap = format!(
        "const p = JSON.parse(sessionStorage.getItem('{PENDING}')); p.code_verifier = '{}'; sessionStorage.setItem('{PENDING}', JSON.stringify(p));",
        other.as_str()
    );
    browser.client.execute(&swap, vec![]).await.unwrap();
    consent(&browser).await;
    browser.click("#approve").await;
    assert_eq!(browser.error_code("body").await, "attempt_mismatch");
    assert_eq!(
        wt.stand_in.token_requests("authorization_code"),
        0,
        "the companion refused before the token endpoint"
    );
    record_case(
        AREA,
        "code exchanged with a swapped verifier",
        "page shows `attempt_mismatch`; the companion refuses before the token endpoint",
    );

    // A code used twice: the pending authorization restored, the callback opened again.
    let pending = arm(&browser, &wt).await;
    consent(&browser).await;
    browser.click("#approve").await;
    browser.find("#exchanged").await;
    let callback = wt
        .recorder
        .seen()
        .into_iter()
        .rev()
        .find(|s| s.request.starts_with("POST /stand-in/oauth/authorize/decision"))
        .unwrap();
    let location = callback.location().expect("a redirect");
    let restore = format!(
        "sessionStorage.setItem('{PENDING}', {});",
        serde_json::to_string(&pending.to_string()).unwrap()
    );
    browser.client.execute(&restore, vec![]).await.unwrap();
    browser.client.goto(&location).await.unwrap();
    assert_eq!(browser.error_code("body").await, "attempt_missing");
    assert_eq!(
        wt.stand_in.token_requests("authorization_code"),
        1,
        "the second use never reached the token endpoint"
    );
    record_case(
        AREA,
        "code used twice (storage restored, callback reopened)",
        "page shows `attempt_missing`; one exchange only",
    );
    assert!(signed_in(&browser, &wt).await, "the first exchange's session survives");

    // The redirect URI changed on the way to the authorisation server.
    browser.client.goto(&wt.url("/")).await.unwrap();
    browser.click("#generate").await;
    let url = browser.text("[data-testid=authorize-request-url]").await;
    let tampered = url.replace(&encode(&wt.url("/callback")), &encode("https://evil.example/callback"));
    assert_ne!(tampered, url);
    browser.client.goto(&tampered).await.unwrap();
    let page = browser.text("h1").await;
    let address = browser.client.current_url().await.unwrap();
    assert_eq!(
        address.path(),
        "/stand-in/oauth/authorize",
        "never redirected to the tampered URI: {address}"
    );
    assert!(
        browser.client.find(fantoccini::Locator::Css("#approve")).await.is_err(),
        "no consent for an unregistered redirect URI: {page}"
    );
    record_case(
        AREA,
        "tampered redirect_uri",
        "error page at the authorisation server (RFC 6749 §4.1.2.1), never a redirect",
    );
    browser.client.goto(&wt.url("/")).await.unwrap();
    assert_nothing_secret_reached_the_browser(&browser, &wt).await;
    browser.close().await;
}

async fn two_tabs_sign_in_at_once_and_reloads_at_every_step_lose_nothing(engine: Engine) {
    let wt = Walkthrough::start(Mode::Local).await;
    let browser = Browser::launch(engine).await;
    let first = browser.client.window().await.unwrap();
    arm(&browser, &wt).await;
    consent(&browser).await;
    let second = browser.client.new_window(true).await.unwrap().handle;
    browser.client.switch_to_window(second).await.unwrap();
    arm(&browser, &wt).await;
    consent(&browser).await;
    browser.click("#approve").await;
    browser.find("#exchanged").await;
    browser.client.switch_to_window(first).await.unwrap();
    browser.click("#approve").await;
    browser.find("#exchanged").await;
    assert_eq!(wt.stand_in.token_requests("authorization_code"), 2);
    record_case(
        AREA,
        "two tabs signing in at once",
        "both complete: each tab's attempt is kept apart by its state",
    );

    // Reload at every step: configuration, after generating, at consent, after the exchange,
    // after the API call.
    browser.client.goto(&wt.url("/")).await.unwrap();
    browser.client.refresh().await.unwrap();
    browser.find("[data-testid=client-id]").await;
    browser.click("#generate").await;
    browser.client.refresh().await.unwrap();
    browser.click("#generate").await;
    browser.click("#authorize-go").await;
    browser.find("#approve").await;
    browser.client.refresh().await.unwrap();
    browser.click("#approve").await;
    browser.find("#exchanged").await;
    browser.client.refresh().await.unwrap();
    browser.find("#token-summary").await;
    browser.click("#call-employees").await;
    assert_eq!(browser.text("[data-testid=api-status]").await, "200");
    browser.client.refresh().await.unwrap();
    browser.find("#token-summary").await;
    browser.click("#call-employees").await;
    assert_eq!(browser.text("[data-testid=api-status]").await, "200");
    record_case(
        AREA,
        "reload at every step",
        "the flow completes; the session is kept across reloads",
    );
    assert_nothing_secret_reached_the_browser(&browser, &wt).await;
    browser.close().await;
}

async fn after_a_companion_restart_the_page_asks_to_sign_in_again_and_signing_in_works(engine: Engine) {
    let wt = Walkthrough::start(Mode::Local).await;
    let browser = Browser::launch(engine).await;
    sign_in_and_call_the_api(&browser, &wt, "restart").await;
    // What a restart does to the in-memory store: every session is gone.
    wt.state.sessions.sweep(u64::MAX);
    assert_eq!(wt.state.sessions.count(0).await.unwrap(), 0);
    browser.click("#call-employees").await;
    assert_eq!(browser.error_code("#step-4").await, "not_signed_in");
    browser.client.goto(&wt.url("/")).await.unwrap();
    assert!(
        browser
            .client
            .find(fantoccini::Locator::Css("#exchanged"))
            .await
            .is_err(),
        "the page no longer claims a session"
    );
    e2e_harness::sign_in_here_and_call_the_api(&browser).await;
    record_case(
        AREA,
        "companion restarted mid-session (sessions gone)",
        "page shows `not_signed_in`; signing in again works",
    );
    assert_nothing_secret_reached_the_browser(&browser, &wt).await;
    browser.close().await;
}

e2e_harness::in_every_engine! {
    [Need::App] =>
        forged_and_broken_callbacks_show_a_code_and_never_cost_the_session,
        a_swapped_verifier_a_reused_code_and_a_tampered_redirect_uri_are_refused,
        two_tabs_sign_in_at_once_and_reloads_at_every_step_lose_nothing,
        after_a_companion_restart_the_page_asks_to_sign_in_again_and_signing_in_works;
}
