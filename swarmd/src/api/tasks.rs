//! `/tasks`: ls with filters (service by id or name, node, desired-state, label, name,
//! `_up-to-date`), inspect.

use crate::api_error::ApiError;
use crate::daemon::Daemon;
use crate::docker::task;
use crate::reply::{self, Reply};
use crate::router::ApiRequest;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use swarm_core::manager::control::{ServiceFilter, TaskFilter};
use swarm_core::model::{Service, ServiceId, Task, TaskState};

/// `GET /tasks?filters=`.
pub(crate) async fn list(d: &Arc<Daemon>, r: &ApiRequest) -> Reply {
    let f = r.query.filters()?;
    f.only(&[
        "id",
        "name",
        "service",
        "node",
        "desired-state",
        "label",
        "_up-to-date",
    ])?;
    let mut filter = TaskFilter {
        id_prefixes: f.get("id").to_vec(),
        services: f.get("service").to_vec(),
        nodes: f.get("node").to_vec(),
        labels: f.labels(),
        ..TaskFilter::default()
    };
    for s in f.get("desired-state") {
        filter.desired_states.push(
            s.parse::<TaskState>().map_err(|_| {
                ApiError::bad_request(format!("invalid filter 'desired-state={s}'"))
            })?,
        );
    }
    let control = d.control().await?;
    let tasks = control.tasks(&filter).await?;
    let up_to_date = f.get("_up-to-date").iter().any(|v| v == "true" || v == "1");
    let names = f.get("name");
    let services: BTreeMap<ServiceId, Service> = if up_to_date || !names.is_empty() {
        control
            .services(&ServiceFilter::default())
            .await?
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect()
    } else {
        BTreeMap::new()
    };
    let out: Vec<Value> = tasks
        .iter()
        .filter(|t| !up_to_date || is_up_to_date(t, services.get(&t.service_id)))
        .filter(|t| names.is_empty() || names.iter().any(|n| task_name(t) == *n))
        .map(task::to_docker)
        .collect();
    reply::ok(&out)
}

/// Whether a task runs its service's current spec (SwarmKit's `IsTaskDirty`, by the spec
/// version the task was made from).
pub(crate) fn is_up_to_date(t: &Task, service: Option<&Service>) -> bool {
    service.is_some_and(|s| t.spec_version == s.spec_version.index())
}

/// `<service>.<slot>` or `<service>.<node id>`, as the CLI names tasks.
pub(crate) fn task_name(t: &Task) -> String {
    match (t.slot, &t.node_id) {
        (Some(slot), _) => format!("{}.{slot}", t.service_annotations.name),
        (None, Some(node)) => format!("{}.{node}", t.service_annotations.name),
        (None, None) => t.service_annotations.name.clone(),
    }
}

/// `GET /tasks/{id}`.
pub(crate) async fn inspect(d: &Arc<Daemon>, id: &str) -> Reply {
    let t = d.control().await?.task(id).await?;
    reply::ok(&task::to_docker(&t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;
    use swarm_core::model::{TaskSpec, Version};

    #[test]
    fn up_to_date_compares_spec_versions() {
        let s = Service {
            id: "s1".into(),
            spec_version: Version(7),
            ..Service::default()
        };
        let mut t = Task::new(
            "t1".into(),
            "s1".into(),
            TaskSpec::default(),
            SystemTime::now(),
        );
        t.spec_version = 7;
        assert!(is_up_to_date(&t, Some(&s)));
        t.spec_version = 6;
        assert!(!is_up_to_date(&t, Some(&s)));
        assert!(!is_up_to_date(&t, None));
    }

    #[test]
    fn names_are_service_dot_slot() {
        let mut t = Task::new(
            "t1".into(),
            "s1".into(),
            TaskSpec::default(),
            SystemTime::now(),
        );
        t.service_annotations.name = "web".into();
        t.slot = Some(2);
        assert_eq!(task_name(&t), "web.2");
    }
}
