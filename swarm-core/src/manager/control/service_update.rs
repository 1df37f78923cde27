//! `service update` and `service scale` (SwarmKit's controlapi `UpdateService`).

use crate::manager::cluster_state::ClusterState;
use crate::manager::control::error::ControlError;
use crate::manager::control::object_ref::ObjectRef;
use crate::manager::control::service_query::{ServiceModeKind, find_service};
use crate::manager::control::service_spec_check::checked_spec;
use crate::manager::orchestrator::next_spec_version;
use crate::manager::writes::{ManagerWrite, ManagerWrites, ObjectWrite};
use crate::model::{JobStatus, ServiceMode, ServiceSpec, Version};
use std::time::SystemTime;

/// `service update`: replaces the spec of the service `query` names
/// ([`find_service`](super::find_service)), for the version the caller read.
///
/// Contract:
/// * refused with [`ControlError::ServiceVersionConflict`] naming the service unless
///   `version` is its version;
/// * the new spec is checked as at create (validation, references resolved to ids, published
///   ports free: [`ControlError::InvalidSpec`], [`ControlError::MissingReference`],
///   [`ControlError::PortInUse`]);
/// * the name cannot change ([`ControlError::ServiceRename`]) nor the kind of mode
///   ([`ControlError::ServiceModeChange`]; the number of replicas can);
/// * on success the one write replaces the service at the version read: the old spec becomes
///   `previous_spec` (its version `previous_spec_version`), `spec_version` becomes one past
///   every version in use (the service's, the previous spec's, its tasks': after a rollback
///   the current one is not the highest), the update status is cleared (a new update starts,
///   superseding one in progress or paused), a job starts a new iteration (numbered by the version read) at `now`,
///   `meta.updated_at = now`. The endpoint is left to the allocator.
pub fn update_service(
    state: &ClusterState,
    query: &str,
    version: Version,
    spec: &ServiceSpec,
    now: SystemTime,
) -> Result<ManagerWrites, ControlError> {
    let service = find_service(state, query)?;
    if version != service.meta.version {
        return Err(ControlError::ServiceVersionConflict {
            service: ObjectRef::service(service),
            expected: version,
            current: service.meta.version,
        });
    }
    let spec = checked_spec(state, spec, Some(&service.id))?;
    if spec.name != service.spec.name {
        return Err(ControlError::ServiceRename {
            service: ObjectRef::service(service),
            requested: spec.name.clone(),
        });
    }
    if ServiceModeKind::of(&spec.mode) != ServiceModeKind::of(&service.spec.mode) {
        return Err(ControlError::ServiceModeChange {
            service: ObjectRef::service(service),
            from: service.spec.mode,
            to: spec.mode,
        });
    }
    let mut changed = service.clone();
    changed.previous_spec = Some(service.spec.clone());
    changed.previous_spec_version = Some(service.spec_version);
    changed.spec = spec;
    changed.spec_version = next_spec_version(state, service);
    changed.update_status = None;
    if changed.spec.mode.is_job() {
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

/// `service scale`: [`update_service`] at the service's current version with only the count
/// changed: the replicas of a replicated service, the total completions of a replicated job
/// (as the docker CLI does). Global services and jobs are refused
/// ([`ControlError::NotScalable`] naming the service and its mode).
pub fn scale_service(
    state: &ClusterState,
    query: &str,
    replicas: u64,
    now: SystemTime,
) -> Result<ManagerWrites, ControlError> {
    let service = find_service(state, query)?;
    let mode = match service.spec.mode {
        ServiceMode::Replicated { .. } => ServiceMode::Replicated { replicas },
        ServiceMode::ReplicatedJob { max_concurrent, .. } => ServiceMode::ReplicatedJob {
            max_concurrent,
            total_completions: replicas,
        },
        mode @ (ServiceMode::Global | ServiceMode::GlobalJob) => {
            return Err(ControlError::NotScalable {
                service: ObjectRef::service(service),
                mode,
            });
        }
    };
    let spec = ServiceSpec {
        mode,
        ..service.spec.clone()
    };
    update_service(state, service.id.as_str(), service.meta.version, &spec, now)
}
