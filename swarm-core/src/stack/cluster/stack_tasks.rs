//! `docker stack ps`.

use crate::manager::control::{NodeFilter, render_service_ps};
use crate::model::{Node, Service, Task};
use crate::node::Control;
use crate::stack::cluster::stack_deploy_error::StackDeployError;
use std::time::SystemTime;

/// The tasks of a stack, with what `docker stack ps` shows of their services and nodes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StackTasks {
    /// The stack.
    pub stack: String,
    /// Its services.
    pub services: Vec<Service>,
    /// Their tasks (each slot's history included), in id order.
    pub tasks: Vec<Task>,
    /// The cluster's nodes, for the NODE column.
    pub nodes: Vec<Node>,
}

impl StackTasks {
    /// The `docker stack ps` table (docker's `service ps` columns: ID, NAME, IMAGE, NODE,
    /// DESIRED STATE, CURRENT STATE, ERROR, PORTS), ages counted to `now`.
    pub fn render(&self, now: SystemTime) -> String {
        render_service_ps(&self.services, &self.tasks, &self.nodes, now)
    }
}

/// `docker stack ps <stack>`: the tasks of the stack's services.
/// [`StackDeployError::NothingFound`] when it has none, as docker.
pub async fn ps(control: &Control, stack: &str) -> Result<StackTasks, StackDeployError> {
    let listed = crate::stack::services(control, stack).await?;
    if listed.tasks.is_empty() {
        return Err(StackDeployError::NothingFound {
            stack: stack.to_owned(),
        });
    }
    let nodes = control
        .nodes(&NodeFilter::default())
        .await
        .map_err(StackDeployError::control("list the nodes"))?;
    Ok(StackTasks {
        stack: stack.to_owned(),
        services: listed.services,
        tasks: listed.tasks,
        nodes,
    })
}
