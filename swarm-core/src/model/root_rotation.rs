//! A root CA rotation in progress, as the cluster object records it.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::SystemTime;
use swarm_secrets::CaDigest;

/// A root CA rotation in progress (`swarm ca --rotate`; SwarmKit's `RootCA.RootRotation`).
///
/// From the moment it is recorded, joins and renewals issue certificates from the new root,
/// every node trusts both roots, and nodes still holding a certificate of the old root are
/// told to renew at their next heartbeat. Both certificates are public; the new root's
/// private key lives in the managers' `root_ca` collection beside the current one, never in
/// the cluster object.
///
/// `Debug` shows the two roots' digests, not their bytes.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootRotation {
    /// The root being retired (DER): the cluster's root CA when the rotation started.
    pub old_root_cert_der: Vec<u8>,
    /// The root rotated to (DER): it issues every certificate from now on.
    pub new_root_cert_der: Vec<u8>,
    /// When the rotation started.
    pub started_at: SystemTime,
}

impl RootRotation {
    /// The digest of the root being retired (what the join tokens pin until the rotation
    /// finishes).
    pub fn old_root(&self) -> CaDigest {
        CaDigest::of_certificate(&self.old_root_cert_der)
    }

    /// The digest of the root rotated to.
    pub fn new_root(&self) -> CaDigest {
        CaDigest::of_certificate(&self.new_root_cert_der)
    }
}

impl fmt::Debug for RootRotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RootRotation")
            .field("old_root", &self.old_root())
            .field("new_root", &self.new_root())
            .field("started_at", &self.started_at)
            .finish()
    }
}
