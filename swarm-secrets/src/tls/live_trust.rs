//! What a node trusts now, shared with its running TLS configs.

use std::fmt;
use std::sync::Arc;

use super::ClusterTrust;
use super::shared_cell::SharedCell;
use crate::error::{Result, SecretsError};

/// A shared cell holding the node's current [`ClusterTrust`]: the live TLS configs
/// ([`live_server_config`](super::live_server_config), [`live_client_config`](super::live_client_config),
/// ...) read it at every handshake, so [`LiveTrust::replace`] applies to the next handshake of
/// every config built from it, without rebuilding them. Connections already open are not
/// touched. Clones share the cell.
///
/// For a root CA rotation: replace the trust with one that also trusts the new root
/// ([`ClusterTrust::with_additional_root`]), and once every node has renewed, with the new root
/// alone. The revocation list is shared as in [`ClusterTrust`]: build the replacement with the
/// same [`RevocationList`](crate::RevocationList) to keep it.
///
/// ```
/// use swarm_secrets::tls::{ClusterTrust, LiveTrust};
/// use swarm_secrets::{CertPolicy, ClusterCa, ClusterId, RevocationList};
/// let cluster = ClusterId::new("prod")?;
/// let old_root = ClusterCa::generate(cluster.clone(), CertPolicy::default())?;
/// let new_root = ClusterCa::generate(cluster.clone(), CertPolicy::default())?;
/// let revoked = RevocationList::new();
/// let old = ClusterTrust::new(old_root.cert_der(), cluster.clone(), revoked.clone())?;
/// let live = LiveTrust::new(old.clone());
/// // During the rotation: both roots. Afterwards: the new root alone.
/// live.replace(old.with_additional_root(new_root.cert_der())?)?;
/// live.replace(ClusterTrust::new(new_root.cert_der(), cluster, revoked)?)?;
/// assert_eq!(live.current().ca_cert_der(), new_root.cert_der());
///
/// // Another cluster's trust is refused.
/// let other = ClusterId::new("staging")?;
/// let other_root = ClusterCa::generate(other.clone(), CertPolicy::default())?;
/// let foreign = ClusterTrust::new(other_root.cert_der(), other, RevocationList::new())?;
/// assert!(live.replace(foreign).is_err());
/// # Ok::<(), swarm_secrets::SecretsError>(())
/// ```
#[derive(Clone)]
pub struct LiveTrust {
    current: SharedCell<ClusterTrust>,
}

impl LiveTrust {
    /// A cell holding `trust`.
    pub fn new(trust: ClusterTrust) -> Self {
        LiveTrust {
            current: SharedCell::new(trust),
        }
    }

    /// Makes `trust` the trust of every later handshake. Refused with
    /// [`SecretsError::ReplacementForOtherCluster`] when it is for another cluster id (the
    /// current trust stays).
    pub fn replace(&self, trust: ClusterTrust) -> Result<()> {
        self.current.replace_if(trust, |current, offered| {
            if offered.cluster_id() != current.cluster_id() {
                return Err(SecretsError::ReplacementForOtherCluster {
                    what: "trust",
                    current: current.cluster_id().clone(),
                    offered: offered.cluster_id().clone(),
                });
            }
            Ok(())
        })
    }

    /// The trust as it is now (a cheap clone: its roots and revocation list are shared).
    pub fn current(&self) -> ClusterTrust {
        (*self.current.get()).clone()
    }

    /// The trust as it is now, without cloning it: what a verifier uses for one handshake.
    pub(super) fn snapshot(&self) -> Arc<ClusterTrust> {
        self.current.get()
    }
}

impl fmt::Debug for LiveTrust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LiveTrust").field(&self.snapshot()).finish()
    }
}
