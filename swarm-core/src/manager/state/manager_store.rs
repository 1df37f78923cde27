//! The managers' store: a step's writes applied as one transaction, and the records read
//! back with their store versions.

use crate::manager::cluster_state::ClusterState;
use crate::manager::commit_group::same_group;
use crate::manager::state::chunk_result::ChunkResult;
use crate::manager::state::orchestration_fence::{
    ORCHESTRATION_FENCE_KEY, OrchestrationFence, OrchestrationFenceDoc,
};
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
use swarm_store::{MAX_TXN_BYTES, MAX_TXN_OPS, Precondition, Store, StoreError, Txn, TxnOutcome};

/// Most bytes of collection names, keys and values that [`ManagerStore::apply_chunked`] puts
/// in one transaction: three quarters of [`MAX_TXN_BYTES`], which leaves 256 KiB for the
/// encoding's own bytes (a few dozen per operation, at most [`MAX_TXN_OPS`] operations).
pub const CHUNK_PAYLOAD_BYTES: usize = MAX_TXN_BYTES / 4 * 3;

/// Transactions [`ManagerStore::apply_chunked`] keeps in flight at once: enough for the
/// store to batch several into each Raft entry, few enough that a large round (100,000
/// tasks: about 400 transactions) does not queue them all at once.
pub const MAX_CHUNKS_IN_FLIGHT: usize = 16;

/// Times [`ManagerStore::apply_chunked`] sends one transaction again after a version check
/// refused it, each time without the refused write's group. Worst case: this many more
/// transactions for a chunk, and its remaining writes reported refused (the next round decides
/// again).
pub const MAX_CONFLICT_RETRIES: usize = 4;

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
        if crate::sabotage::drop_acknowledged_write(&writes.writes) {
            // Sabotage (simulation only): answered as committed, never committed.
            return Ok(None);
        }
        let txn = self.collections.txn(&writes.writes);
        self.store
            .txn(txn)
            .await
            .map(Some)
            .map_err(|e| refusal(e, &writes.writes))
    }

    /// Applies many writes (an orchestration round's: at most one write per object) as
    /// several transactions of at most [`MAX_TXN_OPS`] operations and
    /// [`CHUNK_PAYLOAD_BYTES`], up to [`MAX_CHUNKS_IN_FLIGHT`] at once. Each transaction
    /// applies or fails as a whole; each [`ChunkResult`] says which writes (ranges of
    /// `writes`) one transaction held and how it ended; every write is in exactly one.
    ///
    /// Neighbours of the same [`CommitGroup`](crate::manager::commit_group::CommitGroup) (a
    /// task slot's writes: sort a round's writes by
    /// [`ManagerWrite::commit_group`] first) always share a transaction, so a task's shut down
    /// and its replacement commit together or not at all. (A group larger than a whole
    /// transaction would be split; one slot's writes in a round are a handful.)
    ///
    /// A transaction refused by a version check on one write is sent again without that
    /// write's group, at most [`MAX_CONFLICT_RETRIES`] times, so one task whose status changed
    /// meanwhile does not hold back the hundreds of others sharing its transaction. The
    /// refused group is reported with its [`StateError::Conflict`].
    pub async fn apply_chunked(&self, writes: &[ManagerWrite]) -> Vec<ChunkResult> {
        self.apply_chunks(writes, None).await
    }

    /// [`ManagerStore::apply_chunked`] for a leader's round: every transaction also checks
    /// that `fence` is still held (no other manager took it since,
    /// [`ManagerStore::take_orchestration_fence`]). A transaction that finds it taken changes
    /// nothing and fails with a conflict on the fence ([`StateError::is_fence_lost`]).
    pub async fn apply_fenced(
        &self,
        writes: &[ManagerWrite],
        fence: OrchestrationFence,
    ) -> Vec<ChunkResult> {
        self.apply_chunks(writes, Some(fence)).await
    }

    /// Takes the orchestration fence for the manager `manager_raft_id`: raises the fence
    /// document's version, so the writes of whoever held it before fail from now on
    /// ([`ManagerStore::apply_fenced`]). Re-read the state after this returns, before
    /// planning: what the earlier holder committed before is in it.
    pub async fn take_orchestration_fence(
        &self,
        manager_raft_id: u64,
    ) -> Result<OrchestrationFence, StateError> {
        let txn = Txn::new().put(
            &self.collections.leadership,
            ORCHESTRATION_FENCE_KEY,
            &OrchestrationFenceDoc { manager_raft_id },
        );
        let outcome = self.store.txn(txn).await?;
        match outcome.versions.first().copied().flatten() {
            Some(version) => Ok(OrchestrationFence { version }),
            None => Err(StateError::Inconsistent {
                detail: "the orchestration fence has no version after it was written".into(),
            }),
        }
    }

    /// The writes in bounded transactions ([`ManagerStore::apply_chunked`]), each checking
    /// `fence` when given.
    async fn apply_chunks(
        &self,
        writes: &[ManagerWrite],
        fence: Option<OrchestrationFence>,
    ) -> Vec<ChunkResult> {
        // Each write encoded once: its size decides the cuts, and its operation goes into
        // its chunk's first attempt.
        let encoded: Vec<Txn> = writes
            .iter()
            .map(|w| self.collections.add(Txn::new(), w))
            .collect();
        let sizes: Vec<usize> = encoded.iter().map(Txn::payload_bytes).collect();
        // The fence's check is one more operation in each transaction.
        let max_ops = MAX_TXN_OPS - usize::from(fence.is_some());
        let mut chunks: Vec<Range<usize>> = Vec::new();
        let mut start = 0;
        let mut group_start = 0;
        let (mut ops, mut bytes) = (0usize, 0usize);
        for (i, write) in writes.iter().enumerate() {
            if i > 0 && !same_group(&writes[i - 1], write) {
                group_start = i;
            }
            let size = sizes[i];
            let full = ops + 1 > max_ops || bytes + size > CHUNK_PAYLOAD_BYTES;
            if full && i > start {
                // Cut before this write's group, unless the group began the chunk.
                let cut = if group_start > start { group_start } else { i };
                chunks.push(start..cut);
                start = cut;
                ops = i - start;
                bytes = sizes[start..i].iter().sum();
            }
            ops += 1;
            bytes += size;
        }
        if start < writes.len() {
            chunks.push(start..writes.len());
        }
        let mut encoded = encoded.into_iter();
        let chunks: Vec<(Range<usize>, Txn)> = chunks
            .into_iter()
            .map(|range| {
                let txn = encoded
                    .by_ref()
                    .take(range.len())
                    .fold(Txn::new(), Txn::append);
                (range, self.fenced(txn, fence))
            })
            .collect();
        futures::stream::iter(chunks)
            .map(|(range, txn)| self.apply_chunk(writes, range, txn, fence))
            .buffered(MAX_CHUNKS_IN_FLIGHT)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    /// `txn` with the check that `fence` is still held, when given.
    fn fenced(&self, txn: Txn, fence: Option<OrchestrationFence>) -> Txn {
        match fence {
            Some(fence) => txn.check(
                &self.collections.leadership,
                ORCHESTRATION_FENCE_KEY,
                Precondition::Version(fence.version),
            ),
            None => txn,
        }
    }

    /// One transaction of [`ManagerStore::apply_chunked`]: `range` (encoded as `first`), less
    /// the groups refused by a version check (each sent again without, at most
    /// [`MAX_CONFLICT_RETRIES`] times).
    async fn apply_chunk(
        &self,
        writes: &[ManagerWrite],
        range: Range<usize>,
        first: Txn,
        fence: Option<OrchestrationFence>,
    ) -> Vec<ChunkResult> {
        let mut out = Vec::new();
        let mut parts = vec![range];
        let mut first = Some(first);
        for attempt in 0..=MAX_CONFLICT_RETRIES {
            let txn = first.take().unwrap_or_else(|| {
                let txn = parts
                    .iter()
                    .flat_map(|part| &writes[part.clone()])
                    .fold(Txn::new(), |txn, w| self.collections.add(txn, w));
                self.fenced(txn, fence)
            });
            match self.store.txn(txn).await {
                Ok(outcome) => {
                    out.push(ChunkResult {
                        writes: parts,
                        result: Ok(outcome),
                    });
                    return out;
                }
                Err(e) => {
                    let e = refusal(e, writes);
                    let refused = match &e {
                        StateError::Conflict {
                            collection, key, ..
                        } if attempt < MAX_CONFLICT_RETRIES => {
                            group_of(writes, &parts, collection, key)
                        }
                        _ => None,
                    };
                    let Some((part_index, group)) = refused else {
                        out.push(ChunkResult {
                            writes: parts,
                            result: Err(e),
                        });
                        return out;
                    };
                    let part = parts.remove(part_index);
                    out.push(ChunkResult {
                        writes: vec![group.clone()],
                        result: Err(e),
                    });
                    let rest = [part.start..group.start, group.end..part.end];
                    let rest = rest.into_iter().filter(|r| !r.is_empty());
                    parts.splice(part_index..part_index, rest);
                    if parts.is_empty() {
                        return out;
                    }
                }
            }
        }
        out
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
/// The part of `parts` holding the write to `collection`/`key`, and that write's group (the
/// run of its neighbours of the same [`CommitGroup`](crate::manager::commit_group::CommitGroup)
/// inside the part).
fn group_of(
    writes: &[ManagerWrite],
    parts: &[Range<usize>],
    collection: &str,
    key: &str,
) -> Option<(usize, Range<usize>)> {
    parts.iter().enumerate().find_map(|(index, part)| {
        let at = part.clone().find(|&i| {
            let (c, k, _) = write_target(&writes[i]);
            c == collection && k.as_ref() == key
        })?;
        let mut group = at..at + 1;
        while group.start > part.start && same_group(&writes[group.start - 1], &writes[group.start])
        {
            group.start -= 1;
        }
        while group.end < part.end && same_group(&writes[group.end - 1], &writes[group.end]) {
            group.end += 1;
        }
        Some((index, group))
    })
}

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
