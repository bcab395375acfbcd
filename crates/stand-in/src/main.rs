//! The stand-in on its own: `cargo run -p stand-in`.
//!
//! `STAND_IN_ADDR` (default `127.0.0.1:9090`), `STAND_IN_CLIENT_ID`, `STAND_IN_CLIENT_SECRET`
//! (a fresh random one is made and printed when unset: this is a local test server),
//! `STAND_IN_REDIRECT_URIS` (space-separated; default `http://localhost:8080/callback`),
//! `STAND_IN_AUTO_APPROVE=1` to skip consent, `STAND_IN_ACCESS_TOKEN_TTL` (seconds, default 900).
//! The `/_knobs/*` fault endpoints are served only when the address is a loopback address.

use secrecy::SecretString;
use stand_in::{Registration, Settings, StandIn};

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let addr = var("STAND_IN_ADDR").unwrap_or_else(|| "127.0.0.1:9090".to_owned());
    let client_id = var("STAND_IN_CLIENT_ID").unwrap_or_else(|| contract::environment::LOCAL_CLIENT_ID.to_owned());
    let (secret, generated) = match var("STAND_IN_CLIENT_SECRET") {
        Some(secret) => (secret, false),
        None => (stand_in::opaque_secret(), true),
    };
    let registration = Registration {
        client_id: client_id.clone(),
        client_secret: SecretString::from(secret.clone()),
        redirect_uris: var("STAND_IN_REDIRECT_URIS")
            .unwrap_or_else(|| contract::environment::LOCAL_REDIRECT_URI.to_owned())
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        scopes: Registration::ALL_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        client_name: "Pleo OAuth walkthrough".to_owned(),
    };
    let loopback = addr.parse::<std::net::SocketAddr>().is_ok_and(|a| a.ip().is_loopback());
    let access_token_ttl = match var("STAND_IN_ACCESS_TOKEN_TTL").map(|v| v.parse::<u64>()) {
        None => Settings::default().access_token_ttl,
        Some(Ok(secs)) if secs > 0 => secs,
        Some(_) => {
            eprintln!("stand-in: STAND_IN_ACCESS_TOKEN_TTL must be a positive number of seconds");
            std::process::exit(2);
        }
    };
    let settings = Settings {
        auto_approve: var("STAND_IN_AUTO_APPROVE").is_some_and(|v| v == "1"),
        access_token_ttl,
        issuer: Some(format!("http://{addr}")),
        // Fault knobs change what tokens do: never reachable from another machine.
        fault_knobs: loopback,
        opener_policy: var("STAND_IN_OPENER_POLICY"),
        ..Settings::default()
    };
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("stand-in: cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    println!("stand-in: authorisation server and API at http://{addr}");
    println!("stand-in: client_id {client_id}");
    if generated {
        println!("stand-in: client_secret {secret} (generated for this run; set STAND_IN_CLIENT_SECRET to choose one)");
    }
    if let Err(e) = axum::serve(listener, stand_in::router(StandIn::new(registration, settings))).await {
        eprintln!("stand-in: server stopped: {e}");
        std::process::exit(1);
    }
}
