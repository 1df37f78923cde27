//! Why a node does not suit a task's placement.

use swarm_sched::{Constraint, ConstraintError};

/// Why [`PlacementFilter::check`](super::PlacementFilter::check) refused a node.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlacementMisfit {
    /// A constraint does not hold on the node.
    #[error("node does not meet constraint {0}")]
    Constraint(Constraint),
    /// The node's platform is none of the task's platforms.
    #[error("node platform {os}/{architecture} is not among the task's platforms")]
    Platform {
        /// The node's operating system.
        os: String,
        /// The node's architecture.
        architecture: String,
    },
    /// A constraint does not parse, so no node meets it (validation refuses such specs;
    /// this covers records written by other tools).
    #[error(transparent)]
    InvalidConstraint(ConstraintError),
}
