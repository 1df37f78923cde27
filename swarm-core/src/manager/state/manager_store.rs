//! The managers' store: a step's writes applied as one transaction, and the records read
//! back with their store versions.

use crate::manager::cluster_state::ClusterState;
use crate::manager::state::root_ca_slot::RootCaSlot;
use crate::manager::state::schema::{
    CLUSTERS, ManagerCollections, cluster_from_store, node_from_store, object_from_store,
    write_target,
};
use crate::manager::state::state_error::StateError;
use crate::manager::state::stored_root_ca::StoredRootCa;
use crate::manager::writes::{ManagerWrite, ManagerWrites};
use crate::model::{Cluster, ClusterId, Node, NodeId};
use futures::StreamExt;
use std::ops::Range;
use swarm_store::{MAX_TXN_BYTES, MAX_TXN_OPS, Store, StoreError, Txn, TxnOutcome};

/// Most bytes of collection names, keys and values that [`ManagerStore::apply_chunked`] puts
/// in one transaction: three quarters of [`MAX_TXN_BYTES`], which leaves 256 KiB for the
/// encoding's own bytes (a few dozen per operation, at most [`MAX_TXN_OPS`] operations).
pub const CHUNK_PAYLOAD_BYTES: usize = MAX_TXN_BYTES / 4 * 3;

/// Transactions [`ManagerStore::apply_chunked`] keeps in flight at once: enough for the
/// store to batch several into each Raft entry, few enough that a large round (100,000
/// tasks: about 400 transactions) does not queue them all at once.
pub const MAX_CHUNKS_IN_FLIGHT: usize = 16;

/// Most reads of the whole state [`ManagerStore::load_state`] makes while writes keep landing
/// between its collection reads. Worst case: this many rounds of one linearizable barrier and
/// seven local listings each, then [`StateError::Unsettled`].
pub const MAX_LOAD_STATE_ATTEMPTS: usize = 8;

/// The managers' view of their swarm-store [`Store`]: the [`schema`](super::schema)'s
/// collections, writes applied as one transaction, typed reads.
///
/// ```no_run
/// # async fn demo(store: swarm_store::Store, writes: swarm_core::manager::writes::ManagerWrites)
/// # -> Result<(), swarm_core::manager::state::StateError> {
/// use swarm_core::manager::state::ManagerStore;
/// let state = ManagerStore::new(store);
/// match state.apply(&writes).await {
///     Ok(_) => {}                          // every write applied, at one revision
///     Err(e) if e.is_conflict() => {}      // nothing applied: re-read, call the step again
///     Err(e) => return Err(e),
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ManagerStore {
    store: Store,
    collections: ManagerCollections,
}

impl ManagerStore {
    /// The managers' state in `store`.
    pub fn new(store: Store) -> ManagerStore {
        let collections = ManagerCollections::new(&store);
        ManagerStore { store, collections }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The typed collections.
    pub fn collections(&self) -> &ManagerCollections {
        &self.collections
    }

    /// Applies a step's store writes as **one** transaction with their version checks: all
    /// of them at one revision, or none. A failed check is [`StateError::Conflict`] naming
    /// the document (re-read and call the step again). `None` when there is nothing to
    /// write. The membership changes are not carried out here: the caller does them, in
    /// order, after this returned `Ok`.
    pub async fn apply(&self, writes: &ManagerWrites) -> Result<Option<TxnOutcome>, StateError> {
        if writes.writes.is_empty() {
            return Ok(None);
        }
        let txn = self.collections.txn(&writes.writes);
        self.store
            .txn(txn)
            .await
            .map(Some)
            .map_err(|e| refusal(e, &writes.writes))
    }

    /// Applies many independent writes (an orchestration round's: at most one write per
    /// object) as several transactions of at most [`MAX_TXN_OPS`] operations and
    /// [`CHUNK_PAYLOAD_BYTES`], up to [`MAX_CHUNKS_IN_FLIGHT`] at once. Each transaction
    /// applies or fails as a whole; the result says, for each, which writes it held (a range
    /// of `writes`) and how it ended, in the order of `writes`.
    ///
    /// Splitting is only right for writes that do not depend on each other: use
    /// [`ManagerStore::apply`] when several must apply together.
    pub async fn apply_chunked(
        &self,
        writes: &[ManagerWrite],
    ) -> Vec<(Range<usize>, Result<TxnOutcome, StateError>)> {
        let mut chunks: Vec<(Range<usize>, Txn)> = Vec::new();
        let mut start = 0;
        let mut txn = Txn::new();
        for (i, write) in writes.iter().enumerate() {
            let one = self.collections.add(Txn::new(), write);
            let full = txn.len() + 1 > MAX_TXN_OPS
                || txn.payload_bytes() + one.payload_bytes() > CHUNK_PAYLOAD_BYTES;
            if full && !txn.is_empty() {
                chunks.push((start..i, std::mem::take(&mut txn)));
                start = i;
            }
            txn = txn.append(one);
        }
        if !txn.is_empty() {
            chunks.push((start..writes.len(), txn));
        }
        futures::stream::iter(chunks)
            .map(|(range, txn)| async move {
                let result = self
                    .store
                    .txn(txn)
                    .await
                    .map_err(|e| refusal(e, &writes[range.clone()]));
                (range, result)
            })
            .buffered(MAX_CHUNKS_IN_FLIGHT)
            .collect()
            .await
    }

    /// `swarm init`'s writes: the root CA record and the step's writes (the cluster object,
    /// the founding manager), in one transaction. Refused as a conflict if a root CA for
    /// that cluster, the cluster or the node exists.
    pub async fn initialize(
        &self,
        root_ca: &StoredRootCa,
        writes: &ManagerWrites,
    ) -> Result<TxnOutcome, StateError> {
        let txn = swarm_store::Txn::new().create(
            &self.collections.root_ca,
            root_ca.cluster_id.as_str(),
            root_ca,
        );
        let txn = writes
            .writes
            .iter()
            .fold(txn, |txn, w| self.collections.add(txn, w));
        self.store
            .txn(txn)
            .await
            .map_err(|e| refusal(e, &writes.writes))
    }

    /// The cluster object (linearizable read), `None` before `swarm init`.
    /// [`StateError::Inconsistent`] if there are several.
    pub async fn cluster(&self) -> Result<Option<Cluster>, StateError> {
        let listing = self.collections.clusters.list("").await?;
        let count = listing.items.len();
        let mut items = listing.items.into_iter();
        match (items.next(), count) {
            (None, _) => Ok(None),
            (Some(doc), 1) => Ok(Some(cluster_from_store(doc))),
            (Some(_), n) => Err(StateError::Inconsistent {
                detail: format!("{n} documents in {CLUSTERS}, expected one"),
            }),
        }
    }

    /// Every stored object as one [`ClusterState`] (linearizable: every write acknowledged
    /// before the call is in it), each with its store version: the cluster object, nodes,
    /// services, tasks, secrets (with their values), configs and networks, all at one
    /// revision of the store. Collections are read after one barrier from this member's
    /// state; when a write lands between two of them, the read starts again, at most
    /// [`MAX_LOAD_STATE_ATTEMPTS`] times ([`StateError::Unsettled`]).
    /// [`StateError::Inconsistent`] if there are several cluster objects.
    pub async fn load_state(&self) -> Result<ClusterState, StateError> {
        let c = &self.collections;
        for _ in 0..MAX_LOAD_STATE_ATTEMPTS {
            self.store.revision().await?;
            let clusters = c.clusters.list_local("")?;
            let nodes = c.nodes.list_local("")?;
            let services = c.services.list_local("")?;
            let tasks = c.tasks.list_local("")?;
            let secrets = c.secrets.list_local("")?;
            let configs = c.configs.list_local("")?;
            let networks = c.networks.list_local("")?;
            let revisions = [
                clusters.revision,
                nodes.revision,
                services.revision,
                tasks.revision,
                secrets.revision,
                configs.revision,
                networks.revision,
            ];
            if revisions.iter().any(|r| *r != clusters.revision) {
                continue;
            }
            let count = clusters.items.len();
            let mut state = ClusterState::new();
            let mut found = clusters.items.into_iter();
            match (found.next(), count) {
                (None, _) => {}
                (Some(doc), 1) => state.set_cluster(Some(cluster_from_store(doc))),
                (Some(_), n) => {
                    return Err(StateError::Inconsistent {
                        detail: format!("{n} documents in {CLUSTERS}, expected one"),
                    });
                }
            }
            nodes
                .items
                .into_iter()
                .for_each(|d| state.put_node(node_from_store(d)));
            services
                .items
                .into_iter()
                .for_each(|d| state.put_service(object_from_store(d)));
            tasks
                .items
                .into_iter()
                .for_each(|d| state.put_task(object_from_store(d)));
            secrets
                .items
                .into_iter()
                .for_each(|d| state.put_secret(object_from_store(d)));
            configs
                .items
                .into_iter()
                .for_each(|d| state.put_config(object_from_store(d)));
            networks
                .items
                .into_iter()
                .for_each(|d| state.put_network(object_from_store(d)));
            return Ok(state);
        }
        Err(StateError::Unsettled {
            attempts: MAX_LOAD_STATE_ATTEMPTS,
        })
    }

    /// Every node record (linearizable read), in id order.
    pub async fn nodes(&self) -> Result<Vec<Node>, StateError> {
        let listing = self.collections.nodes.list("").await?;
        Ok(listing.items.into_iter().map(node_from_store).collect())
    }

    /// One node record (linearizable read).
    pub async fn node(&self, id: &NodeId) -> Result<Option<Node>, StateError> {
        Ok(self
            .collections
            .nodes
            .get(id.as_str())
            .await?
            .map(node_from_store))
    }

    /// The root CA record of `cluster` (linearizable read).
    pub async fn root_ca(&self, cluster: &ClusterId) -> Result<Option<StoredRootCa>, StateError> {
        self.root_ca_in(cluster, RootCaSlot::Current).await
    }

    /// The root CA record of `cluster` in `slot` (linearizable read): the current root, or the
    /// root a rotation moves to (see [`RootCaSlot::issuing`] for the one that issues now).
    pub async fn root_ca_in(
        &self,
        cluster: &ClusterId,
        slot: RootCaSlot,
    ) -> Result<Option<StoredRootCa>, StateError> {
        Ok(self
            .collections
            .root_ca
            .get(&slot.key(cluster))
            .await?
            .map(|doc| doc.value))
    }
}

/// The store's refusal as a [`StateError`]; a missing document gets the version the write
/// expected.
fn refusal(e: StoreError, writes: &[ManagerWrite]) -> StateError {
    match StateError::from(e) {
        StateError::Conflict {
            collection,
            key,
            expected: None,
            actual: None,
        } => {
            let expected = writes
                .iter()
                .map(write_target)
                .find(|(c, k, _)| *c == collection && k.as_ref() == key.as_str())
                .and_then(|(_, _, v)| v);
            StateError::Conflict {
                collection,
                key,
                expected,
                actual: None,
            }
        }
        e => e,
    }
}
