//! The contract between the app, the companion and the stand-in: the browser <-> companion
//! routes (`routes`), JSON and headers (`wire`), the stable error codes, the API catalog the
//! proxy forwards and the stand-in serves, the fault knobs, the environments, and what the
//! page's scripts share (`page`, checked against `www/` through `javascript`). One place for each fact; every crate
//! reads it from here (docs/architecture.md).
//!
//! Pure, `no_std` + `alloc`, like `flow`: the app and the PKCE package build on it.

#![no_std]

extern crate alloc;
#[cfg(test)]
extern crate std;

/// What the standard library's prelude would bring into scope.
mod prelude {
    pub(crate) use alloc::borrow::ToOwned;
    pub(crate) use alloc::format;
    pub(crate) use alloc::string::String;
    pub(crate) use alloc::vec::Vec;
}

pub mod catalog;
pub mod environment;
pub mod error_code;
pub mod exports;
pub mod javascript;
pub mod knobs;
pub mod oauth;
pub mod page;
pub mod routes;
pub mod wire;
mod wire_name;

pub use catalog::{ApiEndpoint, CATALOG};
pub use environment::Environment;
pub use error_code::ErrorCode;
pub use knobs::FaultKnob;
pub use oauth::OAuthError;
