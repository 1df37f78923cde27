//! The at-rest encryption hook.

/// Seals and opens bytes written to disk: every log record payload and every snapshot.
///
/// `swarm-core` fills this with `swarm-secrets`' keyring; the default is [`NoCipher`].
///
/// # Contract
/// - `open(seal(p, ad), ad) == p` for every plaintext `p` and associated data `ad`.
/// - `open` fails (never returns other bytes) when the sealed bytes or `ad` differ in any bit.
/// - Both are pure with respect to storage: they may be called from any thread, concurrently.
pub trait Cipher: Send + Sync + 'static {
    /// Encrypts `plaintext`, binding `associated_data` (the storage passes the record's position).
    fn seal(&self, plaintext: &[u8], associated_data: &[u8]) -> Result<Vec<u8>, String>;
    /// Decrypts what [`Cipher::seal`] returned for the same `associated_data`.
    fn open(&self, sealed: &[u8], associated_data: &[u8]) -> Result<Vec<u8>, String>;
}

/// No encryption: bytes are stored as they are.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoCipher;

impl Cipher for NoCipher {
    fn seal(&self, plaintext: &[u8], _associated_data: &[u8]) -> Result<Vec<u8>, String> {
        Ok(plaintext.to_vec())
    }

    fn open(&self, sealed: &[u8], _associated_data: &[u8]) -> Result<Vec<u8>, String> {
        Ok(sealed.to_vec())
    }
}
