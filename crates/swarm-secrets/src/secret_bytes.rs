//! Plaintext bytes that are wiped on drop and never printed.

use std::fmt;

use zeroize::Zeroizing;

/// Plaintext secret bytes: zeroized when dropped, redacted in `Debug`.
///
/// ```
/// use swarm_secrets::SecretBytes;
/// let s = SecretBytes::from(b"hunter2".to_vec());
/// assert_eq!(s.expose_secret(), b"hunter2");
/// assert_eq!(format!("{s:?}"), "SecretBytes([REDACTED; 7 bytes])");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// The plaintext. Keep the borrow short; never log it.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes (not secret).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<u8>> for SecretBytes {
    fn from(v: Vec<u8>) -> Self {
        SecretBytes(Zeroizing::new(v))
    }
}

impl From<Zeroizing<Vec<u8>>> for SecretBytes {
    fn from(v: Zeroizing<Vec<u8>>) -> Self {
        SecretBytes(v)
    }
}

impl secrecy::ExposeSecret<[u8]> for SecretBytes {
    fn expose_secret(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes([REDACTED; {} bytes])", self.0.len())
    }
}
