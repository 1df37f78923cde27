//! What the cluster holds when a stack is deployed.

use crate::manager::cluster_state::ClusterState;
use crate::model::{Config, Network, Secret, Service};

/// The cluster's services, networks, secrets and configs, as
/// [`plan_deploy`](crate::stack::plan_deploy) needs them: the stack's own objects are those
/// with its namespace label; external references are looked up among all of them, so give
/// every object (or at least the stack's and those its files name as external).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExistingStack {
    /// Services.
    pub services: Vec<Service>,
    /// Networks.
    pub networks: Vec<Network>,
    /// Secrets.
    pub secrets: Vec<Secret>,
    /// Configs.
    pub configs: Vec<Config>,
}

impl ExistingStack {
    /// Every service, network, secret and config of `state`.
    pub fn from_state(state: &ClusterState) -> Self {
        ExistingStack {
            services: state.services().values().cloned().collect(),
            networks: state.networks().values().cloned().collect(),
            secrets: state.secrets().values().cloned().collect(),
            configs: state.configs().values().cloned().collect(),
        }
    }
}
