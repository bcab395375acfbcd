//! Property tests over the PKCE core; the same file runs as wasm in headless Chromium.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a step that fails fails the test, with the value in its message"
)]

use pkce::{CodeChallenge, CodeVerifier, verify};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_generated_verifier_is_valid_and_its_challenge_is_43_chars(len in 43usize..=128) {
            let v = CodeVerifier::generate_with_length(len).unwrap();
            prop_assert_eq!(v.as_str().len(), len);
            prop_assert!(CodeVerifier::parse(v.as_str()).is_ok());
            let c = CodeChallenge::s256(&v);
            prop_assert_eq!(c.as_str().len(), 43);
            prop_assert!(verify(v.as_str(), c.as_str()));
        }

        #[test]
        fn challenge_is_deterministic(text in "[A-Za-z0-9._~-]{43,128}") {
            let a = CodeChallenge::s256(&CodeVerifier::parse(&text).unwrap());
            let b = CodeChallenge::s256(&CodeVerifier::parse(&text).unwrap());
            prop_assert_eq!(a, b);
        }

        #[test]
        fn parse_never_panics_and_accepts_exactly_the_rfc_grammar(text in "\\PC{0,140}") {
            let grammar = (43..=128).contains(&text.len())
                && text.chars().all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c));
            prop_assert_eq!(CodeVerifier::parse(&text).is_ok(), grammar);
        }
    }
}

#[cfg(target_arch = "wasm32")]
mod browser {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn rfc7636_vector_in_the_browser() {
        let v = CodeVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        assert_eq!(
            CodeChallenge::s256(&v).as_str(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[wasm_bindgen_test]
    fn browser_csprng_gives_valid_distinct_verifiers() {
        let a = CodeVerifier::generate().unwrap();
        let b = CodeVerifier::generate().unwrap();
        assert_ne!(a.as_str(), b.as_str());
        assert!(verify(a.as_str(), CodeChallenge::s256(&a).as_str()));
        let s = pkce::State::generate().unwrap();
        assert_eq!(s.as_str().len(), 43);
    }
}
