//! What every handler shares: the configuration, the sessions, the token endpoint's client, the
//! HTTP client for API calls, the clock, and (local) the embedded stand-in.

use std::ops::Deref;
use std::sync::Arc;

use contract::Environment;
use flow::expiry::Clock;

use crate::config::Config;
use crate::oauth;
use crate::oauth::token_client::TokenClient;
use crate::sessions::{Limits, Sessions};
#[cfg(feature = "stand-in")]
use stand_in::StandIn;

/// Everything the handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The contents of [`AppState`].
pub struct Shared {
    /// The configuration.
    pub config: Config,
    /// Sessions and sign-in attempts.
    pub sessions: Sessions,
    /// The token endpoint client.
    pub token_client: TokenClient,
    /// The HTTP client for API calls (no redirects, timeouts).
    pub http: reqwest::Client,
    /// Seconds since the epoch.
    pub clock: Clock,
    /// The embedded stand-in when `PLEO_ENV=local`.
    #[cfg(feature = "stand-in")]
    pub stand_in: Option<StandIn>,
    /// Serving, or shutting down ([`crate::lifecycle`]).
    pub lifecycle: crate::lifecycle::Lifecycle,
    /// The token-endpoint calls under way, each in a task of its own that runs to its end and
    /// writes its outcome whatever becomes of the request that started it
    /// ([`crate::oauth::token_calls`]); shutdown waits for them.
    pub token_calls: tokio_util::task::TaskTracker,
    /// The authorisation server's metadata, fetched when first needed.
    server_metadata: tokio::sync::OnceCell<Option<oauth::metadata::ServerMetadata>>,
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// The state for `config`, with the embedded stand-in when the environment is `local`.
    pub fn new(config: Config) -> Self {
        let limits = Limits {
            session_max_secs: config.session_max_secs,
            ..Limits::default()
        };
        Self::with_limits(config, limits)
    }

    /// As [`AppState::new`], with session limits of the caller's choice.
    pub fn with_limits(config: Config, limits: Limits) -> Self {
        let http = oauth::token_client::http_client(config.upstream_timeout_secs);
        let token_client = TokenClient::new(
            http.clone(),
            flow::token_endpoint(&config.authorization_server_url),
            config.client_id.clone(),
            config.client_secret.clone(),
            config.redirect_uri.clone(),
            config.refresh_timeout_secs,
        );
        #[cfg(feature = "stand-in")]
        let stand_in = (config.environment == Environment::Local).then(|| embedded_stand_in(&config));
        Self(Arc::new(Shared {
            sessions: match config.session_store.clone() {
                Some(redis) => Sessions::in_redis(limits, redis),
                None => Sessions::in_memory(limits),
            },
            token_client,
            http,
            clock: Clock::default(),
            #[cfg(feature = "stand-in")]
            stand_in,
            lifecycle: crate::lifecycle::Lifecycle::default(),
            token_calls: tokio_util::task::TaskTracker::new(),
            server_metadata: tokio::sync::OnceCell::new(),
            config,
        }))
    }

    /// What `GET /api/config` shows: the public configuration with the issuer the callback
    /// must check, from the server's RFC 8414 metadata where it publishes any (fetched once).
    /// The embedded stand-in is known: it always sends `iss`.
    pub async fn public_config(&self) -> contract::wire::PublicConfig {
        let mut public = self.config.public();
        if self.config.environment != Environment::Local {
            let discovered = self
                .server_metadata
                .get_or_init(|| oauth::metadata::discover(&self.http, &self.config.authorization_server_url))
                .await;
            if let Some(found) = discovered {
                public.issuer = found.issuer.clone();
                public.iss_always_sent = found.iss_always_sent;
            }
        }
        public
    }
}

/// The stand-in, registered with the companion's own client ID, secret and redirect URI.
#[cfg(feature = "stand-in")]
fn embedded_stand_in(config: &Config) -> StandIn {
    let registration = stand_in::Registration {
        client_id: config.client_id.clone(),
        client_secret: config.client_secret.clone(),
        redirect_uris: vec![config.redirect_uri.clone()],
        scopes: stand_in::Registration::ALL_SCOPES
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        client_name: "Pleo OAuth walkthrough".to_owned(),
    };
    let settings = stand_in::Settings {
        auto_approve: config.auto_approve,
        opener_policy: config.stand_in_opener_policy.clone(),
        issuer: Some(config.authorization_server_url.clone()),
        ..stand_in::Settings::default()
    };
    StandIn::new(registration, settings)
}
