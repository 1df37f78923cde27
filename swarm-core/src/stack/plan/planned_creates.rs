//! The objects a deploy creates.

use crate::model::{ConfigSpec, NetworkSpec, SecretSpec, ServiceSpec};

/// What a deploy creates, in the order it must: networks, secrets and configs before the
/// services that use them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlannedCreates {
    /// Networks of the stack that do not exist yet.
    pub networks: Vec<NetworkSpec>,
    /// Secrets that do not exist yet.
    pub secrets: Vec<SecretSpec>,
    /// Configs that do not exist yet.
    pub configs: Vec<ConfigSpec>,
    /// Services of the stack that do not exist yet.
    pub services: Vec<ServiceSpec>,
}

impl PlannedCreates {
    /// Whether nothing is created.
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
            && self.secrets.is_empty()
            && self.configs.is_empty()
            && self.services.is_empty()
    }
}
