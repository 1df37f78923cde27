//! The fence that keeps a deposed leader's orchestration writes out of the store.
//!
//! A manager's store member forwards writes to whichever member leads, so a manager that lost
//! the leadership without noticing yet (busy committing a large round) would still land its
//! round's writes through the new leader. Updates and deletes carry version checks and fail,
//! but a create of a new task has nothing to check: the new leader, which planned on the
//! state it re-read, creates its own task for the same slot, and the slot holds two.
//!
//! So a manager that starts leading first takes the fence (one write that raises the version
//! of one document, [`LEADERSHIP`]/[`ORCHESTRATION_FENCE_KEY`]), then re-reads the state, and
//! every transaction of its rounds checks that the fence is still at the version it took.
//! Writes of an earlier holder applied before the fence moved are in the re-read state; any
//! that arrive after fail their check and change nothing. (SwarmKit relies on the leader's
//! store refusing proposals once it lost the leadership; here the writes of every manager
//! go through the store's forwarding, so the check is in the data.)

use serde::{Deserialize, Serialize};

/// The collection of the fence document.
pub const LEADERSHIP: &str = "leadership";
/// The key of the fence document in [`LEADERSHIP`].
pub const ORCHESTRATION_FENCE_KEY: &str = "orchestration";

/// The fence document: who took it last (for an operator reading the store).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrchestrationFenceDoc {
    /// The Raft id of the manager that took the fence.
    pub manager_raft_id: u64,
}

/// The fence as one manager took it: its writes apply only while the fence document is still
/// at this version ([`ManagerStore::take_orchestration_fence`](super::ManagerStore::take_orchestration_fence)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrchestrationFence {
    /// The fence document's version when it was taken.
    pub version: u64,
}
