//! Docker's events (`GET /events`, `docker events --filter scope=swarm`): swarm-core's cluster
//! events of services, nodes, secrets, configs and networks as dockerd writes them
//! (`Type`, `Action`, `Actor{ID, Attributes}`, `scope: "swarm"`, `time`, `timeNano`), and the
//! `filters` dockerd accepts for them.
//!
//! Tasks have no Docker event (dockerd emits none either), nor does a leader change.

use crate::api_error::ApiError;
use crate::query::Filters;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};
use swarm_core::node::ClusterEvent;

/// The filter keys dockerd accepts on `/events`.
const FILTER_KEYS: &[&str] = &[
    "config",
    "container",
    "daemon",
    "event",
    "image",
    "label",
    "network",
    "node",
    "plugin",
    "scope",
    "secret",
    "service",
    "type",
    "volume",
];

/// One event as dockerd writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DockerEvent {
    /// `service`, `node`, `secret`, `config` or `network`.
    pub(crate) kind: &'static str,
    /// `create`, `update` or `remove`.
    pub(crate) action: &'static str,
    /// The object's id.
    pub(crate) id: String,
    /// `name` (when known) and, for updates, what changed (`state.old`, `state.new`, ...).
    pub(crate) attributes: BTreeMap<String, String>,
    /// When swarmd saw it.
    pub(crate) time: SystemTime,
}

/// The Docker event of a cluster event (its name still to be looked up), if there is one.
pub(crate) fn from_cluster(event: &ClusterEvent, time: SystemTime) -> Option<DockerEvent> {
    let mut attributes = BTreeMap::new();
    let mut changed = |what: &str, old: String, new: String| {
        attributes.insert(format!("{what}.old"), old);
        attributes.insert(format!("{what}.new"), new);
    };
    let (kind, action, id) = match event {
        ClusterEvent::NodeAdded { node, .. } => ("node", "create", node.to_string()),
        ClusterEvent::NodeRemoved { node } => ("node", "remove", node.to_string()),
        ClusterEvent::NodeStateChanged { node, from, to } => {
            changed("state", from.to_string(), to.to_string());
            ("node", "update", node.to_string())
        }
        ClusterEvent::NodeRoleChanged { node, from, to } => {
            changed("role", from.to_string(), to.to_string());
            ("node", "update", node.to_string())
        }
        ClusterEvent::NodeAvailabilityChanged { node, from, to } => {
            changed("availability", from.to_string(), to.to_string());
            ("node", "update", node.to_string())
        }
        ClusterEvent::ServiceCreated { service, name } => {
            attributes.insert("name".to_owned(), name.clone());
            ("service", "create", service.to_string())
        }
        ClusterEvent::ServiceUpdated { service, .. } => ("service", "update", service.to_string()),
        ClusterEvent::ServiceRemoved { service } => ("service", "remove", service.to_string()),
        ClusterEvent::ObjectChanged { kind, id, created } => {
            let kind = match *kind {
                "secret" => "secret",
                "config" => "config",
                "network" => "network",
                _ => return None,
            };
            (kind, if *created { "create" } else { "remove" }, id.clone())
        }
        _ => return None,
    };
    Some(DockerEvent {
        kind,
        action,
        id,
        attributes,
        time,
    })
}

impl DockerEvent {
    /// The event's name attribute, if known.
    pub(crate) fn name(&self) -> Option<&str> {
        self.attributes.get("name").map(String::as_str)
    }

    /// The JSON dockerd writes (one document per line of the stream).
    pub(crate) fn to_json(&self) -> Value {
        let since_epoch = self.time.duration_since(UNIX_EPOCH).unwrap_or_default();
        json!({
            "Type": self.kind,
            "Action": self.action,
            "Actor": { "ID": self.id, "Attributes": self.attributes },
            "scope": "swarm",
            "time": since_epoch.as_secs(),
            "timeNano": since_epoch.as_nanos(),
        })
    }

    /// Whether the event passes `filters` (each key given must match one of its values).
    pub(crate) fn matches(&self, filters: &Filters) -> bool {
        FILTER_KEYS.iter().all(|key| {
            let wanted = filters.get(key);
            wanted.is_empty() || wanted.iter().any(|v| self.matches_one(key, v))
        })
    }

    fn matches_one(&self, key: &str, value: &str) -> bool {
        match key {
            "type" => self.kind == value,
            "event" => self.action == value,
            "scope" => value == "swarm",
            "service" | "node" | "secret" | "config" | "network" => {
                self.kind == key && (self.id == value || self.name() == Some(value))
            }
            "label" => match value.split_once('=') {
                Some((k, v)) => self.attributes.get(k).is_some_and(|a| a == v),
                None => self.attributes.contains_key(value),
            },
            _ => false,
        }
    }
}

/// Refuses the filter keys dockerd refuses on `/events`.
pub(crate) fn check_filters(filters: &Filters) -> Result<(), ApiError> {
    filters.only(FILTER_KEYS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use swarm_core::model::{NodeAvailability, NodeState};

    fn at() -> SystemTime {
        UNIX_EPOCH + Duration::new(1_700_000_000, 5)
    }

    #[test]
    fn a_service_creation_in_dockers_json() {
        let e = from_cluster(
            &ClusterEvent::ServiceCreated {
                service: "s1".into(),
                name: "web".into(),
            },
            at(),
        )
        .unwrap();
        assert_eq!(
            e.to_json(),
            json!({
                "Type": "service", "Action": "create",
                "Actor": { "ID": "s1", "Attributes": { "name": "web" } },
                "scope": "swarm", "time": 1_700_000_000u64, "timeNano": 1_700_000_000_000_000_005u128,
            })
        );
    }

    #[test]
    fn node_changes_name_old_and_new() {
        let e = from_cluster(
            &ClusterEvent::NodeStateChanged {
                node: "n1".into(),
                from: NodeState::Ready,
                to: NodeState::Down,
            },
            at(),
        )
        .unwrap();
        assert_eq!((e.kind, e.action), ("node", "update"));
        assert_eq!(e.attributes["state.old"], "ready");
        assert_eq!(e.attributes["state.new"], "down");
        let e = from_cluster(
            &ClusterEvent::NodeAvailabilityChanged {
                node: "n1".into(),
                from: NodeAvailability::Active,
                to: NodeAvailability::Drain,
            },
            at(),
        )
        .unwrap();
        assert_eq!(e.attributes["availability.new"], "drain");
        let e = from_cluster(
            &ClusterEvent::ObjectChanged {
                kind: "secret",
                id: "x1".into(),
                created: false,
            },
            at(),
        )
        .unwrap();
        assert_eq!(
            (e.kind, e.action, e.id.as_str()),
            ("secret", "remove", "x1")
        );
        assert!(from_cluster(&ClusterEvent::LeaderChanged { node: None }, at()).is_none());
    }

    #[test]
    fn filters_as_dockerd() {
        let mut e = from_cluster(
            &ClusterEvent::ServiceRemoved {
                service: "s1".into(),
            },
            at(),
        )
        .unwrap();
        e.attributes.insert("name".into(), "web".into());
        let f = |raw: &str| Filters::parse(Some(raw)).unwrap();
        assert!(e.matches(&Filters::default()));
        assert!(e.matches(&f(r#"{"scope":{"swarm":true}}"#)));
        assert!(!e.matches(&f(r#"{"scope":{"local":true}}"#)));
        assert!(e.matches(&f(r#"{"type":{"service":true,"node":true}}"#)));
        assert!(!e.matches(&f(r#"{"type":{"node":true}}"#)));
        assert!(e.matches(&f(r#"{"service":{"web":true}}"#)));
        assert!(e.matches(&f(r#"{"service":{"s1":true}}"#)));
        assert!(!e.matches(&f(r#"{"node":{"s1":true}}"#)));
        assert!(e.matches(&f(r#"{"event":{"remove":true}}"#)));
        assert!(!e.matches(&f(r#"{"event":{"create":true}}"#)));
        assert!(!e.matches(&f(r#"{"container":{"c":true}}"#)));
        assert!(check_filters(&f(r#"{"bogus":{"x":true}}"#)).is_err());
        assert!(check_filters(&f(r#"{"scope":{"swarm":true}}"#)).is_ok());
    }
}
