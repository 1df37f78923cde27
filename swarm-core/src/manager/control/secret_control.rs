//! `secret create`, `ls`, `inspect`, `update` and `rm` (SwarmKit's controlapi secrets).

use crate::manager::cluster_state::ClusterState;
use crate::manager::control::error::ControlError;
use crate::manager::control::file_object;
use crate::manager::control::object_query::{Created, find_object};
use crate::manager::control::secret_info::SecretInfo;
use crate::manager::writes::ManagerWrites;
use crate::model::{Secret, SecretId, SecretSpec, Version};
use std::time::SystemTime;

/// `secret create`.
///
/// Contract: the spec is validated ([`ControlError::InvalidSpec`]: name, labels, and a value
/// of 1 byte to swarm-secrets' `MAX_SECRET_BYTES`); the name is unused by other secrets
/// ([`ControlError::NameInUse`]); the secret gets a fresh id from `rng` and is created with
/// its value (the store is encrypted at rest; no read returns the value).
pub fn create_secret(
    state: &ClusterState,
    spec: &SecretSpec,
    now: SystemTime,
    rng: &mut dyn FnMut() -> u64,
) -> Result<Created<SecretId>, ControlError> {
    file_object::create::<Secret>(state, spec, &spec.name, now, rng)
}

/// `secret ls`: every secret without its value, in id order.
pub fn list_secrets(state: &ClusterState) -> Vec<SecretInfo> {
    state.secrets().values().map(SecretInfo::of).collect()
}

/// `secret inspect`: the secret `query` names (id, name or id prefix), without its value.
pub fn find_secret(state: &ClusterState, query: &str) -> Result<SecretInfo, ControlError> {
    find_object(state.secrets(), query).map(SecretInfo::of)
}

/// `secret update` (as `docker stack deploy` sends the spec of a stack secret that exists):
/// replaces the labels of the secret `query` names, for the version the caller read.
///
/// Contract: refused with [`ControlError::ObjectVersionConflict`] unless `version` is the
/// secret's version; with [`ControlError::OnlyLabelsMayChange`] naming the secret when the
/// name or the value differs (compared in constant time; the value is never returned); an
/// empty value stands for the stored one (SwarmKit's absent `Data`: the Engine API's
/// `POST /secrets/{id}/update` may omit it, and a secret is never empty); the labels are
/// validated ([`ControlError::InvalidSpec`]). Labels equal to the stored ones ask
/// for no write; otherwise one write at the version read, `meta.updated_at = now`.
pub fn update_secret(
    state: &ClusterState,
    query: &str,
    version: Version,
    spec: &SecretSpec,
    now: SystemTime,
) -> Result<ManagerWrites, ControlError> {
    file_object::update_labels::<Secret>(state, query, version, spec, now)
}

/// `secret rm`: deletes the secret `query` names at the version read; refused with
/// [`ControlError::InUse`] naming the services whose spec references it.
pub fn remove_secret(state: &ClusterState, query: &str) -> Result<ManagerWrites, ControlError> {
    file_object::remove::<Secret>(state, query)
}
