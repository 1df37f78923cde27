//! The node's non-secret randomness: a seeded splitmix64 behind a lock.

use std::sync::{Mutex, PoisonError};

/// Ids, jitter and choices of managers come from here; secrets never do.
#[derive(Debug)]
pub(crate) struct NodeRng(Mutex<u64>);

impl NodeRng {
    /// A generator from `seed`, or from the clock and the process when `None`.
    pub(crate) fn new(seed: Option<u64>) -> Self {
        let seed = seed.unwrap_or_else(|| {
            use std::hash::{BuildHasher, Hasher};
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0),
            );
            h.write_u32(std::process::id());
            h.finish()
        });
        NodeRng(Mutex::new(seed))
    }

    /// The next value.
    pub(crate) fn next(&self) -> u64 {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}
