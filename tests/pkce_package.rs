//! The built PKCE package in every engine, cross-checked against WebCrypto.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a step that fails fails the test, with the value in its message"
)]

use e2e_harness::{Browser, Engine, serve_pkce_package};

async fn package_challenges_match_webcrypto_for_10000_random_verifiers(engine: Engine) {
    let server = serve_pkce_package().await;
    let browser = Browser::launch(engine).await;
    browser
        .client
        .goto(&format!("http://localhost:{}/", server.addr.port()))
        .await
        .unwrap();
    let script = r#"
        const done = arguments[arguments.length - 1];
        (async () => {
            const pkce = await import("/pkg/pkce.js");
            await pkce.default();
            const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
            let mismatches = 0, checked = 0;
            for (let i = 0; i < 10000; i++) {
                const verifier = pkce.generateCodeVerifier(43 + (i % 86));
                const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
                if (b64url(digest) !== pkce.calculateCodeChallenge(verifier)) mismatches++;
                checked++;
            }
            let code = null;
            try { pkce.calculateCodeChallenge("short"); } catch (e) { code = e.code; }
            const vector = pkce.calculateCodeChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
            return { checked, mismatches, code, vector };
        })().then(done, (e) => done({ error: String(e) }));
    "#;
    let result = browser.client.execute_async(script, vec![]).await.unwrap();
    assert_eq!(result["error"], serde_json::Value::Null, "{result}");
    assert_eq!(result["checked"], 10000);
    assert_eq!(result["mismatches"], 0);
    assert_eq!(result["code"], "verifier_too_short");
    assert_eq!(result["vector"], "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    browser.close().await;
}

async fn the_plain_html_example_uses_the_package(engine: Engine) {
    let server = serve_pkce_package().await;
    let browser = Browser::launch(engine).await;
    browser
        .client
        .goto(&format!("http://localhost:{}/", server.addr.port()))
        .await
        .unwrap();
    browser
        .client
        .wait()
        .for_element(fantoccini::Locator::Css("#generate:not([disabled])"))
        .await
        .unwrap();
    browser.click("#generate").await;
    let verifier = browser.text("#verifier").await;
    let challenge = browser.text("#challenge").await;
    let parsed = pkce::CodeVerifier::parse(&verifier).unwrap();
    assert_eq!(pkce::CodeChallenge::s256(&parsed).as_str(), challenge);
    assert!(browser.text("#url").await.contains("code_challenge_method=S256"));
    assert!(browser.text("#forged").await.starts_with("state_mismatch: "));
    browser.close().await;
}

/// What the test's authorisation endpoint and "backend" saw.
#[derive(Default)]
struct ExampleServer {
    /// `code_challenge` and `state` of the authorize request.
    authorize: Option<(String, String)>,
    /// `code` and `codeVerifier` posted to the backend by the callback example.
    exchange: Option<(String, String)>,
}

/// The code the test's authorisation endpoint issues.
const EXAMPLE_CODE: &str = "example-code-Vite-1";

async fn the_readme_examples_bundled_by_vite_complete_a_sign_in(engine: Engine) {
    use axum::extract::{Query, State};
    use axum::response::Redirect;
    use axum::routing::{get, post};
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    type Seen = Arc<Mutex<ExampleServer>>;
    let seen = Seen::default();
    async fn authorize(State(seen): State<Seen>, Query(q): Query<HashMap<String, String>>) -> Redirect {
        let get = |name: &str| q.get(name).cloned().unwrap_or_default();
        assert_eq!(
            (get("response_type").as_str(), get("code_challenge_method").as_str()),
            ("code", "S256")
        );
        seen.lock().unwrap().authorize = Some((get("code_challenge"), get("state")));
        let state: String = form_urlencoded::byte_serialize(get("state").as_bytes()).collect();
        Redirect::to(&format!("{}?code={EXAMPLE_CODE}&state={state}", get("redirect_uri")))
    }
    async fn exchange(State(seen): State<Seen>, axum::Json(body): axum::Json<serde_json::Value>) {
        let field = |name: &str| body[name].as_str().unwrap_or_default().to_owned();
        seen.lock().unwrap().exchange = Some((field("code"), field("codeVerifier")));
    }
    let app = axum::Router::new()
        .route("/oauth/authorize", get(authorize))
        .route("/oauth/exchange", post(exchange))
        .fallback_service(tower_http::services::ServeDir::new(e2e_harness::vite_example_path()))
        .with_state(seen.clone());
    let server = e2e_harness::Server::spawn(e2e_harness::free_listener().await, app);
    let browser = Browser::launch(engine).await;
    browser
        .client
        .goto(&format!("http://127.0.0.1:{}/", server.addr.port()))
        .await
        .unwrap();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while seen.lock().unwrap().exchange.is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "the callback example never posted the code to the backend"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (challenge, state) = seen
        .lock()
        .unwrap()
        .authorize
        .clone()
        .expect("the sign-in example went to the authorize endpoint");
    let (code, verifier) = seen.lock().unwrap().exchange.clone().unwrap();
    assert_eq!(code, EXAMPLE_CODE);
    assert_eq!(state.len(), 43, "the example's state is generateState()'s");
    let verifier = pkce::CodeVerifier::parse(&verifier).expect("the backend got an RFC 7636 verifier");
    assert_eq!(
        pkce::CodeChallenge::s256(&verifier).as_str(),
        challenge,
        "S256 of the verifier the backend got is the challenge sent"
    );
    let stored = browser
        .client
        .execute("return sessionStorage.getItem('pkce');", vec![])
        .await
        .unwrap();
    assert_eq!(
        stored,
        serde_json::Value::Null,
        "the callback example used up the stored verifier"
    );
    browser.close().await;
}

async fn the_tarball_bundled_by_webpack_esbuild_and_rollup_runs(engine: Engine) {
    let app =
        axum::Router::new().fallback_service(tower_http::services::ServeDir::new(e2e_harness::pkce_bundles_path()));
    let server = e2e_harness::Server::spawn(e2e_harness::free_listener().await, app);
    let browser = Browser::launch(engine).await;
    for bundler in ["webpack", "esbuild", "rollup"] {
        browser
            .client
            .goto(&format!("http://localhost:{}/{bundler}/", server.addr.port()))
            .await
            .unwrap();
        let result = e2e_harness::eventually(&format!("the {bundler} bundle never finished"), async || {
            let result = browser
                .client
                .execute("return window.pkceResult ?? null;", vec![])
                .await
                .unwrap();
            if result.is_null() {
                Err("still running".to_owned())
            } else {
                Ok(result)
            }
        })
        .await;
        assert_eq!(result["error"], serde_json::Value::Null, "{bundler}: {result}");
        assert_eq!(
            result["vector"], "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "{bundler}"
        );
        assert_eq!(result["pairMatchesWebCrypto"], true, "{bundler}");
    }
    browser.close().await;
}

e2e_harness::in_every_engine! {
    [Need::PkcePackage] =>
        package_challenges_match_webcrypto_for_10000_random_verifiers,
        the_plain_html_example_uses_the_package;
    [Need::ViteExample] =>
        the_readme_examples_bundled_by_vite_complete_a_sign_in;
    [Need::PkceBundles] =>
        the_tarball_bundled_by_webpack_esbuild_and_rollup_runs;
}
