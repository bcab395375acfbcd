//! The `state` parameter: an unguessable value that binds the callback to this browser.

use alloc::borrow::ToOwned;
use alloc::string::String;
use core::fmt;

use crate::random::random_base64url;
use crate::{PkceError, constant_time_eq};

/// An OAuth 2.0 `state` value (RFC 6749 §4.1.1, §10.12): 43 base64url characters (256 bits)
/// when generated; any printable ASCII up to 512 characters when parsed.
#[derive(Clone, PartialEq, Eq)]
pub struct State(String);

impl State {
    /// The longest state accepted from elsewhere.
    pub const MAX_LEN: usize = 512;

    /// A fresh state from the CSPRNG: RFC 9700 §4.7.1 wants it unguessable and single use.
    pub fn generate() -> Result<Self, PkceError> {
        random_base64url(43).map(Self)
    }

    /// Checks a state value received from elsewhere (RFC 6749 Appendix A.5: VSCHAR).
    pub fn parse(text: &str) -> Result<Self, PkceError> {
        if text.is_empty() {
            return Err(PkceError::StateEmpty);
        }
        if text.len() > Self::MAX_LEN {
            return Err(PkceError::StateTooLong { max: Self::MAX_LEN });
        }
        if !text.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
            return Err(PkceError::StateInvalidCharacter);
        }
        Ok(Self(text.to_owned()))
    }

    /// The state text, for the authorization request.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `received` equals this state, compared in constant time (RFC 6749 §10.12).
    pub fn matches(&self, received: &str) -> bool {
        constant_time_eq(self.0.as_bytes(), received.as_bytes())
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("State([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // The same tests run natively and as wasm in headless Chromium.
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn generated_state_is_43_unreserved_characters_and_unique() {
        let a = State::generate().unwrap();
        let b = State::generate().unwrap();
        assert_eq!(a.as_str().len(), 43);
        assert!(a.as_str().chars().all(crate::verifier::is_unreserved));
        assert_ne!(a, b);
    }

    #[test]
    fn state_matches_only_itself() {
        let s = State::parse("abc-123").unwrap();
        assert!(s.matches("abc-123"));
        assert!(!s.matches("abc-124"));
        assert!(!s.matches("abc-12"));
        assert!(!s.matches(""));
    }

    #[test]
    fn bad_state_values_get_stable_codes() {
        assert_eq!(State::parse("").unwrap_err().code(), "state_empty");
        assert_eq!(State::parse("a\nb").unwrap_err().code(), "state_invalid_character");
        assert_eq!(State::parse("é").unwrap_err().code(), "state_invalid_character");
        assert_eq!(State::parse(&"a".repeat(513)).unwrap_err().code(), "state_too_long");
        assert!(State::parse(&"a".repeat(512)).is_ok());
    }
}
