//! The autolock unlock key in SwarmKit's format (`SWMKEY-1-...`).

use std::fmt;

use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::constant_time::fixed_time_eq;
use crate::encoding::{base64_decode, base64_encode};
use crate::error::{Result, SecretsError};

/// Prefix of a human-readable unlock key, as in SwarmKit.
pub const UNLOCK_KEY_PREFIX: &str = "SWMKEY-1-";
/// Length of an unlock key in bytes (256 bits).
pub const UNLOCK_KEY_BYTES: usize = 32;

/// A 256-bit unlock key: the root of a [`crate::Keyring`]'s key-encryption key.
///
/// Shown to operators as `SWMKEY-1-<unpadded base64>` exactly like `docker swarm unlock-key`.
/// Wiped on drop; `Debug` never shows it and there is deliberately no `Display`: use
/// [`UnlockKey::expose_human_readable`] where it must be shown. `==` compares in constant
/// time.
///
/// ```
/// use swarm_secrets::UnlockKey;
/// let key = UnlockKey::generate()?;
/// let text = key.expose_human_readable();
/// assert!(text.starts_with("SWMKEY-1-"));
/// assert_eq!(UnlockKey::parse(&text)?, key);
/// assert!(!format!("{key:?}").contains(&text[9..]));
/// # Ok::<(), swarm_secrets::SecretsError>(())
/// ```
#[derive(Clone)]
pub struct UnlockKey(Zeroizing<[u8; UNLOCK_KEY_BYTES]>);

impl PartialEq for UnlockKey {
    fn eq(&self, other: &Self) -> bool {
        fixed_time_eq(&self.0, &other.0)
    }
}

impl Eq for UnlockKey {}

impl UnlockKey {
    /// A fresh random key from the system's CSPRNG.
    pub fn generate() -> Result<Self> {
        let mut k = Zeroizing::new([0u8; UNLOCK_KEY_BYTES]);
        SystemRandom::new()
            .fill(k.as_mut_slice())
            .map_err(|_| SecretsError::Rng)?;
        Ok(UnlockKey(k))
    }

    /// Wraps raw key bytes (e.g. read back from a sealed store).
    pub fn from_bytes(bytes: Zeroizing<[u8; UNLOCK_KEY_BYTES]>) -> Self {
        UnlockKey(bytes)
    }

    /// Parses `SWMKEY-1-<base64>`; surrounding whitespace is ignored.
    pub fn parse(text: &str) -> Result<Self> {
        const FIELD: &str = "unlock key";
        let text = text.trim();
        let body = text.strip_prefix(UNLOCK_KEY_PREFIX).ok_or_else(|| {
            SecretsError::invalid(FIELD, format!("must start with {UNLOCK_KEY_PREFIX}"))
        })?;
        let raw = base64_decode(body)
            .ok_or_else(|| SecretsError::invalid(FIELD, "body is not unpadded base64"))?;
        if raw.len() != UNLOCK_KEY_BYTES {
            return Err(SecretsError::invalid(
                FIELD,
                format!("must hold {UNLOCK_KEY_BYTES} bytes, holds {}", raw.len()),
            ));
        }
        let mut k = Zeroizing::new([0u8; UNLOCK_KEY_BYTES]);
        k.copy_from_slice(&raw);
        Ok(UnlockKey(k))
    }

    /// The key as operators see it: `SWMKEY-1-...`. Wiped when the returned value drops.
    pub fn expose_human_readable(&self) -> Zeroizing<String> {
        let body = base64_encode(self.0.as_slice());
        let mut s = Zeroizing::new(String::with_capacity(UNLOCK_KEY_PREFIX.len() + body.len()));
        s.push_str(UNLOCK_KEY_PREFIX);
        s.push_str(&body);
        s
    }

    /// The raw key bytes, to persist under another protection.
    pub fn expose_bytes(&self) -> &[u8; UNLOCK_KEY_BYTES] {
        &self.0
    }
}

impl fmt::Debug for UnlockKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UnlockKey(SWMKEY-1-[REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_its_own_output_and_rejects_garbage() {
        let k = UnlockKey::generate().unwrap();
        let text = k.expose_human_readable();
        assert_eq!(text.len(), UNLOCK_KEY_PREFIX.len() + 43);
        assert_eq!(
            UnlockKey::parse(&format!(" {}\n", text.as_str())).unwrap(),
            k
        );
        for bad in [
            "",
            "SWMKEY-1-",
            "SWMKEY-2-abc",
            "SWMKEY-1-!!!!",
            "SWMKEY-1-AAAA",
        ] {
            let e = UnlockKey::parse(bad).unwrap_err().to_string();
            assert!(e.contains("unlock key"), "{bad}: {e}");
        }
    }

    #[test]
    fn parses_a_swarmkit_style_key() {
        // The shape `docker swarm unlock-key` prints: 43 base64 characters, no padding.
        let k = UnlockKey::parse("SWMKEY-1-7c37Cc8654o6p38HnroywCi19pllOnGtbdZEgtKxZu8").unwrap();
        assert_eq!(
            k.expose_human_readable().as_str(),
            "SWMKEY-1-7c37Cc8654o6p38HnroywCi19pllOnGtbdZEgtKxZu8"
        );
    }
}
