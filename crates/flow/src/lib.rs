//! The OAuth 2.0 authorization-code + PKCE protocol core, shared by the app and the companion.
//!
//! Pure and without I/O: it builds the authorization request, checks the callback, and
//! describes token error responses and expiry. The JSON spoken between browser and companion is
//! `contract`'s.
//!
//! `no_std` with `alloc`, like `pkce`: the JavaScript package builds on both without the
//! standard library.

#![no_std]

extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

/// What the standard library's prelude would bring into scope.
mod prelude {
    pub(crate) use alloc::borrow::ToOwned;
    pub(crate) use alloc::format;
    pub(crate) use alloc::string::String;
    #[cfg(test)]
    pub(crate) use alloc::vec;
    pub(crate) use alloc::vec::Vec;
}

pub mod authorize;
pub mod callback;
pub mod expiry;
pub mod token_error;

pub use authorize::{AuthorizeRequest, authorize_endpoint, start_request, token_endpoint};
pub use callback::{CallbackError, ExpectedIssuer, ValidatedCallback, check_callback};
/// The stable error codes, from the contract: the protocol's refusals are among them.
pub use contract::ErrorCode;
