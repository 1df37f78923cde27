//! The events stream: what changed in the cluster, as managers see their store change.

use crate::model::{
    Node, NodeAvailability, NodeId, NodeRole, NodeState, Service, ServiceId, Task, TaskId,
    TaskState, Version,
};
use std::collections::BTreeMap;

/// Events a receiver may fall behind by before it misses some (it then gets
/// `RecvError::Lagged` with the count, and goes on with the newest).
pub const MAX_BUFFERED_EVENTS: usize = 1024;

/// Something that happened in the cluster (`docker events --filter scope=swarm`): nodes,
/// services, tasks, secrets, configs and networks.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClusterEvent {
    /// A node joined.
    NodeAdded {
        /// The node.
        node: NodeId,
        /// Its role.
        role: NodeRole,
    },
    /// A node was removed.
    NodeRemoved {
        /// The node.
        node: NodeId,
    },
    /// A node's liveness changed (ready, down...).
    NodeStateChanged {
        /// The node.
        node: NodeId,
        /// Before.
        from: NodeState,
        /// After.
        to: NodeState,
    },
    /// A node's desired role changed (promote, demote).
    NodeRoleChanged {
        /// The node.
        node: NodeId,
        /// Before.
        from: NodeRole,
        /// After.
        to: NodeRole,
    },
    /// A node's availability changed (active, pause, drain).
    NodeAvailabilityChanged {
        /// The node.
        node: NodeId,
        /// Before.
        from: NodeAvailability,
        /// After.
        to: NodeAvailability,
    },
    /// Another manager leads (as the node records say).
    LeaderChanged {
        /// The new leader's node, `None` while unknown.
        node: Option<NodeId>,
    },
    /// A service was created.
    ServiceCreated {
        /// The service.
        service: ServiceId,
        /// Its name.
        name: String,
    },
    /// A service's spec changed (update, scale, rollback).
    ServiceUpdated {
        /// The service.
        service: ServiceId,
        /// Its new spec version.
        spec_version: Version,
    },
    /// A service was removed.
    ServiceRemoved {
        /// The service.
        service: ServiceId,
    },
    /// A task's observed state changed, as its node reported or the managers decided.
    TaskStateChanged {
        /// The task.
        task: TaskId,
        /// Its service.
        service: ServiceId,
        /// Its node, once assigned.
        node: Option<NodeId>,
        /// Before (`None`: the task was just created).
        from: Option<TaskState>,
        /// After.
        to: TaskState,
    },
    /// A secret, config or network was created or removed.
    ObjectChanged {
        /// `secret`, `config` or `network`.
        kind: &'static str,
        /// The object's id.
        id: String,
        /// Created (`true`) or removed (`false`).
        created: bool,
    },
}

/// The event of a service going from `before` to `after` (`None`: absent), if any. Pure.
pub fn service_event(before: Option<&Service>, after: Option<&Service>) -> Option<ClusterEvent> {
    match (before, after) {
        (None, Some(s)) => Some(ClusterEvent::ServiceCreated {
            service: s.id.clone(),
            name: s.spec.name.clone(),
        }),
        (Some(s), None) => Some(ClusterEvent::ServiceRemoved {
            service: s.id.clone(),
        }),
        (Some(old), Some(new)) if old.spec_version != new.spec_version => {
            Some(ClusterEvent::ServiceUpdated {
                service: new.id.clone(),
                spec_version: new.spec_version,
            })
        }
        _ => None,
    }
}

/// The event of a task going from `before` to `after`, if its observed state changed. Pure.
pub fn task_event(before: Option<&Task>, after: Option<&Task>) -> Option<ClusterEvent> {
    let after = after?;
    let from = before.map(|t| t.status.state);
    (from != Some(after.status.state)).then(|| ClusterEvent::TaskStateChanged {
        task: after.id.clone(),
        service: after.service_id.clone(),
        node: after.node_id.clone(),
        from,
        to: after.status.state,
    })
}

/// The events between two snapshots of the node records, in node id order. Pure.
pub fn node_events(
    before: &BTreeMap<NodeId, Node>,
    after: &BTreeMap<NodeId, Node>,
) -> Vec<ClusterEvent> {
    let mut events = Vec::new();
    for (id, node) in after {
        let Some(old) = before.get(id) else {
            events.push(ClusterEvent::NodeAdded {
                node: id.clone(),
                role: node.spec.role,
            });
            continue;
        };
        if old.status.state != node.status.state {
            events.push(ClusterEvent::NodeStateChanged {
                node: id.clone(),
                from: old.status.state,
                to: node.status.state,
            });
        }
        if old.spec.role != node.spec.role {
            events.push(ClusterEvent::NodeRoleChanged {
                node: id.clone(),
                from: old.spec.role,
                to: node.spec.role,
            });
        }
        if old.spec.availability != node.spec.availability {
            events.push(ClusterEvent::NodeAvailabilityChanged {
                node: id.clone(),
                from: old.spec.availability,
                to: node.spec.availability,
            });
        }
    }
    for id in before.keys().filter(|id| !after.contains_key(*id)) {
        events.push(ClusterEvent::NodeRemoved { node: id.clone() });
    }
    let leader = |nodes: &BTreeMap<NodeId, Node>| {
        nodes
            .values()
            .find(|n| n.manager_status.as_ref().is_some_and(|m| m.leader))
            .map(|n| n.id.clone())
    };
    let (was, is) = (leader(before), leader(after));
    if was != is && !after.is_empty() {
        events.push(ClusterEvent::LeaderChanged { node: is });
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_and_tasks_become_events() {
        let mut service = Service {
            id: "s1".into(),
            ..Service::default()
        };
        service.spec.name = "web".into();
        assert_eq!(
            service_event(None, Some(&service)),
            Some(ClusterEvent::ServiceCreated {
                service: "s1".into(),
                name: "web".into()
            })
        );
        let mut updated = service.clone();
        updated.meta.version = Version(7);
        assert_eq!(
            service_event(Some(&service), Some(&updated)),
            None,
            "no spec change"
        );
        updated.spec_version = Version(2);
        assert!(matches!(
            service_event(Some(&service), Some(&updated)),
            Some(ClusterEvent::ServiceUpdated { .. })
        ));
        let mut task = Task::new(
            "t1".into(),
            "s1".into(),
            Default::default(),
            std::time::SystemTime::UNIX_EPOCH,
        );
        let created = task_event(None, Some(&task));
        assert!(matches!(
            created,
            Some(ClusterEvent::TaskStateChanged {
                from: None,
                to: TaskState::New,
                ..
            })
        ));
        let before = task.clone();
        task.desired_state = TaskState::Shutdown;
        assert_eq!(task_event(Some(&before), Some(&task)), None, "same state");
        task.status.state = TaskState::Pending;
        assert!(matches!(
            task_event(Some(&before), Some(&task)),
            Some(ClusterEvent::TaskStateChanged {
                from: Some(TaskState::New),
                to: TaskState::Pending,
                ..
            })
        ));
    }

    #[test]
    fn diffs_become_events() {
        let mut a = Node {
            id: NodeId::new("a"),
            ..Node::default()
        };
        let before = BTreeMap::from([(a.id.clone(), a.clone())]);
        a.status.state = NodeState::Down;
        a.spec.availability = NodeAvailability::Drain;
        let b = Node {
            id: NodeId::new("b"),
            ..Node::default()
        };
        let after = BTreeMap::from([(a.id.clone(), a.clone()), (b.id.clone(), b)]);
        let events = node_events(&before, &after);
        assert_eq!(
            events,
            vec![
                ClusterEvent::NodeStateChanged {
                    node: NodeId::new("a"),
                    from: NodeState::Unknown,
                    to: NodeState::Down
                },
                ClusterEvent::NodeAvailabilityChanged {
                    node: NodeId::new("a"),
                    from: NodeAvailability::Active,
                    to: NodeAvailability::Drain
                },
                ClusterEvent::NodeAdded {
                    node: NodeId::new("b"),
                    role: NodeRole::Worker
                },
            ]
        );
        assert_eq!(
            node_events(&after, &before),
            vec![
                ClusterEvent::NodeStateChanged {
                    node: NodeId::new("a"),
                    from: NodeState::Down,
                    to: NodeState::Unknown
                },
                ClusterEvent::NodeAvailabilityChanged {
                    node: NodeId::new("a"),
                    from: NodeAvailability::Drain,
                    to: NodeAvailability::Active
                },
                ClusterEvent::NodeRemoved {
                    node: NodeId::new("b")
                },
            ]
        );
    }
}
