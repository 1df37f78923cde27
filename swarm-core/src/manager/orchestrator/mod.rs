//! The orchestrators (SwarmKit's `manager/orchestrator/`), as pure reconcile steps: they read
//! a [`ClusterState`](crate::manager::cluster_state::ClusterState), take the time and a seeded
//! random source for task ids, and return the task writes that move the cluster towards what
//! its services declare.
//!
//! | step | what |
//! | --- | --- |
//! | [`orchestrate`] | every step below, in order, on one view: the loop's one entry point |
//! | [`remove_orphaned_tasks`] | tasks of a deleted service get desired state `remove` |
//! | [`handle_node_failures`] | tasks on a drained, down or deleted node are shut down (down: after the restart delay) |
//! | [`enforce_constraints`] | tasks whose node no longer meets their constraints or resources are rejected |
//! | [`supervise_restarts`] | ended tasks are shut down for replacement, per their restart policy and delay |
//! | [`reconcile_replicated`] | replicated services: one live task per slot, scale up and down |
//! | [`reconcile_global`] | global services: one live task per eligible node |
//! | [`reconcile_replicated_jobs`] | replicated jobs: run until `total_completions`, at most `max_concurrent` at once |
//! | [`reconcile_global_jobs`] | global jobs: one run to completion per eligible node and iteration |
//! | [`supervise_updates`] | rolling updates and rollbacks: dirty tasks ([`is_task_dirty`]) replaced slot by slot per the update config, `update_status` kept |
//! | [`reap_tasks`] | deletes removed tasks once they stopped, and history beyond the retention limit |
//! | [`PlacementFilter`] | a task's constraints and platforms checked against a node record (the scheduler's too) |
//!
//! # How the steps share the work
//!
//! Only the mode reconcilers and the update supervisor create tasks. The other steps decide
//! that a task stops (desired state `shutdown`, or `remove` when it is gone for good), and
//! the reconciler of the service's mode fills the slot (replicated modes) or the node (global
//! modes) that no longer has a live task, in the same round, preferring the slot that lost
//! its task, with the current spec. A *live* task is one whose desired state is at most
//! `running` (`complete` for jobs). The update supervisor alone replaces live tasks whose spec
//! is stale, and alone resolves a slot holding two live tasks (a start-first update's old and
//! new task): the reconcilers count such a slot once.
//!
//! # Rolling updates
//!
//! [`supervise_updates`] keeps no state of its own: the update's start time and phase are in
//! the service's `update_status`, the update's tasks are those of the current spec it created
//! (each carries the update's start, [`Task::update_started_at`]), each task records when it
//! first ran ([`Task::running_since`]), and the slot it belongs to is in the task. A new
//! leader therefore continues an update (its batches, delays, monitor windows and failure
//! count) where the previous one left it.
//!
//! [`Task::running_since`]: crate::model::Task::running_since
//! [`Task::update_started_at`]: crate::model::Task::update_started_at
//!
//! * A task that ended while live is left alone until its restart policy allows a
//!   replacement and its restart delay has passed (counted from its status timestamp); then
//!   it is shut down and replaced. Until then it keeps its slot, and [`orchestrate`] returns
//!   when to look again (`next_wake`). A task its policy does not restart (condition `none`,
//!   `on-failure` after a success, `max_attempts` used up) keeps its desired state and so
//!   keeps its slot: the slot stays done, as in SwarmKit.
//! * Restart attempts are counted from the tasks of the slot in the state (no hidden
//!   state): every task of the slot with the ended task's spec version, created no later
//!   than it ended and inside the restart window, except the slot's first such task. The
//!   reaper keeps `max_attempts + 1` tasks per slot so that the count stays exact.
//! * Scaling down and deleting a service set desired state `remove`: those tasks are deleted
//!   by the reaper once stopped, so a removed slot leaves no history behind.
//!
//! # Differences from SwarmKit
//!
//! * A rolling update knows its tasks by the mark they carry, not from memory (SwarmKit's
//!   updater keeps them in memory, and a new leader's starts over); as there, replacements
//!   made by the restart supervisor, for a failed node or by a scale-up are not the update's.
//!   The failure ratio is over the slots the update touched. A task's monitor window counts
//!   from the time its agent reported it running, not when the leader saw it.
//! * A stop-first update starts the new task once no other task of its slot holds a node,
//!   whichever task that is; a failure action `rollback` without a previous spec pauses the
//!   update (SwarmKit leaves it stuck in `updating`).
//! * Tasks do not carry the endpoint spec, so a change of published ports alone does not
//!   replace tasks (SwarmKit's `IsTaskDirty` compares it).
//! * A replacement is created once its restart delay has passed, rather than created at once
//!   and started after the delay; the old task keeps its slot meanwhile.
//! * Tasks on a drained or deleted node are replaced whatever their restart condition
//!   (SwarmKit routes them through the restart policy, so `none` leaves the slot empty).
//! * A job task whose restart the policy refuses counts as a settled (failed) slot; SwarmKit
//!   would start a fresh task in that slot.
//!
//! # Limits
//!
//! A round writes at most [`MAX_TASK_WRITES_PER_ROUND`] objects; the loop calls
//! [`orchestrate`] again while a round wrote something, so a 100,000-replica service is
//! created in ten rounds.

mod constraint_enforcer;
mod eligibility;
mod global;
mod global_job;
mod job_iteration;
mod new_task;
mod node_capacity;
mod node_failures;
mod node_fit;
mod orchestrate;
mod placement_misfit;
mod replicated;
mod replicated_job;
mod restart_rules;
mod restart_supervisor;
mod round;
mod service_removal;
mod slots;
mod spec_version;
mod task_dirtiness;
mod task_reaper;
mod task_writes;
mod update_messages;
mod update_outcome;
mod update_progress;
mod update_slots;
mod update_supervisor;

#[cfg(test)]
pub(crate) mod fixture;
#[cfg(test)]
mod scenario_tests;
#[cfg(test)]
mod update_scenario_tests;

pub use constraint_enforcer::{CONSTRAINT_REJECTED_MESSAGE, enforce_constraints};
pub use global::reconcile_global;
pub use global_job::reconcile_global_jobs;
pub use node_failures::handle_node_failures;
pub use node_fit::{PlacementFilter, constraint_holds};
pub use orchestrate::{orchestrate, orchestrate_in_view};
pub use placement_misfit::PlacementMisfit;
pub use replicated::reconcile_replicated;
pub use replicated_job::reconcile_replicated_jobs;
// The simulation's invariants apply the supervisor's own restart rule.
#[cfg(feature = "testkit")]
pub(crate) use restart_rules::restart_allowed;
pub use restart_supervisor::supervise_restarts;
pub use round::{MAX_TASK_WRITES_PER_ROUND, OrchestrationRound};
pub use service_removal::remove_orphaned_tasks;
#[cfg(feature = "testkit")]
pub(crate) use slots::{slot_key, tasks_by_slot};
pub(crate) use spec_version::next_spec_version;
pub use task_dirtiness::is_task_dirty;
pub use task_reaper::reap_tasks;
pub use task_writes::set_desired_for_move;
pub use update_messages::{
    MANUAL_ROLLBACK_MESSAGE, ROLLBACK_COMPLETED_MESSAGE, UPDATE_COMPLETED_MESSAGE,
    UPDATE_IN_PROGRESS_MESSAGE, no_previous_spec_message, rollback_paused_message,
    update_paused_message, update_rolled_back_message,
};
pub use update_supervisor::{OLD_TASK_TIMEOUT, supervise_updates};
