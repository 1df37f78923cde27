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
}
