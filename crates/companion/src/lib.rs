//! The companion: the backend-for-frontend that holds the client secret and the tokens.
//!
//! It exchanges codes with `client_secret_basic`, keeps tokens server-side behind an HttpOnly
//! session cookie, refreshes centrally, and forwards allow-listed API calls with the Bearer
//! token (RFC 10017 §6.1, "Backend For Frontend"). `router(state)`
//! gives the whole app so tests drive it without a socket; `main.rs` only binds the port.

pub mod allow_list;
pub mod config;
pub mod endpoints;
pub mod error;
#[cfg(feature = "stand-in")]
pub mod faults;
pub mod http;
pub mod lifecycle;
pub mod metric_names;
pub mod oauth;
pub mod ops;
pub mod proxy;
pub mod redaction;
pub mod sessions;
pub mod state;
pub mod take_home;
pub mod transcript;
pub mod upstream;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{any, get, post};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::{ServeDir, ServeFile};

pub use config::Config;
use contract::routes::{API_PREFIX, CALLBACK_PATH, EMBED_PATH, Route};
pub use state::AppState;

/// The largest JSON body `/api` accepts.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

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
            get(endpoints::transcript_har).layer(axum::Extension(http::cookies::FrameByQuery)),
        )
        .route(Route::TranscriptSnippet.template(), get(endpoints::transcript_snippet))
        .route(Route::Handoff.template(), post(endpoints::handoff_deliver))
        .route(Route::HandoffTake.template(), post(endpoints::handoff_take))
        .route(
            Route::CookieCheck.template(),
            post(endpoints::cookie_check_set).get(endpoints::cookie_check),
        )
        .route(Route::WayBack.template(), get(endpoints::way_back));
    // Without the stand-in there are no knobs: `/api/faults/*` is `not_found` like any path.
    #[cfg(feature = "stand-in")]
    let api = api.route(Route::Faults.template(), post(faults::apply));
    let api = api
        .route_layer(middleware::from_fn(ops::request_log::remember_route))
        .fallback(endpoints::not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            http::csrf::require_csrf_header,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state.clone());
    // The probes sit outside `/api`: no CSRF header, no session, never in a transcript.
    let probes = Router::new()
        .route("/healthz", get(ops::probes::healthz))
        .route("/readyz", get(ops::probes::readyz))
        .with_state(state.clone());
    let mut app = Router::new()
        .nest(API_PREFIX, http::security_headers::api(api))
        .merge(probes)
        .route_layer(middleware::from_fn(ops::request_log::remember_route));
    #[cfg(feature = "stand-in")]
    if let Some(stand_in) = &state.stand_in {
        app = app.nest(config::STAND_IN_PREFIX, stand_in::router(stand_in.clone()));
    }
    let policy = http::security_headers::AppPolicy::read(state.config.static_dir.as_deref());
    if let Some(dir) = &state.config.static_dir {
        // A single-page app: unknown paths get index.html. `/embed` is the page a
        // documentation site frames (`embed.html`), framed only by COMPANION_EMBED_ORIGINS;
        // `/callback` is the small page that relays a pop-up's callback or starts the app. No
        // dotfile is served, whatever the folder holds.
        let index = dir.join("index.html");
        let embed = http::security_headers::embed_page(
            Router::new().route_service(EMBED_PATH, ServeFile::new(dir.join("embed.html"))),
            &policy,
            &state.config.embed_origins,
        );
        let pages = Router::new()
            .merge(embed)
            .route_service(CALLBACK_PATH, ServeFile::new(dir.join("callback.html")));
        // `cargo xtask build-app` writes a brotli and a gzip copy beside every content-hashed
        // file: the one the browser accepts is sent as it is.
        let files = ServeDir::new(dir)
            .precompressed_br()
            .precompressed_gzip()
            .fallback(ServeFile::new(index));
        app = app.merge(
            pages
                .fallback_service(files)
                .layer(middleware::from_fn(http::static_files::cache_control))
                .layer(middleware::from_fn(http::static_files::refuse_dotfiles)),
        );
    }
    let app = http::security_headers::everywhere(app, &policy.framed_by(&http::security_headers::frame_ancestors(&[])));
    // Outermost: the request id (the load balancer's `x-request-id` when it is short and plain,
    // or a new UUID), returned on the response, then one log line per request with it.
    app.layer(middleware::from_fn(ops::request_log::log_request))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(middleware::from_fn(ops::request_log::refuse_unsafe_request_id))
}
