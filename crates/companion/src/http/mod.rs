//! The HTTP edge: what every request passes through before a handler runs and what every answer
//! carries after, the extractors handlers name their inputs with, and the built app's files.

pub mod cookies;
pub mod csrf;
pub mod extract;
pub mod security_headers;
pub mod static_files;
