//! Random octets from the platform CSPRNG, base64url-encoded.
//!
//! Octets are drawn from the operating system (in a browser, `crypto.getRandomValues`) in
//! blocks of 1 KiB and handed out once each: every octet given out is wiped from the block, so
//! no value is ever returned twice or kept after use. A block saves a crossing into JavaScript
//! per verifier, which is most of the cost of generating one in WebAssembly.

use alloc::string::String;

use crate::{PkceError, base64url};

const BLOCK: usize = 1024;

struct Pool {
    bytes: [u8; BLOCK],
    next: usize,
}

/// One pool per program (`no_std` has no thread-locals). It is only ever `try_lock`ed: a caller
/// that finds it busy (another thread drawing at that instant) draws straight from the OS
/// instead, so nobody waits and no octet is shared.
static POOL: spin::Mutex<Pool> = spin::Mutex::new(Pool {
    bytes: [0; BLOCK],
    next: BLOCK,
});

/// Fills `out` with CSPRNG octets, each used once.
pub(crate) fn fill(out: &mut [u8]) -> Result<(), PkceError> {
    let pool = if out.len() > BLOCK { None } else { POOL.try_lock() };
    let Some(mut pool) = pool else {
        return getrandom::fill(out).map_err(|_| PkceError::RandomUnavailable);
    };
    if BLOCK - pool.next < out.len() {
        getrandom::fill(&mut pool.bytes).map_err(|_| PkceError::RandomUnavailable)?;
        pool.next = 0;
    }
    let (start, end) = (pool.next, pool.next + out.len());
    out.copy_from_slice(&pool.bytes[start..end]);
    pool.bytes[start..end].fill(0);
    pool.next = end;
    Ok(())
}

/// `len` characters of base64url drawn from the CSPRNG: 6 uniformly random bits per character.
pub(crate) fn random_base64url(len: usize) -> Result<String, PkceError> {
    let mut bytes = [0u8; 96];
    let needed = len.div_ceil(4) * 3;
    fill(&mut bytes[..needed])?;
    let mut text = base64url::encode(&bytes[..needed]);
    bytes.fill(0);
    text.truncate(len);
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
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

    /// Threads that find the pool busy draw from the OS: nothing is shared either way.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn threads_drawing_at_once_never_share_octets() {
        let draws: std::vec::Vec<[u8; 32]> = std::thread::scope(|scope| {
            let threads: std::vec::Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        (0..500)
                            .map(|_| {
                                let mut chunk = [0u8; 32];
                                fill(&mut chunk).unwrap();
                                chunk
                            })
                            .collect::<std::vec::Vec<_>>()
                    })
                })
                .collect();
            threads.into_iter().flat_map(|t| t.join().unwrap()).collect()
        });
        let unique: std::collections::HashSet<_> = draws.iter().collect();
        assert_eq!(unique.len(), draws.len());
    }

    #[test]
    fn draws_larger_than_a_block_come_straight_from_the_os() {
        let mut big = vec![0u8; 4096];
        fill(&mut big).unwrap();
        assert!(big.iter().any(|b| *b != 0));
    }
}
