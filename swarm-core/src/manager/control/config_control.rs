//! `config create`, `ls`, `inspect`, `update` and `rm` (SwarmKit's controlapi configs).

use crate::manager::cluster_state::ClusterState;
use crate::manager::control::error::ControlError;
use crate::manager::control::object_query::{
    Created, check_name_free, check_unused, find_object, fresh_id,
};
use crate::manager::control::object_ref::ObjectRef;
use crate::manager::writes::{ManagerWrite, ManagerWrites, ObjectWrite};
use crate::model::{Config, ConfigId, ConfigSpec, Meta, Version};
use crate::validate::Validate;
use std::time::SystemTime;

/// `config create`.
///
/// Contract: the spec is validated ([`ControlError::InvalidSpec`]: name, labels, data of 1
/// byte to [`MAX_CONFIG_DATA_BYTES`](crate::model::MAX_CONFIG_DATA_BYTES)); the name is
/// unused by other configs ([`ControlError::NameInUse`]); the config gets a fresh id from
/// `rng` and is created with its data.
pub fn create_config(
    state: &ClusterState,
    spec: &ConfigSpec,
    now: SystemTime,
    rng: &mut dyn FnMut() -> u64,
) -> Result<Created<ConfigId>, ControlError> {
    spec.validate().map_err(ControlError::InvalidSpec)?;
    check_name_free(state.configs(), &spec.name)?;
    let id = ConfigId::new(fresh_id(state.configs(), "config id", rng)?);
    let config = Config {
        id: id.clone(),
        meta: Meta::new(Version(0), now),
        spec: spec.clone(),
    };
    Ok(Created {
        id,
        writes: ManagerWrites {
            writes: vec![ManagerWrite::Config(ObjectWrite::Create(config))],
            membership: Vec::new(),
        },
    })
}

/// `config ls`: every config with its data (as Docker returns them), in id order.
pub fn list_configs(state: &ClusterState) -> Vec<&Config> {
    state.configs().values().collect()
}

/// `config inspect`: the config `query` names (id, name or id prefix), with its data.
pub fn find_config<'a>(state: &'a ClusterState, query: &str) -> Result<&'a Config, ControlError> {
    find_object(state.configs(), query)
}

/// `config update` (as `docker stack deploy` sends the spec of a stack config that exists):
/// replaces the labels of the config `query` names, for the version the caller read.
///
/// Contract: refused with [`ControlError::ObjectVersionConflict`] unless `version` is the
/// config's version; with [`ControlError::OnlyLabelsMayChange`] naming the config when the name
/// or the data differs (empty data stands for the stored data, SwarmKit's absent `Data`: a
/// config is never empty); the labels are validated ([`ControlError::InvalidSpec`]). Labels equal
/// to the stored ones ask for no write; otherwise one write at the version read,
/// `meta.updated_at = now`.
pub fn update_config(
    state: &ClusterState,
    query: &str,
    version: Version,
    spec: &ConfigSpec,
    now: SystemTime,
) -> Result<ManagerWrites, ControlError> {
    let config = find_object(state.configs(), query)?;
    if version != config.meta.version {
        return Err(ControlError::ObjectVersionConflict {
            object: ObjectRef::config(config),
            expected: version,
            current: config.meta.version,
        });
    }
    if spec.name != config.spec.name || (!spec.data.is_empty() && spec.data != config.spec.data) {
        return Err(ControlError::OnlyLabelsMayChange {
            object: ObjectRef::config(config),
        });
    }
    let mut changed = config.clone();
    changed.spec.labels = spec.labels.clone();
    changed.spec.validate().map_err(ControlError::InvalidSpec)?;
    if spec.labels == config.spec.labels {
        return Ok(ManagerWrites::default());
    }
    changed.meta.updated_at = now;
    Ok(ManagerWrites {
        writes: vec![ManagerWrite::Config(ObjectWrite::Update {
            object: changed,
            expected_version: config.meta.version,
        })],
        membership: Vec::new(),
    })
}

/// `config rm`: deletes the config `query` names at the version read; refused with
/// [`ControlError::InUse`] naming the services whose spec references it.
pub fn remove_config(state: &ClusterState, query: &str) -> Result<ManagerWrites, ControlError> {
    let config = find_object(state.configs(), query)?;
    let users = state
        .services()
        .values()
        .filter(|s| {
            s.spec
                .task_template
                .container
                .configs
                .iter()
                .any(|r| r.config_id == config.id)
        })
        .map(ObjectRef::service)
        .collect();
    check_unused(ObjectRef::config(config), users)?;
    Ok(ManagerWrites {
        writes: vec![ManagerWrite::Config(ObjectWrite::Delete {
            id: config.id.as_str().to_owned(),
            expected_version: config.meta.version,
        })],
        membership: Vec::new(),
    })
}
