//! The test cipher: a real AEAD for tests and benches of at-rest encryption.

use crate::storage::Cipher;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use std::sync::Arc;

/// Bytes of a ChaCha20-Poly1305 authentication tag.
const TAG_BYTES: usize = 16;

/// ChaCha20-Poly1305 (ring) with a random nonce per seal; sealed bytes are
/// `nonce ‖ ciphertext ‖ tag`. The key is given in full, so it is for tests and benches only:
/// production fills [`Cipher`] from a keyring (`swarm-core` with `swarm-secrets`).
///
/// ```
/// use swarm_store::storage::Cipher;
/// use swarm_store::testkit::TestCipher;
/// let cipher = TestCipher::new([7; 32]);
/// let sealed = cipher.seal(b"hello", b"record 1").unwrap();
/// assert_eq!(cipher.open(&sealed, b"record 1").unwrap(), b"hello");
/// assert!(cipher.open(&sealed, b"record 2").is_err());
/// assert!(TestCipher::new([8; 32]).open(&sealed, b"record 1").is_err());
/// ```
pub struct TestCipher {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for TestCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCipher").finish_non_exhaustive()
    }
}

impl TestCipher {
    /// A cipher sealing under `key`.
    pub fn new(key: [u8; 32]) -> Self {
        // ring refuses only a key of the wrong length, which the type rules out.
        let key = UnboundKey::new(&CHACHA20_POLY1305, &key)
            .expect("32 bytes are a ChaCha20-Poly1305 key");
        TestCipher {
            key: LessSafeKey::new(key),
            rng: SystemRandom::new(),
        }
    }

    /// A cipher whose key is `key_byte` repeated, ready for storage options
    /// ([`DiskLogOptions::with_cipher`](crate::storage::DiskLogOptions::with_cipher),
    /// [`DiskSnapshotStore::with_cipher`](crate::storage::DiskSnapshotStore::with_cipher)).
    pub fn shared(key_byte: u8) -> Arc<dyn Cipher> {
        Arc::new(TestCipher::new([key_byte; 32]))
    }
}

impl Cipher for TestCipher {
    fn seal(&self, plaintext: &[u8], associated_data: &[u8]) -> Result<Vec<u8>, String> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| "no randomness for a nonce".to_string())?;
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_BYTES);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(associated_data),
                &mut out[NONCE_LEN..],
            )
            .map_err(|_| "seal failed".to_string())?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    fn open(&self, sealed: &[u8], associated_data: &[u8]) -> Result<Vec<u8>, String> {
        if sealed.len() < NONCE_LEN + TAG_BYTES {
            return Err("sealed bytes too short".into());
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| "bad nonce".to_string())?;
        let mut body = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(associated_data), &mut body)
            .map_err(|_| "authentication failed".to_string())?;
        Ok(plain.to_vec())
    }
}
