//! `service ps` / `node ps` filters and `inspect` of a task (SwarmKit's controlapi
//! `ListTasks`, with the docker daemon's resolution of services and nodes by name).

use crate::manager::cluster_state::ClusterState;
use crate::manager::control::error::ControlError;
use crate::manager::control::node_query::find_node;
use crate::manager::control::object_query::find_object;
use crate::manager::control::service_query::{find_service, labels_match};
use crate::model::{Node, NodeId, ServiceId, Task, TaskState};
use std::collections::{BTreeMap, BTreeSet};

/// Filters of the task list. Within one field the values are alternatives (any may match);
/// across fields all must match; an empty field matches every task.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TaskFilter {
    /// Task id prefixes.
    pub id_prefixes: Vec<String>,
    /// Services, each by id, name or id prefix (as `service inspect`).
    pub services: Vec<String>,
    /// Nodes, each by id, name or id prefix (as `node inspect`).
    pub nodes: Vec<String>,
    /// Desired states.
    pub desired_states: Vec<TaskState>,
    /// Labels of the task's **service** that must all be present (`None`: any value), as the
    /// docker daemon reads `--filter label=` on tasks.
    pub labels: BTreeMap<String, Option<String>>,
}

/// The tasks that pass `filter`, in id order.
///
/// Contract: a service or node of the filter that matches nothing is refused
/// ([`ControlError::NotFound`], [`ControlError::NodeNotFound`]) or is ambiguous
/// ([`ControlError::Ambiguous`], [`ControlError::AmbiguousNode`]), as the docker daemon
/// refuses them; otherwise exactly the tasks that pass every field, each once, sorted by id.
pub fn list_tasks<'a>(
    state: &'a ClusterState,
    filter: &TaskFilter,
) -> Result<Vec<&'a Task>, ControlError> {
    let services: BTreeSet<&ServiceId> = filter
        .services
        .iter()
        .map(|q| find_service(state, q).map(|s| &s.id))
        .collect::<Result<_, _>>()?;
    let nodes: BTreeSet<NodeId> = if filter.nodes.is_empty() {
        BTreeSet::new()
    } else {
        let all: Vec<Node> = state.nodes().values().cloned().collect();
        filter
            .nodes
            .iter()
            .map(|q| find_node(&all, q).map(|n| n.id.clone()))
            .collect::<Result<_, _>>()?
    };
    let passes = |t: &&Task| {
        (filter.id_prefixes.is_empty()
            || filter
                .id_prefixes
                .iter()
                .any(|p| t.id.as_str().starts_with(p.as_str())))
            && (services.is_empty() || services.contains(&t.service_id))
            && (nodes.is_empty() || t.node_id.as_ref().is_some_and(|n| nodes.contains(n)))
            && (filter.desired_states.is_empty()
                || filter.desired_states.contains(&t.desired_state))
            && (filter.labels.is_empty()
                || state
                    .service(&t.service_id)
                    .is_some_and(|s| labels_match(&filter.labels, &s.spec.labels)))
    };
    Ok(state.tasks().values().filter(passes).collect())
}

/// `inspect` of a task: by exact id, then unique id prefix ([`ControlError::NotFound`],
/// [`ControlError::Ambiguous`]).
pub fn find_task<'a>(state: &'a ClusterState, query: &str) -> Result<&'a Task, ControlError> {
    find_object(state.tasks(), query)
}
