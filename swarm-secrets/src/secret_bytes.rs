//! Plaintext bytes that are wiped on drop and never printed.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Plaintext secret bytes: zeroized when dropped, redacted in `Debug`.
///
/// Wiping goes through `zeroize`'s slice path (a bulk fill behind an optimisation barrier), not
/// its per-element `Vec` path, so dropping a 500 KiB secret costs a `memset`, not a byte loop.
///
/// ```
/// use swarm_secrets::SecretBytes;
/// let s = SecretBytes::from(b"hunter2".to_vec());
/// assert_eq!(s.expose_secret(), b"hunter2");
/// assert_eq!(format!("{s:?}"), "SecretBytes([REDACTED; 7 bytes])");
/// ```
///
/// There is deliberately no `PartialEq`: comparing secrets with `==` is not constant time.
#[derive(Clone)]
pub struct SecretBytes(Vec<u8>);

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

    /// Shortens the secret to `len` bytes, wiping the bytes cut off.
    pub(crate) fn truncate(&mut self, len: usize) {
        if len < self.0.len() {
            self.0[len..].zeroize();
            self.0.truncate(len);
        }
    }

    /// Moves the bytes out into a `Zeroizing` vector (no copy), for APIs that take one.
    pub fn into_zeroizing(mut self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(std::mem::take(&mut self.0))
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.0
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        self.0.as_mut_slice().zeroize();
        self.0.spare_capacity_mut().zeroize();
    }
}

impl ZeroizeOnDrop for SecretBytes {}

impl From<Vec<u8>> for SecretBytes {
    fn from(v: Vec<u8>) -> Self {
        SecretBytes(v)
    }
}

impl From<Zeroizing<Vec<u8>>> for SecretBytes {
    fn from(v: Zeroizing<Vec<u8>>) -> Self {
        SecretBytes(Vec::from(v.as_slice()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_keeps_the_prefix() {
        let mut s = SecretBytes::from(vec![1, 2, 3, 4]);
        s.truncate(2);
        assert_eq!(s.expose_secret(), &[1, 2]);
        s.truncate(5);
        assert_eq!(s.len(), 2);
    }
}
