//! Talking to the authorisation server: the token endpoint (code exchange and refresh), the
//! tokens it issues, the token calls that run to their end once sent, and its RFC 8414 metadata.
//! The one-refresh-at-a-time policy that decides when to call it is `crate::proxy::refresh`.

pub mod metadata;
pub mod token_calls;
pub mod token_client;
pub mod tokens;
