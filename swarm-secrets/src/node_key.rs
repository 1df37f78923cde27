//! A node's private TLS key (ECDSA P-256).

use std::fmt;

use rcgen::{CertificateParams, KeyPair, PKCS_ECDSA_P256_SHA256};
use rustls_pki_types::PrivatePkcs8KeyDer;
use zeroize::Zeroizing;

use crate::error::Result;

/// A node's private TLS key (ECDSA P-256, generated with ring through rcgen). `Debug` is
/// redacted; the PKCS#8 export is wiped when dropped.
pub struct NodeKey {
    key: KeyPair,
}

impl NodeKey {
    /// A fresh ECDSA P-256 key.
    pub fn generate() -> Result<Self> {
        Ok(NodeKey {
            key: KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?,
        })
    }

    /// Restores a key saved with [`NodeKey::to_pkcs8_der`].
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        let pkcs8 = PrivatePkcs8KeyDer::from(der);
        let key = KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &PKCS_ECDSA_P256_SHA256)?;
        Ok(NodeKey { key })
    }

    /// The key as PKCS#8 DER, to persist (protect it, e.g. with a [`crate::Keyring`]).
    pub fn to_pkcs8_der(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.key.serialize_der())
    }

    /// A certificate signing request for this key. The CA ignores the requested subject and
    /// sets node id, role and cluster itself, so the request carries none.
    pub fn csr_der(&self) -> Result<Vec<u8>> {
        let params = CertificateParams::default();
        Ok(params.serialize_request(&self.key)?.der().to_vec())
    }

    pub(crate) fn public_key_raw(&self) -> &[u8] {
        self.key.public_key_raw()
    }
}

impl fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NodeKey(ECDSA-P256, [REDACTED])")
    }
}
