//! Random octets from the platform CSPRNG, base64url-encoded.
//!
//! Octets are drawn from the operating system (in a browser, `crypto.getRandomValues`) in
//! blocks of 1 KiB and handed out once each: every octet given out is wiped from the block, so
//! no value is ever returned twice or kept after use. A block saves a crossing into JavaScript
//! per verifier, which is most of the cost of generating one in WebAssembly.

use std::cell::RefCell;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::PkceError;

const BLOCK: usize = 1024;

struct Pool {
    bytes: [u8; BLOCK],
    next: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = const { RefCell::new(Pool { bytes: [0; BLOCK], next: BLOCK }) };
}

/// Fills `out` with CSPRNG octets, each used once.
pub(crate) fn fill(out: &mut [u8]) -> Result<(), PkceError> {
    if out.len() > BLOCK {
        return getrandom::fill(out).map_err(|_| PkceError::RandomUnavailable);
    }
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        if BLOCK - pool.next < out.len() {
            getrandom::fill(&mut pool.bytes).map_err(|_| PkceError::RandomUnavailable)?;
            pool.next = 0;
        }
        let (start, end) = (pool.next, pool.next + out.len());
        out.copy_from_slice(&pool.bytes[start..end]);
        pool.bytes[start..end].fill(0);
        pool.next = end;
        Ok(())
    })
}

/// `len` characters of base64url drawn from the CSPRNG: 6 uniformly random bits per character.
pub(crate) fn random_base64url(len: usize) -> Result<String, PkceError> {
    let mut bytes = [0u8; 96];
    let needed = len.div_ceil(4) * 3;
    fill(&mut bytes[..needed])?;
    let mut text = URL_SAFE_NO_PAD.encode(&bytes[..needed]);
    bytes.fill(0);
    text.truncate(len);
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn pooled_octets_are_never_handed_out_twice() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let mut chunk = [0u8; 32];
            fill(&mut chunk).unwrap();
            assert!(seen.insert(chunk), "a 32-octet draw repeated");
        }
    }

    #[test]
    fn draws_larger_than_a_block_come_straight_from_the_os() {
        let mut big = vec![0u8; 4096];
        fill(&mut big).unwrap();
        assert!(big.iter().any(|b| *b != 0));
    }
}
