//! The labels that link a container to its task, and container names.

use std::collections::HashMap;
use swarm_core::model::Task;

/// Label present (value `"true"`) on every container this adapter creates.
pub const LABEL_MANAGED: &str = "com.swarm.managed";
/// Label holding the adapter's namespace ([`DockerConfig::namespace`](crate::DockerConfig)).
pub const LABEL_NAMESPACE: &str = "com.swarm.namespace";
/// Label holding the task's id.
pub const LABEL_TASK_ID: &str = "com.swarm.task.id";
/// Label holding the task's service id.
pub const LABEL_SERVICE_ID: &str = "com.swarm.service.id";
/// Label holding the task's replica slot, when it has one.
pub const LABEL_SLOT: &str = "com.swarm.task.slot";
/// Label holding the task's node id, when it has one.
pub const LABEL_NODE_ID: &str = "com.swarm.node.id";
/// Label holding the cluster network's id on the local Docker network made for it (see
/// [`local_network_name`](crate::local_network_name)); such networks carry
/// [`LABEL_MANAGED`] and [`LABEL_NAMESPACE`] (the namespace that created them) too.
pub const LABEL_NETWORK_ID: &str = "com.swarm.network.id";

/// Label listing the ingress-mode published ports of the task's service
/// (`published:target/protocol`, comma-separated, see [`IngressPort`](crate::IngressPort)), on
/// the containers of tasks whose service publishes through the routing mesh: a routing mesh
/// of the node (the adapter has none) finds the containers to forward each published port to.
pub const LABEL_INGRESS_PORTS: &str = "com.swarm.ingress.ports";

/// Prefix reserved for the adapter's own labels: a spec label under it is rejected so that a
/// task cannot pose as another one.
pub const RESERVED_LABEL_PREFIX: &str = "com.swarm.";

/// Longest container name the adapter produces (Docker accepts far longer; this keeps `docker
/// ps` readable and bounds what a task id can make us send).
const MAX_CONTAINER_NAME_BYTES: usize = 200;

/// The container labels for `task`: the spec's own labels plus the adapter's.
pub(crate) fn container_labels(task: &Task, namespace: &str) -> HashMap<String, String> {
    let mut labels: HashMap<String, String> = task
        .spec
        .container
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    labels.insert(LABEL_MANAGED.to_owned(), "true".to_owned());
    labels.insert(LABEL_NAMESPACE.to_owned(), namespace.to_owned());
    labels.insert(LABEL_TASK_ID.to_owned(), task.id.to_string());
    labels.insert(LABEL_SERVICE_ID.to_owned(), task.service_id.to_string());
    if let Some(slot) = task.slot {
        labels.insert(LABEL_SLOT.to_owned(), slot.to_string());
    }
    if let Some(node) = &task.node_id {
        labels.insert(LABEL_NODE_ID.to_owned(), node.to_string());
    }
    labels
}

/// Docker names match `[a-zA-Z0-9][a-zA-Z0-9_.-]*`: every other byte becomes `_`.
pub(crate) fn sanitize(part: &str) -> String {
    part.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The container name of a task: `<prefix>-<namespace>-<task id>`, sanitized and bounded.
pub(crate) fn container_name(prefix: &str, namespace: &str, task_id: &str) -> String {
    let mut name = format!(
        "{}-{}-{}",
        sanitize(prefix),
        sanitize(namespace),
        sanitize(task_id)
    );
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        name.insert(0, 's');
    }
    if name.len() > MAX_CONTAINER_NAME_BYTES {
        // Only ASCII is left after sanitize, so any byte index is a char boundary.
        name.truncate(MAX_CONTAINER_NAME_BYTES);
    }
    name
}

/// A file-system-safe directory name for a task or namespace.
pub(crate) fn dir_name(id: &str) -> String {
    let s = sanitize(id);
    // `.` and `..` would escape the parent directory.
    if s.chars().all(|c| c == '.') {
        format!("_{s}")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_valid_docker_names() {
        assert_eq!(container_name("swarm", "ns", "abc123"), "swarm-ns-abc123");
        assert_eq!(container_name("swarm", "n s", "a/b:c"), "swarm-n_s-a_b_c");
        assert_eq!(container_name("_x", "ns", "t"), "s_x-ns-t");
        let long = "t".repeat(500);
        assert_eq!(
            container_name("swarm", "ns", &long).len(),
            MAX_CONTAINER_NAME_BYTES
        );
    }

    #[test]
    fn dir_names_cannot_escape() {
        assert_eq!(dir_name(".."), "_..");
        assert_eq!(dir_name("."), "_.");
        assert_eq!(dir_name("../etc"), ".._etc");
        assert_eq!(dir_name("a/b"), "a_b");
    }
}
