//! The control API's rules (SwarmKit's `manager/controlapi`), as pure steps over a
//! [`ClusterView`].
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
//!
//! Every refusal is a [`ControlError`] naming the node (id and hostname) or the cluster and
//! the rule.

mod cluster_init;
mod cluster_update;
pub(crate) mod error;
mod join_token_rotation;
mod node_leave;
mod node_query;
mod node_remove;
mod node_role;
mod node_update;
mod revocations;
mod unlock_key;
mod view;

pub use cluster_init::{InitDecision, InitRequest, init_cluster};
pub use cluster_update::{ClusterUpdate, update_cluster};
pub use error::{ControlError, NodeRef};
pub use join_token_rotation::{join_token, rotate_join_token};
pub use node_leave::{LEFT_MESSAGE, leave_node};
pub use node_query::{MAX_NAMED_CANDIDATES, NodeFilter, find_node, list_nodes};
pub use node_remove::remove_node;
pub use node_role::{is_reachable_member, quorum};
pub use node_update::{NodeUpdate, set_node_role, update_node};
pub use revocations::revoked_node_ids;
pub use unlock_key::{rotate_unlock_key, settle_unlock_key, unlock_key};
pub use view::ClusterView;
