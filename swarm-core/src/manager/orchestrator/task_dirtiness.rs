//! Whether a task matches its service's current spec (SwarmKit's `IsTaskDirty`).

use crate::manager::orchestrator::node_fit::PlacementFilter;
use crate::model::{Node, Placement, Service, Task, TaskSpec};

/// Whether `task` must be replaced to match the current task template of `service` (a
/// rolling update replaces the *dirty* tasks). `node` is the record of the node the task is
/// on, if any.
///
/// * The same spec version: clean, without comparing specs.
/// * Otherwise the task's spec is compared with the template: equal (a change of the
///   replicas, the update config or the name's labels alone) is clean; a changed
///   `force_update` counter is dirty.
/// * A change of the placement alone is clean while the task's node meets the template's
///   constraints (SwarmKit checks the constraints only, not the platforms).
/// * A task given an endpoint (its published ports) for another endpoint spec than the
///   service's is dirty: its ports must change (SwarmKit's rule; a task not allocated yet
///   has none and is judged by its spec alone).
///
/// ```
/// use std::time::SystemTime;
/// use swarm_core::manager::orchestrator::is_task_dirty;
/// use swarm_core::model::{Node, Service, ServiceSpec, Task, Version};
///
/// let mut service = Service {
///     id: "web".into(),
///     spec: ServiceSpec::new("web", "nginx:1"),
///     spec_version: Version(1),
///     ..Service::default()
/// };
/// let mut task = Task::new("t1".into(), "web".into(), service.spec.task_template.clone(), SystemTime::now());
/// task.spec_version = 1;
/// let node = Node::default();
/// assert!(!is_task_dirty(&service, &task, Some(&node)));
/// // A constraint the node meets: not dirty.
/// service.spec_version = Version(2);
/// service.spec.task_template.placement.constraints = vec!["node.labels.zone!=us".into()];
/// assert!(!is_task_dirty(&service, &task, Some(&node)));
/// // A forced update: dirty.
/// service.spec.task_template.force_update += 1;
/// assert!(is_task_dirty(&service, &task, Some(&node)));
/// ```
pub fn is_task_dirty(service: &Service, task: &Task, node: Option<&Node>) -> bool {
    if task.spec_version == service.spec_version.0 {
        return false;
    }
    if let Some(endpoint) = &task.endpoint {
        if endpoint.spec != service.spec.endpoint_spec.clone().unwrap_or_default() {
            return true;
        }
    }
    let template = &service.spec.task_template;
    if same_but_placement(template, &task.spec) {
        if template.placement == task.spec.placement {
            return false;
        }
        return !node.is_some_and(|n| meets_constraints(&template.placement, n));
    }
    true
}

/// Whether `a` and `b` are equal in every field but the placement. (Destructured, so a new
/// field of [`TaskSpec`] must be named here.)
fn same_but_placement(a: &TaskSpec, b: &TaskSpec) -> bool {
    let TaskSpec {
        container,
        resources,
        restart_policy,
        placement: _,
        networks,
        force_update,
    } = a;
    *container == b.container
        && *resources == b.resources
        && *restart_policy == b.restart_policy
        && *networks == b.networks
        && *force_update == b.force_update
}

/// Whether `node` meets the constraints of `placement` (platforms not checked).
fn meets_constraints(placement: &Placement, node: &Node) -> bool {
    let constraints_only = Placement {
        constraints: placement.constraints.clone(),
        ..Placement::default()
    };
    PlacementFilter::new(&constraints_only).fits(node)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, EndpointSpec, Platform, PortConfig, ServiceSpec, Version};
    use std::time::SystemTime;

    fn service_and_task() -> (Service, Task) {
        let service = Service {
            id: "web".into(),
            spec: ServiceSpec::new("web", "nginx:1"),
            spec_version: Version(3),
            ..Service::default()
        };
        let mut task = Task::new(
            "t".into(),
            "web".into(),
            service.spec.task_template.clone(),
            SystemTime::UNIX_EPOCH,
        );
        task.spec_version = 3;
        (service, task)
    }

    #[test]
    fn versions_then_specs_decide() {
        let (mut service, task) = service_and_task();
        // Same version: clean even if the specs differ (the version is trusted).
        service.spec.task_template.container.image = "nginx:2".into();
        assert!(!is_task_dirty(&service, &task, None));
        service.spec_version = Version(4);
        assert!(is_task_dirty(&service, &task, None));
        // Back to the task's spec under a new version: clean.
        service.spec.task_template.container.image = "nginx:1".into();
        assert!(!is_task_dirty(&service, &task, None));
        service.spec.mode = crate::model::ServiceMode::Replicated { replicas: 9 };
        assert!(!is_task_dirty(&service, &task, None));
        service.spec.task_template.restart_policy.max_attempts = 2;
        assert!(is_task_dirty(&service, &task, None));
    }

    #[test]
    fn a_placement_change_alone_keeps_tasks_whose_node_still_meets_it() {
        let (mut service, task) = service_and_task();
        service.spec_version = Version(4);
        service.spec.task_template.placement.constraints = vec!["node.labels.zone==eu".into()];
        let mut node = Node::default();
        assert!(
            is_task_dirty(&service, &task, Some(&node)),
            "node does not match"
        );
        assert!(is_task_dirty(&service, &task, None), "no node");
        node.spec.labels.insert("zone".into(), "eu".into());
        assert!(!is_task_dirty(&service, &task, Some(&node)));
        // Platforms are not checked (as SwarmKit).
        service.spec.task_template.placement.platforms = vec![Platform {
            os: "windows".into(),
            architecture: "amd64".into(),
        }];
        assert!(!is_task_dirty(&service, &task, Some(&node)));
        // Placement and something else: dirty.
        service.spec.task_template.container.image = "nginx:2".into();
        assert!(is_task_dirty(&service, &task, Some(&node)));
    }

    #[test]
    fn other_published_ports_make_an_allocated_task_dirty() {
        let (mut service, mut task) = service_and_task();
        let port = |published| PortConfig {
            target_port: 80,
            published_port: published,
            ..PortConfig::default()
        };
        service.spec.endpoint_spec = Some(EndpointSpec {
            ports: vec![port(8080)],
            ..EndpointSpec::default()
        });
        // Not allocated yet: judged by the task spec alone.
        service.spec_version = Version(4);
        assert!(!is_task_dirty(&service, &task, None));
        task.endpoint = Some(Endpoint {
            spec: service.spec.endpoint_spec.clone().unwrap_or_default(),
            ports: vec![port(8080)],
            virtual_ips: Vec::new(),
        });
        assert!(!is_task_dirty(&service, &task, None));
        service.spec.endpoint_spec = Some(EndpointSpec {
            ports: vec![port(9090)],
            ..EndpointSpec::default()
        });
        assert!(is_task_dirty(&service, &task, None));
        // No endpoint spec is the default one: a task allocated without ports stays clean.
        service.spec.endpoint_spec = None;
        task.endpoint = Some(Endpoint::default());
        assert!(!is_task_dirty(&service, &task, None));
        // The same version is trusted, as for the task spec.
        service.spec.endpoint_spec = Some(EndpointSpec {
            ports: vec![port(9090)],
            ..EndpointSpec::default()
        });
        service.spec_version = Version(3);
        assert!(!is_task_dirty(&service, &task, None));
    }
}
