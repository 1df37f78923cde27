//! Numbers for new service spec versions.

use crate::manager::cluster_state::ClusterState;
use crate::model::{Service, Version};

/// The version a new spec of `service` gets: one past every version still in use, its own,
/// its previous spec's and those its tasks carry. A rollback brings an older version back,
/// so counting from the current one alone could give a new spec the number of tasks of
/// another (and a task whose version matches is taken as up to date without comparing
/// specs).
pub(crate) fn next_spec_version(state: &ClusterState, service: &Service) -> Version {
    let highest = state
        .tasks_of_service(&service.id)
        .map(|t| t.spec_version)
        .chain([service.spec_version.0])
        .chain(service.previous_spec_version.map(|v| v.0))
        .max()
        .unwrap_or(0);
    Version(highest.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Task;
    use std::time::SystemTime;

    #[test]
    fn a_new_version_is_past_every_version_in_use() {
        let mut state = ClusterState::new();
        let mut service = Service {
            id: "web".into(),
            spec_version: Version(1),
            ..Service::default()
        };
        state.put_service(service.clone());
        assert_eq!(next_spec_version(&state, &service), Version(2));
        // Rolled back from 4 to 1: tasks of version 4 remain.
        let mut task = Task::new(
            "t".into(),
            "web".into(),
            Default::default(),
            SystemTime::UNIX_EPOCH,
        );
        task.spec_version = 4;
        state.put_task(task);
        assert_eq!(next_spec_version(&state, &service), Version(5));
        service.previous_spec_version = Some(Version(9));
        assert_eq!(next_spec_version(&state, &service), Version(10));
    }
}
