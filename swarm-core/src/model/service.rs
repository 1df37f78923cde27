//! Services: the declared desired state the orchestrators keep running.

use crate::model::endpoint::{Endpoint, EndpointSpec};
use crate::model::ids::ServiceId;
use crate::model::meta::{Meta, Version};
use crate::model::service_mode::ServiceMode;
use crate::model::task::TaskSpec;
use crate::model::update_config::UpdateConfig;
use crate::model::update_status::UpdateStatus;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a user declares about a service.
///
/// ```
/// use swarm_core::model::{ServiceMode, ServiceSpec};
///
/// let mut spec = ServiceSpec::new("web", "nginx:1.27");
/// spec.mode = ServiceMode::Replicated { replicas: 3 };
/// let json = serde_json::to_string(&spec).unwrap();
/// assert_eq!(serde_json::from_str::<ServiceSpec>(&json).unwrap(), spec);
/// // Unset update and rollback configs mean SwarmKit's defaults.
/// assert_eq!(spec.effective_update_config().parallelism, 1);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceSpec {
    /// The service's name: a DNS label, unique in the cluster.
    pub name: String,
    /// User labels.
    pub labels: BTreeMap<String, String>,
    /// The template every task is made from.
    pub task_template: TaskSpec,
    /// Replicated, global, replicated-job or global-job.
    pub mode: ServiceMode,
    /// Rolling update policy; `None` means the defaults. Jobs may not have one.
    pub update_config: Option<UpdateConfig>,
    /// Rollback policy; `None` means the defaults. Jobs may not have one.
    pub rollback_config: Option<UpdateConfig>,
    /// Resolution mode and published ports; `None` means a virtual IP and no ports.
    pub endpoint_spec: Option<EndpointSpec>,
}

impl ServiceSpec {
    /// A one-replica service running `image`, every other field at its default.
    pub fn new(name: impl Into<String>, image: impl Into<String>) -> Self {
        let mut spec = ServiceSpec {
            name: name.into(),
            ..ServiceSpec::default()
        };
        spec.task_template.container.image = image.into();
        spec
    }

    /// The update policy in force: the configured one or SwarmKit's defaults.
    pub fn effective_update_config(&self) -> UpdateConfig {
        self.update_config.clone().unwrap_or_default()
    }

    /// The rollback policy in force: the configured one or SwarmKit's defaults.
    pub fn effective_rollback_config(&self) -> UpdateConfig {
        self.rollback_config.clone().unwrap_or_default()
    }
}

/// A service as stored: its spec, the previous spec (for rollback) and update progress.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Service {
    /// The service's id.
    pub id: ServiceId,
    /// Version and timestamps.
    #[serde(default)]
    pub meta: Meta,
    /// The current spec.
    pub spec: ServiceSpec,
    /// Version of `spec`; bumped on every spec change, copied into each task as
    /// [`Task::spec_version`](crate::model::Task::spec_version).
    #[serde(default)]
    pub spec_version: Version,
    /// The spec before the last update, what a rollback returns to.
    #[serde(default)]
    pub previous_spec: Option<ServiceSpec>,
    /// The version of `previous_spec` (a rollback restores it, so the tasks of that spec
    /// match again).
    #[serde(default)]
    pub previous_spec_version: Option<Version>,
    /// Progress of the current or last rolling update.
    #[serde(default)]
    pub update_status: Option<UpdateStatus>,
    /// What the allocator gave the service (ports, virtual IPs); `None` until allocated.
    #[serde(default)]
    pub endpoint: Option<Endpoint>,
    /// Progress of a job (replicated-job and global-job modes); `None` for other modes.
    #[serde(default)]
    pub job_status: Option<JobStatus>,
}

/// Which run of a job the tasks belong to: every create and update of a job service starts a
/// new iteration, and its tasks carry the iteration's number.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JobStatus {
    /// The current iteration (the service's version when it started).
    pub job_iteration: Version,
    /// When the current iteration started.
    pub last_execution: Option<std::time::SystemTime>,
}
