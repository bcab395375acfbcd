//! What a reader takes home: the transcript of the companion's server-side exchanges (redacted),
//! each exchange as curl, fetch or Rust, the whole session as an HTTP Archive, and step 1's export
//! for Postman.

pub mod copy_as;
pub mod har;
pub mod postman;
pub mod redaction;
pub mod transcript;
