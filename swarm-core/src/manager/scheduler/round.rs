//! What one scheduling round decided.

use crate::manager::scheduler::SchedulerProblem;
use crate::manager::writes::ManagerWrite;

/// The result of [`Scheduler::schedule`](crate::manager::scheduler::Scheduler::schedule).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SchedulingRound {
    /// One `ManagerWrite::Task(ObjectWrite::Update)` per task assigned or per pending task
    /// whose reason changed, each carrying the version read; at most one per task. Apply them
    /// in one transaction; on a version conflict, re-read and run a round again.
    pub writes: Vec<ManagerWrite>,
    /// Tasks moved to `assigned`.
    pub assigned: usize,
    /// Pending tasks left pending (their reason written only if it changed).
    pub unplaced: usize,
    /// Pending tasks not considered, past
    /// [`MAX_TASKS_PER_ROUND`](crate::manager::scheduler::MAX_TASKS_PER_ROUND): run a round
    /// again soon.
    pub deferred: usize,
    /// Objects left out of scheduling, in node, service, task order.
    pub problems: Vec<SchedulerProblem>,
}
