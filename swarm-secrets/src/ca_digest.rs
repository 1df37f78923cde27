//! The digest of a root CA certificate that join tokens pin.

use std::fmt;

use ring::digest;
use ring::rand::SystemRandom;
use serde::{Deserialize, Serialize};

use crate::aead_key::constant_time_eq;
use crate::error::{Result, SecretsError};

/// Length of a CA digest (SHA-256).
pub(crate) const DIGEST_BYTES: usize = 32;

/// SHA-256 of the root CA certificate (DER), as carried in join tokens.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CaDigest(pub(crate) [u8; DIGEST_BYTES]);

impl CaDigest {
    /// The digest of a DER-encoded CA certificate.
    pub fn of_certificate(ca_cert_der: &[u8]) -> Self {
        let d = digest::digest(&digest::SHA256, ca_cert_der);
        let mut out = [0u8; DIGEST_BYTES];
        out.copy_from_slice(d.as_ref());
        CaDigest(out)
    }

    /// The digest bytes.
    pub fn as_bytes(&self) -> &[u8; DIGEST_BYTES] {
        &self.0
    }

    /// Checks in constant time that `ca_cert_der` has this digest.
    pub fn verify(&self, ca_cert_der: &[u8]) -> Result<()> {
        let other = CaDigest::of_certificate(ca_cert_der);
        if constant_time_eq(&self.0, &other.0, &SystemRandom::new())? {
            Ok(())
        } else {
            Err(SecretsError::CaDigestMismatch)
        }
    }
}

impl fmt::Debug for CaDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CaDigest(sha256:")?;
        for b in &self.0[..8] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "...)")
    }
}
