//! A local stand-in for Pleo's authorisation server and API, as docs/pleo.md describes them.
//!
//! It is embedded in the companion when `PLEO_ENV=local` and also runs on its own
//! (`cargo run -p stand-in`), so the walkthrough and every test work without a Pleo account.
//! `router(StandIn)` gives routes relative to the base, so it can be nested under a prefix.

mod api;
mod authorize;
mod demo_data;
mod html;
mod introspection;
mod knobs;
mod metadata;
mod registration;
mod store;
mod token;

use axum::Router;
use axum::routing::{get, post};
use contract::catalog;
use contract::oauth::{AUTHORIZE_PATH, INTROSPECTION_PATH, TOKEN_PATH};

pub use flow::expiry::Clock;
pub use registration::Registration;
pub use store::{Settings, StandIn, TokenFaults};

/// All routes of the stand-in, relative to its base URL.
pub fn router(stand_in: StandIn) -> Router {
    let mut router = Router::new()
        .route("/.well-known/oauth-authorization-server", get(metadata::metadata))
        .route(AUTHORIZE_PATH, get(authorize::authorize_page))
        // The consent form posts to `decision` beside the authorize page (a relative action).
        .route(&format!("{AUTHORIZE_PATH}/decision"), post(authorize::decision))
        .route(TOKEN_PATH, post(token::token))
        .route(INTROSPECTION_PATH, post(introspection::introspect));
    // The contract's API catalog, each entry with the handler that answers it.
    let api = Router::new()
        .route(&catalog::EMPLOYEES.route(), get(api::employees))
        .route(&catalog::EMPLOYEE.route(), get(api::employee_by_id))
        .route(&catalog::COMPANIES.route(), get(api::companies))
        .route(&catalog::COMPANY.route(), get(api::company_by_id))
        .route(&catalog::INTROSPECT.route(), get(api::introspect))
        .route(&catalog::EXPORT_JOBS.route(), get(api::export_jobs))
        .route(
            &catalog::INSTALLATION.route(),
            get(api::installation).delete(api::uninstall),
        );
    router = if stand_in.settings.api_latency_ms > 0 {
        router.merge(api.layer(axum::middleware::from_fn_with_state(stand_in.clone(), api::latency)))
    } else {
        router.merge(api)
    };
    if stand_in.settings.fault_knobs {
        router = router
            .route("/_knobs/expire-access-token", post(knobs::expire_access_token))
            .route("/_knobs/revoke-refresh-token", post(knobs::revoke_refresh_token))
            .route("/_knobs/token-endpoint", post(knobs::token_endpoint))
            .route("/_knobs/clock", post(knobs::clock));
    }
    if let Some(policy) = stand_in
        .settings
        .opener_policy
        .as_deref()
        .and_then(|p| axum::http::HeaderValue::from_str(p).ok())
    {
        router = router.layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
            axum::http::HeaderName::from_static("cross-origin-opener-policy"),
            policy,
        ));
    }
    // Every request the stand-in takes is small; a larger body is refused before it is read
    // whole (413), so no caller can make it hold megabytes.
    router
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Its pages: their own inline style, nothing else loaded, never framed (RFC 6749 §10.13).
        .layer(tower_http::set_header::SetResponseHeaderLayer::if_not_present(
            axum::http::header::CONTENT_SECURITY_POLICY,
            axum::http::HeaderValue::from_static(
                "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
            ),
        ))
        .with_state(stand_in)
}

/// The largest request body the stand-in reads.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// A fresh random client secret for a local run (32 random octets, base64url-encoded).
pub fn opaque_secret() -> String {
    opaque_value()
}

/// A fresh opaque value of 32 random octets, base64url-encoded: codes, tokens, ids.
#[expect(
    clippy::expect_used,
    reason = "a stand-in without the OS's random source can issue no safe value; the companion handles the same failure as an error"
)]
pub(crate) fn opaque_value() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
