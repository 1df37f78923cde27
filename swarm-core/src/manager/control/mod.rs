//! The control API's rules (SwarmKit's `manager/controlapi`), as pure steps over a
//! [`ClusterView`] (cluster and nodes) or a [`ClusterState`] (services, tasks, secrets,
//! configs, networks).
//!
//! | step | request |
//! | --- | --- |
//! | [`init_cluster`] | `swarm init`: cluster object, join tokens, founding manager |
//! | [`update_cluster`] | `swarm update`: settings, with a version check |
//! | [`join_token`], [`rotate_join_token`] | `swarm join-token [--rotate] <role>` |
//! | [`list_nodes`], [`find_node`] | `node ls` with filters, `node inspect` by id, name or id prefix |
//! | [`update_node`], [`set_node_role`] | `node update`, `node promote` / `node demote` |
//! | [`remove_node`] | `node rm [--force]`, revoking the node's certificate |
//! | [`leave_node`] | `swarm leave [--force]` |
//! | [`unlock_key`], [`rotate_unlock_key`] | `swarm unlock-key [--rotate]` (the key follows autolock: [`settle_unlock_key`]) |
//! | [`create_service`], [`list_services`], [`find_service`] | `service create`, `service ls` with filters, `service inspect` |
//! | [`update_service`], [`scale_service`], [`remove_service`] | `service update` (with the version read), `service scale`, `service rm` |
//! | [`rollback_service`] | `service rollback`: back to the previous spec, rolled out by the update supervisor |
//! | [`list_tasks`], [`find_task`] | `service ps` / `node ps` with filters, task inspect |
//! | [`render_service_ls`], [`render_service_ps`] | the `service ls` and `service ps` tables as the CLI prints them |
//! | [`create_secret`], [`list_secrets`], [`find_secret`], [`update_secret`], [`remove_secret`] | `secret create/ls/inspect/update/rm` (never the value: [`SecretInfo`]; only labels change) |
//! | [`create_config`], [`list_configs`], [`find_config`], [`update_config`], [`remove_config`] | `config create/ls/inspect/update/rm` (only labels change) |
//! | [`create_network`], [`list_networks`], [`find_network`], [`remove_network`] | `network create/ls/inspect/rm` (overlay) |
//!
//! Lookups take an exact id, then an exact name, then a unique id prefix, as the docker CLI.
//! Every refusal is a [`ControlError`] naming the node (id and hostname), the cluster or the
//! object ([`ObjectRef`]: type, id and name) and the rule.
//!
//! [`ClusterState`]: crate::manager::cluster_state::ClusterState

mod cluster_init;
mod cluster_update;
mod config_control;
pub(crate) mod error;
mod file_object;
mod join_token_rotation;
mod network_control;
mod node_leave;
mod node_query;
mod node_remove;
mod node_role;
mod node_update;
mod object_query;
mod object_ref;
mod revocations;
mod secret_control;
mod secret_info;
mod service_create;
mod service_query;
mod service_remove;
mod service_rollback;
mod service_spec_check;
mod service_table;
mod service_update;
mod task_query;
mod unlock_key;
mod view;

#[cfg(test)]
mod object_control_tests;
#[cfg(test)]
pub(crate) mod object_fixture;
#[cfg(test)]
mod service_control_tests;

pub use cluster_init::{InitDecision, InitRequest, init_cluster};
pub use cluster_update::{ClusterUpdate, update_cluster};
pub use config_control::{create_config, find_config, list_configs, remove_config, update_config};
pub use error::{ControlError, NodeRef};
pub use join_token_rotation::{join_token, rotate_join_token};
pub use network_control::{create_network, find_network, list_networks, remove_network};
pub use node_leave::{LEFT_MESSAGE, leave_node};
pub use node_query::{MAX_NAMED_CANDIDATES, NodeFilter, find_node, list_nodes};
pub use node_remove::remove_node;
pub use node_role::{is_reachable_member, quorum};
pub use node_update::{NodeUpdate, set_node_role, update_node};
pub use object_query::Created;
pub(crate) use object_query::by_id_or_name;
pub use object_ref::{ObjectRef, ObjectType};
pub use revocations::revoked_node_ids;
pub use secret_control::{create_secret, find_secret, list_secrets, remove_secret, update_secret};
pub use secret_info::SecretInfo;
pub use service_create::create_service;
pub use service_query::{ServiceFilter, ServiceModeKind, find_service, list_services};
pub use service_remove::remove_service;
pub use service_rollback::rollback_service;
pub use service_table::{SHORT_ID_CHARS, render_service_ls, render_service_ps};
pub use service_update::{scale_service, update_service};
pub use task_query::{TaskFilter, find_task, list_tasks};
pub use unlock_key::{rotate_unlock_key, settle_unlock_key, unlock_key};
pub use view::ClusterView;
