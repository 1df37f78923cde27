//! The end-entity certificates one [`ClusterTrust`](super::ClusterTrust) has chain-verified, so
//! that checking the same certificate again costs a digest instead of an ECDSA verification.
//!
//! A transport that hands over the peer's certificate asks
//! [`ClusterTrust::identify_certificate`](super::ClusterTrust::identify_certificate) about it
//! at every call (an in-process network) or every second per open connection (the TCP
//! transport's recheck): with a thousand nodes, thousands of identical chain verifications a
//! second. Whether a certificate chains to the trust's roots depends only on its bytes, those
//! roots and the time; so an entry, keyed by the certificate's SHA-256, holds what the
//! certificate says, including its validity period, and is used only while the time is inside
//! it. Everything else (cluster id, revocation, role) is checked at every call as before. A
//! trust with other roots (a root rotation) starts with no entries.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use ring::digest::{SHA256, digest};

use crate::cert_info::NodeCertInfo;

/// Most certificates one trust remembers as chain-verified: 16,384, every node of a large
/// cluster with room for renewals. When full it forgets them all; the worst case is one more
/// chain verification per certificate. Memory: some 200 bytes per entry, about 3 MiB at most.
pub const MAX_VERIFIED_CERTS: usize = 16_384;

/// A certificate's SHA-256.
pub(super) type CertDigest = [u8; 32];

/// The chain-verified certificates of one trust, by digest.
#[derive(Debug, Default)]
pub(super) struct VerifiedCerts {
    by_digest: Mutex<HashMap<CertDigest, NodeCertInfo>>,
}

impl VerifiedCerts {
    /// The key of `cert_der`.
    pub(super) fn digest(cert_der: &[u8]) -> CertDigest {
        let mut key = [0u8; 32];
        key.copy_from_slice(digest(&SHA256, cert_der).as_ref());
        key
    }

    /// What the certificate verified before says, if `now` is inside its validity period
    /// (bounds included, as WebPKI checks them).
    pub(super) fn get(&self, key: &CertDigest, now: SystemTime) -> Option<NodeCertInfo> {
        let map = self
            .by_digest
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let info = map.get(key)?;
        (info.not_before <= now && now <= info.not_after).then(|| info.clone())
    }

    /// Remembers a certificate that has just been chain-verified.
    pub(super) fn insert(&self, key: CertDigest, info: NodeCertInfo) {
        let mut map = self
            .by_digest
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_VERIFIED_CERTS && !map.contains_key(&key) {
            map.clear();
        }
        map.insert(key, info);
    }

    /// How many certificates are remembered.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.by_digest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_id::{ClusterId, NodeId, Role};
    use std::time::Duration;

    fn info(node: &str, from: SystemTime, to: SystemTime) -> NodeCertInfo {
        NodeCertInfo {
            node_id: NodeId::new(node).unwrap(),
            role: Role::Worker,
            cluster_id: ClusterId::new("c").unwrap(),
            not_before: from,
            not_after: to,
        }
    }

    #[test]
    fn an_entry_serves_only_inside_its_validity_and_a_full_set_starts_over() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let hour = Duration::from_secs(3_600);
        let certs = VerifiedCerts::default();
        let key = VerifiedCerts::digest(b"cert a");
        assert_ne!(key, VerifiedCerts::digest(b"cert b"));
        certs.insert(key, info("a", t, t + hour));
        assert_eq!(certs.get(&key, t).unwrap().node_id.as_str(), "a");
        assert!(certs.get(&key, t + hour).is_some());
        assert!(certs.get(&key, t - Duration::from_secs(1)).is_none());
        assert!(certs.get(&key, t + hour + Duration::from_secs(1)).is_none());
        assert!(certs.get(&VerifiedCerts::digest(b"cert b"), t).is_none());

        for i in 1..MAX_VERIFIED_CERTS {
            certs.insert(
                VerifiedCerts::digest(&i.to_le_bytes()),
                info("b", t, t + hour),
            );
        }
        assert_eq!(certs.len(), MAX_VERIFIED_CERTS);
        // Present keys are replaced in place; a new one past the bound starts over.
        certs.insert(key, info("a", t, t + hour));
        assert_eq!(certs.len(), MAX_VERIFIED_CERTS);
        certs.insert(VerifiedCerts::digest(b"cert b"), info("b", t, t + hour));
        assert_eq!(certs.len(), 1);
        assert!(certs.get(&key, t).is_none());
    }
}
