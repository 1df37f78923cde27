//! The store collections the managers use, in one place, and how a step's writes become one
//! store transaction.
//!
//! | collection | document | key |
//! |---|---|---|
//! | [`NODES`] | [`Node`] | the node id |
//! | [`CLUSTERS`] | [`Cluster`] (one per cluster) | the cluster id |
//! | [`ROOT_CA`] | [`StoredRootCa`] | the cluster id; during a root rotation also the new root, keyed by [`RootCaSlot::key`](super::RootCaSlot::key) |
//! | [`SERVICES`] | [`Service`] | the service id |
//! | [`TASKS`] | [`Task`] | the task id |
//! | [`SECRETS`] | [`Secret`] (with its value) | the secret id |
//! | [`CONFIGS`] | [`Config`] | the config id |
//! | [`NETWORKS`] | [`Network`] | the network id |
//! | [`LEADERSHIP`](super::LEADERSHIP) | [`OrchestrationFenceDoc`](super::OrchestrationFenceDoc) (one) | [`ORCHESTRATION_FENCE_KEY`](super::ORCHESTRATION_FENCE_KEY) |
//!
//! A document's `meta.version` is the store's version of it: written as the version the
//! write will give it (1 when created, the expected version + 1 when replaced) and set from
//! the store when read, so a step always compares the version the store will check.

use crate::manager::state::stored_root_ca::StoredRootCa;
use crate::manager::writes::{ManagerWrite, ObjectWrite};
use crate::model::{Cluster, Config, Meta, Network, Node, Secret, Service, Task, Version};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::borrow::Cow;
use swarm_store::{Collection, Precondition, Store, Txn, Versioned};

/// The node records, keyed by node id.
pub const NODES: &str = "nodes";
/// The cluster object, keyed by cluster id (one document).
pub const CLUSTERS: &str = "clusters";
/// The cluster root CA, keyed by cluster id (and the root a rotation moves to, keyed by
/// [`RootCaSlot::key`](super::RootCaSlot::key)).
pub const ROOT_CA: &str = "root_ca";

/// The services, keyed by service id.
pub const SERVICES: &str = "services";
/// The tasks, keyed by task id.
pub const TASKS: &str = "tasks";
/// The secrets with their values, keyed by secret id.
pub const SECRETS: &str = "secrets";
/// The configs, keyed by config id.
pub const CONFIGS: &str = "configs";
/// The networks, keyed by network id.
pub const NETWORKS: &str = "networks";

/// An object of the orchestration state stored in its own collection under its id, with
/// the store's version in its `meta.version` (see the module docs).
pub trait StoredObject: Clone + Serialize + DeserializeOwned {
    /// The collection it is stored in.
    const COLLECTION: &'static str;
    /// Its key: the object's id.
    fn key(&self) -> &str;
    /// Its version and timestamps.
    fn meta(&self) -> &Meta;
    /// Its version and timestamps, to set the version.
    fn meta_mut(&mut self) -> &mut Meta;
}

macro_rules! stored_object {
    ($ty:ty, $collection:expr) => {
        impl StoredObject for $ty {
            const COLLECTION: &'static str = $collection;
            fn key(&self) -> &str {
                self.id.as_str()
            }
            fn meta(&self) -> &Meta {
                &self.meta
            }
            fn meta_mut(&mut self) -> &mut Meta {
                &mut self.meta
            }
        }
    };
}

stored_object!(Node, NODES);
stored_object!(Cluster, CLUSTERS);
stored_object!(Service, SERVICES);
stored_object!(Task, TASKS);
stored_object!(Secret, SECRETS);
stored_object!(Config, CONFIGS);
stored_object!(Network, NETWORKS);

/// An object read from the store, its `meta.version` set to the store's version.
pub fn object_from_store<T: StoredObject>(doc: Versioned<T>) -> T {
    let mut object = doc.value;
    object.meta_mut().version = Version(doc.version);
    object
}

/// `object` as the store will hold it after `write` commits: the version the write gives
/// it (1 when created, the expected version + 1 when replaced).
pub fn object_at_version<T: StoredObject>(object: &T, version: Version) -> T {
    let mut object = object.clone();
    object.meta_mut().version = version;
    object
}

/// The version an [`ObjectWrite`] leaves its object at (`None` for a delete).
pub fn version_after<T>(write: &ObjectWrite<T>) -> Option<Version> {
    match write {
        ObjectWrite::Create(_) => Some(Version(1)),
        ObjectWrite::Update {
            expected_version, ..
        } => Some(next_version(*expected_version)),
        ObjectWrite::Delete { .. } => None,
    }
}

fn add_object<T: StoredObject>(
    txn: Txn,
    collection: &Collection<T>,
    write: &ObjectWrite<T>,
) -> Txn {
    match write {
        ObjectWrite::Create(object) => {
            let object = object_at_version(object, Version(1));
            txn.create(collection, object.key(), &object)
        }
        ObjectWrite::Update {
            object,
            expected_version,
        } => {
            let next = object_at_version(object, next_version(*expected_version));
            txn.update(collection, object.key(), &next, expected_version.0)
        }
        ObjectWrite::Delete {
            id,
            expected_version,
        } => txn.delete(collection, id, expected_version.0),
    }
}

fn object_target<T: StoredObject>(
    write: &ObjectWrite<T>,
) -> (&'static str, Cow<'_, str>, Option<u64>) {
    match write {
        ObjectWrite::Create(object) => (T::COLLECTION, object.key().into(), None),
        ObjectWrite::Update {
            object,
            expected_version,
        } => (T::COLLECTION, object.key().into(), Some(expected_version.0)),
        ObjectWrite::Delete {
            id,
            expected_version,
        } => (T::COLLECTION, id.as_str().into(), Some(expected_version.0)),
    }
}

/// The typed collections of the managers' store.
#[derive(Clone, Debug)]
pub struct ManagerCollections {
    /// [`NODES`].
    pub nodes: Collection<Node>,
    /// [`CLUSTERS`].
    pub clusters: Collection<Cluster>,
    /// [`ROOT_CA`].
    pub root_ca: Collection<StoredRootCa>,
    /// [`SERVICES`].
    pub services: Collection<Service>,
    /// [`TASKS`].
    pub tasks: Collection<Task>,
    /// [`SECRETS`].
    pub secrets: Collection<Secret>,
    /// [`CONFIGS`].
    pub configs: Collection<Config>,
    /// [`NETWORKS`].
    pub networks: Collection<Network>,
    /// [`LEADERSHIP`](super::LEADERSHIP): the orchestration fence.
    pub leadership: Collection<super::OrchestrationFenceDoc>,
}

impl ManagerCollections {
    /// The collections of `store`.
    pub fn new(store: &Store) -> ManagerCollections {
        ManagerCollections {
            nodes: store.collection(NODES),
            clusters: store.collection(CLUSTERS),
            root_ca: store.collection(ROOT_CA),
            services: store.collection(SERVICES),
            tasks: store.collection(TASKS),
            secrets: store.collection(SECRETS),
            configs: store.collection(CONFIGS),
            networks: store.collection(NETWORKS),
            leadership: store.collection(super::LEADERSHIP),
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
            ManagerWrite::Service(w) => add_object(txn, &self.services, w),
            ManagerWrite::Task(w) => add_object(txn, &self.tasks, w),
            ManagerWrite::Secret(w) => add_object(txn, &self.secrets, w),
            ManagerWrite::Config(w) => add_object(txn, &self.configs, w),
            ManagerWrite::Network(w) => add_object(txn, &self.networks, w),
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
        ManagerWrite::Service(w) => object_target(w),
        ManagerWrite::Task(w) => object_target(w),
        ManagerWrite::Secret(w) => object_target(w),
        ManagerWrite::Config(w) => object_target(w),
        ManagerWrite::Network(w) => object_target(w),
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
