//! What a stack deploys: the cluster objects converted from compose files.

use crate::model::{ConfigSpec, NetworkSpec, SecretSpec, ServiceSpec};
use crate::stack::compose::origin::Origin;
use crate::stack::objects::external_refs::ExternalRefs;

/// The objects [`convert`](crate::stack::convert) makes of a
/// [`ComposeProject`](crate::stack::ComposeProject) for one stack: what to create or update,
/// what must exist already, and what docker would print.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StackObjects {
    /// The stack's name (the value of the namespace label).
    pub stack: String,
    /// The services, named `<stack>_<key>`, sorted by name. Their secret, config and network
    /// references carry names, not ids: the control API resolves them when the services are
    /// created or updated.
    pub services: Vec<ServiceSpec>,
    /// The networks to create (those the services use that are not external; `<stack>_default`
    /// when a service names none), sorted by name.
    pub networks: Vec<NetworkSpec>,
    /// The secrets to create (every non-external one declared), sorted by name.
    pub secrets: Vec<SecretSpec>,
    /// The configs to create (every non-external one declared), sorted by name.
    pub configs: Vec<ConfigSpec>,
    /// The external objects the services use.
    pub external: ExternalRefs,
    /// What docker prints while loading the files, in its words: load-time warnings, then
    /// `Ignoring unsupported options: build, links`, then `Ignoring deprecated options:` with
    /// docker's explanations.
    pub warnings: Vec<String>,
    /// Options `docker stack deploy` would apply but this library cannot express yet, where
    /// they were written (see
    /// [`NOT_YET_SUPPORTED_SERVICE_OPTIONS`](crate::stack::NOT_YET_SUPPORTED_SERVICE_OPTIONS)).
    /// They are left out of the objects; a caller may refuse to deploy when this is not empty.
    pub not_supported: Vec<Origin>,
}

impl StackObjects {
    /// The service whose compose key is `key` (its name is `<stack>_<key>`).
    pub fn service(&self, key: &str) -> Option<&ServiceSpec> {
        let name = crate::stack::objects::labels::scoped(&self.stack, key);
        self.services.iter().find(|s| s.name == name)
    }
}
