//! Sealing what the companion keeps in a shared store: AES-256-GCM (RustCrypto's `aes-gcm`)
//! under `COMPANION_SESSION_KEY`, with what the record belongs to (its kind and the session id
//! of the cookie) as associated data, so a record copied under another id or kind does not open.
//! An older key (`COMPANION_SESSION_KEY_PREVIOUS`) still opens what it sealed; every write seals
//! with the current key, so records move to it as they are written.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

/// The first byte of a sealed record: its layout (AES-256-GCM, 96-bit nonce, then ciphertext
/// with its 128-bit tag).
const FORMAT: u8 = 1;
const NONCE_LEN: usize = 12;
/// Bytes of key the variables must decode to.
pub const KEY_LEN: usize = 32;

/// The keys records are sealed and opened with. `Debug` shows no key.
#[derive(Clone)]
pub struct SealingKeys {
    current: Aes256Gcm,
    previous: Option<Aes256Gcm>,
}

impl std::fmt::Debug for SealingKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealingKeys")
            .field("previous", &self.previous.is_some())
            .finish_non_exhaustive()
    }
}

/// The 32 bytes of a key from its base64 text (standard or URL-safe alphabet, padded or not),
/// or why not, as a sentence.
pub fn parse_key(text: &str) -> Result<[u8; KEY_LEN], String> {
    let bytes = [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text.trim()).ok())
        .ok_or_else(|| "is not base64; make one with `openssl rand -base64 32`".to_owned())?;
    <[u8; KEY_LEN]>::try_from(bytes.as_slice()).map_err(|_| {
        format!(
            "decodes to {} bytes, and a key is {KEY_LEN} random bytes; make one with `openssl rand -base64 32`",
            bytes.len()
        )
    })
}

impl SealingKeys {
    /// Keys from raw bytes: the current one and, during a rotation, the one before it.
    pub fn new(current: &[u8; KEY_LEN], previous: Option<&[u8; KEY_LEN]>) -> Self {
        let cipher = |key: &[u8; KEY_LEN]| Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key));
        Self {
            current: cipher(current),
            previous: previous.map(cipher),
        }
    }

    /// `plaintext` sealed with the current key, bound to `context` (associated data).
    #[expect(
        clippy::expect_used,
        reason = "AES-GCM fails only on messages over 64 GiB; records are kilobytes"
    )]
    pub fn seal(&self, context: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = self
            .current
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .expect("AES-GCM encrypts any message shorter than 64 GiB");
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(FORMAT);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    /// The plaintext of `sealed` if it was sealed by one of the keys for this `context`;
    /// `None` for anything tampered with, truncated, or sealed for another context.
    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        self.open_noting_key(context, sealed).map(|(plaintext, _)| plaintext)
    }

    /// As [`SealingKeys::open`], and which key opened it: [`KeyUsed::Previous`] asks the caller
    /// to seal it again with the current key, so that nothing still needs the previous key
    /// once every live record has been read during the rotation.
    pub fn open_noting_key(&self, context: &[u8], sealed: &[u8]) -> Option<(Vec<u8>, KeyUsed)> {
        let (&format, rest) = sealed.split_first()?;
        if format != FORMAT || rest.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::from_slice(nonce);
        let payload = || Payload {
            msg: ciphertext,
            aad: context,
        };
        if let Ok(plaintext) = self.current.decrypt(nonce, payload()) {
            return Some((plaintext, KeyUsed::Current));
        }
        let plaintext = self.previous.as_ref()?.decrypt(nonce, payload()).ok()?;
        Some((plaintext, KeyUsed::Previous))
    }
}

/// Which of the [`SealingKeys`] opened a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUsed {
    /// `COMPANION_SESSION_KEY`.
    Current,
    /// `COMPANION_SESSION_KEY_PREVIOUS`: seal it again.
    Previous,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_opens_only_in_its_own_context_and_untouched() {
        let keys = SealingKeys::new(&[7; KEY_LEN], None);
        let sealed = keys.seal(b"session:a", b"tokens");
        assert_eq!(keys.open(b"session:a", &sealed).as_deref(), Some(&b"tokens"[..]));
        assert_eq!(keys.open(b"session:b", &sealed), None, "copied under another id");
        for i in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[i] ^= 1;
            assert_eq!(keys.open(b"session:a", &tampered), None, "byte {i} flipped");
        }
        for len in 0..sealed.len() {
            assert_eq!(keys.open(b"session:a", &sealed[..len]), None, "truncated to {len}");
        }
        assert_ne!(keys.seal(b"session:a", b"tokens"), sealed, "a fresh nonce every time");
    }

    #[test]
    fn the_previous_key_still_opens_and_an_unknown_one_does_not() {
        let old = SealingKeys::new(&[1; KEY_LEN], None);
        let sealed = old.seal(b"c", b"x");
        let rotated = SealingKeys::new(&[2; KEY_LEN], Some(&[1; KEY_LEN]));
        assert_eq!(rotated.open(b"c", &sealed).as_deref(), Some(&b"x"[..]));
        assert_eq!(
            rotated.open_noting_key(b"c", &sealed).map(|(_, key)| key),
            Some(KeyUsed::Previous)
        );
        assert_eq!(
            rotated
                .open_noting_key(b"c", &rotated.seal(b"c", b"x"))
                .map(|(_, key)| key),
            Some(KeyUsed::Current)
        );
        let resealed = rotated.seal(b"c", b"x");
        assert_eq!(old.open(b"c", &resealed), None, "writes use the new key");
        let after = SealingKeys::new(&[2; KEY_LEN], None);
        assert_eq!(after.open(b"c", &sealed), None, "the old key retired");
        assert!(!format!("{rotated:?}").contains('1'));
    }

    #[test]
    fn keys_are_32_bytes_of_base64_and_anything_else_is_refused_with_a_reason() {
        let key = STANDARD.encode([9u8; 32]);
        assert_eq!(parse_key(&key), Ok([9; 32]));
        assert_eq!(parse_key(&URL_SAFE_NO_PAD.encode([9u8; 32])), Ok([9; 32]));
        assert!(parse_key(&STANDARD.encode([9u8; 16])).unwrap_err().contains("16 bytes"));
        assert!(parse_key("not base64 at all!").unwrap_err().contains("not base64"));
    }
}
