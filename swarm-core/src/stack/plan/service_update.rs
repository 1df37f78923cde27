//! A stack service whose spec changed.

use crate::model::{ServiceId, ServiceSpec, Version};

/// A service of the stack to update with a new spec (a rolling update of its tasks).
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceUpdate {
    /// The service.
    pub id: ServiceId,
    /// The version the plan read, the update's optimistic-concurrency check.
    pub version: Version,
    /// The new spec: the converted one with the service's `force_update` counter kept (a stack
    /// deploy never forces, as docker).
    pub spec: ServiceSpec,
}
