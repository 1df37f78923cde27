//! `service create` (SwarmKit's controlapi `CreateService`).

use crate::manager::cluster_state::ClusterState;
use crate::manager::control::error::ControlError;
use crate::manager::control::object_query::{Created, check_name_free, fresh_id};
use crate::manager::control::service_spec_check::checked_spec;
use crate::manager::writes::{ManagerWrite, ManagerWrites, ObjectWrite};
use crate::model::{JobStatus, Meta, Service, ServiceId, ServiceSpec, Version};
use std::time::SystemTime;

/// `service create`: a new service from `spec`.
///
/// Contract:
/// * the spec is validated ([`ControlError::InvalidSpec`], every broken rule named by field);
/// * its name is unused by other services ([`ControlError::NameInUse`] naming the service
///   that has it);
/// * every network, secret and config it refers to exists ([`ControlError::MissingReference`]
///   naming the field and the target); the stored spec refers to them by id (secrets and
///   configs with their names);
/// * its published ports are not used by another service ([`ControlError::PortInUse`] naming
///   it; see [`published_port_conflict`](crate::manager::allocator::published_port_conflict));
/// * the service gets a fresh id from `rng`, `spec_version` 1, no endpoint (the allocator
///   gives it one), and for jobs a job status at iteration 0 started `now`; the only write is
///   its creation. Its tasks are made by the orchestrators.
///
/// ```
/// use std::time::SystemTime;
/// use swarm_core::manager::cluster_state::ClusterState;
/// use swarm_core::manager::control::create_service;
/// use swarm_core::manager::writes::{ManagerWrite, ObjectWrite};
/// use swarm_core::model::ServiceSpec;
///
/// let mut state = ClusterState::new();
/// let mut n = 0;
/// let mut rng = || { n += 1; n };
/// let spec = ServiceSpec::new("web", "nginx:1.27");
/// let created = create_service(&state, &spec, SystemTime::UNIX_EPOCH, &mut rng)?;
/// state.apply(&created.writes.writes).unwrap();
/// assert_eq!(state.service(&created.id).unwrap().spec_version.0, 1);
/// // The name is now taken.
/// assert!(create_service(&state, &spec, SystemTime::UNIX_EPOCH, &mut rng).is_err());
/// # Ok::<(), swarm_core::manager::control::ControlError>(())
/// ```
pub fn create_service(
    state: &ClusterState,
    spec: &ServiceSpec,
    now: SystemTime,
    rng: &mut dyn FnMut() -> u64,
) -> Result<Created<ServiceId>, ControlError> {
    let spec = checked_spec(state, spec, None)?;
    check_name_free(state.services(), &spec.name)?;
    let id = ServiceId::new(fresh_id(state.services(), "service id", rng)?);
    let job_status = spec.mode.is_job().then_some(JobStatus {
        job_iteration: Version(0),
        last_execution: Some(now),
    });
    let service = Service {
        id: id.clone(),
        meta: Meta::new(Version(0), now),
        spec,
        spec_version: Version(1),
        previous_spec: None,
        previous_spec_version: None,
        update_status: None,
        endpoint: None,
        job_status,
    };
    Ok(Created {
        id,
        writes: ManagerWrites {
            writes: vec![ManagerWrite::Service(ObjectWrite::Create(service))],
            membership: Vec::new(),
        },
    })
}
