//! The companion on its own: `cargo run -p companion`. Reads the configuration contract from
//! the environment and from `.env`, then serves `/api` (and the stand-in when local), the
//! probes, and the metrics on a listener of their own when configured; stops gracefully on
//! SIGTERM or Ctrl-C.

use std::time::Duration;

use companion::config::LogFormat;
use companion::{AppState, Config, router};

#[tokio::main]
async fn main() {
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
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "companion=info".into());
    match config.log_format {
        LogFormat::Text => tracing_subscriber::fmt().with_env_filter(filter).init(),
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_env_filter(filter)
            .init(),
    }
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
    let metrics = match config.metrics_addr {
        None => None,
        Some(addr) => match (
            companion::ops::metrics::install(),
            tokio::net::TcpListener::bind(addr).await,
        ) {
            (Ok(handle), Ok(listener)) => Some((handle, listener)),
            (Err(e), _) => {
                eprintln!("companion: metrics: {e}");
                std::process::exit(1);
            }
            (_, Err(e)) => {
                eprintln!("companion: cannot listen on {addr} for metrics (COMPANION_METRICS_ADDR): {e}");
                std::process::exit(1);
            }
        },
    };
    let (drain, grace) = (config.shutdown_drain, config.shutdown_grace);
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
    if let Some((handle, listener)) = metrics {
        println!(
            "companion: metrics at http://{}/metrics",
            listener.local_addr().map_or_else(|_| "?".to_owned(), |a| a.to_string())
        );
        companion::ops::metrics::spawn_upkeep(handle.clone());
        let app = companion::ops::metrics::router(state.clone(), handle);
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("companion: the metrics listener stopped: {e}");
            }
        });
    }
    let (stop_accepting, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(shutdown_on_signals(state.clone(), drain, grace, stop_accepting));
    let token_calls = state.token_calls.clone();
    let server = axum::serve(listener, router(state)).with_graceful_shutdown(async {
        let _ = stopped.await;
    });
    if let Err(e) = server.await {
        eprintln!("companion: server stopped: {e}");
        std::process::exit(1);
    }
    // A token-endpoint call whose browser went away is no connection, but its outcome must be
    // written before the process ends (oauth::token_calls).
    token_calls.close();
    token_calls.wait().await;
    println!("companion: every call in flight finished; stopped");
}

/// Graceful shutdown. On the first SIGTERM or Ctrl-C: `/readyz` answers 503 at once; for
/// `drain` the listener still serves (a load balancer that checks `/readyz` stops sending);
/// then it stops accepting, and the calls in flight and the token-endpoint calls whose browser
/// went away finish and are written; `main` then returns, exit status 0. A second signal, or
/// `grace` after the drain with calls still running, ends the process at once.
async fn shutdown_on_signals(
    state: AppState,
    drain: Duration,
    grace: Duration,
    stop_accepting: tokio::sync::oneshot::Sender<()>,
) {
    let Ok(mut signals) = Signals::new() else {
        eprintln!("companion: cannot listen for SIGTERM; Ctrl-C and SIGKILL still stop it");
        return;
    };
    signals.next().await;
    state.lifecycle.begin_shutdown();
    println!(
        "companion: shutting down: /readyz answers 503; serving {} s more, then finishing the calls in flight (at most {} s)",
        drain.as_secs(),
        grace.as_secs()
    );
    tokio::select! {
        () = tokio::time::sleep(drain) => {}
        () = signals.next() => stop_now(),
    }
    let _ = stop_accepting.send(());
    tokio::select! {
        () = tokio::time::sleep(grace) => {
            eprintln!("companion: calls were still running {} s after the drain; stopped anyway", grace.as_secs());
            std::process::exit(1);
        }
        () = signals.next() => stop_now(),
    }
}

fn stop_now() -> ! {
    eprintln!("companion: a second signal: stopped at once");
    std::process::exit(130);
}

/// SIGTERM (what an orchestrator sends) and Ctrl-C, as one stream.
struct Signals {
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Self> {
        Ok(Self {
            terminate: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?,
        })
    }

    async fn next(&mut self) {
        tokio::select! {
            _ = self.terminate.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
}
