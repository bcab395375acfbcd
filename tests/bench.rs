//! Benchmarks that need a browser: `cargo run --release -p e2e --bin bench -- pkce`.
//! Prints each figure with the reference measured in the same run (see bench/).

use e2e_harness::{Browser, serve_pkce_package};

#[tokio::main]
async fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "pkce".to_owned());
    match which.as_str() {
        "pkce" => pkce().await,
        other => {
            eprintln!("unknown benchmark {other:?}; known: pkce");
            std::process::exit(2);
        }
    }
}

/// PKCE pairs per second: the package vs WebCrypto (getRandomValues + subtle.digest), in one
/// headless Chromium page, best of five rounds of 20,000 pairs each.
async fn pkce() {
    let server = serve_pkce_package().await;
    let browser = Browser::launch().await;
    browser.client.goto(&format!("http://localhost:{}/", server.addr.port())).await.unwrap();
    let script = r#"
        const done = arguments[arguments.length - 1];
        (async () => {
            const pkce = await import("/pkg/pkce.js");
            await pkce.default();
            const N = 20000;
            const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
            const webcryptoPair = async () => {
                const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
                const challenge = b64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
                return { verifier, challenge };
            };
            const rounds = { ours: [], webcryptoSequential: [], webcryptoBatched: [] };
            for (let round = 0; round < 5; round++) {
                let t = performance.now();
                for (let i = 0; i < N; i++) pkce.generatePkce();
                rounds.ours.push(N / ((performance.now() - t) / 1000));
                t = performance.now();
                for (let i = 0; i < N; i++) await webcryptoPair();
                rounds.webcryptoSequential.push(N / ((performance.now() - t) / 1000));
                t = performance.now();
                await Promise.all(Array.from({ length: N }, webcryptoPair));
                rounds.webcryptoBatched.push(N / ((performance.now() - t) / 1000));
            }
            const best = (xs) => Math.max(...xs);
            return { ours: best(rounds.ours), seq: best(rounds.webcryptoSequential), batched: best(rounds.webcryptoBatched), ua: navigator.userAgent };
        })().then(done, (e) => done({ error: String(e) }));
    "#;
    let result = browser.client.execute_async(script, vec![]).await.unwrap();
    if !result["error"].is_null() {
        eprintln!("benchmark failed: {}", result["error"]);
        std::process::exit(1);
    }
    let (ours, seq, batched) = (result["ours"].as_f64().unwrap(), result["seq"].as_f64().unwrap(), result["batched"].as_f64().unwrap());
    println!("browser: {}", result["ua"].as_str().unwrap_or("?"));
    println!("pkce pairs/s, package (generatePkce, sync):              {ours:>12.0}");
    println!("pkce pairs/s, WebCrypto (await per pair):                {seq:>12.0}   ratio {:.1}x", ours / seq);
    println!("pkce pairs/s, WebCrypto (20,000 digests in Promise.all): {batched:>12.0}   ratio {:.1}x", ours / batched);
    println!("target: package >= 5x WebCrypto (await per pair): {}", if ours >= 5.0 * seq { "met" } else { "NOT met" });
    browser.close().await;
}
