//! One running member: the Raft handle, the state machine's data, the proposer, and the logic
//! that routes client requests to the leader.

use crate::config::{ReadPolicy, StoreConfig};
use crate::error::StoreError;
use crate::membership::{
    MemberRole, MemberStatus, Role, StoreStatus, authorize_remote, check_quorum,
};
use crate::proposer::{Proposer, write_error};
use crate::raft::network::{CallError, DynTransport, call};
use crate::raft::types::C;
use crate::raft::types::{Raft, Snapshot};
use crate::raft::wire::{MembershipOp, RpcRequest, RpcResponse, SnapshotChunk, WireError};
use crate::request_ids::RequestIds;
use crate::state::command::{RequestId, TxnApplied, TxnRejected, TxnRequest};
use crate::state::shared::{AppliedMark, SharedState};
use crate::transport::{MemberId, TransportError};
use crate::txn::Precondition;
use bytes::Bytes;
use openraft::async_runtime::WatchReceiver;
use openraft::errors::{ChangeMembershipError, ClientWriteError, LinearizableReadError, RaftError};
use openraft::{BasicNode, ChangeMembers, Instant as _, ServerState};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The most times a request is re-routed after a "not leader" answer.
pub(crate) const MAX_ROUTE_ATTEMPTS: usize = 8;
/// A learner is promoted only once it is at most this many entries behind the leader.
pub(crate) const PROMOTE_MAX_LAG_ENTRIES: u64 = 1_000;

mod snapshot_inbox;

use snapshot_inbox::{ChunkIn, ChunkStored, SNAPSHOT_TRANSFER_IDLE_MIN, SnapshotInbox};

/// The shortest per-chunk timeout a snapshot sender uses (openraft's
/// `install_snapshot_timeout`, set by `Store::open` to the larger of this and the request
/// timeout).
pub(crate) const SNAPSHOT_CHUNK_TIMEOUT_MIN_MS: u64 = 10_000;

/// How long a snapshot transfer may go without a chunk before its buffer is dropped: the
/// larger of [`SNAPSHOT_TRANSFER_IDLE_MIN`] and twice the sender's per-chunk timeout.
fn snapshot_idle_timeout(config: &StoreConfig) -> Duration {
    let chunk_ms = config.request_timeout_ms.max(SNAPSHOT_CHUNK_TIMEOUT_MIN_MS);
    Duration::from_millis(chunk_ms.saturating_mul(2)).max(SNAPSHOT_TRANSFER_IDLE_MIN)
}

/// Drops an abandoned snapshot transfer once it is idle past the timeout, waking when a
/// transfer starts; ends when the member is dropped.
async fn sweep_idle_transfers(inbox: std::sync::Weak<Mutex<SnapshotInbox>>, wake: Arc<Notify>) {
    loop {
        let deadline = {
            let Some(inbox) = inbox.upgrade() else {
                return;
            };
            let guard = inbox
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            guard.idle_deadline()
        };
        match deadline {
            Some(deadline) => {
                tokio::select! {
                    () = tokio::time::sleep_until(Instant::from_std(deadline)) => {}
                    () = wake.notified() => {}
                }
            }
            None => wake.notified().await,
        }
        let Some(inbox) = inbox.upgrade() else {
            return;
        };
        let dropped = inbox
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .expire(Instant::now().into_std());
        if let Some(from) = dropped {
            tracing::warn!(%from, "snapshot transfer idle past the timeout; buffer dropped");
        }
    }
}

pub(crate) struct Node {
    pub(crate) id: u64,
    pub(crate) config: StoreConfig,
    pub(crate) raft: Raft,
    pub(crate) shared: Arc<SharedState>,
    pub(crate) transport: Arc<dyn DynTransport>,
    pub(crate) proposer: Proposer,
    /// The snapshot transfer being received (at most one).
    inbox: Arc<Mutex<SnapshotInbox>>,
    /// Wakes the idle-transfer sweeper when a transfer starts.
    inbox_wake: Arc<Notify>,
    /// The idle-transfer sweeper, stopped when the member is dropped.
    inbox_sweeper: tokio::task::AbortHandle,
    /// This store instance's request ids (a fresh origin per open).
    request_ids: RequestIds,
    /// Whether forced membership operations are accepted from other members (set by the local
    /// operator; off by default).
    allow_remote_force: AtomicBool,
}

/// Whether a membership operation skips the quorum guard.
fn is_forced(op: &MembershipOp) -> bool {
    match op {
        MembershipOp::Promote { force, .. }
        | MembershipOp::Demote { force, .. }
        | MembershipOp::Remove { force, .. } => *force,
        MembershipOp::AddLearner { .. } | MembershipOp::TransferLeader { .. } => false,
    }
}

/// Maps a refused transaction to the caller's error.
pub(crate) fn rejected_error(r: TxnRejected) -> StoreError {
    match (r.expected, r.actual) {
        (Precondition::Absent, Some(version)) => StoreError::AlreadyExists {
            collection: r.collection,
            key: r.key,
            version,
        },
        (_, None) => StoreError::NotFound {
            collection: r.collection,
            key: r.key,
        },
        (Precondition::Version(expected), actual) => StoreError::Conflict {
            collection: r.collection,
            key: r.key,
            expected,
            actual,
        },
        (_, actual) => StoreError::Conflict {
            collection: r.collection,
            key: r.key,
            expected: 0,
            actual,
        },
    }
}

fn from_wire(peer: MemberId, e: WireError) -> StoreError {
    match e {
        WireError::NotLeader { leader } => StoreError::NotLeader {
            leader: leader.map(MemberId),
        },
        WireError::NoLeader => StoreError::NoLeader,
        WireError::Rejected(r) => rejected_error(r),
        WireError::Indeterminate(s) => StoreError::Indeterminate(s),
        WireError::QuorumRisk { reachable, quorum } => StoreError::QuorumRisk {
            reachable: reachable as usize,
            quorum: quorum as usize,
        },
        WireError::Membership(s) => StoreError::Membership(s),
        WireError::NotAuthorized { peer, reason } => StoreError::NotAuthorized {
            peer: MemberId(peer),
            reason,
        },
        WireError::Timeout { timeout_ms } => StoreError::Timeout { timeout_ms },
        WireError::Fatal(detail) => StoreError::Transport(TransportError::Remote { peer, detail }),
        WireError::Invalid(detail) => StoreError::Invalid {
            field: "request",
            detail: format!("refused by {peer}: {detail}"),
        },
    }
}

fn from_call(e: CallError) -> StoreError {
    match e {
        CallError::Transport(t) => StoreError::Transport(t),
        CallError::Timeout { timeout_ms, .. } => StoreError::Timeout { timeout_ms },
        CallError::Encode(e) => StoreError::Invalid {
            field: "request",
            detail: e.to_string(),
        },
        CallError::Decode { peer, detail } => StoreError::Protocol { peer, detail },
    }
}

/// The wire form of a membership operation's failure on the leader. Refusals made before
/// anything was proposed keep their kind; every other failure (a storage fault after the change
/// was submitted, ...) is [`WireError::Indeterminate`]: the change may have been made.
fn to_wire(e: StoreError) -> WireError {
    match e {
        StoreError::NotLeader { leader } => WireError::NotLeader {
            leader: leader.map(|m| m.0),
        },
        StoreError::NoLeader => WireError::NoLeader,
        StoreError::QuorumRisk { reachable, quorum } => WireError::QuorumRisk {
            reachable: reachable as u64,
            quorum: quorum as u64,
        },
        StoreError::Membership(s) => WireError::Membership(s),
        StoreError::NotAuthorized { peer, reason } => WireError::NotAuthorized {
            peer: peer.0,
            reason,
        },
        StoreError::Timeout { timeout_ms } => WireError::Timeout { timeout_ms },
        StoreError::Indeterminate(s) => WireError::Indeterminate(s),
        StoreError::Invalid { field, detail } => WireError::Invalid(format!("{field}: {detail}")),
        other => WireError::Indeterminate(format!(
            "the leader failed after the operation may have been started: {other}"
        )),
    }
}

/// What a failed attempt of a write or membership operation that left this member (handed to
/// the local proposer or Raft, or forwarded to a leader) says about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AttemptFailure {
    /// The leader refused it before proposing anything: this attempt added no log entry.
    Refused,
    /// The state machine answered its request id (a refused precondition): the final answer,
    /// even when an earlier attempt's copy reached the log first (the dedup table then answers
    /// the recorded reply).
    Answered,
    /// It may have been proposed and no outcome came back: it may have applied, or still may.
    Unknown,
}

/// Classifies the failure `e` of an attempt that left this member. Exhaustive on purpose: a new
/// [`StoreError`] variant must be placed in a class here.
fn attempt_failure(e: &StoreError) -> AttemptFailure {
    match e {
        StoreError::Conflict { .. }
        | StoreError::NotFound { .. }
        | StoreError::AlreadyExists { .. } => AttemptFailure::Answered,
        StoreError::NotLeader { .. }
        | StoreError::NoLeader
        | StoreError::Invalid { .. }
        | StoreError::QuorumRisk { .. }
        | StoreError::NotAuthorized { .. }
        | StoreError::Membership(_) => AttemptFailure::Refused,
        StoreError::Indeterminate(_)
        | StoreError::Timeout { .. }
        | StoreError::Transport(_)
        | StoreError::Protocol { .. }
        | StoreError::Storage(_)
        | StoreError::Shutdown
        | StoreError::Codec { .. }
        | StoreError::Compacted { .. } => AttemptFailure::Unknown,
    }
}

/// The error a write or membership operation returns, given its last failure and whether an
/// attempt ended with an [`AttemptFailure::Unknown`] outcome (`unsettled`). Once one may have
/// been proposed, only the state machine's own answer is definite: everything else, a later
/// refusal included (it says nothing about the earlier copy), is
/// [`StoreError::Indeterminate`], so the caller never retries as a new request something that
/// may apply.
fn settle(last: StoreError, unsettled: bool, what: &dyn std::fmt::Display) -> StoreError {
    if unsettled && attempt_failure(&last) != AttemptFailure::Answered {
        StoreError::Indeterminate(format!(
            "{what} left this member but no outcome came back ({last}); read back, or resubmit \
             the same request"
        ))
    } else {
        last
    }
}

/// Records the failure `e` of an attempt that left this member into `unsettled` and returns it.
fn note(unsettled: &mut bool, e: StoreError) -> StoreError {
    if attempt_failure(&e) == AttemptFailure::Unknown {
        *unsettled = true;
    }
    e
}

impl Node {
    pub(crate) fn new(
        config: StoreConfig,
        raft: Raft,
        shared: Arc<SharedState>,
        transport: Arc<dyn DynTransport>,
        proposer: Proposer,
    ) -> Self {
        let config_member = config.member.0;
        let seed = config.raft_rng_seed;
        let inbox = Arc::new(Mutex::new(SnapshotInbox::new(snapshot_idle_timeout(
            &config,
        ))));
        let inbox_wake = Arc::new(Notify::new());
        let inbox_sweeper = tokio::spawn(sweep_idle_transfers(
            Arc::downgrade(&inbox),
            inbox_wake.clone(),
        ))
        .abort_handle();
        Node {
            id: config.member.0,
            config,
            raft,
            shared,
            transport,
            proposer,
            inbox,
            inbox_wake,
            inbox_sweeper,
            request_ids: match seed {
                Some(seed) => RequestIds::seeded(config_member, seed),
                None => RequestIds::new(config_member),
            },
            allow_remote_force: AtomicBool::new(false),
        }
    }

    fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.config.request_timeout_ms)
    }

    fn timeout_error(&self) -> StoreError {
        StoreError::Timeout {
            timeout_ms: self.config.request_timeout_ms,
        }
    }

    /// The leader this member knows of.
    pub(crate) fn current_leader(&self) -> Option<u64> {
        self.raft.metrics().borrow_watched().current_leader
    }

    /// The known leader, waiting for an election until `deadline`.
    async fn leader_or_wait(&self, deadline: Instant) -> Result<u64, StoreError> {
        if let Some(l) = self.current_leader() {
            return Ok(l);
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        match self
            .raft
            .wait(Some(remaining))
            .metrics(|m| m.current_leader.is_some(), "a leader")
            .await
        {
            Ok(m) => m.current_leader.ok_or(StoreError::NoLeader),
            Err(_) => Err(StoreError::NoLeader),
        }
    }

    /// After a "not leader" answer, give the election or the leader hint a moment.
    async fn backoff(&self, hint: Option<u64>, tried: u64) {
        if hint.is_none() || hint == Some(tried) {
            tokio::time::sleep(Duration::from_millis(self.config.heartbeat_period_ms)).await;
        }
    }

    /// After `unreachable` (the known leader) could not be reached: waits until this member
    /// learns of another leader, or for one election timeout (the leader may be back, the
    /// failure transient), or until `deadline`, whichever comes first.
    async fn await_leader_change(&self, unreachable: u64, deadline: Instant) {
        let election = Duration::from_millis(self.config.election_timeout_max_ms);
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .min(election);
        let _ = self
            .raft
            .wait(Some(wait))
            .metrics(
                |m| m.current_leader.is_some_and(|l| l != unreachable),
                "another leader",
            )
            .await;
    }

    async fn forward(
        &self,
        leader: u64,
        request: &RpcRequest,
        deadline: Instant,
    ) -> Result<RpcResponse, StoreError> {
        let remaining = deadline.saturating_duration_since(Instant::now());
        call(
            self.transport.as_ref(),
            MemberId(leader),
            request,
            remaining,
        )
        .await
        .map_err(from_call)
    }

    /// The id for the next client transaction of this store instance.
    pub(crate) fn next_request_id(&self) -> RequestId {
        self.request_ids.next()
    }

    /// Commits a transaction through the leader.
    ///
    /// `txn.id` was assigned once (by [`Node::next_request_id`], or kept by a resubmitted
    /// [`Txn`](crate::Txn)) before this call: every re-route after a "not leader" answer or a
    /// transport failure, and every forwarded copy (a duplicated message included), carries
    /// the same id, and the state machine applies an id at most once, so re-routing never
    /// applies the transaction twice.
    ///
    /// Outcome contract ([`StoreError`]'s classes): once the transaction was handed to a
    /// proposer or sent to a leader it may commit, so every failure after that point is
    /// [`StoreError::Indeterminate`] (naming the last cause), except the definite answers
    /// sorted by [`attempt_failure`]: the state machine's refusal of a precondition
    /// (`Conflict`, `NotFound`, `AlreadyExists`), and a refusal made before proposing (`NotLeader`,
    /// `Invalid`, ...) when no earlier attempt's outcome is unknown. Every other error comes
    /// back only when the transaction never left this member.
    pub(crate) async fn write(&self, txn: TxnRequest) -> Result<TxnApplied, StoreError> {
        let deadline = Instant::now() + self.request_timeout();
        let mut unsettled = false;
        self.write_attempts(&txn, deadline, &mut unsettled)
            .await
            .map_err(|e| settle(e, unsettled, &format_args!("request {}", txn.id)))
    }

    /// The routing loop of [`Node::write`]; sets `unsettled` once an attempt may have been
    /// proposed without an outcome coming back.
    async fn write_attempts(
        &self,
        txn: &TxnRequest,
        deadline: Instant,
        unsettled: &mut bool,
    ) -> Result<TxnApplied, StoreError> {
        let request = RpcRequest::Write(txn.clone());
        self.route(
            "write",
            &request,
            || self.proposer.propose(txn.clone()),
            |response| match response {
                RpcResponse::Write(r) => Some(r),
                _ => None,
            },
            deadline,
            unsettled,
        )
        .await
    }

    /// Routes one request to the leader until it answers, at most [`MAX_ROUTE_ATTEMPTS`] times
    /// and within `deadline`: `local` when this member leads, a forward of `request` otherwise
    /// (`answer` takes the result out of the leader's response). The request keeps its identity
    /// across attempts (a write's request id), so a copy that did arrive is harmless. Re-routed
    /// after "not leader" and after an unreachable leader; every other failure ends the loop.
    /// Sets `unsettled` once an attempt may have taken effect without an outcome coming back.
    async fn route<T, Fut>(
        &self,
        what: &'static str,
        request: &RpcRequest,
        local: impl Fn() -> Fut,
        answer: fn(RpcResponse) -> Option<Result<T, WireError>>,
        deadline: Instant,
        unsettled: &mut bool,
    ) -> Result<T, StoreError>
    where
        Fut: std::future::Future<Output = Result<T, WireError>>,
    {
        let mut last = StoreError::NoLeader;
        for _ in 0..MAX_ROUTE_ATTEMPTS {
            if Instant::now() >= deadline {
                break;
            }
            let leader = match self.leader_or_wait(deadline).await {
                Ok(leader) => leader,
                Err(e) => return Err(if *unsettled { last } else { e }),
            };
            let outcome = if leader == self.id {
                match tokio::time::timeout_at(deadline, local()).await {
                    Ok(r) => r,
                    Err(_) => return Err(note(unsettled, self.timeout_error())),
                }
            } else {
                match self.forward(leader, request, deadline).await {
                    Ok(response) => match answer(response) {
                        Some(r) => r,
                        None => {
                            return Err(note(
                                unsettled,
                                StoreError::Protocol {
                                    peer: MemberId(leader),
                                    detail: format!("unexpected response to a {what}"),
                                },
                            ));
                        }
                    },
                    // The leader is unreachable (crashed, partitioned, restarting): route again
                    // with the same request; the dedup table makes a copy that did arrive
                    // harmless.
                    Err(e @ StoreError::Transport(_)) if e.is_retryable() => {
                        tracing::debug!(%leader, error = %e, what, "forward failed; re-routing");
                        last = note(unsettled, e);
                        self.await_leader_change(leader, deadline).await;
                        continue;
                    }
                    Err(e) => return Err(note(unsettled, e)),
                }
            };
            match outcome {
                Ok(done) => return Ok(done),
                // Refused before proposing (openraft's ForwardToLeader): route again.
                Err(WireError::NotLeader { leader: hint }) => {
                    last = StoreError::NotLeader {
                        leader: hint.map(MemberId),
                    };
                    self.backoff(hint, leader).await;
                }
                Err(e) => return Err(note(unsettled, from_wire(MemberId(leader), e))),
            }
        }
        Err(last)
    }

    /// Serves a write forwarded by a follower.
    async fn write_for_peer(&self, txn: TxnRequest) -> Result<TxnApplied, WireError> {
        // The follower checked it already; a peer that did not (or runs other limits) must not
        // get an oversized or malformed transaction into the log.
        if let Err(e) = crate::txn::validate_request(&txn) {
            return Err(WireError::Invalid(format!(
                "forwarded transaction refused: {e}"
            )));
        }
        if self.current_leader() != Some(self.id) {
            return Err(WireError::NotLeader {
                leader: self.current_leader(),
            });
        }
        match tokio::time::timeout(self.request_timeout(), self.proposer.propose(txn)).await {
            Ok(r) => r,
            // Handed to the proposer: it may have been proposed and may still commit.
            Err(_) => Err(WireError::Indeterminate(format!(
                "no outcome within the leader's request timeout of {} ms",
                self.config.request_timeout_ms
            ))),
        }
    }

    /// The leader's read index, computed here (this member must be the leader).
    async fn local_read_index(&self) -> Result<u64, WireError> {
        let mut policy = match self.config.read_policy {
            ReadPolicy::ReadIndex => openraft::ReadPolicy::ReadIndex,
            ReadPolicy::Lease => openraft::ReadPolicy::LeaseRead,
        };
        loop {
            match self.raft.get_read_linearizer(policy.clone()).await {
                Ok(lin) => return Ok(lin.read_log_id().index()),
                Err(RaftError::APIError(LinearizableReadError::ForwardToLeader(f))) => {
                    return Err(WireError::NotLeader {
                        leader: f.leader_id,
                    });
                }
                Err(RaftError::APIError(LinearizableReadError::QuorumNotEnough(_)))
                    if policy == openraft::ReadPolicy::LeaseRead =>
                {
                    // The lease lapsed: confirm leadership with a heartbeat round instead.
                    policy = openraft::ReadPolicy::ReadIndex;
                }
                Err(RaftError::APIError(LinearizableReadError::QuorumNotEnough(_))) => {
                    return Err(WireError::NoLeader);
                }
                Err(RaftError::Fatal(f)) => return Err(WireError::Fatal(f.to_string())),
            }
        }
    }

    /// Waits until the local state machine has applied `index`.
    async fn wait_applied(&self, index: u64, deadline: Instant) -> Result<AppliedMark, StoreError> {
        let mark = self.shared.applied();
        if mark.index >= index {
            return Ok(mark);
        }
        let mut rx = self.shared.subscribe();
        match tokio::time::timeout_at(deadline, rx.wait_for(|m| m.index >= index)).await {
            Ok(Ok(m)) => Ok(*m),
            Ok(Err(_)) => Err(StoreError::Shutdown),
            Err(_) => Err(self.timeout_error()),
        }
    }

    /// Returns once a linearizable read may be served from the local state machine.
    pub(crate) async fn read_barrier(&self) -> Result<AppliedMark, StoreError> {
        let deadline = Instant::now() + self.request_timeout();
        for _ in 0..MAX_ROUTE_ATTEMPTS {
            let leader = self.leader_or_wait(deadline).await?;
            let index = if leader == self.id {
                match tokio::time::timeout_at(deadline, self.local_read_index()).await {
                    Ok(r) => r,
                    Err(_) => return Err(self.timeout_error()),
                }
            } else {
                match self
                    .forward(leader, &RpcRequest::ReadIndex, deadline)
                    .await?
                {
                    RpcResponse::ReadIndex(r) => r,
                    _ => {
                        return Err(StoreError::Protocol {
                            peer: MemberId(leader),
                            detail: "unexpected response to a read-index request".into(),
                        });
                    }
                }
            };
            match index {
                Ok(index) => return self.wait_applied(index, deadline).await,
                Err(WireError::NotLeader { leader: hint }) => self.backoff(hint, leader).await,
                Err(e) => return Err(from_wire(MemberId(leader), e)),
            }
        }
        Err(StoreError::NoLeader)
    }

    /// Carries out a membership operation on the leader. Like [`Node::write`]: re-routed after
    /// "not leader" or an unreachable leader, and a failure after the operation left this
    /// member is [`StoreError::Indeterminate`] (the change may have been made).
    ///
    /// Only a voter may change the membership (the leader refuses anyone else); a member that
    /// knows itself not to be one is refused here, with [`StoreError::NotAuthorized`].
    pub(crate) async fn membership(&self, op: MembershipOp) -> Result<(), StoreError> {
        let (voters, _) = self.members();
        if !voters.contains(&self.id) {
            return Err(StoreError::NotAuthorized {
                peer: MemberId(self.id),
                reason: "only a current voter may change the membership".into(),
            });
        }
        let deadline = Instant::now() + self.request_timeout();
        let mut unsettled = false;
        self.membership_attempts(&op, deadline, &mut unsettled)
            .await
            .map_err(|e| {
                settle(
                    e,
                    unsettled,
                    &format_args!("membership operation {op:?} (check the status before retrying)"),
                )
            })
    }

    /// The routing loop of [`Node::membership`]; sets `unsettled` like
    /// [`Node::write_attempts`].
    async fn membership_attempts(
        &self,
        op: &MembershipOp,
        deadline: Instant,
        unsettled: &mut bool,
    ) -> Result<(), StoreError> {
        let request = RpcRequest::Membership(op.clone());
        self.route(
            "membership request",
            &request,
            || async { self.membership_local(op.clone()).await.map_err(to_wire) },
            |response| match response {
                RpcResponse::Membership(r) => Some(r),
                _ => None,
            },
            deadline,
            unsettled,
        )
        .await
    }

    /// Voters and learners of the effective membership.
    fn members(&self) -> (BTreeSet<u64>, BTreeMap<u64, String>) {
        let metrics = self.raft.metrics().borrow_watched().clone();
        let membership = metrics.membership_config.membership().clone();
        let voters: BTreeSet<u64> = membership.voter_ids().collect();
        let nodes = membership
            .nodes()
            .map(|(id, n)| (*id, n.addr.clone()))
            .collect();
        (voters, nodes)
    }

    /// Which members acknowledged the leader recently (meaningful on the leader only).
    fn reachable(&self) -> BTreeMap<u64, Option<Duration>> {
        let metrics = self.raft.metrics().borrow_watched().clone();
        let mut out = BTreeMap::new();
        if let Some(hb) = &metrics.heartbeat {
            for (id, last) in hb {
                out.insert(*id, last.as_ref().map(|t| t.elapsed()));
            }
        }
        out.insert(self.id, Some(Duration::ZERO));
        out
    }

    fn is_reachable(&self, contacts: &BTreeMap<u64, Option<Duration>>, id: u64) -> bool {
        let limit = Duration::from_millis(self.config.unreachable_after_ms());
        id == self.id || matches!(contacts.get(&id), Some(Some(d)) if *d <= limit)
    }

    fn guard_quorum(&self, new_voters: &BTreeSet<u64>, force: bool) -> Result<(), StoreError> {
        if force {
            return Ok(());
        }
        let contacts = self.reachable();
        check_quorum(new_voters, |id| self.is_reachable(&contacts, id))
            .map_err(|(reachable, quorum)| StoreError::QuorumRisk { reachable, quorum })
    }

    async fn change(
        &self,
        change: ChangeMembers<u64, BasicNode>,
        retain: bool,
    ) -> Result<(), StoreError> {
        self.retry_in_progress(|| self.raft.change_membership(change.clone(), retain))
            .await
    }

    /// Runs a membership write, waiting out a change still in progress (the previous change's
    /// entry not yet committed) until the request deadline.
    async fn retry_in_progress<F, Fut, R>(&self, mut op: F) -> Result<(), StoreError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<R, RaftError<C, ClientWriteError<C>>>>,
    {
        let deadline = Instant::now() + self.request_timeout();
        loop {
            match op().await {
                Ok(_) => return Ok(()),
                Err(RaftError::APIError(ClientWriteError::ChangeMembershipError(
                    ChangeMembershipError::InProgress(_),
                ))) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(self.config.heartbeat_period_ms))
                        .await;
                }
                Err(e) => return Err(from_wire(MemberId(self.id), write_error(e))),
            }
        }
    }

    /// Waits up to the unreachable limit for `id` to acknowledge the leader.
    async fn wait_reachable(&self, id: u64) {
        let deadline = Instant::now() + Duration::from_millis(self.config.unreachable_after_ms());
        while Instant::now() < deadline {
            if self.is_reachable(&self.reachable(), id) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(self.config.heartbeat_period_ms)).await;
        }
    }

    /// Runs a membership operation here, as the leader.
    async fn membership_local(&self, op: MembershipOp) -> Result<(), StoreError> {
        if self.current_leader() != Some(self.id) {
            return Err(StoreError::NotLeader {
                leader: self.current_leader().map(MemberId),
            });
        }
        let (voters, nodes) = self.members();
        match op {
            MembershipOp::AddLearner { id, addr } => {
                if voters.contains(&id) {
                    return Err(StoreError::Membership(format!(
                        "{} is already a voter",
                        MemberId(id)
                    )));
                }
                self.retry_in_progress(|| {
                    self.raft
                        .add_learner(id, BasicNode { addr: addr.clone() }, false)
                })
                .await
            }
            MembershipOp::Promote { id, force } => {
                if voters.contains(&id) {
                    return Ok(());
                }
                if !nodes.contains_key(&id) {
                    return Err(StoreError::Membership(format!(
                        "{} is not a learner of this cluster; add it first",
                        MemberId(id)
                    )));
                }
                let mut new_voters = voters.clone();
                new_voters.insert(id);
                if !force {
                    // A learner added a moment ago may not have answered a heartbeat yet.
                    self.wait_reachable(id).await;
                }
                self.guard_quorum(&new_voters, force)?;
                if !force {
                    self.wait_caught_up(id).await?;
                }
                self.change(ChangeMembers::AddVoterIds(BTreeSet::from([id])), false)
                    .await
            }
            MembershipOp::Demote { id, force } => {
                if !voters.contains(&id) {
                    return Err(StoreError::Membership(format!(
                        "{} is not a voter",
                        MemberId(id)
                    )));
                }
                let mut new_voters = voters.clone();
                new_voters.remove(&id);
                if new_voters.is_empty() {
                    return Err(StoreError::Membership(
                        "cannot demote the last voter".into(),
                    ));
                }
                self.guard_quorum(&new_voters, force)?;
                self.change(ChangeMembers::RemoveVoters(BTreeSet::from([id])), true)
                    .await
            }
            MembershipOp::Remove { id, force } => {
                if voters.contains(&id) {
                    let mut new_voters = voters.clone();
                    new_voters.remove(&id);
                    if new_voters.is_empty() {
                        return Err(StoreError::Membership(
                            "cannot remove the last voter".into(),
                        ));
                    }
                    self.guard_quorum(&new_voters, force)?;
                    self.change(ChangeMembers::RemoveVoters(BTreeSet::from([id])), false)
                        .await
                } else if nodes.contains_key(&id) {
                    self.change(ChangeMembers::RemoveNodes(BTreeSet::from([id])), false)
                        .await
                } else {
                    Err(StoreError::Membership(format!(
                        "{} is not a member",
                        MemberId(id)
                    )))
                }
            }
            MembershipOp::TransferLeader { to } => {
                if to == self.id {
                    return Ok(());
                }
                if !voters.contains(&to) {
                    return Err(StoreError::Membership(format!(
                        "{} is not a voter and cannot lead",
                        MemberId(to)
                    )));
                }
                self.raft
                    .trigger()
                    .transfer_leader(to)
                    .await
                    .map_err(StoreError::raft_stopped)?;
                let wait = self.raft.wait(Some(self.request_timeout()));
                wait.metrics(
                    |m| m.current_leader == Some(to),
                    format!("leadership moved to {}", MemberId(to)),
                )
                .await
                .map(|_| ())
                .map_err(|_| self.timeout_error())
            }
        }
    }

    /// Waits (within the request deadline) until learner `id` is close to the leader's log.
    async fn wait_caught_up(&self, id: u64) -> Result<(), StoreError> {
        let wait = self.raft.wait(Some(self.request_timeout()));
        wait.metrics(
            |m| {
                let last = m.last_log_index.unwrap_or(0);
                let matched = m
                    .replication
                    .as_ref()
                    .and_then(|r| r.get(&id).cloned().flatten())
                    .map(|l| l.index);
                matched.is_some_and(|i| i + PROMOTE_MAX_LAG_ENTRIES >= last)
            },
            format!("{} caught up", MemberId(id)),
        )
        .await
        .map(|_| ())
        .map_err(|_| {
            StoreError::Membership(format!(
                "{} did not catch up with the leader's log within {} ms",
                MemberId(id),
                self.config.request_timeout_ms
            ))
        })
    }

    /// Whether forced membership operations forwarded by other voters are carried out here
    /// (when this member leads). Off unless the local operator turns it on.
    pub(crate) fn allow_forced_membership_from_peers(&self, allow: bool) {
        self.allow_remote_force.store(allow, Ordering::Relaxed);
    }

    /// The status as this member sees it.
    pub(crate) fn status(&self) -> StoreStatus {
        let m = self.raft.metrics().borrow_watched().clone();
        let membership = m.membership_config.membership().clone();
        let voters: BTreeSet<u64> = membership.voter_ids().collect();
        let is_leader = m.state == ServerState::Leader;
        let contacts = self.reachable();
        let members = membership
            .nodes()
            .map(|(id, node)| {
                let last_contact = if *id == self.id {
                    Some(Duration::ZERO)
                } else if is_leader {
                    contacts.get(id).cloned().flatten()
                } else {
                    None
                };
                MemberStatus {
                    id: MemberId(*id),
                    addr: node.addr.clone(),
                    role: if voters.contains(id) {
                        MemberRole::Voter
                    } else {
                        MemberRole::Learner
                    },
                    reachable: if *id == self.id {
                        Some(true)
                    } else if is_leader {
                        Some(self.is_reachable(&contacts, *id))
                    } else {
                        None
                    },
                    last_contact,
                    matched_index: m
                        .replication
                        .as_ref()
                        .and_then(|r| r.get(id).cloned().flatten())
                        .map(|l| l.index),
                }
            })
            .collect();
        StoreStatus {
            member: MemberId(self.id),
            role: match m.state {
                ServerState::Leader => Role::Leader,
                ServerState::Candidate => Role::Candidate,
                ServerState::Follower => Role::Follower,
                ServerState::Learner => Role::Learner,
                ServerState::Shutdown => Role::Stopped,
            },
            leader: m.current_leader.map(MemberId),
            term: m.current_term,
            last_log_index: m.last_log_index,
            commit_index: m.local_committed.map(|l| l.index),
            applied_index: m.last_applied.map(|l| l.index),
            snapshot_index: m.snapshot.map(|l| l.index),
            purged_index: m.purged.map(|l| l.index),
            revision: self.shared.applied().revision,
            members,
        }
    }

    /// Stores one snapshot chunk; installs the snapshot when the last one arrives. The
    /// [`SnapshotInbox`] decides what is accepted (vote, size, one transfer at a time).
    async fn snapshot_chunk(
        &self,
        from: MemberId,
        chunk: SnapshotChunk,
    ) -> Result<RpcResponse, String> {
        let ours = self.raft.metrics().borrow_watched().vote;
        let stored = {
            let mut inbox = self
                .inbox
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let was_idle = inbox.idle_deadline().is_none();
            let stored = inbox
                .receive(
                    from,
                    ChunkIn {
                        vote: chunk.vote,
                        meta: &chunk.meta,
                        transfer_id: chunk.transfer_id,
                        offset: chunk.offset,
                        total_bytes: chunk.total_bytes,
                        data: &chunk.data.0,
                    },
                    &ours,
                    Instant::now().into_std(),
                )
                .map_err(|e| e.to_string())?;
            if was_idle && inbox.idle_deadline().is_some() {
                self.inbox_wake.notify_one();
            }
            stored
        };
        match stored {
            ChunkStored::Partial => Ok(RpcResponse::SnapshotChunkStored),
            ChunkStored::Complete(buf) => {
                let snapshot = Snapshot {
                    meta: chunk.meta,
                    snapshot: Bytes::from(buf),
                };
                self.raft
                    .install_full_snapshot(chunk.vote, snapshot)
                    .await
                    .map(RpcResponse::SnapshotInstalled)
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// Serves one request from another member.
    pub(crate) async fn handle(
        &self,
        from: MemberId,
        request: RpcRequest,
    ) -> Result<RpcResponse, String> {
        match request {
            RpcRequest::AppendEntries(r) => self
                .raft
                .append_entries(r)
                .await
                .map(RpcResponse::AppendEntries)
                .map_err(|e| e.to_string()),
            RpcRequest::Vote(r) => self
                .raft
                .vote(r)
                .await
                .map(RpcResponse::Vote)
                .map_err(|e| e.to_string()),
            RpcRequest::PreVote(r) => self
                .raft
                .pre_vote(r)
                .await
                .map(RpcResponse::Vote)
                .map_err(|e| e.to_string()),
            RpcRequest::SnapshotChunk(c) => self.snapshot_chunk(from, c).await,
            RpcRequest::TransferLeader(r) => self
                .raft
                .handle_transfer_leader(r)
                .await
                .map(RpcResponse::TransferLeader)
                .map_err(|e| e.to_string()),
            RpcRequest::Write(txn) => Ok(RpcResponse::Write(self.write_for_peer(txn).await)),
            RpcRequest::ReadIndex => {
                let r = match tokio::time::timeout(self.request_timeout(), self.local_read_index())
                    .await
                {
                    Ok(r) => r,
                    Err(_) => Err(WireError::Timeout {
                        timeout_ms: self.config.request_timeout_ms,
                    }),
                };
                Ok(RpcResponse::ReadIndex(r))
            }
            RpcRequest::Membership(op) => {
                // A valid certificate is not enough: only a current voter may change the
                // membership, and a forced change needs this member's operator's consent.
                let (voters, _) = self.members();
                let allow_force = self.allow_remote_force.load(Ordering::Relaxed);
                if let Err(e) = authorize_remote(from, &voters, is_forced(&op), allow_force) {
                    tracing::warn!(%from, ?op, error = %e, "membership request refused");
                    return Ok(RpcResponse::Membership(Err(WireError::NotAuthorized {
                        peer: from.0,
                        reason: e.to_string(),
                    })));
                }
                // The same deadline as a local call: a change that cannot commit (no quorum)
                // must not hold the connection's handler, nor the caller, forever.
                let r =
                    match tokio::time::timeout(self.request_timeout(), self.membership_local(op))
                        .await
                    {
                        Ok(r) => r.map_err(to_wire),
                        Err(_) => Err(WireError::Timeout {
                            timeout_ms: self.config.request_timeout_ms,
                        }),
                    };
                Ok(RpcResponse::Membership(r))
            }
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.inbox_sweeper.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{MemLogStorage, MemSnapshotStore};
    use crate::testkit::inproc::InProcNetwork;
    use crate::{Store, StoreRpc};

    async fn start(net: &InProcNetwork, id: u64) -> Store {
        let rpc = StoreRpc::new();
        net.register(MemberId(id), rpc.clone());
        let config = StoreConfig::new(MemberId(id), format!("member-{id}")).fast_failover();
        Store::open(
            config,
            MemLogStorage::new(),
            MemSnapshotStore::new(),
            net.endpoint(MemberId(id)),
            &rpc,
        )
        .await
        .expect("open")
    }

    /// What the leader answers `from`'s membership request (as its transport would deliver it:
    /// `from` is the identity the peer authenticated as).
    async fn ask(leader: &Store, from: u64, op: MembershipOp) -> Result<(), String> {
        match leader
            .node
            .handle(MemberId(from), RpcRequest::Membership(op))
            .await
        {
            Ok(RpcResponse::Membership(Ok(()))) => Ok(()),
            Ok(RpcResponse::Membership(Err(e))) => Err(format!("{e:?}")),
            Ok(_) => Err("another response".into()),
            Err(e) => Err(e),
        }
    }

    /// A snapshot chunk is checked against this member's vote before anything is buffered.
    /// Before, a first chunk from any sender was accepted and buffered whatever its vote.
    #[tokio::test]
    async fn a_snapshot_chunk_from_a_stale_leader_is_refused_before_buffering() {
        let net = InProcNetwork::new(5);
        let one = start(&net, 1).await;
        one.bootstrap().await.expect("bootstrap");
        let ours = one.node.raft.metrics().borrow_watched().vote;
        let chunk = |vote| {
            RpcRequest::SnapshotChunk(SnapshotChunk {
                vote,
                meta: crate::raft::types::SnapshotMeta::default(),
                transfer_id: 1,
                offset: 0,
                total_bytes: 8,
                data: crate::blob::Blob(Bytes::from_static(b"abcd")),
            })
        };
        // A deposed leader of an older term (member 7 led term 0).
        let stale = crate::raft::types::Vote::new_committed(0, 7);
        assert!(stale < ours);
        let e = match one.node.handle(MemberId(7), chunk(stale)).await {
            Err(e) => e,
            Ok(_) => panic!("a stale leader's chunk was stored"),
        };
        assert!(e.contains("member-7") && e.contains("older"), "{e}");
        let buffered = one
            .node
            .inbox
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .buffered_bytes();
        assert_eq!(buffered, 0);
        // A leader with this member's own (current) vote may start one.
        let started = one.node.handle(MemberId(1), chunk(ours)).await;
        assert!(matches!(started, Ok(RpcResponse::SnapshotChunkStored)));
    }

    /// Before, any member with a valid certificate (a learner too) could have the leader force
    /// a voter out; now only a voter may ask, and force needs the leader's operator's consent.
    #[tokio::test]
    async fn membership_rpcs_need_a_voter_and_remote_force_needs_local_consent() {
        let net = InProcNetwork::new(11);
        let one = start(&net, 1).await;
        one.bootstrap().await.expect("bootstrap");
        let _two = start(&net, 2).await;
        one.add_learner(MemberId(2), "member-2")
            .await
            .expect("add 2");
        one.promote(MemberId(2), false).await.expect("promote 2");
        let three = start(&net, 3).await;
        one.add_learner(MemberId(3), "member-3")
            .await
            .expect("add 3");

        // Learner 3 asks the leader to force voter 2 out: refused, naming it.
        let e = ask(&one, 3, MembershipOp::Remove { id: 2, force: true })
            .await
            .expect_err("a learner may not");
        assert!(
            e.contains("NotAuthorized") && e.contains("member-3") && e.contains("voter"),
            "{e}"
        );
        let e = ask(
            &one,
            3,
            MembershipOp::Demote {
                id: 2,
                force: false,
            },
        )
        .await
        .expect_err("not even without force");
        assert!(e.contains("member-3"), "{e}");
        // A non-member (a certificate of the same CA, never added) neither.
        let e = ask(
            &one,
            9,
            MembershipOp::AddLearner {
                id: 9,
                addr: "x".into(),
            },
        )
        .await
        .expect_err("a stranger may not");
        assert!(e.contains("member-9"), "{e}");
        assert_eq!(one.status().voters(), vec![MemberId(1), MemberId(2)]);
        // The learner's own store refuses at once, with the typed error.
        let e = three
            .remove(MemberId(2), true)
            .await
            .expect_err("learner operator");
        assert!(
            matches!(
                e,
                StoreError::NotAuthorized {
                    peer: MemberId(3),
                    ..
                }
            ),
            "{e}"
        );

        // Voter 2 may change the membership, but not by force unless the leader allows it.
        let e = ask(&one, 2, MembershipOp::Promote { id: 3, force: true })
            .await
            .expect_err("remote force");
        assert!(e.contains("member-2") && e.contains("forced"), "{e}");
        assert_eq!(one.status().learners(), vec![MemberId(3)]);
        one.allow_forced_membership_from_peers(true);
        ask(&one, 2, MembershipOp::Promote { id: 3, force: true })
            .await
            .expect("allowed by the leader's operator");
        assert_eq!(
            one.status().voters(),
            vec![MemberId(1), MemberId(2), MemberId(3)]
        );
    }

    /// One of every [`StoreError`] variant, with the class [`attempt_failure`] must give it.
    fn every_error() -> Vec<(StoreError, AttemptFailure)> {
        use AttemptFailure::{Answered, Refused, Unknown};
        let peer = MemberId(2);
        vec![
            (StoreError::NotLeader { leader: Some(peer) }, Refused),
            (StoreError::NoLeader, Refused),
            (
                StoreError::Conflict {
                    collection: "c".into(),
                    key: "k".into(),
                    expected: 1,
                    actual: Some(2),
                },
                Answered,
            ),
            (
                StoreError::NotFound {
                    collection: "c".into(),
                    key: "k".into(),
                },
                Answered,
            ),
            (
                StoreError::AlreadyExists {
                    collection: "c".into(),
                    key: "k".into(),
                    version: 1,
                },
                Answered,
            ),
            (
                StoreError::Compacted {
                    requested: 1,
                    compacted: 2,
                },
                Unknown,
            ),
            (
                StoreError::Invalid {
                    field: "txn",
                    detail: "x".into(),
                },
                Refused,
            ),
            (
                StoreError::Codec {
                    action: "decode",
                    collection: "c".into(),
                    key: "k".into(),
                    detail: "x".into(),
                },
                Unknown,
            ),
            (
                StoreError::QuorumRisk {
                    reachable: 1,
                    quorum: 2,
                },
                Refused,
            ),
            (
                StoreError::NotAuthorized {
                    peer,
                    reason: "x".into(),
                },
                Refused,
            ),
            (StoreError::Membership("x".into()), Refused),
            (StoreError::Indeterminate("x".into()), Unknown),
            (StoreError::Timeout { timeout_ms: 1 }, Unknown),
            (
                StoreError::Transport(TransportError::Timeout(peer)),
                Unknown,
            ),
            (
                StoreError::Transport(TransportError::Unreachable {
                    peer,
                    detail: "x".into(),
                }),
                Unknown,
            ),
            (
                StoreError::Transport(TransportError::Remote {
                    peer,
                    detail: "x".into(),
                }),
                Unknown,
            ),
            (
                StoreError::Transport(TransportError::Protocol {
                    peer,
                    detail: "x".into(),
                }),
                Unknown,
            ),
            (
                StoreError::Transport(TransportError::FrameTooLarge {
                    peer,
                    bytes: 2,
                    limit: 1,
                }),
                Unknown,
            ),
            (
                StoreError::Transport(TransportError::Auth {
                    peer,
                    detail: "x".into(),
                }),
                Unknown,
            ),
            (
                StoreError::Transport(TransportError::UnknownPeer(peer)),
                Unknown,
            ),
            (StoreError::Transport(TransportError::Shutdown), Unknown),
            (StoreError::raft_stopped("x"), Unknown),
            (
                StoreError::Protocol {
                    peer,
                    detail: "x".into(),
                },
                Unknown,
            ),
            (StoreError::Shutdown, Unknown),
        ]
    }

    /// Before, a write that had left this member came back as `Indeterminate` only when its
    /// last error was retryable or `Protocol`: a leader's fatal error (`Transport(Remote)`), a
    /// broken connection's `Transport(Protocol | Shutdown | FrameTooLarge)` and `Storage` passed
    /// through, documented as "nothing was applied". Now only the state machine's answer stays
    /// definite once an attempt's outcome is unknown.
    #[test]
    fn after_an_unknown_attempt_only_the_state_machines_answer_is_definite() {
        let what = "request 1";
        for (e, class) in every_error() {
            assert_eq!(attempt_failure(&e), class, "{e}");
            let shown = e.to_string();
            // Nothing may have been proposed: the error is returned unchanged.
            let settled = settle(e, false, &what);
            assert_eq!(settled.to_string(), shown);
            let (e, _) = every_error()
                .into_iter()
                .find(|(e, _)| e.to_string() == shown)
                .expect("the same list");
            let settled = settle(e, true, &what);
            if class == AttemptFailure::Answered {
                assert_eq!(settled.to_string(), shown);
            } else {
                assert!(settled.is_indeterminate(), "{shown} -> {settled}");
                assert!(settled.to_string().contains(&shown), "{settled}");
            }
        }
        // An attempt that failed with an unknown outcome makes the operation unsettled; a
        // refusal or an answer does not.
        for (e, class) in every_error() {
            let mut unsettled = false;
            let _ = note(&mut unsettled, e);
            assert_eq!(unsettled, class == AttemptFailure::Unknown);
        }
    }

    /// The scenario of the review: the leader appended the entry, then went fatal. Its answer
    /// must reach the forwarding member's caller as `Indeterminate`, not `Transport(Remote)`.
    #[test]
    fn a_leader_that_fails_after_proposing_answers_indeterminate() {
        let fatal = write_error(RaftError::Fatal(openraft::errors::Fatal::Stopped));
        let e = from_wire(MemberId(2), fatal);
        assert!(e.is_indeterminate(), "{e}");
        let mut unsettled = false;
        let e = note(&mut unsettled, e);
        assert!(unsettled);
        assert!(settle(e, unsettled, &"request 1").is_indeterminate());

        // The wire form of a membership operation's failure after it was submitted.
        let e = from_wire(MemberId(2), to_wire(StoreError::raft_stopped("disk gone")));
        assert!(e.is_indeterminate(), "{e}");
        // A refusal before proposing keeps its kind across the wire.
        let e = from_wire(
            MemberId(2),
            to_wire(StoreError::Invalid {
                field: "txn",
                detail: "empty".into(),
            }),
        );
        assert!(matches!(e, StoreError::Invalid { .. }), "{e}");
        let e = from_wire(MemberId(2), to_wire(StoreError::Membership("x".into())));
        assert!(matches!(e, StoreError::Membership(_)), "{e}");
    }

    /// A forwarded transaction the leader refuses as invalid is refused before proposing, as
    /// `Invalid` (before: `Fatal`, read as a transport failure); a write handed to a leader
    /// whose Raft stopped is `Indeterminate` (before: `Fatal`).
    #[tokio::test]
    async fn the_leader_says_whether_it_proposed_a_forwarded_write() {
        let net = InProcNetwork::new(13);
        let one = start(&net, 1).await;
        one.bootstrap().await.expect("bootstrap");
        let empty = TxnRequest {
            id: one.node.next_request_id(),
            ops: Vec::new(),
        };
        match one.node.handle(MemberId(2), RpcRequest::Write(empty)).await {
            Ok(RpcResponse::Write(Err(WireError::Invalid(detail)))) => {
                assert!(detail.contains("refused"), "{detail}");
            }
            Ok(RpcResponse::Write(other)) => panic!("expected Invalid, got {other:?}"),
            Ok(_) => panic!("another response"),
            Err(e) => panic!("handler failed: {e}"),
        }
        let txn = crate::Txn::new()
            .put_named("c", "k", "v", Precondition::Any)
            .into_request(one.node.next_request_id())
            .expect("valid");
        one.node
            .proposer
            .propose(txn.clone())
            .await
            .expect("applied");
        one.node.raft.shutdown().await.expect("shutdown");
        let txn = crate::Txn::new()
            .put_named("c", "k2", "v", Precondition::Any)
            .into_request(one.node.next_request_id())
            .expect("valid");
        let e = one
            .node
            .proposer
            .propose(txn)
            .await
            .expect_err("raft stopped");
        assert!(matches!(e, WireError::Indeterminate(_)), "{e:?}");
    }
}
