//! How far an update has come, read from its tasks alone: which slots have a new task still
//! starting (or waiting out the delay after it), which new tasks failed inside the monitor
//! window, and when the last one settled.

use crate::manager::cluster_state::ClusterState;
use crate::manager::orchestrator::slots::{SlotKey, is_live};
use crate::manager::orchestrator::task_dirtiness::is_task_dirty;
use crate::model::{Service, Task, TaskState, UpdateConfig};
use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

/// The update's tasks and what they say.
#[derive(Default)]
pub(crate) struct UpdateProgress<'a> {
    /// Slots holding a task of the update.
    pub(crate) slots: BTreeSet<SlotKey>,
    /// Slots where a task of the update has not settled yet, or settled less than the
    /// delay ago: each holds one of the `parallelism` places.
    pub(crate) busy: BTreeSet<SlotKey>,
    /// Whether some task of the update has not settled yet.
    pub(crate) unsettled: bool,
    /// When the last task of the update settled.
    pub(crate) last_settled: Option<SystemTime>,
    /// When the earliest delay running now ends.
    pub(crate) delay_ends: Option<SystemTime>,
    /// The first task of the update to fail inside the monitor window in each slot where
    /// one did.
    pub(crate) failed: BTreeMap<SlotKey, &'a Task>,
}

impl<'a> UpdateProgress<'a> {
    /// The progress of the update of `service` that started at `started_at`, under
    /// `config`, at `now`. The update's tasks are those it created (their
    /// [`update_started_at`](crate::model::Task::update_started_at) is `started_at`) matching
    /// the current spec, as SwarmKit's updater counts only the tasks it created (it keeps
    /// them in memory). A replacement another step made meanwhile (a restart of one of them,
    /// a task for a failed node, a new slot of a scale-up) is not watched: a service whose
    /// tasks keep restarting would otherwise always have one starting or just started, and
    /// the update would never end.
    pub(crate) fn read(
        state: &ClusterState,
        service: &Service,
        groups: &BTreeMap<SlotKey, Vec<&'a Task>>,
        started_at: SystemTime,
        config: &UpdateConfig,
        now: SystemTime,
    ) -> UpdateProgress<'a> {
        let mut progress = UpdateProgress::default();
        for (key, tasks) in groups {
            for task in tasks {
                if task.update_started_at != Some(started_at) {
                    continue;
                }
                let node = task.node_id.as_ref().and_then(|n| state.node(n));
                if is_task_dirty(service, task, node) {
                    continue;
                }
                progress.slots.insert(key.clone());
                progress.note(key, task, config, now);
            }
        }
        progress
    }

    fn note(&mut self, key: &SlotKey, task: &'a Task, config: &UpdateConfig, now: SystemTime) {
        let Some(settled) = settled_at(task) else {
            self.unsettled = true;
            self.busy.insert(key.clone());
            return;
        };
        self.last_settled = Some(self.last_settled.map_or(settled, |t| t.max(settled)));
        if let Some(free) = settled.checked_add(config.delay)
            && free > now
        {
            self.busy.insert(key.clone());
            self.delay_ends = Some(self.delay_ends.map_or(free, |t| t.min(free)));
        }
        if failed_in_monitor(task, config) {
            let first = self.failed.entry(key.clone()).or_insert(task);
            if failure_order(task) < failure_order(first) {
                *first = task;
            }
        }
    }

    /// The failure that took the failed slots above `max_failure_ratio` of `touched`
    /// slots, counting failures in the order they happened; `None` while within it.
    pub(crate) fn tipping_failure(
        &self,
        max_failure_ratio: f64,
        touched: usize,
    ) -> Option<&'a Task> {
        if touched == 0 {
            return None;
        }
        let mut failures: Vec<&'a Task> = self.failed.values().copied().collect();
        failures.sort_by_key(|t| failure_order(t));
        failures.into_iter().enumerate().find_map(|(i, task)| {
            #[allow(clippy::cast_precision_loss)]
            let ratio = (i + 1) as f64 / touched as f64;
            (ratio > max_failure_ratio).then_some(task)
        })
    }
}

/// The order failures happened in: by status time, then task id.
fn failure_order(task: &Task) -> (SystemTime, &str) {
    (task.status.timestamp, task.id.as_str())
}

/// When a new task settled, as SwarmKit's update worker sees it: once it was running, or
/// once it ended without running, or (no agent will report it) when it was taken out of its
/// slot before either; `None` while it is still on its way.
pub(crate) fn settled_at(task: &Task) -> Option<SystemTime> {
    if let Some(at) = task.running_since {
        return Some(at);
    }
    if task.status.state.is_terminal() {
        return Some(task.status.timestamp);
    }
    if !is_live(task) {
        return Some(task.meta.updated_at);
    }
    None
}

/// Whether `task` ended early: it failed, was rejected, completed or was orphaned (not
/// shut down on request) before it ran, or at most `monitor` after it started.
pub(crate) fn failed_in_monitor(task: &Task, config: &UpdateConfig) -> bool {
    let state = task.status.state;
    if !state.is_terminal() || (state == TaskState::Shutdown && !is_live(task)) {
        return false;
    }
    match task.running_since {
        None => true,
        Some(since) => task
            .status
            .timestamp
            .duration_since(since)
            .is_ok_and(|ran| ran <= config.monitor),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TaskStatus;
    use std::time::Duration;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn task(states: &[(TaskState, u64)]) -> Task {
        let mut t = Task::new("t".into(), "s".into(), Default::default(), at(0));
        for (state, secs) in states {
            t.update_status(TaskStatus::new(*state, at(*secs), ""))
                .unwrap();
        }
        t
    }

    #[test]
    fn a_failure_counts_inside_the_monitor_window_only() {
        let config = UpdateConfig {
            monitor: Duration::from_secs(5),
            ..UpdateConfig::default()
        };
        let early = task(&[(TaskState::Running, 10), (TaskState::Failed, 15)]);
        assert!(failed_in_monitor(&early, &config));
        let late = task(&[(TaskState::Running, 10), (TaskState::Failed, 16)]);
        assert!(!failed_in_monitor(&late, &config));
        let never_ran = task(&[(TaskState::Rejected, 30)]);
        assert!(failed_in_monitor(&never_ran, &config));
        assert_eq!(settled_at(&never_ran), Some(at(30)));
        let exited = task(&[(TaskState::Running, 10), (TaskState::Complete, 12)]);
        assert!(failed_in_monitor(&exited, &config), "an early exit counts");
        let mut stopped = task(&[(TaskState::Running, 10), (TaskState::Shutdown, 12)]);
        assert!(
            failed_in_monitor(&stopped, &config),
            "stopped while desired running"
        );
        stopped.desired_state = TaskState::Shutdown;
        assert!(!failed_in_monitor(&stopped, &config), "stopped on request");
        assert_eq!(settled_at(&stopped), Some(at(10)));
        let running = task(&[(TaskState::Running, 10)]);
        assert!(!failed_in_monitor(&running, &config));
        assert_eq!(settled_at(&running), Some(at(10)));
        assert_eq!(settled_at(&task(&[(TaskState::Pending, 3)])), None);
    }
}
