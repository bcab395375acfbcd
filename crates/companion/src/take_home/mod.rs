//! What a reader takes home, built from the transcript ([`crate::transcript`]): each exchange as
//! curl, fetch or Rust, the whole session as an HTTP Archive, and step 1's export for Postman.

pub mod copy_as;
pub mod har;
pub mod postman;
