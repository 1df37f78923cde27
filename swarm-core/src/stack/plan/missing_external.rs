//! An external object a stack uses that the cluster does not have.

use crate::stack::plan::object_kind::StackObjectKind;
use std::fmt;

/// An external network, secret or config that does not exist; the stack cannot be deployed
/// until it is created. Shown in docker's words:
/// `network "nd-swarm" is declared as external, but could not be found. You need to create a
/// swarm-scoped network before the stack is deployed`, or
/// `service nerd-dinner-db: secret not found: nerd-dinner-db-sa-password`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingExternal {
    /// Network, secret or config.
    pub kind: StackObjectKind,
    /// The name it is looked up by.
    pub name: String,
    /// The compose services that use it, sorted.
    pub services: Vec<String>,
}

impl fmt::Display for MissingExternal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            StackObjectKind::Network => write!(
                f,
                "network {:?} is declared as external, but could not be found. You need to create a swarm-scoped network before the stack is deployed",
                self.name
            ),
            kind => {
                let service = self.services.first().map(String::as_str).unwrap_or("?");
                write!(f, "service {service}: {kind} not found: {}", self.name)
            }
        }
    }
}
