//! `service rm` (SwarmKit's controlapi `RemoveService`).

use crate::manager::cluster_state::ClusterState;
use crate::manager::control::error::ControlError;
use crate::manager::control::service_query::find_service;
use crate::manager::writes::{ManagerWrite, ManagerWrites, ObjectWrite};

/// `service rm`: deletes the service `query` names, at the version read. Its tasks are left
/// to the orchestrators (they ask them to stop and the reaper deletes them).
pub fn remove_service(state: &ClusterState, query: &str) -> Result<ManagerWrites, ControlError> {
    let service = find_service(state, query)?;
    Ok(ManagerWrites {
        writes: vec![ManagerWrite::Service(ObjectWrite::Delete {
            id: service.id.as_str().to_owned(),
            expected_version: service.meta.version,
        })],
        membership: Vec::new(),
    })
}
