//! `flow::check_callback` on any query: never panics, accepts nothing without the exact state,
//! never turns an error response into a code, and keeps what it shows printable and short.
#![no_main]

use libfuzzer_sys::fuzz_target;

const STATE: &str = "s3cret-state";
const ISSUER: flow::ExpectedIssuer<'static> = flow::ExpectedIssuer { identifier: "https://auth.example", always_sends_iss: true };

fuzz_target!(|data: &[u8]| {
    let query = String::from_utf8_lossy(data);
    let bare = query.strip_prefix('?').unwrap_or(&query);
    let pairs: Vec<(String, String)> = form_urlencoded::parse(bare.as_bytes()).into_owned().collect();
    for issuer in [None, Some(ISSUER)] {
        match flow::check_callback(&query, Some(STATE), issuer) {
            Ok(callback) => {
                if issuer.is_some() {
                    assert!(pairs.iter().any(|(n, v)| n == "iss" && v == ISSUER.identifier), "accepted without the issuer: {query:?}");
                }
                assert!(pairs.iter().any(|(n, v)| n == "state" && v == STATE), "accepted without the state: {query:?}");
                assert!(!pairs.iter().any(|(n, _)| n == "error"), "an error response became a code: {query:?}");
                assert!(!callback.code().is_empty());
            }
            Err(error) => {
                let shown = error.description.unwrap_or_default();
                assert!(shown.chars().count() <= 300 && !shown.chars().any(char::is_control));
            }
        }
    }
    assert!(flow::check_callback(&query, None, Some(ISSUER)).is_err(), "nothing is accepted without a pending authorization");
});
