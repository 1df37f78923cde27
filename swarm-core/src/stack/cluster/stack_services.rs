//! `docker stack services`.

use crate::manager::control::{ServiceFilter, TaskFilter, render_service_ls};
use crate::model::{Service, Task};
use crate::node::Control;
use crate::stack::cluster::stack_deploy_error::StackDeployError;
use crate::stack::cluster::stack_list::of_stack;

/// The services of a stack and their tasks, as `docker stack services` reads them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StackServices {
    /// The stack.
    pub stack: String,
    /// Its services (those with its namespace label), in id order.
    pub services: Vec<Service>,
    /// Their tasks, for the replica counts.
    pub tasks: Vec<Task>,
}

impl StackServices {
    /// The `docker stack services` table (docker's `service ls` columns: ID, NAME, MODE,
    /// REPLICAS, IMAGE, PORTS), or docker's `Nothing found in stack: <stack>` line when the
    /// stack has no service.
    pub fn render(&self) -> String {
        if self.services.is_empty() {
            return format!("Nothing found in stack: {}\n", self.stack);
        }
        render_service_ls(&self.services, &self.tasks)
    }
}

/// `docker stack services <stack>`: the services with the stack's namespace label and their
/// tasks (two list calls, filtered by the managers).
pub async fn services(control: &Control, stack: &str) -> Result<StackServices, StackDeployError> {
    let labels = of_stack(stack);
    let services = control
        .services(&ServiceFilter {
            labels: labels.clone(),
            ..ServiceFilter::default()
        })
        .await
        .map_err(StackDeployError::control(format!(
            "list the services of stack {stack}"
        )))?;
    let tasks = control
        .tasks(&TaskFilter {
            labels,
            ..TaskFilter::default()
        })
        .await
        .map_err(StackDeployError::control(format!(
            "list the tasks of stack {stack}"
        )))?;
    Ok(StackServices {
        stack: stack.to_owned(),
        services,
        tasks,
    })
}
