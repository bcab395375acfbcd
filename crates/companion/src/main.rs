//! The companion on its own: `cargo run -p companion`. Reads the configuration contract from
//! the environment and from `.env`, then serves `/api` (and the stand-in when local).

use std::time::Duration;

use companion::{AppState, Config, router};

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "companion=info".into()),
        )
        .init();
    // A missing .env is normal; a malformed one is reported by line number, never its content.
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        let text = std::fs::read_to_string(".env").unwrap_or_default();
        eprintln!("companion: {}", companion::config::env_file_error(&e, &text));
        std::process::exit(2);
    }
    let config = match Config::from_lookup(|name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("companion: configuration error: {e}");
            std::process::exit(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(config.addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!(
                "companion: cannot listen on {}: {e} (is another companion running? set COMPANION_ADDR)",
                config.addr
            );
            std::process::exit(1);
        }
    };
    let public = config.public();
    println!("companion: listening on http://{}", config.addr);
    println!(
        "companion: environment {}, client {}, authorize {}",
        public.environment, public.client_id, public.authorize_url
    );
    if config.static_dir.is_some() {
        println!("companion: serving the app at http://{}/", config.addr);
    }
    println!(
        "companion: sessions {}",
        if config.session_store.is_some() {
            "in Redis (COMPANION_SESSION_STORE), shared by every replica, sealed with COMPANION_SESSION_KEY"
        } else {
            "in this process's memory (a restart signs everyone out; set COMPANION_SESSION_STORE for replicas)"
        }
    );
    let state = AppState::new(config);
    let issuer = state.public_config().await;
    println!(
        "companion: issuer {} ({})",
        issuer.issuer,
        if issuer.iss_always_sent {
            "sends iss in every response: required"
        } else {
            "iss optional"
        }
    );
    let sweeper = state.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(60)).await;
            sweeper.sessions.sweep(sweeper.clock.now());
        }
    });
    if let Err(e) = axum::serve(listener, router(state)).await {
        eprintln!("companion: server stopped: {e}");
        std::process::exit(1);
    }
}
