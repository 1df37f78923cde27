//! The store's at-rest cipher, backed by a swarm-secrets keyring.

use std::fmt;
use std::sync::{Arc, RwLock};
use swarm_secrets::limits::{MAX_ASSOCIATED_DATA_BYTES, MAX_KEYRING_PLAINTEXT_BYTES};
use swarm_secrets::{Keyring, MAX_SEALED_BLOB_BYTES};
use swarm_store::storage::Cipher;

/// Plaintext bytes sealed as one blob. A snapshot is sealed whole by the store and can reach
/// 1 GiB, above what one keyring seal takes ([`MAX_KEYRING_PLAINTEXT_BYTES`], 64 MiB), so
/// larger values are sealed in chunks of this size, each bound to its index and the chunk
/// count. Worst case: one chunk's plaintext and its sealed copy in memory at once beside the
/// output (32 MiB).
pub const MAX_CIPHER_CHUNK_BYTES: usize = 16 * 1024 * 1024;
/// Most chunks one sealed value may hold: 16 GiB of plaintext, the largest snapshot file the
/// store's disk snapshot store reads. `open` refuses more before allocating anything.
pub const MAX_SEALED_CHUNKS: u32 = 1024;

/// The sealed value's format version.
const SEALED_VERSION: u8 = 1;
/// Version byte and chunk count.
const HEADER_BYTES: usize = 1 + 4;
/// Bound into every chunk's associated data, so a blob sealed by the keyring for another
/// purpose never opens as stored state.
const DOMAIN: &[u8] = b"swarm-core/manager-state/v1";
/// Domain, chunk index and chunk count before the storage's associated data.
const AAD_PREFIX_BYTES: usize = DOMAIN.len() + 4 + 4;

const _: () = assert!(MAX_CIPHER_CHUNK_BYTES <= MAX_KEYRING_PLAINTEXT_BYTES);

/// The at-rest [`Cipher`] of a manager's WAL and snapshots: envelope encryption with a
/// swarm-secrets [`Keyring`] (AES-256-GCM under the keyring's active data encryption key,
/// wrapped by the key encryption key derived from the unlock key).
///
/// A sealed value is `version (1) | chunk count (u32 BE) | (blob length (u32 BE) | blob)*`;
/// each blob is a keyring [`SealedBlob`](swarm_secrets::SealedBlob) of at most
/// [`MAX_CIPHER_CHUNK_BYTES`] of plaintext, sealed with the associated data
/// `domain | chunk index | chunk count | the storage's associated data` (the record's
/// position), so no chunk opens at another position, in another order or in a value with
/// another number of chunks.
///
/// The keyring in use can be replaced while storages hold the cipher
/// ([`KeyringCipher::replace`], used when a new data encryption key becomes active); values
/// sealed under any key still in the new keyring keep opening.
pub struct KeyringCipher {
    keyring: RwLock<Arc<Keyring>>,
}

impl KeyringCipher {
    /// A cipher sealing with `keyring`, which must be unlocked (a locked keyring makes every
    /// seal and open fail).
    pub fn new(keyring: Keyring) -> Self {
        KeyringCipher {
            keyring: RwLock::new(Arc::new(keyring)),
        }
    }

    /// Seals and opens with `keyring` from now on. Callers pass a keyring holding every key
    /// the previous one held (a rotated data encryption key keeps the old ones).
    pub fn replace(&self, keyring: Keyring) {
        let mut guard = self
            .keyring
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *guard = Arc::new(keyring);
    }

    /// The id of the data encryption key new seals use.
    pub fn active_key_id(&self) -> u32 {
        self.current().active_key_id()
    }

    fn current(&self) -> Arc<Keyring> {
        // A poisoned lock only means a writer panicked while swapping an `Arc`: the value is
        // whole either way.
        self.keyring
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl fmt::Debug for KeyringCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyringCipher")
            .field("keyring", &self.current())
            .finish()
    }
}

/// `DOMAIN | index | count | associated_data`.
fn chunk_aad(index: u32, count: u32, associated_data: &[u8]) -> Result<Vec<u8>, String> {
    let len = AAD_PREFIX_BYTES + associated_data.len();
    if len > MAX_ASSOCIATED_DATA_BYTES {
        return Err(format!(
            "associated data of {} bytes exceeds the limit of {} bytes",
            associated_data.len(),
            MAX_ASSOCIATED_DATA_BYTES - AAD_PREFIX_BYTES
        ));
    }
    let mut aad = Vec::with_capacity(len);
    aad.extend_from_slice(DOMAIN);
    aad.extend_from_slice(&index.to_be_bytes());
    aad.extend_from_slice(&count.to_be_bytes());
    aad.extend_from_slice(associated_data);
    Ok(aad)
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let field: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(field))
}

impl Cipher for KeyringCipher {
    fn seal(&self, plaintext: &[u8], associated_data: &[u8]) -> Result<Vec<u8>, String> {
        let keyring = self.current();
        let chunks = plaintext.len().div_ceil(MAX_CIPHER_CHUNK_BYTES).max(1);
        let count = u32::try_from(chunks)
            .ok()
            .filter(|&c| c <= MAX_SEALED_CHUNKS)
            .ok_or_else(|| {
                format!(
                    "{} bytes need {chunks} chunks, above the limit of {MAX_SEALED_CHUNKS}",
                    plaintext.len()
                )
            })?;
        let mut out = Vec::with_capacity(HEADER_BYTES + plaintext.len() + chunks * 64);
        out.push(SEALED_VERSION);
        out.extend_from_slice(&count.to_be_bytes());
        let pieces: Box<dyn Iterator<Item = &[u8]>> = if plaintext.is_empty() {
            Box::new(std::iter::once(plaintext))
        } else {
            Box::new(plaintext.chunks(MAX_CIPHER_CHUNK_BYTES))
        };
        for (index, piece) in (0u32..).zip(pieces) {
            let aad = chunk_aad(index, count, associated_data)?;
            let blob = keyring
                .seal(piece, &aad)
                .map_err(|e| format!("sealing chunk {index} of {count}: {e}"))?;
            let len = u32::try_from(blob.as_bytes().len())
                .map_err(|_| format!("chunk {index} of {count} is too large"))?;
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(blob.as_bytes());
        }
        Ok(out)
    }

    fn open(&self, sealed: &[u8], associated_data: &[u8]) -> Result<Vec<u8>, String> {
        let keyring = self.current();
        match sealed.first() {
            Some(&SEALED_VERSION) => {}
            Some(v) => return Err(format!("unknown sealed format version {v}")),
            None => return Err("empty sealed value".to_owned()),
        }
        let count = read_u32(sealed, 1).ok_or("sealed value shorter than its header")?;
        if count == 0 || count > MAX_SEALED_CHUNKS {
            return Err(format!(
                "sealed value claims {count} chunks, expected 1..={MAX_SEALED_CHUNKS}"
            ));
        }
        let mut out = Vec::with_capacity(sealed.len().saturating_sub(HEADER_BYTES));
        let mut at = HEADER_BYTES;
        for index in 0..count {
            let len = read_u32(sealed, at)
                .ok_or_else(|| format!("chunk {index} of {count}: length cut off"))?;
            let len = usize::try_from(len)
                .ok()
                .filter(|&l| l <= MAX_SEALED_BLOB_BYTES)
                .ok_or_else(|| format!("chunk {index} of {count}: {len} bytes is too large"))?;
            at += 4;
            let blob = sealed
                .get(at..at + len)
                .ok_or_else(|| format!("chunk {index} of {count}: cut off"))?;
            at += len;
            let aad = chunk_aad(index, count, associated_data)?;
            let plain = keyring
                .open_bytes(blob, &aad)
                .map_err(|e| format!("opening chunk {index} of {count}: {e}"))?;
            out.extend_from_slice(plain.expose_secret());
        }
        if at != sealed.len() {
            return Err(format!(
                "{} trailing bytes after {count} chunks",
                sealed.len() - at
            ));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use swarm_secrets::UnlockKey;

    fn cipher() -> KeyringCipher {
        KeyringCipher::new(Keyring::create(&UnlockKey::generate().unwrap()).unwrap())
    }

    #[test]
    fn round_trips_empty_small_and_chunked_values() {
        let c = cipher();
        for len in [
            0,
            1,
            1000,
            MAX_CIPHER_CHUNK_BYTES,
            MAX_CIPHER_CHUNK_BYTES + 1,
        ] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let sealed = c.seal(&plain, b"pos-7").unwrap();
            assert_ne!(sealed.get(HEADER_BYTES..), Some(&plain[..]));
            assert_eq!(c.open(&sealed, b"pos-7").unwrap(), plain, "len {len}");
            let expected_chunks = len.div_ceil(MAX_CIPHER_CHUNK_BYTES).max(1) as u32;
            assert_eq!(read_u32(&sealed, 1), Some(expected_chunks));
        }
    }

    #[test]
    fn refuses_other_position_flipped_bits_truncation_and_reordering() {
        let c = cipher();
        let plain = vec![7u8; MAX_CIPHER_CHUNK_BYTES + 10];
        let sealed = c.seal(&plain, b"a").unwrap();
        assert!(c.open(&sealed, b"b").is_err());
        for at in [0, 2, HEADER_BYTES + 3, sealed.len() / 2, sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[at] ^= 1;
            assert!(c.open(&bad, b"a").is_err(), "flip at {at}");
        }
        assert!(c.open(&sealed[..sealed.len() - 1], b"a").is_err());
        let mut longer = sealed.clone();
        longer.push(0);
        assert!(c.open(&longer, b"a").is_err());
        assert!(c.open(&[], b"a").is_err());
        // A one-chunk value whose header claims two chunks, or a chunk moved to index 0.
        let one = c.seal(b"x", b"a").unwrap();
        let mut two = one.clone();
        two[1..5].copy_from_slice(&2u32.to_be_bytes());
        assert!(c.open(&two, b"a").is_err());
        let first_len = read_u32(&sealed, HEADER_BYTES).unwrap() as usize;
        let second = &sealed[HEADER_BYTES + 4 + first_len..];
        let mut swapped = sealed[..HEADER_BYTES].to_vec();
        swapped.extend_from_slice(second);
        swapped.extend_from_slice(&sealed[HEADER_BYTES..HEADER_BYTES + 4 + first_len]);
        assert!(c.open(&swapped, b"a").is_err());
        // Too many chunks is refused before anything is read.
        let mut many = one;
        many[1..5].copy_from_slice(&(MAX_SEALED_CHUNKS + 1).to_be_bytes());
        assert!(c.open(&many, b"a").unwrap_err().contains("chunks"));
    }

    #[test]
    fn another_keyring_opens_nothing_and_replace_keeps_old_values() {
        let key = UnlockKey::generate().unwrap();
        let mut ring = Keyring::create(&key).unwrap();
        let export = ring.export().unwrap();
        let c = KeyringCipher::new(
            Keyring::from_exported(&export)
                .map(|mut r| {
                    r.unlock(&key).unwrap();
                    r
                })
                .unwrap(),
        );
        let old = c.seal(b"before", b"p").unwrap();
        assert!(cipher().open(&old, b"p").is_err());
        ring.rotate_dek().unwrap();
        let mut next = Keyring::from_exported(&ring.export().unwrap()).unwrap();
        next.unlock(&key).unwrap();
        c.replace(next);
        assert_eq!(c.active_key_id(), 2);
        let new = c.seal(b"after", b"p").unwrap();
        assert_eq!(c.open(&old, b"p").unwrap(), b"before");
        assert_eq!(c.open(&new, b"p").unwrap(), b"after");
        assert!(!format!("{c:?}").contains("before"));
    }

    #[test]
    fn a_locked_keyring_seals_nothing() {
        let key = UnlockKey::generate().unwrap();
        let ring = Keyring::create(&key).unwrap();
        let locked = KeyringCipher::new(Keyring::from_exported(&ring.export().unwrap()).unwrap());
        assert!(locked.seal(b"x", b"p").unwrap_err().contains("locked"));
    }
}
