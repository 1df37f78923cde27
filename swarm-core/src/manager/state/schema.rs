//! The store collections the managers use, in one place, and how a step's writes become one
//! store transaction.
//!
//! | collection | document | key |
//! |---|---|---|
//! | [`NODES`] | [`Node`] | the node id |
//! | [`CLUSTERS`] | [`Cluster`] (one per cluster) | the cluster id |
//! | [`ROOT_CA`] | [`StoredRootCa`] | the cluster id; during a root rotation also the new root, keyed by [`RootCaSlot::key`](super::RootCaSlot::key) |
//!
//! A document's `meta.version` is the store's version of it: written as the version the
//! write will give it (1 when created, the expected version + 1 when replaced) and set from
//! the store when read, so a step always compares the version the store will check.

use crate::manager::state::stored_root_ca::StoredRootCa;
use crate::manager::writes::ManagerWrite;
use crate::model::{Cluster, Node, Version};
use std::borrow::Cow;
use swarm_store::{Collection, Precondition, Store, Txn, Versioned};

/// The node records, keyed by node id.
pub const NODES: &str = "nodes";
/// The cluster object, keyed by cluster id (one document).
pub const CLUSTERS: &str = "clusters";
/// The cluster root CA, keyed by cluster id (and the root a rotation moves to, keyed by
/// [`RootCaSlot::key`](super::RootCaSlot::key)).
pub const ROOT_CA: &str = "root_ca";

/// The typed collections of the managers' store.
#[derive(Clone, Debug)]
pub struct ManagerCollections {
    /// [`NODES`].
    pub nodes: Collection<Node>,
    /// [`CLUSTERS`].
    pub clusters: Collection<Cluster>,
    /// [`ROOT_CA`].
    pub root_ca: Collection<StoredRootCa>,
}

impl ManagerCollections {
    /// The collections of `store`.
    pub fn new(store: &Store) -> ManagerCollections {
        ManagerCollections {
            nodes: store.collection(NODES),
            clusters: store.collection(CLUSTERS),
            root_ca: store.collection(ROOT_CA),
        }
    }

    /// `writes` as one transaction, in order, each with its version check: a create needs
    /// the document absent, a replace or delete needs it at exactly the version the step
    /// read. Pure: nothing is submitted.
    pub fn txn(&self, writes: &[ManagerWrite]) -> Txn {
        writes
            .iter()
            .fold(Txn::new(), |txn, write| self.add(txn, write))
    }

    /// Adds one write to `txn`. Root CA records are written and deleted without a version
    /// check of their own (see [`ManagerWrite::PutRootCa`]).
    pub fn add(&self, txn: Txn, write: &ManagerWrite) -> Txn {
        match write {
            ManagerWrite::CreateNode(node) => {
                let node = at_version(node, Version(1));
                txn.create(&self.nodes, node.id.as_str(), &node)
            }
            ManagerWrite::UpdateNode {
                node,
                expected_version,
            } => {
                let next = at_version(node, next_version(*expected_version));
                txn.update(&self.nodes, node.id.as_str(), &next, expected_version.0)
            }
            ManagerWrite::DeleteNode {
                id,
                expected_version,
            } => txn.delete(&self.nodes, id.as_str(), expected_version.0),
            ManagerWrite::CreateCluster(cluster) => {
                let cluster = cluster_at_version(cluster, Version(1));
                txn.create(&self.clusters, cluster.id.as_str(), &cluster)
            }
            ManagerWrite::UpdateCluster {
                cluster,
                expected_version,
            } => {
                let next = cluster_at_version(cluster, next_version(*expected_version));
                txn.update(
                    &self.clusters,
                    cluster.id.as_str(),
                    &next,
                    expected_version.0,
                )
            }
            ManagerWrite::PutRootCa { slot, root } => {
                txn.put(&self.root_ca, &slot.key(&root.cluster_id), root)
            }
            ManagerWrite::DeleteRootCa { cluster, slot } => {
                txn.delete_with(&self.root_ca, &slot.key(cluster), Precondition::Any)
            }
        }
    }
}

/// The collection and key a write names, and the version it expects (`None`: absent, or no
/// version check for a root CA record).
pub fn write_target(write: &ManagerWrite) -> (&'static str, Cow<'_, str>, Option<u64>) {
    match write {
        ManagerWrite::CreateNode(node) => (NODES, node.id.as_str().into(), None),
        ManagerWrite::UpdateNode {
            node,
            expected_version,
        } => (NODES, node.id.as_str().into(), Some(expected_version.0)),
        ManagerWrite::DeleteNode {
            id,
            expected_version,
        } => (NODES, id.as_str().into(), Some(expected_version.0)),
        ManagerWrite::CreateCluster(cluster) => (CLUSTERS, cluster.id.as_str().into(), None),
        ManagerWrite::UpdateCluster {
            cluster,
            expected_version,
        } => (
            CLUSTERS,
            cluster.id.as_str().into(),
            Some(expected_version.0),
        ),
        ManagerWrite::PutRootCa { slot, root } => {
            (ROOT_CA, slot.key(&root.cluster_id).into(), None)
        }
        ManagerWrite::DeleteRootCa { cluster, slot } => (ROOT_CA, slot.key(cluster).into(), None),
    }
}

/// The store's version after a replace of `expected` (saturating: a document is never
/// replaced 2^64 times).
fn next_version(expected: Version) -> Version {
    Version(expected.0.saturating_add(1))
}

fn at_version(node: &Node, version: Version) -> Node {
    let mut node = node.clone();
    node.meta.version = version;
    node
}

fn cluster_at_version(cluster: &Cluster, version: Version) -> Cluster {
    let mut cluster = cluster.clone();
    cluster.meta.version = version;
    cluster
}

/// A node record read from the store, its `meta.version` set to the store's version.
pub fn node_from_store(doc: Versioned<Node>) -> Node {
    let mut node = doc.value;
    node.meta.version = Version(doc.version);
    node
}

/// The cluster object read from the store, its `meta.version` set to the store's version.
pub fn cluster_from_store(doc: Versioned<Cluster>) -> Cluster {
    let mut cluster = doc.value;
    cluster.meta.version = Version(doc.version);
    cluster
}
