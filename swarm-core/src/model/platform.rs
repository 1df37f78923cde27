//! Operating system and CPU architecture of a node, or one a service accepts.

use serde::{Deserialize, Serialize};

/// An operating system and CPU architecture, as Go names them (`linux`/`amd64`, `linux`/`arm64`).
///
/// In a node description it says what the node is; in a service's
/// [`Placement::platforms`](crate::model::Placement::platforms) it lists what the task can run on.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct Platform {
    /// Operating system, e.g. `"linux"`.
    pub os: String,
    /// CPU architecture, e.g. `"amd64"`; empty matches any architecture in a placement.
    pub architecture: String,
}

impl Platform {
    /// A platform from its OS and architecture.
    pub fn new(os: impl Into<String>, architecture: impl Into<String>) -> Self {
        Platform {
            os: os.into(),
            architecture: architecture.into(),
        }
    }
}
