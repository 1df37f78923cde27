//! The scheduler step: tasks waiting in `pending` get a node.
//!
//! [`Scheduler::schedule`] reads a [`ClusterState`](crate::manager::cluster_state::ClusterState)
//! and returns a [`SchedulingRound`]: one task update per decision, as data.
//!
//! * A task in `pending` with desired state `running` or `complete` and no node is placed by
//!   swarm-sched's engine with the other pending tasks of its service and spec version (one
//!   `TaskGroup`): it gets `node_id`, `assigned_resources` (its reservations and the named
//!   items claimed for it) and status `assigned` ("scheduler assigned task to node").
//! * A task whose node is preset (a global service's) is checked against that node alone,
//!   and moves to `assigned` if it fits there.
//! * A task that cannot be placed stays `pending` with `status.err` set to the engine's
//!   reason, rendered (`no suitable node (2 nodes lack 1 CPU; 3 nodes not available for new
//!   tasks)`). The reason is written only when it changes, so a task that stays unplaceable
//!   costs no write per round; it is placed in the first round after capacity appears.
//!
//! The engine is a cache of the cluster, kept between rounds and brought in line with the
//! state at the start of each one by deltas: nodes added, changed (compared by
//! `meta.version`) and removed; tasks that hold resources (on a node, in `assigned` up to
//! `running`) charged to their node; tasks that ended, went back or were deleted released.
//! A round over an unchanged state compares one version per node and per task and sends
//! nothing. The conversions are [`crate::mapping`]'s.
//!
//! # Same answer as a fresh scheduler
//!
//! The contract of the manager steps: a step that caches must decide exactly as a fresh one
//! would for the same state. The engine's view (nodes, reservations, task counts, claimed
//! items, ports in use) is a function of the state, whatever the history; what else could
//! differ is how swarm-sched breaks ties between equally ranked nodes:
//!
//! * in the order of its node slots. The scheduler gives nodes to the engine in the order of
//!   `(meta.created_at, id)`, and rebuilds the engine from the state when a node is removed or
//!   a new node sorts before one already held (both rare), so slot order is that order in a
//!   long-lived and in a fresh engine;
//! * without spread preferences, by the order in which nodes reached their task count, which
//!   depends on history. So every group the scheduler places has at least one spread level: a
//!   group without preferences gets a level over a node label with an empty key, which no node
//!   carries to the engine (the scheduler drops such a label, which no constraint or preference
//!   can name) and which so groups all nodes together: the ranking is the same, and ties fall to
//!   slot order.
//!
//! Recent task failures, which swarm-sched can use to rank a node last, are not reported to
//! the engine: a fresh scheduler could not know failures whose tasks were already deleted.
//!
//! # Bounds
//!
//! A round considers at most [`MAX_TASKS_PER_ROUND`] pending tasks; the others wait for the
//! next round ([`SchedulingRound::deferred`]).

mod engine_mirror;
mod node_sync;
mod pending;
mod preset;
mod problem;
mod rebalance;
mod round;
mod schedule;
mod spec_cache;
mod task_sync;
mod task_updates;
mod unassigned;

#[cfg(test)]
mod tests;

pub use problem::SchedulerProblem;
pub use rebalance::REBALANCE_MESSAGE;
pub use round::SchedulingRound;
pub use schedule::Scheduler;

/// Most pending tasks one round considers: 100,000. Tasks with a preset node come first, then
/// the others, each in task id order; the rest are left for the next round.
///
/// Worst case for one round: 100,000 task updates in one transaction (each carries the whole
/// task); placement work of one group per service and spec version (O(nodes) to start a group,
/// O(log nodes) per task placed), plus, for tasks with a preset node, one check of every node
/// per service and spec version, and O(nodes) for each such task that needs the engine to pick
/// named resources or that shares its node with another task of its group.
pub const MAX_TASKS_PER_ROUND: usize = 100_000;

/// The status message of a task the scheduler assigned (SwarmKit's).
pub const ASSIGNED_MESSAGE: &str = "scheduler assigned task to node";
