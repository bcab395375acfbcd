//! Proof Key for Code Exchange (RFC 7636) for OAuth 2.0 public and confidential clients.
//!
//! Pure Rust, no browser code: the same core runs natively (companion, stand-in, tests) and in
//! WebAssembly (the app, the JavaScript package). Randomness comes from the operating system's
//! CSPRNG through `getrandom`, or from the caller ([`CodeVerifier::from_random_bytes`]).
//!
//! ```
//! use pkce::{CodeChallenge, CodeVerifier, State};
//! let verifier = CodeVerifier::generate().unwrap();
//! let challenge = CodeChallenge::s256(&verifier);
//! assert!(pkce::verify(verifier.as_str(), challenge.as_str()));
//! let state = State::generate().unwrap();
//! assert!(state.matches(state.as_str()));
//! ```
//!
//! `no_std` with `alloc`: the JavaScript package links no standard library, which keeps its
//! WebAssembly free of the standard library's panic and formatting machinery.

#![no_std]

extern crate alloc;
#[cfg(test)]
extern crate std;

#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod base64url;
mod challenge;
mod error;
mod random;
mod state;
mod verifier;

pub use challenge::{CodeChallenge, verify};
pub use error::PkceError;
pub use state::State;
pub use verifier::CodeVerifier;

/// Compares two byte strings in time that depends only on their lengths.
///
/// Used for `state` and challenge comparisons so that a network attacker cannot learn a secret
/// value one byte at a time (RFC 6749 §10.12 calls state a CSRF token; RFC 9700 §4.7.1).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}
