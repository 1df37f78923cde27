//! Which of a cluster's root CA records a document of the `root_ca` collection is.

use crate::model::{Cluster, ClusterId};

/// The two root CA records a cluster can have in the [`ROOT_CA`](super::schema::ROOT_CA)
/// collection: the current root, and during a root rotation the root rotated to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RootCaSlot {
    /// The cluster's root CA, keyed by the cluster id (the one record outside a rotation).
    Current,
    /// The root a rotation moves to, keyed by the cluster id and
    /// [`ROTATION_KEY_SUFFIX`]; present only while the cluster object records a rotation.
    Rotation,
}

/// What follows the cluster id in the key of a [`RootCaSlot::Rotation`] record. Cluster ids
/// are lowercase base-36 and DNS labels, so no cluster id ends with it.
pub const ROTATION_KEY_SUFFIX: &str = ".rotation";

impl RootCaSlot {
    /// The document key of this record for `cluster`.
    ///
    /// ```
    /// use swarm_core::manager::state::RootCaSlot;
    /// use swarm_core::model::ClusterId;
    /// let id = ClusterId::new("c0ffee");
    /// assert_eq!(RootCaSlot::Current.key(&id), "c0ffee");
    /// assert_eq!(RootCaSlot::Rotation.key(&id), "c0ffee.rotation");
    /// ```
    pub fn key(self, cluster: &ClusterId) -> String {
        match self {
            RootCaSlot::Current => cluster.as_str().to_owned(),
            RootCaSlot::Rotation => format!("{}{ROTATION_KEY_SUFFIX}", cluster.as_str()),
        }
    }

    /// The record that issues node certificates now: the rotation's new root while the
    /// cluster object records a rotation, the current root otherwise. The loops load the
    /// issuing [`ClusterCa`](swarm_secrets::ClusterCa) for the join and renewal steps from it.
    pub fn issuing(cluster: &Cluster) -> RootCaSlot {
        if cluster.root_rotation.is_some() {
            RootCaSlot::Rotation
        } else {
            RootCaSlot::Current
        }
    }
}
