//! Random octets from the platform CSPRNG, base64url-encoded.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::PkceError;

/// `len` characters of base64url drawn from the CSPRNG: 6 uniformly random bits per character.
pub(crate) fn random_base64url(len: usize) -> Result<String, PkceError> {
    let mut bytes = vec![0u8; len.div_ceil(4) * 3];
    getrandom::fill(&mut bytes).map_err(|e| PkceError::RandomUnavailable(e.to_string()))?;
    let mut text = URL_SAFE_NO_PAD.encode(&bytes);
    text.truncate(len);
    Ok(text)
}
