//! The one place that maps between swarm-core's model and the leaf crates' types: node ids,
//! node roles, store member ids, and the placement engine's view of nodes and tasks.
//!
//! swarm-sched, swarm-secrets and swarm-store stay independent of each other and of swarm-core,
//! so each names nodes and roles in its own way. swarm-core composes them, and every conversion
//! between their types is written here, as `From`/`TryFrom` implementations (shown on the types'
//! pages) and the functions of this module:
//!
//! | swarm-core | leaf type | conversion |
//! | --- | --- | --- |
//! | [`NodeRole`] | [`swarm_sched::Role`] | `From`, both ways |
//! | [`NodeRole`] | [`swarm_secrets::Role`] (a certificate's OU) | `From`, both ways |
//! | [`NodeId`], [`TaskId`], [`ServiceId`] | [`swarm_sched::NodeId`], [`swarm_sched::TaskId`], [`swarm_sched::ServiceId`] | `From<&_>`, both ways |
//! | [`NodeId`] | [`swarm_secrets::NodeId`] (a certificate's CN) | `From<&_>` into core; `TryFrom<&NodeId>` out of core, since a certificate id must be a DNS label |
//! | [`Node`] (a manager) | swarm-store's `MemberId` | [`store_member_id`] and [`node_for_store_member`] |
//! | [`Node`] | [`swarm_sched::NodeSpec`] | `TryFrom<&Node>` (see the impl for each field) |
//! | [`NodeAvailability`](crate::model::NodeAvailability) | [`swarm_sched::Availability`] | `From`, both ways |
//! | [`NodeState`](crate::model::NodeState) | [`swarm_sched::Readiness`] | `From` (down and disconnected are both `Down`) |
//! | [`TaskSpec`](crate::model::TaskSpec) | [`swarm_sched::TaskSpec`] | `TryFrom<&TaskSpec>`: reservations, constraints and preferences (read by swarm-sched's parser), platforms, max replicas |
//! | [`Service`](crate::model::Service) | [`swarm_sched::HostPort`]s | [`service_host_ports`]: the host-mode published ports its tasks bind |
//! | [`Protocol`](crate::model::Protocol) | [`swarm_sched::Protocol`] | `From`, both ways |
//! | [`Task`](crate::model::Task) on a node | [`swarm_sched::PlacedTask`] | `TryFrom<&Task>`: what it holds on its node |
//!
//! Amounts keep their units across: CPU in nano-CPUs (1e9 per core, swarm-sched's
//! [`cores_to_nanos`](swarm_sched::cores_to_nanos) converts from cores), memory in bytes;
//! the model's signed amounts become unsigned ones, and a negative amount is a
//! [`SchedConversionError`] naming the field.
//!
//! A manager's store member id is its [`ManagerStatus::raft_id`](crate::model::ManagerStatus::raft_id)
//! (never 0) wrapped in `swarm_store::MemberId`.
//!
//! ```
//! use swarm_core::model::{NodeId, NodeRole};
//!
//! let role: swarm_secrets::Role = NodeRole::Manager.into();
//! assert_eq!(role.as_ou(), "swarm-manager");
//! assert_eq!(NodeRole::from(swarm_sched::Role::Worker), NodeRole::Worker);
//!
//! let id = NodeId::new("node-1");
//! let in_cert = swarm_secrets::NodeId::try_from(&id)?;
//! assert_eq!(NodeId::from(&in_cert), id);
//! assert!(swarm_secrets::NodeId::try_from(&NodeId::new("not a label")).is_err());
//! assert_eq!(swarm_sched::NodeId::from(&id).as_str(), "node-1");
//! # Ok::<(), swarm_secrets::SecretsError>(())
//! ```

mod sched_conversion_error;
mod sched_node;
mod sched_placed_task;
mod sched_task_spec;

pub use sched_conversion_error::SchedConversionError;
pub use sched_task_spec::service_host_ports;

use crate::model::{Node, NodeId, NodeRole, ServiceId, TaskId};

/// `From` both ways between [`NodeRole`] and a leaf crate's role enum with the same two
/// variants.
macro_rules! role_both_ways {
    ($($leaf:ty),+) => {$(
        impl From<NodeRole> for $leaf {
            fn from(role: NodeRole) -> Self {
                match role {
                    NodeRole::Worker => <$leaf>::Worker,
                    NodeRole::Manager => <$leaf>::Manager,
                }
            }
        }

        impl From<$leaf> for NodeRole {
            fn from(role: $leaf) -> Self {
                match role {
                    <$leaf>::Worker => NodeRole::Worker,
                    <$leaf>::Manager => NodeRole::Manager,
                }
            }
        }
    )+};
}

role_both_ways!(swarm_sched::Role, swarm_secrets::Role);

/// `From<&_>` both ways between one of swarm-core's id types and swarm-sched's id of the
/// same object; the text is kept.
macro_rules! sched_id_both_ways {
    ($($core:ty => $leaf:ty),+) => {$(
        impl From<&$core> for $leaf {
            fn from(id: &$core) -> Self {
                <$leaf>::new(id.as_str())
            }
        }

        impl From<&$leaf> for $core {
            fn from(id: &$leaf) -> Self {
                <$core>::new(id.as_str())
            }
        }
    )+};
}

sched_id_both_ways!(
    NodeId => swarm_sched::NodeId,
    TaskId => swarm_sched::TaskId,
    ServiceId => swarm_sched::ServiceId
);

/// A node id becomes a certificate's common name only if it is a DNS label (1 to 63 ASCII
/// letters, digits or `-`, not starting or ending with `-`); swarm-core's ids are any string.
impl TryFrom<&NodeId> for swarm_secrets::NodeId {
    type Error = swarm_secrets::SecretsError;

    fn try_from(id: &NodeId) -> Result<Self, Self::Error> {
        swarm_secrets::NodeId::new(id.as_str())
    }
}

impl From<&swarm_secrets::NodeId> for NodeId {
    fn from(id: &swarm_secrets::NodeId) -> Self {
        NodeId::new(id.as_str())
    }
}

/// The swarm-store member id of `node` (the integer `swarm_store::MemberId` wraps): its
/// manager status's `raft_id`. `None` for a node without a manager status (a worker, or a
/// manager not yet in the Raft group) or whose `raft_id` is 0 (not assigned). The desired role
/// does not matter: a manager being demoted stays a member until it has left the group.
///
/// ```
/// use swarm_core::mapping::store_member_id;
/// use swarm_core::model::{ManagerStatus, Node, NodeRole};
///
/// let mut node = Node::default();
/// assert_eq!(store_member_id(&node), None);
/// node.spec.role = NodeRole::Manager;
/// node.manager_status = Some(ManagerStatus { raft_id: 7, ..ManagerStatus::default() });
/// assert_eq!(store_member_id(&node), Some(swarm_store::MemberId(7)));
/// ```
pub fn store_member_id(node: &Node) -> Option<swarm_store::MemberId> {
    node.manager_status
        .as_ref()
        .map(|status| status.raft_id)
        .filter(|&raw| raw != 0)
        .map(swarm_store::MemberId)
}

/// The largest Raft id: ids are drawn below 2^63, so transports can give nodes that are not
/// store members ids with the top bit set without ever colliding with a member's.
pub const MAX_RAFT_ID: u64 = u64::MAX >> 1;

/// The node among `nodes` whose swarm-store member id is `member_id` (see
/// [`store_member_id`]).
pub fn node_for_store_member<'a>(
    nodes: impl IntoIterator<Item = &'a Node>,
    member_id: swarm_store::MemberId,
) -> Option<&'a Node> {
    nodes
        .into_iter()
        .find(|node| store_member_id(node) == Some(member_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ManagerStatus;

    #[test]
    fn roles_round_trip_through_both_leaf_crates() {
        for role in [NodeRole::Worker, NodeRole::Manager] {
            assert_eq!(NodeRole::from(swarm_sched::Role::from(role)), role);
            assert_eq!(NodeRole::from(swarm_secrets::Role::from(role)), role);
            // Every crate spells the role the same way where it shows it.
            assert_eq!(swarm_sched::Role::from(role).as_str(), role.to_string());
            assert_eq!(
                swarm_secrets::Role::from(role).as_ou(),
                format!("swarm-{role}")
            );
        }
    }

    #[test]
    fn node_ids_keep_their_text() {
        let id = NodeId::new("a1b2c3");
        assert_eq!(NodeId::from(&swarm_sched::NodeId::from(&id)), id);
        let task = TaskId::new("t.1");
        assert_eq!(TaskId::from(&swarm_sched::TaskId::from(&task)), task);
        let service = ServiceId::new("web");
        assert_eq!(
            ServiceId::from(&swarm_sched::ServiceId::from(&service)),
            service
        );
        let cert_id = swarm_secrets::NodeId::try_from(&id).unwrap();
        assert_eq!(cert_id.as_str(), "a1b2c3");
        assert_eq!(NodeId::from(&cert_id), id);
        for not_a_label in ["", "-a", "a.b", "with space"] {
            assert!(swarm_secrets::NodeId::try_from(&NodeId::new(not_a_label)).is_err());
        }
    }

    #[test]
    fn member_ids_are_the_assigned_raft_ids() {
        let node = |id: &str, role: NodeRole, raft_id: Option<u64>| Node {
            id: NodeId::new(id),
            spec: crate::model::NodeSpec {
                role,
                ..Default::default()
            },
            manager_status: raft_id.map(|raft_id| ManagerStatus {
                raft_id,
                ..ManagerStatus::default()
            }),
            ..Node::default()
        };
        let nodes = [
            node("w", NodeRole::Worker, None),
            node("m0", NodeRole::Manager, Some(0)),
            node("m-new", NodeRole::Manager, None),
            node("m3", NodeRole::Manager, Some(3)),
            node("demoted", NodeRole::Worker, Some(5)),
        ];
        let ids: Vec<_> = nodes.iter().map(store_member_id).collect();
        let m = swarm_store::MemberId;
        assert_eq!(ids, [None, None, None, Some(m(3)), Some(m(5))]);
        assert_eq!(
            node_for_store_member(&nodes, m(3)).map(|n| n.id.as_str()),
            Some("m3")
        );
        assert!(node_for_store_member(&nodes, m(0)).is_none());
        assert!(node_for_store_member(&nodes, m(9)).is_none());
    }
}
