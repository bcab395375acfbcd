//! The code verifier (RFC 7636 §4.1).

use alloc::borrow::ToOwned;
use alloc::string::String;
use core::fmt;

use crate::random::random_base64url;
use crate::{PkceError, base64url};

/// A PKCE code verifier: 43 to 128 characters of `[A-Za-z0-9-._~]` (RFC 7636 §4.1).
///
/// Deliberately not `Clone`: a verifier belongs to exactly one authorization request and is
/// sent once, with the code it redeems. `Debug` never prints the value.
#[derive(PartialEq, Eq)]
pub struct CodeVerifier(String);

impl CodeVerifier {
    /// The shortest length RFC 7636 §4.1 allows.
    pub const MIN_LEN: usize = 43;
    /// The longest length RFC 7636 §4.1 allows.
    pub const MAX_LEN: usize = 128;
    /// The default: 32 random octets, base64url-encoded (the encoding RFC 7636 §4.1 recommends).
    pub const DEFAULT_LEN: usize = 43;

    /// A fresh 43-character verifier from the CSPRNG (256 bits of entropy).
    pub fn generate() -> Result<Self, PkceError> {
        Self::generate_with_length(Self::DEFAULT_LEN)
    }

    /// A fresh verifier of `len` characters (43..=128) from the CSPRNG, 6 bits per character.
    pub fn generate_with_length(len: usize) -> Result<Self, PkceError> {
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&len) {
            return Err(PkceError::LengthOutOfRange(len));
        }
        random_base64url(len).map(Self)
    }

    /// A verifier from caller-supplied random octets (32..=96), base64url-encoded as RFC 7636
    /// §4.1 recommends. For platforms where the caller owns the random source.
    pub fn from_random_bytes(bytes: &[u8]) -> Result<Self, PkceError> {
        if !(32..=96).contains(&bytes.len()) {
            return Err(PkceError::RandomBytesOutOfRange(bytes.len()));
        }
        Ok(Self(base64url::encode(bytes)))
    }

    /// Checks a verifier received from elsewhere against RFC 7636 §4.1 (length, then charset).
    pub fn parse(text: &str) -> Result<Self, PkceError> {
        validate(text)?;
        Ok(Self(text.to_owned()))
    }

    /// The verifier text, to send in the token request's `code_verifier` parameter.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The verifier text, consuming the verifier (for storing it until the callback).
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Debug for CodeVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeVerifier([redacted])")
    }
}

/// Whether `c` is an RFC 3986 unreserved character, the alphabet of RFC 7636 §4.1.
pub(crate) fn is_unreserved(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')
}

/// RFC 7636 §4.1: `code-verifier = 43*128unreserved`. Length counts characters, so a
/// non-ASCII string is reported as an invalid character, not by its byte length.
fn validate(text: &str) -> Result<(), PkceError> {
    if let Some((position, character)) = text.chars().enumerate().find(|(_, c)| !is_unreserved(*c)) {
        return Err(PkceError::VerifierInvalidCharacter { character, position });
    }
    match text.len() {
        n if n < CodeVerifier::MIN_LEN => Err(PkceError::VerifierTooShort(n)),
        n if n > CodeVerifier::MAX_LEN => Err(PkceError::VerifierTooLong(n)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    // The same tests run natively and as wasm in headless Chromium.
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn generated_verifier_has_default_length_and_unreserved_charset() {
        let v = CodeVerifier::generate().unwrap();
        assert_eq!(v.as_str().len(), 43);
        assert!(v.as_str().chars().all(is_unreserved));
    }

    #[test]
    fn generated_verifiers_differ() {
        let a = CodeVerifier::generate().unwrap();
        let b = CodeVerifier::generate().unwrap();
        assert_ne!(a.as_str(), b.as_str());
    }

    #[test]
    fn every_length_from_43_to_128_can_be_generated() {
        for len in 43..=128 {
            let v = CodeVerifier::generate_with_length(len).unwrap();
            assert_eq!(v.as_str().len(), len);
            assert!(CodeVerifier::parse(v.as_str()).is_ok());
        }
    }

    #[test]
    fn lengths_outside_43_to_128_are_refused_for_generation() {
        assert_eq!(
            CodeVerifier::generate_with_length(42).unwrap_err().code(),
            "verifier_length_out_of_range"
        );
        assert_eq!(
            CodeVerifier::generate_with_length(129).unwrap_err().code(),
            "verifier_length_out_of_range"
        );
    }

    #[test]
    fn length_bounds_give_stable_codes() {
        assert!(CodeVerifier::parse(&"a".repeat(43)).is_ok());
        assert!(CodeVerifier::parse(&"a".repeat(128)).is_ok());
        assert_eq!(
            CodeVerifier::parse(&"a".repeat(42)).unwrap_err(),
            PkceError::VerifierTooShort(42)
        );
        assert_eq!(
            CodeVerifier::parse(&"a".repeat(129)).unwrap_err(),
            PkceError::VerifierTooLong(129)
        );
        assert_eq!(CodeVerifier::parse("").unwrap_err().code(), "verifier_too_short");
    }

    #[test]
    fn every_disallowed_ascii_character_is_refused() {
        for byte in 0u8..=127 {
            let c = byte as char;
            if is_unreserved(c) {
                continue;
            }
            let text = format!("{}{}", "a".repeat(42), c);
            let err = CodeVerifier::parse(&text).unwrap_err();
            assert_eq!(
                err,
                PkceError::VerifierInvalidCharacter {
                    character: c,
                    position: 42
                },
                "byte {byte}"
            );
        }
    }

    #[test]
    fn non_ascii_is_an_invalid_character_not_a_length_error() {
        let text = format!("{}é", "a".repeat(42));
        assert_eq!(
            CodeVerifier::parse(&text).unwrap_err().code(),
            "verifier_invalid_character"
        );
    }

    #[test]
    fn caller_random_bytes_are_base64url_encoded() {
        let v = CodeVerifier::from_random_bytes(&[0u8; 32]).unwrap();
        assert_eq!(v.as_str(), "A".repeat(43));
        assert_eq!(
            CodeVerifier::from_random_bytes(&[0u8; 31]).unwrap_err().code(),
            "random_bytes_out_of_range"
        );
        assert_eq!(CodeVerifier::from_random_bytes(&[0u8; 96]).unwrap().as_str().len(), 128);
    }

    #[test]
    fn debug_output_never_contains_the_verifier() {
        let v = CodeVerifier::generate().unwrap();
        let shown = format!("{v:?}");
        assert!(!shown.contains(v.as_str()));
        assert!(shown.contains("redacted"));
    }
}
