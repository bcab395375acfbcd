//! `src/objects.js` writes two facts of the `pkce` crate (the challenge method and a challenge's
//! length), each once, in a declaration this test holds to the Rust side.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a step that fails fails the test, with the value in its message"
)]

const OBJECTS: &str = include_str!("../src/objects.js");

#[test]
fn objects_js_declares_the_challenge_method_and_length_of_the_pkce_crate_once() {
    let method = pkce::CodeChallenge::METHOD;
    assert!(OBJECTS.contains(&format!("const CODE_CHALLENGE_METHOD = \"{method}\";")));
    assert_eq!(
        OBJECTS.matches(&format!("\"{method}\"")).count(),
        1,
        "\"{method}\" outside its declaration"
    );
    let verifier = pkce::CodeVerifier::from_random_bytes(&[7; 32]).unwrap();
    let length = pkce::CodeChallenge::s256(&verifier).as_str().len();
    assert!(OBJECTS.contains(&format!("const CHALLENGE_LENGTH = {length};")));
    assert_eq!(
        OBJECTS.matches(&length.to_string()).count(),
        1,
        "{length} outside its declaration"
    );
}
