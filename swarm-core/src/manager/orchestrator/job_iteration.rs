//! Which run of a job service the tasks belong to.
//!
//! A job's iteration is its service's `spec_version`: creating the service starts the first
//! run, and every spec change starts a new one. The job reconcilers record it in
//! [`Service::job_status`](crate::model::Service::job_status) when they first see the service
//! at that spec version, and stamp it on every task they create.

use crate::manager::cluster_state::ClusterState;
use crate::manager::orchestrator::round::OrchestrationRound;
use crate::manager::orchestrator::task_writes::set_desired;
use crate::manager::writes::{ManagerWrite, ObjectWrite};
use crate::model::{JobStatus, Service, Task, TaskState, Version};
use std::time::SystemTime;

/// The iteration the job's tasks are created for now.
pub(crate) fn current_iteration(service: &Service) -> Version {
    service.spec_version
}

/// Whether `task` belongs to the current run of its job service.
pub(crate) fn in_current_iteration(task: &Task, service: &Service) -> bool {
    task.job_iteration == Some(current_iteration(service))
}

/// The service update that starts the current iteration at `now`, or `None` when the
/// service's job status already names it.
pub(crate) fn start_iteration(service: &Service, now: SystemTime) -> Option<ManagerWrite> {
    let iteration = current_iteration(service);
    if service.job_status.as_ref().map(|s| s.job_iteration) == Some(iteration) {
        return None;
    }
    let mut changed = service.clone();
    changed.job_status = Some(JobStatus {
        job_iteration: iteration,
        last_execution: Some(now),
    });
    changed.meta.updated_at = now;
    Some(ManagerWrite::Service(ObjectWrite::Update {
        object: changed,
        expected_version: service.meta.version,
    }))
}

/// Desired state `remove` for the tasks of earlier iterations of `service` (job modes)
/// that have not ended.
pub(crate) fn remove_previous_iterations(
    state: &ClusterState,
    service: &Service,
    now: SystemTime,
    round: &mut OrchestrationRound,
    max_writes: usize,
) {
    for task in state.tasks_of_service(&service.id) {
        if in_current_iteration(task, service) || task.status.state.is_terminal() {
            continue;
        }
        if let Some(write) = set_desired(task, TaskState::Remove, now) {
            round.push(write, max_writes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn an_iteration_starts_once_per_spec_version() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(50);
        let mut service = Service {
            spec_version: Version(3),
            ..Service::default()
        };
        service.meta.version = Version(7);
        let Some(ManagerWrite::Service(ObjectWrite::Update {
            object,
            expected_version,
        })) = start_iteration(&service, now)
        else {
            panic!("expected a service update");
        };
        assert_eq!(expected_version, Version(7));
        assert_eq!(
            object.job_status,
            Some(JobStatus {
                job_iteration: Version(3),
                last_execution: Some(now),
            })
        );
        assert_eq!(start_iteration(&object, now), None);
        let mut updated = object;
        updated.spec_version = Version(4);
        assert!(start_iteration(&updated, now).is_some());
    }
}
