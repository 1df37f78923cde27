//! A task that holds resources on its node, as swarm-sched's placement engine records it.

use crate::mapping::sched_conversion_error::{SchedConversionError, non_negative};
use crate::mapping::sched_task_spec::generic_request;
use crate::model::{GenericResource, Task};

/// What `task` holds on its node, for `Delta::TaskPlaced`.
///
/// | engine field | from the task |
/// | --- | --- |
/// | `id`, `service`, `spec_version` | `id`, `service_id`, `spec_version` |
/// | `node` | `node_id` ([`SchedConversionError::Missing`] when unset) |
/// | `nano_cpus`, `memory_bytes` | `assigned_resources` (nano-CPUs, bytes), or the template's reservations for a task assigned without them |
/// | `generic` | the discrete entries of the same resources |
/// | `named` | the named items of `assigned_resources` (the items the scheduler claimed) |
/// | `host_ports` | left empty: they are the service's, see [`service_host_ports`](crate::mapping::service_host_ports) |
///
/// ```
/// use swarm_core::model::{Resources, Task, TaskSpec};
/// use std::time::SystemTime;
///
/// let mut task = Task::new("t1".into(), "web".into(), TaskSpec::default(), SystemTime::UNIX_EPOCH);
/// assert!(swarm_sched::PlacedTask::try_from(&task).is_err()); // not on a node
/// task.node_id = Some("n1".into());
/// task.assigned_resources = Some(Resources { nano_cpus: 1_000_000_000, memory_bytes: 1 << 30, generic: vec![] });
/// let placed = swarm_sched::PlacedTask::try_from(&task)?;
/// assert_eq!(placed.node.as_str(), "n1");
/// assert_eq!(placed.nano_cpus, swarm_sched::cores_to_nanos(1.0));
/// # Ok::<(), swarm_core::mapping::SchedConversionError>(())
/// ```
impl TryFrom<&Task> for swarm_sched::PlacedTask {
    type Error = SchedConversionError;

    fn try_from(task: &Task) -> Result<Self, Self::Error> {
        let field = |name: &str| format!("task {}: {name}", task.id);
        let node = task
            .node_id
            .as_ref()
            .ok_or_else(|| SchedConversionError::Missing {
                field: field("node_id"),
            })?;
        let mut placed = swarm_sched::PlacedTask::new(&task.id, &task.service_id, node, 0, 0)
            .with_spec_version(task.spec_version);
        let (resources, path) = match &task.assigned_resources {
            Some(r) => (Some(r), "assigned_resources"),
            None => (
                task.spec.resources.reservations.as_ref(),
                "spec.resources.reservations",
            ),
        };
        let Some(resources) = resources else {
            return Ok(placed);
        };
        placed.nano_cpus =
            non_negative(resources.nano_cpus, || field(&format!("{path}.nano_cpus")))?;
        placed.memory_bytes = non_negative(resources.memory_bytes, || {
            field(&format!("{path}.memory_bytes"))
        })?;
        for (i, g) in resources.generic.iter().enumerate() {
            let entry = || field(&format!("{path}.generic[{i}]"));
            match g {
                // Items the scheduler claimed for the task.
                GenericResource::Named { kind, value } if task.assigned_resources.is_some() => {
                    placed.named.push((kind.clone(), value.clone()));
                }
                _ => placed.generic.push(generic_request(g, entry)?),
            }
        }
        Ok(placed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Resources, TaskSpec};
    use std::time::SystemTime;

    fn task_on(node: Option<&str>) -> Task {
        let mut spec = TaskSpec::default();
        spec.resources.reservations = Some(Resources {
            nano_cpus: 500_000_000,
            memory_bytes: 1 << 20,
            generic: vec![GenericResource::Discrete {
                kind: "ssd".into(),
                value: 1,
            }],
        });
        let mut task = Task::new("t1".into(), "web".into(), spec, SystemTime::UNIX_EPOCH);
        task.node_id = node.map(Into::into);
        task.spec_version = 4;
        task
    }

    #[test]
    fn identity_and_node_are_carried() {
        let placed = swarm_sched::PlacedTask::try_from(&task_on(Some("n1"))).unwrap();
        assert_eq!(placed.id.as_str(), "t1");
        assert_eq!(placed.service.as_str(), "web");
        assert_eq!(placed.spec_version, 4);
        assert_eq!(placed.node.as_str(), "n1");
        assert!(placed.host_ports.is_empty());
        assert_eq!(
            swarm_sched::PlacedTask::try_from(&task_on(None))
                .unwrap_err()
                .to_string(),
            "task t1: node_id is not set"
        );
    }

    #[test]
    fn assigned_resources_come_first_with_their_claimed_items() {
        let mut task = task_on(Some("n1"));
        task.assigned_resources = Some(Resources {
            nano_cpus: 2_000_000_000,
            memory_bytes: 3 << 30,
            generic: vec![
                GenericResource::Discrete {
                    kind: "ssd".into(),
                    value: 2,
                },
                GenericResource::Named {
                    kind: "gpu".into(),
                    value: "GPU-3".into(),
                },
            ],
        });
        let placed = swarm_sched::PlacedTask::try_from(&task).unwrap();
        assert_eq!(placed.nano_cpus, 2_000_000_000);
        assert_eq!(placed.memory_bytes, 3 << 30);
        assert_eq!(
            placed.generic,
            vec![swarm_sched::GenericRequest {
                kind: "ssd".into(),
                count: 2
            }]
        );
        assert_eq!(placed.named, vec![("gpu".to_owned(), "GPU-3".to_owned())]);
    }

    #[test]
    fn without_assigned_resources_the_reservations_count() {
        let placed = swarm_sched::PlacedTask::try_from(&task_on(Some("n1"))).unwrap();
        assert_eq!(placed.nano_cpus, 500_000_000);
        assert_eq!(placed.memory_bytes, 1 << 20);
        assert_eq!(placed.generic.len(), 1);
        let mut task = task_on(Some("n1"));
        task.spec.resources.reservations = None;
        let placed = swarm_sched::PlacedTask::try_from(&task).unwrap();
        assert_eq!((placed.nano_cpus, placed.memory_bytes), (0, 0));
    }

    #[test]
    fn negative_amounts_name_task_and_field() {
        let mut task = task_on(Some("n1"));
        task.assigned_resources = Some(Resources {
            nano_cpus: -1,
            ..Resources::default()
        });
        assert_eq!(
            swarm_sched::PlacedTask::try_from(&task)
                .unwrap_err()
                .to_string(),
            "task t1: assigned_resources.nano_cpus is -1, below zero"
        );
    }
}
