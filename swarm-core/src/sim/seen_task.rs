//! One task as the run saw it over its observations.

use crate::model::{Task, TaskState};
use std::time::SystemTime;

/// A task's latest record seen in a leader's state, with what no single record says: the
/// furthest desired state any leader gave it and when the run first saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenTask {
    /// The record with the highest store version seen (a stale leader's older copy never
    /// replaces a newer one).
    pub task: Task,
    /// The furthest desired state seen (desired states only move forward).
    pub desired_max: TaskState,
    /// The virtual wall-clock time of the observation that first saw it.
    pub first_seen: SystemTime,
    /// Whether an observation saw it ordered to stop (desired shutdown or remove) while it
    /// had not ended: whatever ended it then, it did not end by itself.
    pub stopped_before_end: bool,
    /// Whether the last leader's state observed no longer held it: the managers deleted the
    /// record (or that leader's copy lags; the next state that holds it clears this).
    pub absent: bool,
}

impl SeenTask {
    /// A task seen for the first time at `now`.
    pub(crate) fn new(task: &Task, now: SystemTime) -> SeenTask {
        SeenTask {
            task: task.clone(),
            desired_max: task.desired_state,
            first_seen: now,
            stopped_before_end: stopped_before_end(task),
            absent: false,
        }
    }

    /// Takes a newer record of the task.
    pub(crate) fn update(&mut self, task: &Task) {
        self.absent = false;
        self.desired_max = self.desired_max.max(task.desired_state);
        self.stopped_before_end |= stopped_before_end(task);
        if task.meta.version > self.task.meta.version {
            self.task = task.clone();
        }
    }

    /// Whether a manager asked the task to stop (shut down or removed): from then on it
    /// may still run for a while where the agent has not heard yet.
    pub fn ordered_to_stop(&self) -> bool {
        self.desired_max >= TaskState::Shutdown
    }
}

/// Whether `task` is ordered to stop and has not ended.
fn stopped_before_end(task: &Task) -> bool {
    task.desired_state >= TaskState::Shutdown && !task.status.state.is_terminal()
}
