//! `docker stack rm`.

use crate::manager::control::ControlError;
use crate::node::{Control, NodeError};
use crate::stack::cluster::limits::{MAX_NETWORK_REMOVE_ATTEMPTS, NETWORK_REMOVE_RETRY_MS};
use crate::stack::cluster::remove_report::RemoveReport;
use crate::stack::cluster::stack_deploy_error::StackDeployError;
use crate::stack::cluster::stack_step::{StackAction, StackStep};
use crate::stack::objects::labels::NAMESPACE_LABEL;
use crate::stack::plan::object_kind::StackObjectKind;
use std::collections::BTreeMap;
use std::time::Duration;

fn in_stack(labels: &BTreeMap<String, String>, stack: &str) -> bool {
    labels.get(NAMESPACE_LABEL).is_some_and(|s| s == stack)
}

/// Whether the refusal is a network still held by tasks that are stopping.
fn held_by_tasks(e: &NodeError) -> bool {
    match e {
        NodeError::Control(ControlError::InUse { users, .. }) => users
            .iter()
            .all(|u| u.kind == crate::manager::control::ObjectType::Task),
        NodeError::Remote(r) => r.message.contains("is in use by task"),
        _ => false,
    }
}

/// Removes the network `id`, waiting while the tasks of removed services still hold addresses
/// on it (at most [`MAX_NETWORK_REMOVE_ATTEMPTS`] tries).
async fn remove_network(control: &Control, id: &str) -> Result<(), NodeError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match control.remove_network(id).await {
            Err(e) if held_by_tasks(&e) && attempt < MAX_NETWORK_REMOVE_ATTEMPTS => {
                tokio::time::sleep(Duration::from_millis(NETWORK_REMOVE_RETRY_MS)).await;
            }
            other => return other,
        }
    }
}

/// `docker stack rm <stack>`: removes the services with the stack's namespace label, then the
/// stack's secrets, configs and networks (docker's order; objects of other stacks and those
/// the stack only used as external are left alone). A network is removed once the tasks of the
/// removed services let go of it (waiting at most
/// [`MAX_NETWORK_REMOVE_ATTEMPTS`] × [`NETWORK_REMOVE_RETRY_MS`]). As docker, a failure does
/// not stop the others: [`StackDeployError::RemoveIncomplete`] lists what remains and why.
/// A stack with nothing gives an empty report (docker's `Nothing found in stack`).
pub async fn remove(control: &Control, stack: &str) -> Result<RemoveReport, StackDeployError> {
    let listed = crate::stack::services(control, stack).await?;
    let mut services: Vec<(String, String)> = listed
        .services
        .iter()
        .map(|s| (s.spec.name.clone(), s.id.as_str().to_owned()))
        .collect();
    services.sort();
    let read = |what: &'static str| StackDeployError::control(format!("list the {what}"));
    let mut secrets: Vec<(String, String)> = control
        .secrets()
        .await
        .map_err(read("secrets"))?
        .into_iter()
        .filter(|s| in_stack(&s.labels, stack))
        .map(|s| (s.name, s.id.as_str().to_owned()))
        .collect();
    secrets.sort();
    let mut configs: Vec<(String, String)> = control
        .configs()
        .await
        .map_err(read("configs"))?
        .into_iter()
        .filter(|c| in_stack(&c.spec.labels, stack))
        .map(|c| (c.spec.name, c.id.as_str().to_owned()))
        .collect();
    configs.sort();
    let mut networks: Vec<(String, String)> = control
        .networks()
        .await
        .map_err(read("networks"))?
        .into_iter()
        .filter(|n| in_stack(&n.spec.labels, stack))
        .map(|n| (n.spec.name, n.id.as_str().to_owned()))
        .collect();
    networks.sort();

    let mut report = RemoveReport {
        stack: stack.to_owned(),
        steps: Vec::new(),
    };
    let mut failures = Vec::new();
    for (kind, objects) in [
        (StackObjectKind::Service, services),
        (StackObjectKind::Secret, secrets),
        (StackObjectKind::Config, configs),
        (StackObjectKind::Network, networks),
    ] {
        for (name, id) in objects {
            let removed = match kind {
                StackObjectKind::Service => control.remove_service(&id).await,
                StackObjectKind::Secret => control.remove_secret(&id).await,
                StackObjectKind::Config => control.remove_config(&id).await,
                StackObjectKind::Network => remove_network(control, &id).await,
            };
            match removed {
                Ok(()) => report.steps.push(StackStep {
                    action: StackAction::Remove,
                    kind,
                    name,
                    id,
                }),
                Err(e) => failures.push(format!("Failed to remove {kind} {name}: {e}")),
            }
        }
    }
    if failures.is_empty() {
        Ok(report)
    } else {
        Err(StackDeployError::RemoveIncomplete {
            stack: stack.to_owned(),
            removed: report.steps,
            failures,
        })
    }
}
