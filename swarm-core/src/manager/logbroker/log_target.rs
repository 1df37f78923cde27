//! What a client names: services, tasks and nodes by id, name or id prefix.

use super::LogSelector;
use crate::manager::cluster_state::ClusterState;
use crate::manager::control::{ControlError, find_node, find_service, find_task};
use crate::model::Node;
use serde::{Deserialize, Serialize};

/// The services, tasks and nodes a client asks the logs of, as it names them (id, name or
/// unique id prefix, as `service inspect`, `task inspect` and `node inspect` take them).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogTarget {
    /// Services by id, name or id prefix.
    pub services: Vec<String>,
    /// Tasks by id or id prefix.
    pub tasks: Vec<String>,
    /// Nodes by id, hostname or id prefix.
    pub nodes: Vec<String>,
}

impl LogTarget {
    /// The selector naming the same objects by id; the first name that does not resolve is
    /// the error ([`ControlError::NotFound`], [`ControlError::NodeNotFound`], or ambiguous).
    pub fn resolve(&self, state: &ClusterState) -> Result<LogSelector, ControlError> {
        let mut selector = LogSelector::default();
        for query in &self.services {
            selector
                .services
                .push(find_service(state, query)?.id.clone());
        }
        for query in &self.tasks {
            selector.tasks.push(find_task(state, query)?.id.clone());
        }
        if !self.nodes.is_empty() {
            let nodes: Vec<Node> = state.nodes().values().cloned().collect();
            for query in &self.nodes {
                selector.nodes.push(find_node(&nodes, query)?.id.clone());
            }
        }
        Ok(selector)
    }
}
