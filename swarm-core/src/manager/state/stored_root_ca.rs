//! The cluster's root CA as the managers store it.

use crate::model::ClusterId;
use serde::{Deserialize, Serialize};
use std::fmt;
use swarm_secrets::{CertPolicy, ClusterCa, SecretsError};
use zeroize::Zeroize;

/// The cluster root CA's certificate and private key, one document per cluster in the
/// [`ROOT_CA`](super::schema::ROOT_CA) collection (SwarmKit keeps them in its cluster object's
/// `RootCA`). Kept apart from the cluster object so that reading the cluster's settings never
/// reads the key.
///
/// The key is encrypted at rest like every stored document: the managers' WAL and snapshots
/// are sealed by [`KeyringCipher`](super::KeyringCipher), under the unlock key when autolock
/// is on. It is replicated to managers only (over mutual TLS). In memory the key bytes are
/// wiped when this value drops; `Debug` never shows them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRootCa {
    /// The cluster the CA serves.
    pub cluster_id: ClusterId,
    /// The root certificate (DER).
    pub cert_der: Vec<u8>,
    /// The CA's private key (PKCS#8 DER).
    key_pkcs8_der: Vec<u8>,
}

impl StoredRootCa {
    /// The record of `ca`.
    pub fn from_ca(ca: &ClusterCa) -> StoredRootCa {
        StoredRootCa {
            cluster_id: ClusterId::new(ca.cluster_id().as_str()),
            cert_der: ca.cert_der().to_vec(),
            key_pkcs8_der: ca.key_pkcs8_der().to_vec(),
        }
    }

    /// The CA back, issuing with `policy` (from the cluster's certificate expiry). Fails if
    /// the id is not a valid cluster id or the key does not match the certificate.
    pub fn to_ca(&self, policy: CertPolicy) -> Result<ClusterCa, SecretsError> {
        let cluster_id = swarm_secrets::ClusterId::new(self.cluster_id.as_str())?;
        ClusterCa::from_parts(cluster_id, &self.cert_der, &self.key_pkcs8_der, policy)
    }

    /// The private key bytes.
    pub fn expose_key_pkcs8_der(&self) -> &[u8] {
        &self.key_pkcs8_der
    }
}

impl Drop for StoredRootCa {
    fn drop(&mut self) {
        self.key_pkcs8_der.zeroize();
    }
}

impl fmt::Debug for StoredRootCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredRootCa")
            .field("cluster_id", &self.cluster_id)
            .field("cert_der_bytes", &self.cert_der.len())
            .field("key", &"[REDACTED]")
            .finish()
    }
}
