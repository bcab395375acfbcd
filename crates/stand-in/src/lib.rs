//! A local stand-in for Pleo's authorisation server and API (../shared/pleo-facts.md).
//!
//! It is embedded in the companion when `PLEO_ENV=local` and also runs on its own
//! (`cargo run -p stand-in`), so the walkthrough and every test work without a Pleo account.
//! `router(StandIn)` gives routes relative to the base, so it can be nested under a prefix.

mod api;
mod authorize;
mod clock;
mod demo_data;
mod html;
mod registration;
mod store;
mod token;

use axum::Router;
use axum::routing::{get, post};

pub use clock::Clock;
pub use registration::Registration;
pub use store::{Settings, StandIn};

/// All routes of the stand-in, relative to its base URL.
pub fn router(stand_in: StandIn) -> Router {
    Router::new()
        .route("/oauth/authorize", get(authorize::authorize_page))
        .route("/oauth/authorize/decision", post(authorize::decision))
        .route("/oauth/token", post(token::token))
        .route("/v2/employees", get(api::employees))
        .route("/v1/companies", get(api::companies))
        .route("/v1/introspect", get(api::introspect))
        .with_state(stand_in)
}

/// A fresh random client secret for a local run (32 random octets, base64url-encoded).
pub fn opaque_secret() -> String {
    opaque_value()
}

/// A fresh opaque value of 32 random octets, base64url-encoded: codes, tokens, ids.
pub(crate) fn opaque_value() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
