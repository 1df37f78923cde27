//! What a new or updated service spec must satisfy beyond validation: the objects it refers
//! to exist (stored by id), and its published ports are free.

use crate::manager::allocator::{ports_of_others, published_port_conflict};
use crate::manager::cluster_state::ClusterState;
use crate::manager::control::error::ControlError;
use crate::manager::control::object_query::{by_id_or_name, find_object};
use crate::manager::control::object_ref::ObjectType;
use crate::model::{ServiceId, ServiceSpec};
use crate::validate::Validate;

/// `spec` with its references resolved, then validated: each network target (id, name or id
/// prefix) replaced by the network's id, each secret and config reference given the id and
/// name of the object it names (by id, else by name: a client may give either), so the
/// stored spec names each by id. Empty references are left to validation. Its published
/// ports are checked against every other service's (spec and allocated) with
/// [`published_port_conflict`]; `this` is the service being updated, if any.
pub(crate) fn checked_spec(
    state: &ClusterState,
    spec: &ServiceSpec,
    this: Option<&ServiceId>,
) -> Result<ServiceSpec, ControlError> {
    let mut out = spec.clone();
    let missing = |field: String, kind: ObjectType, target: &str| ControlError::MissingReference {
        service: spec.name.clone(),
        field,
        kind,
        target: target.to_owned(),
    };
    for (i, net) in out.task_template.networks.iter_mut().enumerate() {
        if net.target.is_empty() {
            continue;
        }
        let network = find_object(state.networks(), &net.target).map_err(|e| match e {
            ControlError::NotFound { kind, .. } => missing(
                format!("task_template.networks[{i}].target"),
                kind,
                &net.target,
            ),
            other => other,
        })?;
        net.target = network.id.as_str().to_owned();
    }
    for (i, r) in out.task_template.container.secrets.iter_mut().enumerate() {
        if r.secret_id.as_str().is_empty() && r.secret_name.is_empty() {
            continue;
        }
        let found = by_id_or_name(state.secrets(), r.secret_id.as_str())
            .or_else(|| by_id_or_name(state.secrets(), &r.secret_name))
            .ok_or_else(|| {
                let given = if r.secret_name.is_empty() {
                    r.secret_id.as_str()
                } else {
                    &r.secret_name
                };
                missing(
                    format!("task_template.container.secrets[{i}]"),
                    ObjectType::Secret,
                    given,
                )
            })?;
        r.secret_id = found.id.clone();
        r.secret_name = found.spec.name.clone();
    }
    for (i, r) in out.task_template.container.configs.iter_mut().enumerate() {
        if r.config_id.as_str().is_empty() && r.config_name.is_empty() {
            continue;
        }
        let found = by_id_or_name(state.configs(), r.config_id.as_str())
            .or_else(|| by_id_or_name(state.configs(), &r.config_name))
            .ok_or_else(|| {
                let given = if r.config_name.is_empty() {
                    r.config_id.as_str()
                } else {
                    &r.config_name
                };
                missing(
                    format!("task_template.container.configs[{i}]"),
                    ObjectType::Config,
                    given,
                )
            })?;
        r.config_id = found.id.clone();
        r.config_name = found.spec.name.clone();
    }
    out.validate().map_err(ControlError::InvalidSpec)?;
    if let Some(endpoint) = &out.endpoint_spec {
        let others = ports_of_others(state.services().values(), this);
        if let Some(conflict) = published_port_conflict(&endpoint.ports, others) {
            return Err(ControlError::PortInUse {
                service: spec.name.clone(),
                conflict,
            });
        }
    }
    Ok(out)
}
