//! Test-only access to a manager's store and state (feature `testkit`): until the
//! orchestrators write tasks, tests write them directly.

use crate::manager::cluster_state::ClusterState;
use crate::manager::writes::ManagerWrites;
use crate::node::error::NodeError;
use crate::node::node::Node;

impl Node {
    /// Applies `writes` through this manager's store in one transaction (test only: the
    /// steps' version checks apply, nothing else is checked). [`NodeError::NotAManager`] on a
    /// worker.
    #[doc(hidden)]
    pub async fn testkit_apply(&self, writes: &ManagerWrites) -> Result<(), NodeError> {
        let core = self.shared.core().ok_or(NodeError::NotAManager)?;
        core.apply(writes).await
    }

    /// A copy of this manager's view of the orchestration state (test only); `None` on a
    /// worker.
    #[doc(hidden)]
    pub fn testkit_state(&self) -> Option<ClusterState> {
        let core = self.shared.core()?;
        let state = core.cluster_state.read().clone();
        Some(state)
    }

    /// Runs `read` on this manager's view of the orchestration state under its read lock,
    /// without copying it (test and benchmark only: a view of 100,000 tasks is costly to
    /// clone; keep `read` short, the manager's loops wait for the lock meanwhile); `None` on
    /// a worker.
    #[doc(hidden)]
    pub fn testkit_read_state<R>(&self, read: impl FnOnce(&ClusterState) -> R) -> Option<R> {
        let core = self.shared.core()?;
        let state = core.cluster_state.read();
        Some(read(&state))
    }
}
