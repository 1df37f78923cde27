//! `docker stack ls`.

use crate::manager::control::ServiceFilter;
use crate::node::Control;
use crate::stack::cluster::stack_deploy_error::StackDeployError;
use crate::stack::cluster::stack_summary::StackSummary;
use crate::stack::objects::labels::NAMESPACE_LABEL;
use std::collections::BTreeMap;

/// The filter of the services of every stack (those with a namespace label).
pub(crate) fn any_stack() -> ServiceFilter {
    ServiceFilter {
        labels: BTreeMap::from([(NAMESPACE_LABEL.to_owned(), None)]),
        ..ServiceFilter::default()
    }
}

/// The filter of the services of `stack`.
pub(crate) fn of_stack(stack: &str) -> BTreeMap<String, Option<String>> {
    BTreeMap::from([(NAMESPACE_LABEL.to_owned(), Some(stack.to_owned()))])
}

/// `docker stack ls`: every stack that has services (a stack is the value of the namespace
/// label of its services), with its service count, sorted by name. Render it with
/// [`render_stack_ls`](crate::stack::render_stack_ls).
pub async fn list(control: &Control) -> Result<Vec<StackSummary>, StackDeployError> {
    let services = control
        .services(&any_stack())
        .await
        .map_err(StackDeployError::control("list the stacks' services"))?;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for service in &services {
        if let Some(stack) = service.spec.labels.get(NAMESPACE_LABEL) {
            *counts.entry(stack.clone()).or_insert(0) += 1;
        }
    }
    Ok(counts
        .into_iter()
        .map(|(name, services)| StackSummary { name, services })
        .collect())
}
