//! The built PKCE package in headless Chromium, cross-checked against WebCrypto.

use e2e_harness::{Browser, serve_pkce_package};

#[tokio::test(flavor = "multi_thread")]
async fn package_challenges_match_webcrypto_for_10000_random_verifiers() {
    let server = serve_pkce_package().await;
    let browser = Browser::launch().await;
    browser.client.goto(&format!("http://localhost:{}/", server.addr.port())).await.unwrap();
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

#[tokio::test(flavor = "multi_thread")]
async fn the_plain_html_example_uses_the_package() {
    let server = serve_pkce_package().await;
    let browser = Browser::launch().await;
    browser.client.goto(&format!("http://localhost:{}/", server.addr.port())).await.unwrap();
    browser.client.wait().for_element(fantoccini::Locator::Css("#generate:not([disabled])")).await.unwrap();
    browser.click("#generate").await;
    let verifier = browser.text("#verifier").await;
    let challenge = browser.text("#challenge").await;
    let parsed = pkce::CodeVerifier::parse(&verifier).unwrap();
    assert_eq!(pkce::CodeChallenge::s256(&parsed).as_str(), challenge);
    assert!(browser.text("#url").await.contains("code_challenge_method=S256"));
    assert!(browser.text("#forged").await.starts_with("state_mismatch: "));
    browser.close().await;
}
