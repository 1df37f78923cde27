//! Comparisons of secret bytes whose time does not depend on where they differ.

use ring::rand::SystemRandom;

use crate::error::{Result, SecretsError};

/// Constant-time equality of two byte strings through ring's HMAC verification: both sides are
/// MACed under a fresh random key and the tags compared with `hmac::verify`. Used where a
/// presented value meets a stored secret (tokens, key check values, CA digests).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8], rng: &SystemRandom) -> Result<bool> {
    use ring::hmac;
    let key = hmac::Key::generate(hmac::HMAC_SHA256, rng).map_err(|_| SecretsError::Rng)?;
    let tag = hmac::sign(&key, a);
    Ok(hmac::verify(&key, b, tag.as_ref()).is_ok())
}

/// Equality of two fixed-size secrets that cannot fail, for `PartialEq` (ring's
/// `constant_time` module is deprecated): every byte pair is XORed into one accumulator behind
/// an optimisation barrier, so the loop never ends early, and only the final accumulator is
/// tested.
pub(crate) fn fixed_time_eq<const N: usize>(a: &[u8; N], b: &[u8; N]) -> bool {
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b.iter()) {
        diff = std::hint::black_box(diff | (x ^ y));
    }
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_comparisons_tell_equal_from_unequal() {
        let rng = SystemRandom::new();
        let a = [7u8; 32];
        let mut b = a;
        assert!(fixed_time_eq(&a, &b));
        assert!(constant_time_eq(&a, &b, &rng).unwrap());
        for i in [0, 15, 31] {
            b = a;
            b[i] ^= 0x80;
            assert!(!fixed_time_eq(&a, &b));
            assert!(!constant_time_eq(&a, &b, &rng).unwrap());
        }
        assert!(!constant_time_eq(&a, &a[..31], &rng).unwrap());
    }
}
