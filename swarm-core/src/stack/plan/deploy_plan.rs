//! What deploying a stack changes, computed without touching the cluster.

use crate::stack::plan::missing_external::MissingExternal;
use crate::stack::plan::plan_conflict::PlanConflict;
use crate::stack::plan::planned_creates::PlannedCreates;
use crate::stack::plan::service_removal::ServiceRemoval;
use crate::stack::plan::service_update::ServiceUpdate;

/// The changes a `stack deploy` makes, as [`plan_deploy`](crate::stack::plan_deploy) computes
/// them: apply `create` (networks, secrets, configs, then services), then `update`, then
/// `remove`, and only when [`is_deployable`](Self::is_deployable).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeployPlan {
    /// Objects to create.
    pub create: PlannedCreates,
    /// Stack services whose spec changed, sorted by name.
    pub update: Vec<ServiceUpdate>,
    /// Stack services whose spec is unchanged (left alone), sorted.
    pub unchanged: Vec<String>,
    /// Stack services no longer in the files (only with `prune`), sorted by name.
    pub remove: Vec<ServiceRemoval>,
    /// External objects the stack uses that do not exist.
    pub missing_external: Vec<MissingExternal>,
    /// Objects that clash with the cluster's.
    pub conflicts: Vec<PlanConflict>,
}

impl DeployPlan {
    /// Whether the plan can be applied: nothing missing, nothing clashing.
    pub fn is_deployable(&self) -> bool {
        self.missing_external.is_empty() && self.conflicts.is_empty()
    }
}
