//! The S256 code challenge (RFC 7636 §4.2) and its server-side check (§4.6).

use alloc::string::String;

use sha2::{Digest, Sha256};

use crate::{CodeVerifier, base64url, constant_time_eq};

/// An S256 code challenge: `BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))`, 43 characters.
///
/// Only S256 is offered: `plain` exposes the verifier to anyone who sees the authorization
/// request, and RFC 9700 §2.1.1 tells clients to use S256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// The `code_challenge_method` value for this challenge (RFC 7636 §4.3).
    pub const METHOD: &'static str = "S256";

    /// RFC 7636 §4.2: the S256 transformation of `verifier`.
    pub fn s256(verifier: &CodeVerifier) -> Self {
        Self(s256_of(verifier.as_str()))
    }

    /// A challenge as a client sent it, for servers: exactly 43 base64url characters, the
    /// unpadded encoding of a SHA-256 digest (RFC 7636 §4.2); `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let shape = text.len() == 43
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        shape.then(|| Self(text.into()))
    }

    /// The challenge text, for the authorization request's `code_challenge` parameter.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `code_challenge_method` value: always `S256`.
    pub fn method(&self) -> &'static str {
        Self::METHOD
    }
}

fn s256_of(verifier: &str) -> String {
    base64url::encode(&Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636 §4.6, for servers: whether `verifier` is a valid verifier (§4.1) whose S256
/// challenge equals `challenge`. Compares in constant time.
pub fn verify(verifier: &str, challenge: &str) -> bool {
    CodeVerifier::parse(verifier).is_ok() && constant_time_eq(s256_of(verifier).as_bytes(), challenge.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    // The same tests run natively and as wasm in headless Chromium.
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const RFC7636_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const RFC7636_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc7636_appendix_b_vector() {
        let verifier = CodeVerifier::parse(RFC7636_VERIFIER).unwrap();
        let challenge = CodeChallenge::s256(&verifier);
        assert_eq!(challenge.as_str(), RFC7636_CHALLENGE);
        assert_eq!(challenge.method(), "S256");
    }

    #[test]
    fn rfc7636_appendix_b_octets_give_the_same_verifier() {
        let octets = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214, 191,
            240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        assert_eq!(
            CodeVerifier::from_random_bytes(&octets).unwrap().as_str(),
            RFC7636_VERIFIER
        );
    }

    #[test]
    fn parse_takes_exactly_the_shape_of_an_s256_challenge() {
        assert_eq!(
            CodeChallenge::parse(RFC7636_CHALLENGE).unwrap().as_str(),
            RFC7636_CHALLENGE
        );
        for bad in [
            "",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM=",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM",
        ] {
            assert!(CodeChallenge::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn verify_accepts_the_matching_pair_and_refuses_others() {
        assert!(verify(RFC7636_VERIFIER, RFC7636_CHALLENGE));
        assert!(!verify(RFC7636_VERIFIER, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"));
        assert!(!verify(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl",
            RFC7636_CHALLENGE
        ));
        // `plain` would compare the verifier itself: S256-only servers must refuse it.
        assert!(!verify(RFC7636_VERIFIER, RFC7636_VERIFIER));
        assert!(!verify("short", RFC7636_CHALLENGE));
    }
}
