//! Changes to the engine's view of the cluster.

use crate::ids::{NodeId, ServiceId, TaskId};
use crate::node::NodeSpec;
use crate::task::PlacedTask;

/// A change to the engine's view of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Delta {
    /// A node joined. Error if the ID is already known.
    NodeAdded(NodeSpec),
    /// A node changed (availability, readiness, labels, capacity...). Tasks on it keep their
    /// reservations; capacity may drop below what is reserved (then nothing new fits).
    NodeUpdated(NodeSpec),
    /// A node left; the tasks the engine accounted on it are forgotten.
    NodeRemoved(NodeId),
    /// A task runs (or is assigned) on a node: charge its reservation.
    TaskPlaced(PlacedTask),
    /// A task stopped: release its reservation. With `failed_at_ms`, the failure counts
    /// against its node for its service and spec version for [`EngineConfig::failure_window_ms`](crate::EngineConfig::failure_window_ms).
    /// Unknown task IDs are ignored, so the delta is idempotent.
    TaskFinished {
        /// The task.
        task: TaskId,
        /// When it failed, if it failed (caller's clock, milliseconds).
        failed_at_ms: Option<u64>,
    },
    /// A task was deleted: release its reservation if still held. Idempotent.
    TaskRemoved(TaskId),
    /// A service was deleted: release every task of it still accounted, forget its failure
    /// records and free its slot, so services coming and going do not grow the engine.
    /// Idempotent.
    ServiceRemoved(ServiceId),
}
