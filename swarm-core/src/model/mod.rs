//! The cluster model: the cluster, nodes, services, tasks, secrets, configs and networks.
//!
//! Every type is plain data (serde, snake_case, missing fields take their defaults) so that it
//! can be stored in `swarm-store`, sent over the wire and fed to pure reconcile functions.
//! Defaults follow SwarmKit: restart policy `any` after 5 s, update and rollback parallelism 1
//! with no delay, failure action `pause`, monitor 5 s, order `stop-first`, max failure ratio 0,
//! stop grace period 10 s, task history 5, heartbeat 5 s with a node down after 3 missed,
//! snapshot every 10,000 entries, node certificates valid 90 days. Check a spec with [`crate::validate::Validate`]
//! before storing it.

pub mod ca_config;
pub mod cluster;
pub mod config;
pub mod config_data;
pub mod config_reference;
pub mod container;
pub mod dispatcher_config;
pub mod endpoint;
pub mod file_target;
pub mod health_check;
pub mod ids;
pub mod manager_status;
pub mod meta;
pub mod mount;
pub mod network;
pub mod network_attachment;
pub mod node;
pub mod node_description;
pub mod node_status;
pub mod orchestration_config;
pub mod placement;
pub mod platform;
pub mod raft_config;
pub mod resources;
pub mod restart_policy;
pub mod secret;
pub mod secret_data;
pub mod secret_reference;
pub mod service;
pub mod service_mode;
pub mod task;
pub mod task_state;
pub mod update_config;
pub mod update_status;

pub use ca_config::*;
pub use cluster::*;
pub use config::*;
pub use config_data::*;
pub use config_reference::*;
pub use container::*;
pub use dispatcher_config::*;
pub use endpoint::*;
pub use file_target::*;
pub use health_check::*;
pub use ids::*;
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
pub use secret::*;
pub use secret_data::*;
pub use secret_reference::*;
pub use service::*;
pub use service_mode::*;
pub use task::*;
pub use task_state::*;
pub use update_config::*;
pub use update_status::*;
