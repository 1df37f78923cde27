//! The scheduler step.

use crate::manager::cluster_state::ClusterState;
use crate::manager::scheduler::engine_mirror::EngineMirror;
use crate::manager::scheduler::pending::PendingTasks;
use crate::manager::scheduler::preset::place_preset;
use crate::manager::scheduler::spec_cache::SpecCache;
use crate::manager::scheduler::task_updates::TaskUpdates;
use crate::manager::scheduler::unassigned::place_unassigned;
use crate::manager::scheduler::{MAX_TASKS_PER_ROUND, SchedulingRound};
use std::time::SystemTime;
use swarm_sched::{Engine, EngineConfig};

/// The scheduler step: places pending tasks with swarm-sched's engine, which it keeps
/// between rounds as a cache of the cluster (see the [module docs](crate::manager::scheduler)).
///
/// Deterministic: a long-lived scheduler and a fresh one return the same round for the same
/// state and time.
///
/// ```
/// use std::time::SystemTime;
/// use swarm_core::manager::cluster_state::ClusterState;
/// use swarm_core::manager::scheduler::Scheduler;
/// use swarm_core::model::{
///     Node, NodeDescription, NodeState, Task, TaskSpec, TaskState, TaskStatus,
/// };
///
/// let now = SystemTime::UNIX_EPOCH;
/// let mut state = ClusterState::new();
/// let mut node = Node { id: "n1".into(), description: Some(NodeDescription::default()), ..Node::default() };
/// node.status.state = NodeState::Ready;
/// state.put_node(node);
/// let mut task = Task::new("t1".into(), "web".into(), TaskSpec::default(), now);
/// task.status = TaskStatus::new(TaskState::Pending, now, "pending task scheduling");
/// state.put_task(task);
///
/// let mut scheduler = Scheduler::new();
/// let round = scheduler.schedule(&state, now);
/// assert_eq!(round.assigned, 1);
/// state.apply(&round.writes)?;
/// let task = state.task(&"t1".into()).unwrap();
/// assert_eq!(task.status.state, TaskState::Assigned);
/// assert_eq!(task.node_id.as_ref().map(|n| n.as_str()), Some("n1"));
/// // Nothing left to do: no writes.
/// assert!(scheduler.schedule(&state, now).writes.is_empty());
/// # Ok::<(), swarm_core::manager::cluster_state::StateConflict>(())
/// ```
#[derive(Debug)]
pub struct Scheduler {
    pub(super) mirror: EngineMirror,
}

impl Default for Scheduler {
    fn default() -> Self {
        Scheduler::new()
    }
}

impl Scheduler {
    /// A scheduler with swarm-sched's default configuration (SwarmKit's spread).
    pub fn new() -> Scheduler {
        Scheduler::with_config(EngineConfig::default())
    }

    /// A scheduler whose engine uses `config` (e.g. `Strategy::Binpack`).
    pub fn with_config(config: EngineConfig) -> Scheduler {
        Scheduler {
            mirror: EngineMirror::new(config),
        }
    }

    /// The engine as of the last round, for `explain` and `plan_rebalance`.
    pub fn engine(&self) -> &Engine {
        &self.mirror.engine
    }

    /// How many times the engine started over (a node removed, or added out of order).
    #[cfg(test)]
    pub(super) fn mirror_rebuilds(&self) -> u64 {
        self.mirror.rebuilds
    }

    /// One round: brings the engine in line with `state`, then places the pending tasks (those
    /// with a preset node first) and returns the task updates, stamped `now`.
    pub fn schedule(&mut self, state: &ClusterState, now: SystemTime) -> SchedulingRound {
        let mut problems = Vec::new();
        self.mirror.sync(state, now, &mut problems);
        let pending = PendingTasks::collect(state, MAX_TASKS_PER_ROUND);
        let mut specs = SpecCache::default();
        let mut updates = TaskUpdates::new(now);
        place_preset(
            &mut self.mirror,
            &mut specs,
            state,
            &pending.preset,
            &mut updates,
        );
        place_unassigned(
            &mut self.mirror,
            &mut specs,
            state,
            &pending.unassigned,
            &mut updates,
        );
        self.mirror.forget_gone_services(state);
        SchedulingRound {
            writes: updates.writes,
            assigned: updates.assigned,
            unplaced: updates.unplaced,
            deferred: pending.deferred,
            problems,
        }
    }
}
