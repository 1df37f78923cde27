//! Validation of every spec a user submits, reporting all the rules broken at once.
//!
//! Each error names the object, the field path (as serialized) and the rule:
//!
//! ```
//! use swarm_core::model::{Resources, ServiceSpec};
//! use swarm_core::validate::Validate;
//!
//! let mut spec = ServiceSpec::new("web", "nginx:1.27");
//! spec.task_template.resources.reservations = Some(Resources {
//!     memory_bytes: 1024 * 1024,
//!     ..Resources::default()
//! });
//! let err = spec.validate().unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     r#"service "web": task_template.resources.reservations.memory_bytes: 1 MiB is below the minimum of 4 MiB"#,
//! );
//! ```
//!
//! The rules follow SwarmKit's control API (names, resource minimums, health check durations,
//! unique secret and config targets, published ports, IPAM), and add the checks a careful
//! operator expects from the start: constraint keys that name a real attribute, reservations
//! within limits, absolute mount and working directory paths, known stop signals, file targets
//! that stay inside their directory, and job-mode consistency.

pub(crate) mod cidr;
mod cluster;
mod container;
mod duration;
mod endpoint;
mod error;
mod names;
mod network;
mod node;
mod placement;
mod quantity;
mod resources;
mod secret;
mod service;
mod task_template;
mod update_config;

pub use cluster::{
    MAX_NODE_CERT_EXPIRY, MIN_HEARTBEAT_PERIOD, MIN_NODE_CERT_EXPIRY, MIN_REBALANCE_INTERVAL,
};
pub use container::{MAX_FILE_MODE, MIN_HEALTHCHECK_DURATION};
pub use duration::MAX_SPEC_DURATION;
pub use endpoint::MAX_PORT;
pub use error::{MAX_REPORTED_ERRORS, ObjectKind, Rule, ValidationError, ValidationErrors};
pub use names::{
    MAX_DNS_LABEL_CHARS, MAX_DNS_NAME_CHARS, MAX_OBJECT_NAME_CHARS, is_dns_label, is_dns_name,
    is_object_name,
};
pub use network::PREDEFINED_NETWORK_LABEL;
pub use quantity::Quantity;
pub use resources::{MIN_MEMORY_BYTES, MIN_NANO_CPUS};
pub use service::MAX_SERVICE_TASKS;

/// A spec that can be checked before it is stored.
///
/// Implemented by [`ServiceSpec`](crate::model::ServiceSpec),
/// [`NodeSpec`](crate::model::NodeSpec), [`Node`](crate::model::Node),
/// [`SecretSpec`](crate::model::SecretSpec), [`ConfigSpec`](crate::model::ConfigSpec),
/// [`NetworkSpec`](crate::model::NetworkSpec) and [`ClusterSpec`](crate::model::ClusterSpec).
pub trait Validate {
    /// `Ok` if every rule holds, otherwise every broken rule (see [`ValidationErrors`]).
    fn validate(&self) -> Result<(), ValidationErrors>;
}
