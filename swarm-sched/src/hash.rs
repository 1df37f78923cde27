//! A small, fast, deterministic hasher for the engine's internal maps.
//!
//! The engine's maps are keyed by short strings and small integers that come from the
//! orchestrator (a trusted, authenticated peer), so a keyed hash (SipHash) buys nothing
//! and costs a large share of a placement. This is the "Fx" multiply-rotate word hash with
//! murmur3's 64-bit finaliser.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// Multiply-rotate hasher (FxHash). Deterministic across runs and platforms of one width.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // The multiply leaves the low bits poorly mixed, and hashbrown takes the bucket from
        // the low bits and a 7-bit tag from the top ones: finish with murmur3's avalanche so
        // that similar keys (task IDs differing in a digit) neither share buckets nor tags.
        let mut h = self.hash;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// Build-hasher for [`FxHasher`].
pub(crate) type FxBuild = BuildHasherDefault<FxHasher>;
/// `HashMap` with [`FxHasher`].
pub(crate) type FxHashMap<K, V> = HashMap<K, V, FxBuild>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    /// Task IDs that differ in a digit must spread over buckets and tags (hashbrown uses the
    /// low bits for the bucket and the top 7 bits as a tag).
    #[test]
    fn similar_keys_spread_over_buckets_and_tags() {
        let b = FxBuild::default();
        let n = 1 << 14;
        let mut buckets = std::collections::HashSet::new();
        let mut tags = [0u32; 128];
        for k in 0..n {
            let h = b.hash_one(format!("task{:05}.{:05}", k / 50, k % 50).as_str());
            buckets.insert(h & (n as u64 * 2 - 1));
            tags[(h >> 57) as usize] += 1;
        }
        // A uniform hash fills ~1 - e^-0.5 = 39 % of 2n buckets.
        assert!(
            buckets.len() > n * 7 / 10,
            "{} distinct buckets of {}",
            buckets.len(),
            2 * n
        );
        let expected = n as u32 / 128;
        assert!(
            tags.iter().all(|&t| t < expected * 2),
            "tags unevenly used: {tags:?}"
        );
    }
}
