//! A stack service no longer in the files.

use crate::model::{ServiceId, Version};

/// A service of the stack that `prune` removes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceRemoval {
    /// The service.
    pub id: ServiceId,
    /// Its name.
    pub name: String,
    /// The version the plan read.
    pub version: Version,
}
