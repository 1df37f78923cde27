//! A node's TLS identity: its key and the certificate the cluster CA issued for it.

use std::fmt;
use std::time::SystemTime;

use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use zeroize::Zeroizing;

use crate::cert_info::{NodeCertInfo, parse_x509};
use crate::cert_policy::renewal_time_random;
use crate::error::{Result, SecretsError};
use crate::node_key::NodeKey;

/// A node's TLS identity: its key, its certificate from the cluster CA and what the
/// certificate says, plus a renewal time drawn between 50% and 80% of the lifetime.
pub struct NodeCredentials {
    key_pkcs8: Zeroizing<Vec<u8>>,
    cert_der: CertificateDer<'static>,
    info: NodeCertInfo,
    renew_at: SystemTime,
}

impl NodeCredentials {
    /// Pairs `key` with `cert_der` after checking that the certificate is for this key, is
    /// signed by `ca_cert_der`, and carries a node identity.
    pub fn new(key: &NodeKey, cert_der: &[u8], ca_cert_der: &[u8]) -> Result<Self> {
        let info = NodeCertInfo::parse(cert_der)?;
        let cert = parse_x509(cert_der)?;
        if cert.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
            return Err(SecretsError::Certificate(
                "certificate is for another key than this node's".into(),
            ));
        }
        let ca = parse_x509(ca_cert_der)?;
        cert.verify_signature(Some(ca.public_key()))
            .map_err(|e| SecretsError::Certificate(format!("not signed by the given CA: {e}")))?;
        let renew_at = renewal_time_random(info.not_before, info.not_after)?;
        Ok(NodeCredentials {
            key_pkcs8: key.to_pkcs8_der(),
            cert_der: CertificateDer::from(cert_der.to_vec()),
            info,
            renew_at,
        })
    }

    /// What the certificate says (node id, role, cluster, validity).
    pub fn info(&self) -> &NodeCertInfo {
        &self.info
    }

    /// The certificate (DER).
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// When to ask for a new certificate: drawn uniformly between 50% and 80% of the lifetime,
    /// so the nodes of a cluster do not all renew at once.
    pub fn renew_at(&self) -> SystemTime {
        self.renew_at
    }

    /// Whether the certificate should be renewed at `now`.
    pub fn needs_renewal(&self, now: SystemTime) -> bool {
        now >= self.renew_at
    }

    pub(crate) fn private_key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_pkcs8.to_vec()))
    }
}

impl fmt::Debug for NodeCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeCredentials")
            .field("info", &self.info)
            .field("renew_at", &self.renew_at)
            .field("key", &"[REDACTED]")
            .finish()
    }
}
