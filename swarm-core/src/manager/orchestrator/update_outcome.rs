//! How an update ends or stops: the service as the update supervisor writes it back.

use crate::manager::cluster_state::ClusterState;
use crate::manager::orchestrator::spec_version::next_spec_version;
use crate::manager::orchestrator::update_messages::{
    ROLLBACK_COMPLETED_MESSAGE, UPDATE_COMPLETED_MESSAGE, no_previous_spec_message,
    rollback_paused_message, update_paused_message, update_rolled_back_message,
};
use crate::manager::orchestrator::update_progress::UpdateProgress;
use crate::model::{FailureAction, Service, UpdateConfig, UpdateState, UpdateStatus};
use std::time::SystemTime;

/// What the update supervisor decides about a service's update as a whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum UpdateOutcome {
    /// Too many failures under failure action `pause` (or `rollback` during a rollback):
    /// `paused` or `rollback_paused`, with the message.
    Paused(String),
    /// Too many failures under failure action `rollback`: back to the previous spec.
    RolledBack(String),
    /// Every slot updated and watched: `completed`.
    Completed,
    /// Every slot rolled back and watched: `rollback_completed`.
    RollbackCompleted,
}

impl UpdateOutcome {
    /// `service` with this outcome applied (`meta` left to the caller).
    pub(crate) fn apply(
        &self,
        state: &ClusterState,
        service: &Service,
        now: SystemTime,
    ) -> Service {
        let mut changed = service.clone();
        let status = changed.update_status.get_or_insert_with(|| UpdateStatus {
            state: UpdateState::Updating,
            started_at: now,
            completed_at: None,
            message: String::new(),
        });
        match self {
            UpdateOutcome::Paused(message) => {
                status.state = if status.state == UpdateState::RollbackStarted {
                    UpdateState::RollbackPaused
                } else {
                    UpdateState::Paused
                };
                status.message.clone_from(message);
            }
            UpdateOutcome::RolledBack(message) => {
                status.state = UpdateState::RollbackStarted;
                status.message.clone_from(message);
                if let Some(previous) = changed.previous_spec.take() {
                    changed.spec = previous;
                    changed.spec_version = changed
                        .previous_spec_version
                        .take()
                        .unwrap_or_else(|| next_spec_version(state, service));
                }
            }
            UpdateOutcome::Completed => {
                status.state = UpdateState::Completed;
                status.message = UPDATE_COMPLETED_MESSAGE.to_owned();
                status.completed_at = Some(now);
            }
            UpdateOutcome::RollbackCompleted => {
                status.state = UpdateState::RollbackCompleted;
                status.message = ROLLBACK_COMPLETED_MESSAGE.to_owned();
                status.completed_at = Some(now);
            }
        }
        changed
    }
}

/// The failure action an update in `phase` (`updating` or `rollback_started`) takes, if its
/// failed slots exceed `max_failure_ratio` of the `touched` slots (those it replaced or
/// still has to); the message names the failure that went past the ratio. `continue` never
/// stops an update; `rollback` during a rollback, or without a previous spec, pauses it
/// (SwarmKit never rolls back a rollback).
pub(crate) fn failure_outcome(
    service: &Service,
    phase: UpdateState,
    config: &UpdateConfig,
    progress: &UpdateProgress<'_>,
    touched: usize,
) -> Option<UpdateOutcome> {
    if config.failure_action == FailureAction::Continue {
        return None;
    }
    let failed = progress.tipping_failure(config.max_failure_ratio, touched)?;
    let task = failed.id.as_str();
    Some(match config.failure_action {
        FailureAction::Rollback if phase == UpdateState::RollbackStarted => {
            UpdateOutcome::Paused(rollback_paused_message(task))
        }
        FailureAction::Rollback if service.previous_spec.is_none() => {
            UpdateOutcome::Paused(no_previous_spec_message(task))
        }
        FailureAction::Rollback => UpdateOutcome::RolledBack(update_rolled_back_message(task)),
        FailureAction::Pause | FailureAction::Continue => {
            UpdateOutcome::Paused(update_paused_message(task))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manager::orchestrator::slots::SlotKey;
    use crate::model::{ServiceSpec, Task, TaskState, TaskStatus, Version};
    use std::time::Duration;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn failed(id: &str, secs: u64) -> Task {
        let mut t = Task::new(id.into(), "s".into(), Default::default(), at(0));
        t.status = TaskStatus::new(TaskState::Failed, at(secs), "");
        t
    }

    fn service() -> Service {
        Service {
            id: "s".into(),
            spec: ServiceSpec::new("web", "v2"),
            spec_version: Version(2),
            previous_spec: Some(ServiceSpec::new("web", "v1")),
            previous_spec_version: Some(Version(1)),
            update_status: Some(UpdateStatus {
                state: UpdateState::Updating,
                started_at: at(1),
                completed_at: None,
                message: String::new(),
            }),
            ..Service::default()
        }
    }

    #[test]
    fn the_failure_past_the_ratio_decides_the_action() {
        let (a, b) = (failed("a", 20), failed("b", 10));
        let mut progress = UpdateProgress::default();
        progress.failed.insert(SlotKey::Replica(1), &a);
        progress.failed.insert(SlotKey::Replica(2), &b);
        let mut config = UpdateConfig {
            max_failure_ratio: 0.25,
            ..UpdateConfig::default()
        };
        let s = service();
        let updating = UpdateState::Updating;
        // 1/4 is within 0.25, 2/4 is not: the later failure ("a") tipped it.
        assert_eq!(
            failure_outcome(&s, updating, &config, &progress, 4),
            Some(UpdateOutcome::Paused(update_paused_message("a")))
        );
        // 1/2 of two slots: the first failure ("b") already did.
        config.failure_action = FailureAction::Rollback;
        assert_eq!(
            failure_outcome(&s, updating, &config, &progress, 2),
            Some(UpdateOutcome::RolledBack(update_rolled_back_message("b")))
        );
        assert_eq!(
            failure_outcome(&s, UpdateState::RollbackStarted, &config, &progress, 2),
            Some(UpdateOutcome::Paused(rollback_paused_message("b")))
        );
        let mut without_previous = service();
        without_previous.previous_spec = None;
        assert_eq!(
            failure_outcome(&without_previous, updating, &config, &progress, 2),
            Some(UpdateOutcome::Paused(no_previous_spec_message("b")))
        );
        config.max_failure_ratio = 1.0;
        assert_eq!(failure_outcome(&s, updating, &config, &progress, 2), None);
        config.max_failure_ratio = 0.0;
        config.failure_action = FailureAction::Continue;
        assert_eq!(failure_outcome(&s, updating, &config, &progress, 2), None);
    }

    #[test]
    fn outcomes_set_the_status_and_a_rollback_swaps_the_spec_back() {
        let state = ClusterState::new();
        let s = service();
        let rolled = UpdateOutcome::RolledBack("why".into()).apply(&state, &s, at(9));
        assert_eq!(rolled.spec.task_template.container.image, "v1");
        assert_eq!(rolled.spec_version, Version(1));
        assert_eq!(
            (&rolled.previous_spec, rolled.previous_spec_version),
            (&None, None)
        );
        let status = rolled.update_status.clone().unwrap();
        assert_eq!(status.state, UpdateState::RollbackStarted);
        assert_eq!((status.started_at, status.message.as_str()), (at(1), "why"));

        let paused = UpdateOutcome::Paused("p".into()).apply(&state, &rolled, at(10));
        assert_eq!(
            paused.update_status.unwrap().state,
            UpdateState::RollbackPaused
        );
        let done = UpdateOutcome::RollbackCompleted.apply(&state, &rolled, at(11));
        let status = done.update_status.unwrap();
        assert_eq!(status.message, ROLLBACK_COMPLETED_MESSAGE);
        assert_eq!(status.completed_at, Some(at(11)));
        let done = UpdateOutcome::Completed.apply(&state, &s, at(12));
        let status = done.update_status.unwrap();
        assert_eq!(
            (status.state, status.message.as_str()),
            (UpdateState::Completed, UPDATE_COMPLETED_MESSAGE)
        );
    }
}
