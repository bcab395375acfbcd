//! Base64url without padding: the encoding RFC 7636 uses for the verifier and the challenge
//! (§3 "Base64url Encoding", Appendix A; the alphabet of RFC 4648 §5).
//!
//! Written here rather than taken from the `base64` crate: PKCE only ever encodes 32 to 96
//! octets, and this loop is a ninth of that crate's general engine in the JavaScript
//! package's WebAssembly. The tests check it against the `base64` crate.

use alloc::string::String;

/// RFC 4648 §5, Table 2: the URL- and filename-safe alphabet.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `octets` in base64url with the trailing `=` removed (RFC 7636 Appendix A): each 3 octets
/// become 4 characters, a final 1 or 2 octets become 2 or 3.
pub(crate) fn encode(octets: &[u8]) -> String {
    let mut text = String::with_capacity((octets.len() * 4).div_ceil(3));
    for group in octets.chunks(3) {
        let bits = group
            .iter()
            .enumerate()
            .fold(0u32, |bits, (i, &octet)| bits | u32::from(octet) << (16 - 8 * i));
        for sextet in 0..=group.len() {
            text.push(char::from(ALPHABET[(bits >> (18 - 6 * sextet) & 63) as usize]));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// RFC 4648 §10's test vectors, without their padding.
    #[test]
    fn rfc4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ];
        for (octets, text) in vectors {
            assert_eq!(encode(octets.as_bytes()), text);
        }
    }

    /// The two characters where base64url differs from base64 (RFC 4648 §5).
    #[test]
    fn uses_the_url_safe_alphabet() {
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use proptest::prelude::*;

    proptest! {
        /// The same text as the `base64` crate's URL-safe, unpadded engine, for any input.
        #[test]
        fn agrees_with_the_base64_crate(octets in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(super::encode(&octets), URL_SAFE_NO_PAD.encode(&octets));
        }
    }
}
