//! One running member: the Raft handle, the state machine's data, the proposer, and the logic
//! that routes client requests to the leader.
//!
//! The member's jobs, one file each: [`routing`] (finding the leader and re-routing),
//! [`writes`] and [`reads`] (the client paths through it), [`membership_change`] (membership
//! operations carried out on the leader), [`status`], [`snapshot_chunks`] (receiving chunked
//! snapshots, with the sans-IO [`snapshot_inbox`]), [`rpc_dispatch`] (serving other members'
//! requests), [`sender_check`] (who may send what), [`attempt_failure`] (what a failed attempt
//! says about its outcome) and [`error_mapping`] (between [`StoreError`] and the wire's errors).

use crate::config::StoreConfig;
use crate::error::StoreError;
use crate::proposer::Proposer;
use crate::raft::entry_cache::EntryCache;
use crate::raft::handle::Raft;
use crate::raft::network::DynTransport;
use crate::raft::peer_errors::PeerErrors;
use crate::request_ids::RequestIds;
#[cfg(test)]
use crate::state::command::RequestId;
use crate::state::shared::SharedState;
use openraft::async_runtime::WatchReceiver;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

mod attempt_failure;
mod error_mapping;
mod membership_change;
mod reads;
mod routing;
mod rpc_dispatch;
mod sender_check;
mod snapshot_chunks;
mod snapshot_inbox;
mod status;
#[cfg(test)]
mod test_support;
mod writes;

pub(crate) use snapshot_chunks::SNAPSHOT_CHUNK_TIMEOUT_MIN_MS;

use snapshot_chunks::{snapshot_idle_timeout, sweep_idle_transfers};
use snapshot_inbox::SnapshotInbox;

/// One running member: the Raft handle, the state machine's data, the proposer, and what
/// serving requests from clients and other members needs.
pub(crate) struct Member {
    pub(crate) id: u64,
    pub(crate) config: StoreConfig,
    pub(crate) raft: Raft,
    pub(crate) shared: Arc<SharedState>,
    pub(crate) transport: Arc<dyn DynTransport>,
    pub(crate) proposer: Proposer,
    /// The last failure of a call to each peer (cleared by a success).
    pub(crate) peer_errors: Arc<PeerErrors>,
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
    /// The log adapter's cache, which keeps the bytes of entries received from a leader for
    /// their append.
    entry_cache: Arc<Mutex<EntryCache>>,
}

impl Member {
    pub(crate) fn new(
        config: StoreConfig,
        raft: Raft,
        shared: Arc<SharedState>,
        transport: Arc<dyn DynTransport>,
        proposer: Proposer,
        peer_errors: Arc<PeerErrors>,
        entry_cache: Arc<Mutex<EntryCache>>,
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
        Member {
            id: config.member.0,
            config,
            raft,
            shared,
            transport,
            proposer,
            peer_errors,
            inbox,
            inbox_wake,
            inbox_sweeper,
            request_ids: match seed {
                Some(seed) => RequestIds::seeded(config_member, seed),
                None => RequestIds::new(config_member),
            },
            allow_remote_force: AtomicBool::new(false),
            entry_cache,
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

    /// Why this member can serve nothing any more, if it stopped: [`StoreError::Shutdown`]
    /// after [`Store::shutdown`](crate::Store::shutdown) (or once its state machine is gone),
    /// [`StoreError::Storage`] when the Raft core failed. An operation that finds its member
    /// stopped before anything of it left the member returns this error.
    pub(crate) fn stopped(&self) -> Option<StoreError> {
        let metrics = self.raft.metrics();
        let running = metrics.borrow_watched().running_state.clone();
        match running {
            Ok(()) if self.shared.is_closed() => Some(StoreError::Shutdown),
            Ok(()) => None,
            Err(openraft::errors::Fatal::Stopped) => Some(StoreError::Shutdown),
            Err(fatal) => Some(StoreError::raft_stopped(fatal)),
        }
    }

    /// The leader this member knows of.
    pub(crate) fn current_leader(&self) -> Option<u64> {
        self.raft.metrics().borrow_watched().current_leader
    }

    /// The id for the next client transaction of this store instance (tests).
    #[cfg(test)]
    pub(crate) fn next_request_id(&self) -> RequestId {
        self.request_ids.next()
    }

    /// This store instance's request ids (take one only for a transaction that passed
    /// validation: [`Txn::into_new_request`](crate::Txn)).
    pub(crate) fn request_ids(&self) -> &RequestIds {
        &self.request_ids
    }

    /// Whether forced membership operations forwarded by other voters are carried out here
    /// (when this member leads). Off unless the local operator turns it on.
    pub(crate) fn allow_forced_membership_from_peers(&self, allow: bool) {
        self.allow_remote_force.store(allow, Ordering::Relaxed);
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.inbox_sweeper.abort();
    }
}
