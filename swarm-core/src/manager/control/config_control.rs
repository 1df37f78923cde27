//! `config create`, `ls`, `inspect`, `update` and `rm` (SwarmKit's controlapi configs).

use crate::manager::cluster_state::ClusterState;
use crate::manager::control::error::ControlError;
use crate::manager::control::file_object;
use crate::manager::control::object_query::{Created, find_object};
use crate::manager::writes::ManagerWrites;
use crate::model::{Config, ConfigId, ConfigSpec, Version};
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
    file_object::create::<Config>(state, spec, &spec.name, now, rng)
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
    file_object::update_labels::<Config>(state, query, version, spec, now)
}

/// `config rm`: deletes the config `query` names at the version read; refused with
/// [`ControlError::InUse`] naming the services whose spec references it.
pub fn remove_config(state: &ClusterState, query: &str) -> Result<ManagerWrites, ControlError> {
    file_object::remove::<Config>(state, query)
}
