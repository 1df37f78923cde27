//! The cluster model: the cluster, nodes, services, tasks, secrets, configs and networks.
//!
//! Every type is plain data (serde, snake_case, missing fields take their defaults) so that it
//! can be stored in `swarm-store`, sent over the wire and fed to pure reconcile functions.
//! Defaults follow SwarmKit: restart policy `any` after 5 s, update and rollback parallelism 1
//! with no delay, failure action `pause`, monitor 5 s, order `stop-first`, max failure ratio 0,
//! stop grace period 10 s, task history 5, snapshot every 10,000 entries, node certificates valid
//! 90 days. One default is ours, for the cluster's failure-detection target: heartbeat 500 ms with
//! a node down after 4 announced periods (SwarmKit: 5 s × 3; see [`DispatcherConfig`]). Check a
//! spec with [`crate::validate::Validate`] before storing it.
//!
//! Every type has one path, `swarm_core::model::Name`: the files below are private and each
//! re-exports its items here.

mod ca_config;
mod cluster;
mod config;
mod config_data;
mod config_reference;
mod container;
mod dispatcher_config;
mod encryption_config;
mod endpoint;
mod file_target;
mod health_check;
mod ids;
mod join_tokens;
mod manager_status;
mod meta;
mod mount;
mod network;
mod network_attachment;
mod node;
mod node_description;
mod node_status;
mod orchestration_config;
mod placement;
mod platform;
mod raft_config;
mod resources;
mod restart_policy;
mod retired_root;
mod root_rotation;
mod secret;
pub(crate) mod secret_data;
mod secret_reference;
mod service;
mod service_mode;
mod task;
mod task_state;
mod update_config;
mod update_status;

pub use ca_config::*;
pub use cluster::*;
pub use config::*;
pub use config_data::*;
pub use config_reference::*;
pub use container::*;
pub use dispatcher_config::*;
pub use encryption_config::*;
pub use endpoint::*;
pub use file_target::*;
pub use health_check::*;
pub use ids::*;
pub use join_tokens::*;
pub use manager_status::*;
pub use meta::*;
pub use mount::*;
pub use network::*;
pub use network_attachment::*;
pub use node::*;
pub use node_description::*;
pub use node_status::*;
pub use orchestration_config::*;
pub use placement::*;
pub use platform::*;
pub use raft_config::*;
pub use resources::*;
pub use restart_policy::*;
pub use retired_root::*;
pub use root_rotation::*;
pub use secret::*;
pub use secret_data::*;
pub use secret_reference::*;
pub use service::*;
pub use service_mode::*;
pub use task::*;
pub use task_state::*;
pub use update_config::*;
pub use update_status::*;
