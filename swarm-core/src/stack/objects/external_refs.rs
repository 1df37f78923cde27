//! The cluster objects a stack uses but does not create.

use std::collections::{BTreeMap, BTreeSet};

/// The external networks, secrets and configs a stack's services use, by their name in the
/// cluster, each with the compose services that use it. They are looked up when the stack is
/// deployed ([`plan_deploy`](crate::stack::plan_deploy) reports the missing ones).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExternalRefs {
    /// External networks by name (the engine's local `host`/`bridge`/`none` are left out, as
    /// docker does not look them up).
    pub networks: BTreeMap<String, BTreeSet<String>>,
    /// External secrets by name.
    pub secrets: BTreeMap<String, BTreeSet<String>>,
    /// External configs by name.
    pub configs: BTreeMap<String, BTreeSet<String>>,
}

impl ExternalRefs {
    /// Whether the stack uses no external object.
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty() && self.secrets.is_empty() && self.configs.is_empty()
    }
}
