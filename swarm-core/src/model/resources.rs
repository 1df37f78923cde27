//! Compute resources: what a node offers and what a task reserves or is limited to.

use serde::{Deserialize, Serialize};

/// One unit of CPU in [`Resources::nano_cpus`]: 1e9 nano-CPUs are one whole core.
pub const NANO_CPUS_PER_CPU: i64 = 1_000_000_000;

/// A user-defined resource beyond CPU and memory (SwarmKit's "generic resources").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GenericResource {
    /// A countable resource, e.g. `{kind: "ssd", value: 3}`.
    Discrete {
        /// The resource kind, e.g. `"ssd"`.
        kind: String,
        /// How many units.
        value: i64,
    },
    /// One named item of a kind, e.g. `{kind: "gpu", value: "GPU-7a1c"}`; a named item is claimed
    /// by exactly one task.
    Named {
        /// The resource kind, e.g. `"gpu"`.
        kind: String,
        /// The item's name.
        value: String,
    },
}

impl GenericResource {
    /// The kind of this resource.
    pub fn kind(&self) -> &str {
        match self {
            GenericResource::Discrete { kind, .. } | GenericResource::Named { kind, .. } => kind,
        }
    }
}

/// An amount of resources.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    /// CPU in units of 1e-9 cores (see [`NANO_CPUS_PER_CPU`]).
    pub nano_cpus: i64,
    /// Memory in bytes.
    pub memory_bytes: i64,
    /// Generic discrete and named resources.
    #[serde(default)]
    pub generic: Vec<GenericResource>,
}

/// What a task is limited to and what it reserves on its node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRequirements {
    /// Hard limits enforced by the runtime; `None` means unlimited.
    pub limits: Option<Resources>,
    /// Reserved on the node by the scheduler; `None` reserves nothing.
    pub reservations: Option<Resources>,
}
