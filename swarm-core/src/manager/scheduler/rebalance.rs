//! Optional rebalancing (SwarmKit has none): tasks moved back to an even spread after a node
//! joins or recovers, a bounded number at a time.

use crate::manager::cluster_state::ClusterState;
use crate::manager::orchestrator::set_desired_for_move;
use crate::manager::scheduler::schedule::Scheduler;
use crate::manager::scheduler::spec_cache::SpecCache;
use crate::manager::writes::ManagerWrite;
use crate::model::{ServiceMode, TaskId, TaskState};
use std::time::SystemTime;

/// The message a task moved by rebalancing carries.
pub const REBALANCE_MESSAGE: &str = "moved to restore the spread of its service";

impl Scheduler {
    /// Plans at most `max_moves` moves with swarm-sched's rebalance planner
    /// ([`swarm_sched::Engine::plan_rebalance`]) over the engine as of the last
    /// [`Scheduler::schedule`] round, and returns them as writes: each moved task gets desired
    /// state `shutdown` (with [`REBALANCE_MESSAGE`]), and the replicated orchestrator
    /// replaces it in the same slot; the scheduler then places the replacement where the
    /// spread is lowest, which is where the planner found room.
    ///
    /// Only replicated services whose tasks all run at their current spec version are
    /// considered (a service being scaled, updated or restarted is left alone), in service id
    /// order, so the plan is a function of the state.
    pub fn plan_rebalance(
        &self,
        state: &ClusterState,
        now: SystemTime,
        max_moves: usize,
    ) -> Vec<ManagerWrite> {
        let mut writes = Vec::new();
        let mut specs = SpecCache::default();
        for service in state.services().values() {
            let left = max_moves.saturating_sub(writes.len());
            if left == 0 {
                break;
            }
            if !matches!(service.spec.mode, ServiceMode::Replicated { .. }) {
                continue;
            }
            let live: Vec<_> = state
                .tasks_of_service(&service.id)
                .filter(|t| t.desired_state <= TaskState::Running)
                .collect();
            let settled = !live.is_empty()
                && live.iter().all(|t| {
                    t.status.state == TaskState::Running && t.spec_version == service.spec_version.0
                });
            if !settled {
                continue;
            }
            let Ok(spec) = specs.get(live[0], &self.mirror, true) else {
                continue;
            };
            let Ok(moves) = self
                .mirror
                .engine
                .plan_rebalance(&(&service.id).into(), &spec, left)
            else {
                continue;
            };
            for m in moves {
                let id = TaskId::from(&m.task);
                if let Some(write) = state
                    .task(&id)
                    .and_then(|task| set_desired_for_move(task, now, REBALANCE_MESSAGE))
                {
                    writes.push(write);
                }
            }
        }
        writes
    }
}
