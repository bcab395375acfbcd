//! Talking to the authorisation server: the token endpoint (code exchange and refresh), the
//! tokens it issues, the one-refresh-at-a-time policy, and its RFC 8414 metadata.

pub mod metadata;
pub mod refresh;
pub mod token_calls;
pub mod token_client;
pub mod tokens;
