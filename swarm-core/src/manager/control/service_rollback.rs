//! `service rollback` (SwarmKit's controlapi `UpdateService` with `rollback: previous`).

use crate::manager::cluster_state::ClusterState;
use crate::manager::control::error::ControlError;
use crate::manager::control::object_ref::ObjectRef;
use crate::manager::control::service_query::find_service;
use crate::manager::orchestrator::{MANUAL_ROLLBACK_MESSAGE, next_spec_version};
use crate::manager::writes::{ManagerWrite, ManagerWrites, ObjectWrite};
use crate::model::{JobStatus, UpdateState, UpdateStatus};
use std::time::SystemTime;

/// `service rollback`: the service `query` names ([`find_service`](super::find_service))
/// goes back to its previous spec, at its current version.
///
/// Contract:
/// * refused with [`ControlError::NoPreviousSpec`] naming the service when it has none;
/// * on success the one write swaps `spec` and `previous_spec` and their versions (so the
///   tasks still on the previous spec match again and are kept; a previous spec stored
///   without its version gets a fresh one), sets the update status to `rollback_started`
///   with the message [`MANUAL_ROLLBACK_MESSAGE`], started at `now`, and `meta.updated_at =
///   now`; a job starts a new iteration as at an update and gets no update status (jobs
///   have no updates: nothing would ever end a `rollback_started`). The update supervisor
///   ([`supervise_updates`](crate::manager::orchestrator::supervise_updates)) then replaces
///   the tasks with the service's (new) rollback config. A second rollback goes forward
///   again.
///
/// ```
/// use std::time::SystemTime;
/// use swarm_core::manager::cluster_state::ClusterState;
/// use swarm_core::manager::control::rollback_service;
/// use swarm_core::manager::writes::{ManagerWrite, ObjectWrite};
/// use swarm_core::model::{Service, ServiceSpec, UpdateState, Version};
///
/// let mut state = ClusterState::new();
/// state.put_service(Service {
///     id: "s1".into(),
///     spec: ServiceSpec::new("web", "nginx:2"),
///     spec_version: Version(2),
///     previous_spec: Some(ServiceSpec::new("web", "nginx:1")),
///     previous_spec_version: Some(Version(1)),
///     ..Service::default()
/// });
/// let writes = rollback_service(&state, "web", SystemTime::now())?;
/// let ManagerWrite::Service(ObjectWrite::Update { object, .. }) = &writes.writes[0] else {
///     unreachable!()
/// };
/// assert_eq!(object.spec.task_template.container.image, "nginx:1");
/// assert_eq!(object.spec_version, Version(1));
/// assert_eq!(object.previous_spec_version, Some(Version(2)));
/// let status = object.update_status.as_ref().unwrap();
/// assert_eq!((status.state, status.message.as_str()), (UpdateState::RollbackStarted, "manually requested rollback"));
/// # Ok::<(), swarm_core::manager::control::ControlError>(())
/// ```
pub fn rollback_service(
    state: &ClusterState,
    query: &str,
    now: SystemTime,
) -> Result<ManagerWrites, ControlError> {
    let service = find_service(state, query)?;
    let Some(previous) = &service.previous_spec else {
        return Err(ControlError::NoPreviousSpec {
            service: ObjectRef::service(service),
        });
    };
    let mut changed = service.clone();
    changed.spec = previous.clone();
    changed.spec_version = service
        .previous_spec_version
        .unwrap_or_else(|| next_spec_version(state, service));
    changed.previous_spec = Some(service.spec.clone());
    changed.previous_spec_version = Some(service.spec_version);
    changed.update_status = Some(UpdateStatus {
        state: UpdateState::RollbackStarted,
        started_at: now,
        completed_at: None,
        message: MANUAL_ROLLBACK_MESSAGE.to_owned(),
    });
    if changed.spec.mode.is_job() {
        changed.update_status = None;
        changed.job_status = Some(JobStatus {
            job_iteration: service.meta.version,
            last_execution: Some(now),
        });
    }
    changed.meta.updated_at = now;
    Ok(ManagerWrites {
        writes: vec![ManagerWrite::Service(ObjectWrite::Update {
            object: changed,
            expected_version: service.meta.version,
        })],
        membership: Vec::new(),
    })
}
