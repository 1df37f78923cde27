//! What the leader last sent a node: the tasks of its assignment set, by assignment version.
//!
//! An agent's set changes a few tasks at a time (a round places ten tasks on each of a
//! thousand nodes; an update replaces one slot), but a whole set is every task of the node.
//! Sending the whole set at every change costs the leader and the agent time in proportion to
//! the tasks already there (SwarmKit's dispatcher sends changes only, `AssignmentsMessage`
//! of type `INCREMENTAL`, after one `COMPLETE` set). A [`SentTasks`] is what the leader
//! keeps to do the same: when an agent says it knows the generation the leader last sent
//! it, the next answer carries only the tasks new or changed since, and the ids that left.

use crate::model::{TaskId, Version};
use std::collections::BTreeMap;

/// The tasks of a set the leader sent, with the generation it sent them under.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SentTasks {
    /// The set's generation.
    pub generation: u64,
    /// Each task's assignment version
    /// ([`ClusterState::assignment_version`](crate::manager::cluster_state::ClusterState::assignment_version)).
    pub tasks: BTreeMap<TaskId, Version>,
}
