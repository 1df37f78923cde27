//! The store handle: open a member, write, read, watch, and manage membership.

use crate::collection::Collection;
use crate::config::{MAX_ENTRIES_PER_APPEND, StoreConfig};
use crate::error::StoreError;
use crate::member::Member;
use crate::membership::StoreStatus;
use crate::proposer::{Proposer, ProposerLimits};
use crate::raft::handle::Raft;
use crate::raft::log_store::{LogStoreAdapter, encode_entry};
use crate::raft::network::{DynTransport, NetworkFactory};
use crate::raft::peer_errors::{PeerErrors, RecordingTransport};
use crate::raft::runtime::StoreRuntime;
use crate::raft::snapshot_store::DynSnapshotStore;
use crate::raft::state_machine::StateMachineAdapter;
use crate::raft::types::{Entry, Membership, Vote, log_id};
use crate::raft::wire::MembershipOp;
use crate::rpc::StoreRpc;
use crate::state::command::TxnRequest;
use crate::state::shared::SharedState;
use crate::storage::{LogStorage, SnapshotStore, StorageError};
use crate::transport::{MemberId, Transport};
use crate::txn::{Txn, TxnOutcome};
use openraft::{BasicNode, EntryPayload, SnapshotPolicy};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A member of a replicated document store.
///
/// Cloning is cheap; all clones drive the same member.
///
/// ```no_run
/// # async fn demo(transport: impl swarm_store::transport::Transport) -> Result<(), swarm_store::StoreError> {
/// use swarm_store::storage::{MemLogStorage, MemSnapshotStore};
/// use swarm_store::{MemberId, Store, StoreConfig, StoreRpc};
/// let rpc = StoreRpc::new(); // hand a clone to the transport that receives for member 1
/// let config = StoreConfig::new(MemberId(1), "127.0.0.1:7001");
/// let store = Store::open(config, MemLogStorage::new(), MemSnapshotStore::new(), transport, &rpc).await?;
/// store.bootstrap().await?;
/// let services = store.collection::<String>("services");
/// let version = services.create("web", &"nginx".to_string()).await?;
/// let doc = services.get("web").await?.expect("just created");
/// assert_eq!((doc.value.as_str(), doc.version), ("nginx", version));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Store {
    pub(crate) member: Arc<Member>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("member", &self.member.config.member)
            .finish()
    }
}

/// Rewrites the log so that this member alone forms the cluster: appends a membership entry
/// naming only it, after everything the log holds.
async fn force_new_cluster<L: LogStorage>(log: &L, me: u64, addr: &str) -> Result<(), StoreError> {
    let state = log.state().await?;
    let Some(last) = state.last else {
        return Err(StoreError::Membership(
            "force-new-cluster needs a member with data: this log is empty".into(),
        ));
    };
    let vote_term = match log.read_vote().await? {
        Some(bytes) => {
            postcard::from_bytes::<Vote>(&bytes)
                .map_err(|e| StorageError::Corrupt {
                    path: PathBuf::from("vote"),
                    detail: format!("cannot decode the stored vote: {e}"),
                })?
                .leader_id()
                .term
        }
        None => 0,
    };
    let membership = Membership::new(
        vec![BTreeSet::from([me])],
        BTreeMap::from([(
            me,
            BasicNode {
                addr: addr.to_string(),
            },
        )]),
    )
    .map_err(|e| StoreError::Membership(e.to_string()))?;
    let entry = Entry {
        log_id: log_id(last.term.max(vote_term), last.index + 1),
        payload: EntryPayload::Membership(membership),
    };
    let record = encode_entry(&entry).map_err(|e| StorageError::Contract(e.to_string()))?;
    let ticket = log.append(vec![record]).await?;
    Ok(ticket.await?)
}

impl Store {
    /// Starts this member on `log` and `snapshots`, talking to the others through `transport`
    /// and serving them through `rpc` (which must be the handler that `transport`'s receiving
    /// side calls for this member).
    ///
    /// A member with an empty log waits to be bootstrapped ([`Store::bootstrap`]) or added by a
    /// leader ([`Store::add_learner`]). A member with a log resumes: its state machine is rebuilt
    /// from the snapshot and the committed log before this returns.
    pub async fn open<L, S, T>(
        config: StoreConfig,
        log: L,
        snapshots: S,
        transport: T,
        rpc: &StoreRpc,
    ) -> Result<Store, StoreError>
    where
        L: LogStorage,
        S: SnapshotStore,
        T: Transport,
    {
        config.validate()?;
        if config.raft_rng_seed.is_some()
            && tokio::runtime::Handle::current().runtime_flavor()
                != tokio::runtime::RuntimeFlavor::CurrentThread
        {
            // A seed exists to replay a simulation, which needs one thread; on a multi-thread
            // runtime it would buy no replay, only the seed's costs (blocking work inline).
            return Err(StoreError::Invalid {
                field: "raft_rng_seed",
                detail: "a Raft seed is for deterministic simulation on a current-thread \
                         runtime; leave it None in production"
                    .into(),
            });
        }
        let me = config.member.0;
        if config.force_new_cluster {
            force_new_cluster(&log, me, &config.addr).await?;
        }
        let committed = log.read_committed().await?;
        let raft_config = openraft::Config {
            cluster_name: config.cluster_name.clone(),
            heartbeat_interval: config.heartbeat_period_ms,
            election_timeout_min: config.election_timeout_min_ms,
            election_timeout_max: config.election_timeout_max_ms,
            // Per chunk; the receiver drops a transfer idle for twice this
            // (member/snapshot_chunks.rs).
            install_snapshot_timeout: config
                .request_timeout_ms
                .max(crate::member::SNAPSHOT_CHUNK_TIMEOUT_MIN_MS),
            max_payload_entries: MAX_ENTRIES_PER_APPEND,
            replication_lag_threshold: config.snapshot_every_entries,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(config.snapshot_every_entries),
            max_in_snapshot_log_to_keep: config.log_entries_kept_after_snapshot,
            // Purge once per snapshot or so, not per applied entry (each purge is a durable write).
            purge_batch_size: (config.snapshot_every_entries / 4).clamp(1, 4096),
            // A restarted leader must win a new election: its blank entry of the new term is what
            // re-commits the log tail, so reads after a restart see every acknowledged write
            // (the committed pointer is not durable).
            enable_leader_restore: Some(false),
            // Replicate an entry while the leader's own fsync is in flight, not after it.
            broadcast_submitted_on_append: Some(true),
            ..Default::default()
        }
        .validate()
        .map_err(|e| StoreError::Invalid {
            field: "config",
            detail: e.to_string(),
        })?;
        let shared = Arc::new(SharedState::new(config.watch_history_changes));
        let peer_errors = Arc::new(PeerErrors::default());
        let transport: Arc<dyn DynTransport> = Arc::new(RecordingTransport::new(
            Arc::new(transport),
            peer_errors.clone(),
        ));
        let snapshots: Arc<dyn DynSnapshotStore> = Arc::new(snapshots);
        // Everything openraft spawns from here inherits the seed, if one is set.
        let (raft, entry_cache) = StoreRuntime::seeded(config.raft_rng_seed, async {
            let log = LogStoreAdapter::new(Arc::new(log), me);
            // The replication streams and the RPC handler share the log's cache of entries.
            let entry_cache = log.entry_cache();
            let raft = openraft::Raft::new(
                me,
                Arc::new(raft_config),
                NetworkFactory::new(
                    transport.clone(),
                    entry_cache.clone(),
                    config.max_appends_in_flight,
                    Duration::from_millis(config.commit_notice_hold_ms),
                ),
                log,
                StateMachineAdapter::new(shared.clone(), snapshots),
            )
            .await;
            (raft, entry_cache)
        })
        .await;
        let raft: Raft = raft.map_err(StoreError::raft_stopped)?;
        let proposer = Proposer::spawn(
            raft.clone(),
            ProposerLimits {
                max_batch_txns: config.max_batch_txns,
                max_batch_bytes: config.max_batch_bytes,
                max_inflight_batches: config.max_inflight_batches,
                queue_txns: config.proposal_queue_txns,
            },
        );
        let force = config.force_new_cluster;
        let timeout = Duration::from_millis(config.request_timeout_ms);
        let member = Arc::new(Member::new(
            config,
            raft,
            shared,
            transport,
            proposer,
            peer_errors,
            entry_cache,
        ));
        if !rpc.attach(member.clone()) {
            return Err(StoreError::Invalid {
                field: "rpc",
                detail: "this StoreRpc already serves another store".into(),
            });
        }
        // Serve nothing stale after a restart: wait until the state machine holds everything
        // known committed before the restart.
        if let Some(c) = committed {
            let mut rx = member.shared.subscribe();
            let _ = tokio::time::timeout(timeout, rx.wait_for(|m| m.index >= c.index)).await;
        }
        if force {
            member
                .raft
                .trigger()
                .elect(false)
                .await
                .map_err(StoreError::raft_stopped)?;
        }
        Ok(Store { member })
    }

    /// Makes this member a one-member cluster (the first member of a new cluster). Fails if it
    /// already belongs to a cluster.
    pub async fn bootstrap(&self) -> Result<(), StoreError> {
        self.running()?;
        let me = self.member.id;
        let members = BTreeMap::from([(
            me,
            BasicNode {
                addr: self.member.config.addr.clone(),
            },
        )]);
        self.member
            .raft
            .initialize(members)
            .await
            .map_err(|e| StoreError::Membership(e.to_string()))?;
        // Ready once this member leads and its first membership entry is applied, so the next
        // membership change is not refused as "in progress".
        let timeout = Duration::from_millis(self.member.config.request_timeout_ms);
        self.member
            .raft
            .wait(Some(timeout))
            .metrics(
                |m| {
                    m.current_leader == Some(me)
                        && m.last_applied.is_some_and(|a| {
                            m.membership_config
                                .log_id()
                                .is_some_and(|l| a.index >= l.index)
                        })
                },
                "bootstrapped",
            )
            .await
            .map(|_| ())
            .map_err(|_| StoreError::NoLeader)
    }

    /// This member's id.
    pub fn member(&self) -> MemberId {
        self.member.config.member
    }

    /// The leader this member knows of, without waiting.
    pub fn leader(&self) -> Option<MemberId> {
        self.member.current_leader().map(MemberId)
    }

    /// Waits (up to the request timeout) until a leader is known, and returns it.
    pub async fn wait_for_leader(&self) -> Result<MemberId, StoreError> {
        self.running()?;
        let timeout = Duration::from_millis(self.member.config.request_timeout_ms);
        self.member
            .raft
            .wait(Some(timeout))
            .metrics(|m| m.current_leader.is_some(), "a leader")
            .await
            .ok()
            .and_then(|m| m.current_leader)
            .map(MemberId)
            .ok_or_else(|| self.member.stopped().unwrap_or(StoreError::NoLeader))
    }

    /// `Ok` while this member runs; its stop error ([`StoreError::Shutdown`] after
    /// [`Store::shutdown`]) once it stopped.
    fn running(&self) -> Result<(), StoreError> {
        self.member.stopped().map_or(Ok(()), Err)
    }

    /// A typed view of one collection.
    pub fn collection<T: Serialize + DeserializeOwned>(&self, name: &str) -> Collection<T> {
        Collection::new(self.clone(), name)
    }

    /// Commits a transaction (forwarded to the leader if this member is not it), as one new
    /// request: the same as [`Store::submit`] on a `Txn` never submitted before.
    ///
    /// Refused transactions change nothing: `AlreadyExists`, `NotFound` and `Conflict` name the
    /// first operation whose precondition failed. See [`StoreError`] for what each error says
    /// about the outcome; in short, [`StoreError::is_retryable`] errors mean the transaction
    /// certainly did not apply, and [`StoreError::Indeterminate`] means it may have: keep the
    /// `Txn` and use [`Store::submit`] to be able to retry it safely.
    pub async fn txn(&self, txn: Txn) -> Result<TxnOutcome, StoreError> {
        let request = txn.into_new_request(self.member.request_ids())?;
        self.write(request).await
    }

    /// Commits `txn`, which keeps its request id across calls: after an
    /// [`Indeterminate`](StoreError::Indeterminate) outcome (or any other error), submitting
    /// the same `txn` again is the same request, and the store applies it at most once (a
    /// retry of a transaction that did commit gets its recorded outcome).
    ///
    /// The retry gets the recorded outcome while it is among the last
    /// [`MAX_DEDUP_SEQS_PER_ORIGIN`](crate::MAX_DEDUP_SEQS_PER_ORIGIN) replies of its origin
    /// (the store instance that first submitted it) and the origin is among the
    /// [`MAX_DEDUP_ORIGINS`](crate::MAX_DEDUP_ORIGINS) most recently writing ones. Past that
    /// the store no longer knows the outcome and refuses the retry as `Indeterminate`, never
    /// applying it twice (read back instead); this holds until the origin, once retired, is
    /// forgotten after 4,096 more retirements, a point no live client reaches in practice.
    ///
    /// ```no_run
    /// # async fn demo(store: swarm_store::Store) -> Result<(), swarm_store::StoreError> {
    /// use swarm_store::Txn;
    /// const ATTEMPTS: usize = 3;
    /// let counters = store.collection::<u64>("counters");
    /// let txn = Txn::new().put(&counters, "visits", &41);
    /// let mut result = store.submit(&txn).await;
    /// for _ in 1..ATTEMPTS {
    ///     match &result {
    ///         // Same request id every time: applied once however often it is resubmitted.
    ///         Err(e) if e.is_indeterminate() || e.is_retryable() => result = store.submit(&txn).await,
    ///         _ => break,
    ///     }
    /// }
    /// let outcome = result?;
    /// # let _ = outcome; Ok(()) }
    /// ```
    pub async fn submit(&self, txn: &Txn) -> Result<TxnOutcome, StoreError> {
        let request = txn.to_request(self.member.request_ids())?;
        self.write(request).await
    }

    async fn write(&self, request: TxnRequest) -> Result<TxnOutcome, StoreError> {
        let applied = self.member.write(request).await?;
        Ok(TxnOutcome {
            revision: applied.revision,
            versions: applied.versions,
        })
    }

    /// The store's revision, read linearizably (every write acknowledged before this call is
    /// included).
    pub async fn revision(&self) -> Result<u64, StoreError> {
        Ok(self.member.read_barrier().await?.revision)
    }

    /// The revision of this member's state machine, which may lag the leader.
    pub fn local_revision(&self) -> u64 {
        self.member.shared.applied().revision
    }

    /// This member's view of the cluster: leader, term, commit index, members with their
    /// reachability and last contact (known on the leader).
    pub fn status(&self) -> StoreStatus {
        self.member.status()
    }

    /// Adds `member` (reachable at `addr`) as a learner; the leader starts replicating to it.
    pub async fn add_learner(
        &self,
        member: MemberId,
        addr: impl Into<String>,
    ) -> Result<(), StoreError> {
        self.member
            .membership(MembershipOp::AddLearner {
                id: member.0,
                addr: addr.into(),
            })
            .await
    }

    /// Promotes learner `member` to voter once it has caught up with the leader's log. Refused
    /// with [`StoreError::QuorumRisk`] when the new configuration would lack a reachable quorum,
    /// unless `force`.
    ///
    /// Membership operations are carried out by the leader, and only for a current voter: on a
    /// learner they fail with [`StoreError::NotAuthorized`]. A forced operation called on a
    /// follower is refused by the leader unless its operator called
    /// [`Store::allow_forced_membership_from_peers`].
    pub async fn promote(&self, member: MemberId, force: bool) -> Result<(), StoreError> {
        self.member
            .membership(MembershipOp::Promote {
                id: member.0,
                force,
            })
            .await
    }

    /// Turns voter `member` into a learner (same quorum rule as [`Store::promote`]).
    pub async fn demote(&self, member: MemberId, force: bool) -> Result<(), StoreError> {
        self.member
            .membership(MembershipOp::Demote {
                id: member.0,
                force,
            })
            .await
    }

    /// Removes `member` from the cluster (same quorum rule as [`Store::promote`]). A removed
    /// leader steps down shortly after.
    pub async fn remove(&self, member: MemberId, force: bool) -> Result<(), StoreError> {
        self.member
            .membership(MembershipOp::Remove {
                id: member.0,
                force,
            })
            .await
    }

    /// Lets other voters' forced membership operations (`promote`, `demote` or `remove` with
    /// `force`, which skip the quorum guard) be carried out while this member leads. Off by
    /// default: a forced change is then accepted only when called on the leader itself, and a
    /// forwarded one is refused with an error naming the member that asked. Non-forced changes
    /// are accepted from any current voter; never from a learner or a non-member.
    pub fn allow_forced_membership_from_peers(&self, allow: bool) {
        self.member.allow_forced_membership_from_peers(allow);
    }

    /// Moves leadership to voter `to` and waits until it leads.
    pub async fn transfer_leader(&self, to: MemberId) -> Result<(), StoreError> {
        self.member
            .membership(MembershipOp::TransferLeader { to: to.0 })
            .await
    }

    /// Builds a snapshot now (normally one is built every
    /// [`StoreConfig::snapshot_every_entries`]) and waits until it is saved.
    pub async fn snapshot_now(&self) -> Result<u64, StoreError> {
        self.running()?;
        let applied = self.member.shared.applied().index;
        self.member.raft.trigger().snapshot().await.map_err(|e| {
            self.member
                .stopped()
                .unwrap_or_else(|| StoreError::raft_stopped(e))
        })?;
        let timeout = Duration::from_millis(self.member.config.request_timeout_ms);
        let m = self
            .member
            .raft
            .wait(Some(timeout))
            .metrics(
                |m| m.snapshot.is_some_and(|s| s.index >= applied),
                "snapshot built",
            )
            .await
            .map_err(|_| StoreError::Timeout {
                timeout_ms: self.member.config.request_timeout_ms,
            })?;
        Ok(m.snapshot.map_or(0, |s| s.index))
    }

    /// Stops this member. Afterwards every operation on this handle and its clones that needs
    /// the running member (reads, writes, membership, `bootstrap`, `wait_for_leader`,
    /// `snapshot_now`) fails with [`StoreError::Shutdown`] (a write: nothing of it left the member; one already under
    /// way when the member stopped may be [`StoreError::Indeterminate`]), and every [`Watch`]
    /// of the member ends with [`StoreError::Shutdown`] once it returned the changes already
    /// applied, whether it was waiting or is called later. A member whose Raft core failed
    /// answers [`StoreError::Storage`] instead.
    ///
    /// [`Watch`]: crate::Watch
    pub async fn shutdown(&self) -> Result<(), StoreError> {
        let stopped = self
            .member
            .raft
            .shutdown()
            .await
            .map_err(StoreError::raft_stopped);
        // The state machine's worker ends after the core; close its channel now so no watch or
        // read waits for it.
        self.member.shared.close();
        stopped
    }
}
