//! Nodes: `GET /nodes`, `GET /nodes/{id}`, and the spec of `POST /nodes/{id}/update`.

use crate::docker::mapping_error::MappingError;
use crate::docker::meta::object;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use swarm_core::model::{Node, NodeAvailability, NodeMembership, NodeRole, NodeSpec, NodeState};

/// Docker's `NodeSpec`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerNodeSpec {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub(crate) role: String,
    #[serde(default)]
    pub(crate) availability: String,
}

/// The model's spec from Docker's (`Role` and `Availability` required as Docker does).
pub(crate) fn spec_from_docker(d: &DockerNodeSpec) -> Result<NodeSpec, MappingError> {
    let role = match d.role.as_str() {
        "manager" => NodeRole::Manager,
        "worker" => NodeRole::Worker,
        other => {
            return Err(MappingError::invalid(
                "Role",
                format!("invalid role {other:?}: manager or worker"),
            ));
        }
    };
    let availability = match d.availability.as_str() {
        "active" => NodeAvailability::Active,
        "pause" => NodeAvailability::Pause,
        "drain" => NodeAvailability::Drain,
        other => {
            return Err(MappingError::invalid(
                "Availability",
                format!("invalid availability {other:?}: active, pause or drain"),
            ));
        }
    };
    Ok(NodeSpec {
        name: d.name.clone(),
        labels: d.labels.clone().unwrap_or_default(),
        role,
        availability,
        membership: NodeMembership::Accepted,
    })
}

/// Docker's spec from the model's.
pub(crate) fn spec_to_docker(s: &NodeSpec) -> DockerNodeSpec {
    DockerNodeSpec {
        name: s.name.clone(),
        labels: Some(s.labels.clone()),
        role: s.role.to_string(),
        availability: s.availability.to_string(),
    }
}

/// The host part of `host:port` (Docker's `Status.Addr` is an address without port).
pub(crate) fn host_of(addr: &str) -> &str {
    match addr.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => {
            host.trim_start_matches('[').trim_end_matches(']')
        }
        _ => addr,
    }
}

/// A node as `GET /nodes/{id}` answers; `tls` is its `Description.TLSInfo` (swarmd gives
/// every node the root CA of the node answering, which is every node's outside a root
/// rotation).
pub(crate) fn to_docker(node: &Node, tls: Option<&Value>) -> Value {
    let description = node.description.as_ref().map(|d| {
        let mut v = json!({
            "Hostname": d.hostname,
            "Platform": { "Architecture": d.platform.architecture, "OS": d.platform.os },
            "Resources": { "NanoCPUs": d.resources.nano_cpus, "MemoryBytes": d.resources.memory_bytes },
            "Engine": {
                "EngineVersion": d.engine.engine_version,
                "Labels": d.engine.labels,
                "Plugins": [],
            },
        });
        if let Some(tls) = tls {
            v["TLSInfo"] = tls.clone();
        }
        v
    });
    let state = match node.status.state {
        NodeState::Unknown => "unknown",
        NodeState::Ready => "ready",
        NodeState::Down => "down",
        NodeState::Disconnected => "disconnected",
    };
    let mut status = json!({ "State": state, "Addr": host_of(&node.status.addr) });
    if !node.status.message.is_empty() {
        status["Message"] = node.status.message.clone().into();
    }
    let mut rest = vec![
        ("Spec", json!(spec_to_docker(&node.spec))),
        ("Description", description.unwrap_or_else(|| json!({}))),
        ("Status", status),
    ];
    if let Some(m) = &node.manager_status {
        let mut ms = json!({
            "Reachability": m.reachability.to_string(),
            "Addr": m.addr,
        });
        if m.leader {
            ms["Leader"] = true.into();
        }
        rest.push(("ManagerStatus", ms));
    }
    object(node.id.as_str(), &node.meta, rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarm_core::model::{ManagerStatus, NodeDescription, NodeStatus, Reachability};

    /// The node of the recorded `docker node ls` (fixtures docker-28.2/02-node-ls.http).
    const RECORDED_SPEC: &str = r#"{"Labels":{},"Role":"manager","Availability":"active"}"#;

    #[test]
    fn recorded_spec_maps_field_by_field_and_back() {
        let d: DockerNodeSpec = serde_json::from_str(RECORDED_SPEC).unwrap();
        let spec = spec_from_docker(&d).unwrap();
        assert_eq!(spec.role, NodeRole::Manager);
        assert_eq!(spec.availability, NodeAvailability::Active);
        assert!(spec.labels.is_empty() && spec.name.is_empty());
        let back = serde_json::to_string(&spec_to_docker(&spec)).unwrap();
        assert_eq!(back, RECORDED_SPEC);
    }

    #[test]
    fn label_update_of_the_cli_is_read() {
        // fixtures docker-28.2/05-node-update-label.http
        let d: DockerNodeSpec = serde_json::from_str(
            r#"{"Labels":{"zone":"a"},"Role":"manager","Availability":"drain"}"#,
        )
        .unwrap();
        let spec = spec_from_docker(&d).unwrap();
        assert_eq!(spec.labels.get("zone").map(String::as_str), Some("a"));
        assert_eq!(spec.availability, NodeAvailability::Drain);
    }

    #[test]
    fn unknown_fields_and_values_are_refused_by_name() {
        let e =
            serde_json::from_str::<DockerNodeSpec>(r#"{"Role":"manager","Bogus":1}"#).unwrap_err();
        assert!(e.to_string().contains("Bogus"));
        let d: DockerNodeSpec =
            serde_json::from_str(r#"{"Role":"boss","Availability":"active"}"#).unwrap();
        assert!(
            spec_from_docker(&d)
                .unwrap_err()
                .to_string()
                .contains("Role")
        );
    }

    #[test]
    fn node_document_has_the_fields_the_cli_reads() {
        let node = Node {
            id: "ysy788hz9ftm3baanyy3f0ew9".into(),
            spec: NodeSpec {
                role: NodeRole::Manager,
                ..NodeSpec::default()
            },
            description: Some(NodeDescription {
                hostname: "vm".into(),
                ..NodeDescription::default()
            }),
            status: NodeStatus {
                state: NodeState::Ready,
                message: String::new(),
                addr: "127.0.0.1:40000".into(),
            },
            manager_status: Some(ManagerStatus {
                raft_id: 1,
                leader: true,
                reachability: Reachability::Reachable,
                addr: "127.0.0.1:2377".into(),
            }),
            ..Node::default()
        };
        let v = to_docker(&node, None);
        assert!(v["Description"].get("TLSInfo").is_none());
        let tls =
            json!({ "TrustRoot": "pem", "CertIssuerSubject": "s", "CertIssuerPublicKey": "k" });
        assert_eq!(to_docker(&node, Some(&tls))["Description"]["TLSInfo"], tls);
        assert_eq!(v["ID"], "ysy788hz9ftm3baanyy3f0ew9");
        assert_eq!(v["Version"]["Index"], 0);
        assert_eq!(v["Description"]["Hostname"], "vm");
        assert_eq!(v["Status"]["State"], "ready");
        assert_eq!(v["Status"]["Addr"], "127.0.0.1");
        assert_eq!(v["ManagerStatus"]["Leader"], true);
        assert_eq!(v["ManagerStatus"]["Reachability"], "reachable");
        assert_eq!(v["ManagerStatus"]["Addr"], "127.0.0.1:2377");
        assert_eq!(v["Spec"]["Role"], "manager");
    }
}
