//! New tasks of a service: fresh ids and the task as the orchestrators create it.

use crate::manager::ca_server::{MAX_ID_DRAWS, random_id};
use crate::manager::cluster_state::ClusterState;
use crate::manager::orchestrator::job_iteration::current_iteration;
use crate::model::{NodeId, Service, ServiceAnnotations, Task, TaskId, TaskState};
use std::collections::BTreeSet;
use std::time::SystemTime;

/// Fresh task ids: used by no task of the state and not handed out before by this source.
pub(crate) struct TaskIds<'a> {
    state: &'a ClusterState,
    issued: BTreeSet<TaskId>,
}

impl<'a> TaskIds<'a> {
    /// A source for ids not in `state`.
    pub(crate) fn new(state: &'a ClusterState) -> Self {
        TaskIds {
            state,
            issued: BTreeSet::new(),
        }
    }

    /// A fresh id, or `None` after [`MAX_ID_DRAWS`] draws (a random source that repeats).
    pub(crate) fn next(&mut self, rng: &mut dyn FnMut() -> u64) -> Option<TaskId> {
        let id = (0..MAX_ID_DRAWS)
            .map(|_| TaskId::new(random_id(rng)))
            .find(|id| self.state.task(id).is_none() && !self.issued.contains(id))?;
        self.issued.insert(id.clone());
        Some(id)
    }
}

/// A new task of `service` (contract step 1): state `new`, desired `running` (`complete` for
/// jobs, with the current job iteration), the service's task template and spec version, in
/// replica slot `slot` (replicated modes) or preset on `node` (global modes).
pub(crate) fn new_task(
    service: &Service,
    id: TaskId,
    slot: Option<u64>,
    node: Option<NodeId>,
    now: SystemTime,
) -> Task {
    let mut task = Task::new(
        id,
        service.id.clone(),
        service.spec.task_template.clone(),
        now,
    );
    task.slot = slot;
    task.node_id = node;
    task.service_annotations = ServiceAnnotations {
        name: service.spec.name.clone(),
        labels: service.spec.labels.clone(),
    };
    task.spec_version = service.spec_version.0;
    if service.spec.mode.is_job() {
        task.desired_state = TaskState::Complete;
        task.job_iteration = Some(current_iteration(service));
    }
    task
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ServiceMode, Version};

    #[test]
    fn ids_skip_taken_ones_and_tasks_copy_the_service() {
        let mut state = ClusterState::new();
        let mut taken_rng = || 7;
        let taken = TaskId::new(random_id(&mut taken_rng));
        state.put_task(Task::new(
            taken.clone(),
            "s".into(),
            Default::default(),
            SystemTime::UNIX_EPOCH,
        ));
        let mut ids = TaskIds::new(&state);
        let mut seq = [7u64, 7, 8, 8, 8, 8].into_iter();
        let mut rng = || seq.next().unwrap_or(9);
        let fresh = ids.next(&mut rng).unwrap();
        assert_ne!(fresh, taken);
        // The same draw again is refused: it was issued.
        let mut again = || 8;
        assert_eq!(ids.next(&mut again), None);

        let mut service = Service {
            id: "s".into(),
            spec_version: Version(4),
            ..Service::default()
        };
        service.spec.mode = ServiceMode::GlobalJob;
        let task = new_task(
            &service,
            fresh,
            None,
            Some("n1".into()),
            SystemTime::UNIX_EPOCH,
        );
        assert_eq!(task.desired_state, TaskState::Complete);
        assert_eq!(task.job_iteration, Some(Version(4)));
        assert_eq!(task.spec_version, 4);
        assert_eq!(task.node_id, Some("n1".into()));
        assert_eq!(task.status.state, TaskState::New);
    }
}
