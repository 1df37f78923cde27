//! The digest of a root CA certificate that join tokens pin.

use std::fmt;

use ring::digest;
use ring::rand::SystemRandom;
use serde::{Deserialize, Serialize};

use crate::constant_time::constant_time_eq;
use crate::error::{Result, SecretsError};

/// Length of a CA digest (SHA-256).
pub(crate) const DIGEST_BYTES: usize = 32;

/// The digest of the root CA certificate that join tokens carry: SHA-256 of the certificate's
/// canonical PEM, as SwarmKit computes it.
///
/// SwarmKit hashes the PEM bytes of its root CA; hashing the DER would give a token that a
/// SwarmKit-built root never matches. PEM text is not unique, though (line length, line
/// endings, headers), so the PEM hashed here is always re-encoded from the DER by
/// [`crate::pem::certificate_to_pem`]: `-----BEGIN CERTIFICATE-----`, padded base64 in lines of
/// 64 characters, LF line ends, `-----END CERTIFICATE-----` and a final LF, byte for byte what
/// Go's `pem.Encode` writes for one certificate. So the digest is a function of the DER alone
/// (the same certificate always gives the same digest, whatever file it came from) and equals
/// SwarmKit's for a root it generated.
///
/// ```
/// use swarm_secrets::CaDigest;
/// let der = b"stand-in for a certificate DER";
/// let pem = swarm_secrets::pem::certificate_to_pem(der);
/// let sha = ring::digest::digest(&ring::digest::SHA256, pem.as_bytes());
/// assert_eq!(CaDigest::of_certificate(der).as_bytes().as_slice(), sha.as_ref());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CaDigest(pub(crate) [u8; DIGEST_BYTES]);

impl CaDigest {
    /// The digest of a DER-encoded CA certificate: SHA-256 of its canonical PEM (see
    /// [`CaDigest`]).
    pub fn of_certificate(ca_cert_der: &[u8]) -> Self {
        let pem = crate::pem::certificate_to_pem(ca_cert_der);
        let d = digest::digest(&digest::SHA256, pem.as_bytes());
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
