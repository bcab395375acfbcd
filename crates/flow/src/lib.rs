//! The OAuth 2.0 authorization-code + PKCE protocol core, shared by the app and the companion.
//!
//! Pure and without I/O: it builds the authorization request, checks the callback, describes
//! token responses and expiry, and defines the JSON spoken between browser and companion.

pub mod authorize;
pub mod callback;
pub mod error_code;
pub mod expiry;
pub mod postman;
pub mod wire;

pub use authorize::{AuthorizeRequest, authorize_endpoint, token_endpoint};
pub use callback::{CallbackError, ValidatedCallback, check_callback};
pub use error_code::ErrorCode;
