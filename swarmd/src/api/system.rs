//! `/_ping`, `/version` and `/info`.

use crate::api_error::SWARM_LOCKED;
use crate::daemon::Daemon;
use crate::docker::cluster;
use crate::docker::node::host_of;
use crate::docker::tls_info::tls_info;
use crate::reply::{self, API_VERSION, MIN_API_VERSION, Reply};
use hyper::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use swarm_core::manager::control::NodeFilter;
use swarm_core::model::NodeRole;

/// `HEAD|GET /_ping`: `OK`, with the `Api-Version` header the CLI negotiates with.
pub(crate) fn ping() -> Reply {
    reply::text(StatusCode::OK, "OK")
}

/// Go's name of this machine's architecture.
pub(crate) fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}

/// `GET /version`.
pub(crate) fn version() -> Reply {
    let v = env!("CARGO_PKG_VERSION");
    reply::ok(&json!({
        "Platform": { "Name": "swarmd" },
        "Components": [{ "Name": "swarmd", "Version": v, "Details": { "ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION } }],
        "Version": v,
        "ApiVersion": API_VERSION,
        "MinAPIVersion": MIN_API_VERSION,
        "GitCommit": "",
        "GoVersion": "",
        "Os": std::env::consts::OS,
        "Arch": go_arch(),
        "KernelVersion": "",
    }))
}

/// `GET /info`: the host, and the `Swarm` section the CLI reads (`node ls` marks the node
/// it is talking to, `swarm join` says which role it got).
pub(crate) async fn info(d: &Arc<Daemon>) -> Reply {
    let described = d.config.tasks.runtime().describe().await.ok();
    let (hostname, ncpu, mem) = described
        .as_ref()
        .map(|n| {
            (
                n.hostname.clone(),
                n.resources.nano_cpus / 1_000_000_000,
                n.resources.memory_bytes,
            )
        })
        .unwrap_or_default();
    let hostname = d.config.hostname.clone().unwrap_or(hostname);
    let swarm = swarm_section(d).await;
    reply::ok(&json!({
        "ID": "",
        "Containers": 0, "ContainersRunning": 0, "ContainersPaused": 0, "ContainersStopped": 0,
        "Images": 0,
        "Name": hostname,
        "NCPU": ncpu,
        "MemTotal": mem,
        "OSType": std::env::consts::OS,
        "OperatingSystem": "swarmd",
        "Architecture": std::env::consts::ARCH,
        "ServerVersion": env!("CARGO_PKG_VERSION"),
        "Labels": [],
        "ExperimentalBuild": false,
        "Swarm": swarm,
    }))
}

async fn swarm_section(d: &Arc<Daemon>) -> Value {
    let Some(facts) = d.facts().await else {
        if d.is_locked() {
            return json!({
                "NodeID": "", "NodeAddr": "", "LocalNodeState": "locked", "ControlAvailable": false,
                "Error": SWARM_LOCKED, "RemoteManagers": null,
            });
        }
        let error = d.start_error();
        let state = if error.is_empty() {
            "inactive"
        } else {
            "error"
        };
        return json!({
            "NodeID": "", "NodeAddr": "", "LocalNodeState": state, "ControlAvailable": false,
            "Error": error, "RemoteManagers": null,
        });
    };
    let managers: Vec<Value> = facts
        .managers
        .iter()
        .map(|(id, addr)| json!({ "NodeID": id, "Addr": addr }))
        .collect();
    let mut s = json!({
        "NodeID": facts.node_id,
        "NodeAddr": host_of(&facts.advertise_addr),
        "LocalNodeState": "active",
        "ControlAvailable": facts.role == Some(NodeRole::Manager),
        "Error": "",
        "RemoteManagers": managers,
    });
    if facts.role == Some(NodeRole::Manager) {
        if let Ok(control) = d.control().await {
            if let Ok(nodes) = control.nodes(&NodeFilter::default()).await {
                s["Nodes"] = nodes.len().into();
                s["Managers"] = nodes
                    .iter()
                    .filter(|n| n.manager_status.is_some())
                    .count()
                    .into();
            }
            if let Ok(c) = control.cluster().await {
                s["Cluster"] = cluster::to_docker(&c, false);
                if let Some(tls) = d.root_ca_der().await.as_deref().and_then(tls_info) {
                    s["Cluster"]["TLSInfo"] = tls;
                }
            }
        }
    }
    s
}
