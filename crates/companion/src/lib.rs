//! The companion: the backend-for-frontend that holds the client secret and the tokens.
//!
//! It exchanges codes with `client_secret_basic`, keeps tokens server-side behind an HttpOnly
//! session cookie, refreshes centrally, and forwards allow-listed API calls with the Bearer
//! token (RFC 10017 §6.1, "Backend For Frontend"). `router(state)`
//! gives the whole app so tests drive it without a socket; `main.rs` only binds the port.

pub mod api_catalog;
pub mod config;
pub mod cookies;
pub mod copy_as;
pub mod csrf;
pub mod endpoints;
pub mod error;
#[cfg(feature = "stand-in")]
pub mod faults;
pub mod har;
pub mod metadata;
pub mod postman;
pub mod proxy;
pub mod refresh;
pub mod security_headers;
pub mod sessions;
pub mod static_files;
pub mod token_client;
pub mod transcript;

use std::ops::Deref;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{any, get, post};
use tower_http::services::{ServeDir, ServeFile};

pub use config::Config;
use contract::Environment;
use contract::routes::{API_PREFIX, CALLBACK_PATH, EMBED_PATH, Route};
use flow::expiry::Clock;
use sessions::{Limits, Sessions};
#[cfg(feature = "stand-in")]
use stand_in::StandIn;
use token_client::TokenClient;

/// The largest JSON body `/api` accepts.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

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
    /// The authorisation server's metadata, fetched when first needed.
    server_metadata: tokio::sync::OnceCell<Option<metadata::ServerMetadata>>,
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
        let http = token_client::http_client(config.upstream_timeout_secs);
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
                .get_or_init(|| metadata::discover(&self.http, &self.config.authorization_server_url))
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

/// The whole companion: `/api`, the embedded stand-in (local), and the built app (if configured).
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route(Route::Config.template(), get(endpoints::config))
        .route(Route::Postman.template(), get(endpoints::postman))
        .route(Route::AuthorizeStart.template(), post(endpoints::authorize_start))
        .route(Route::Token.template(), post(endpoints::token))
        .route(Route::Session.template(), get(endpoints::session))
        .route(Route::Refresh.template(), post(endpoints::refresh))
        .route(Route::Logout.template(), post(endpoints::logout))
        .route(Route::Pleo.template(), any(endpoints::pleo))
        .route(Route::Transcript.template(), get(endpoints::transcript))
        .route(
            Route::TranscriptHar.template(),
            get(endpoints::transcript_har).layer(axum::Extension(cookies::FrameByQuery)),
        )
        .route(Route::TranscriptSnippet.template(), get(endpoints::transcript_snippet))
        .route(Route::Handoff.template(), post(endpoints::handoff_deliver))
        .route(Route::HandoffTake.template(), post(endpoints::handoff_take));
    // Without the stand-in there are no knobs: `/api/faults/*` is `not_found` like any path.
    #[cfg(feature = "stand-in")]
    let api = api.route(Route::Faults.template(), post(faults::apply));
    let api = api
        .fallback(endpoints::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), csrf::require_csrf_header))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state.clone());
    let mut app = Router::new().nest(API_PREFIX, security_headers::api(api));
    #[cfg(feature = "stand-in")]
    if let Some(stand_in) = &state.stand_in {
        app = app.nest(config::STAND_IN_PREFIX, stand_in::router(stand_in.clone()));
    }
    let policy = security_headers::AppPolicy::read(state.config.static_dir.as_deref());
    if let Some(dir) = &state.config.static_dir {
        // A single-page app: unknown paths get index.html. `/embed` is the page a
        // documentation site frames (`embed.html`), framed only by COMPANION_EMBED_ORIGINS;
        // `/callback` is the small page that relays a pop-up's callback or starts the app. No
        // dotfile is served, whatever the folder holds.
        let index = dir.join("index.html");
        let embed = security_headers::embed_page(
            Router::new().route_service(EMBED_PATH, ServeFile::new(dir.join("embed.html"))),
            &policy,
            &state.config.embed_origins,
        );
        let pages = Router::new()
            .merge(embed)
            .route_service(CALLBACK_PATH, ServeFile::new(dir.join("callback.html")));
        let files = ServeDir::new(dir).fallback(ServeFile::new(index));
        app = app.merge(
            pages
                .fallback_service(files)
                .layer(middleware::from_fn(static_files::cache_control))
                .layer(middleware::from_fn(static_files::refuse_dotfiles)),
        );
    }
    security_headers::everywhere(app, &policy.framed_by(&security_headers::frame_ancestors(&[])))
}
