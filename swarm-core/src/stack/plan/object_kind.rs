//! Which kind of cluster object a plan entry is about.

use std::fmt;

/// The kinds of object a stack owns or uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StackObjectKind {
    /// A service.
    Service,
    /// A network.
    Network,
    /// A secret.
    Secret,
    /// A config.
    Config,
}

impl fmt::Display for StackObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StackObjectKind::Service => "service",
            StackObjectKind::Network => "network",
            StackObjectKind::Secret => "secret",
            StackObjectKind::Config => "config",
        })
    }
}
