//! `/services`: create, ls (filters, `status=true`), inspect, update (incl. rollback), rm.

use crate::api_error::ApiError;
use crate::daemon::Daemon;
use crate::docker::mapping_error::from_body;
use crate::docker::service::{self, DockerServiceSpec, ServiceStatus};
use crate::reply::{self, Reply};
use crate::router::ApiRequest;
use hyper::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use swarm_core::manager::control::{ServiceFilter, ServiceModeKind, TaskFilter};
use swarm_core::model::{Service, ServiceId, ServiceMode, Task, TaskState, Version};

/// `POST /services/create`: `{"ID": ...}` with 201.
pub(crate) async fn create(d: &Arc<Daemon>, r: &ApiRequest) -> Reply {
    let spec: DockerServiceSpec = from_body(&r.body)?;
    let spec = service::spec_from_docker(spec)?;
    let id = d.control().await?.create_service(&spec).await?;
    reply::json(StatusCode::CREATED, &json!({ "ID": id.as_str() }))
}

/// `GET /services?filters=&status=`: id, label, mode, name.
pub(crate) async fn list(d: &Arc<Daemon>, r: &ApiRequest) -> Reply {
    let f = r.query.filters()?;
    f.only(&["id", "label", "mode", "name"])?;
    let mut filter = ServiceFilter {
        id_prefixes: f.get("id").to_vec(),
        name_prefixes: f.get("name").to_vec(),
        labels: f.labels(),
        ..ServiceFilter::default()
    };
    for m in f.get("mode") {
        filter.modes.push(match m.as_str() {
            "replicated" => ServiceModeKind::Replicated,
            "global" => ServiceModeKind::Global,
            "replicated-job" => ServiceModeKind::ReplicatedJob,
            "global-job" => ServiceModeKind::GlobalJob,
            other => {
                return Err(ApiError::bad_request(format!(
                    "invalid filter 'mode={other}'"
                )));
            }
        });
    }
    let control = d.control().await?;
    let services = control.services(&filter).await?;
    let statuses = if r.query.flag("status") {
        let tasks = control.tasks(&TaskFilter::default()).await?;
        statuses(&services, &tasks)
    } else {
        BTreeMap::new()
    };
    let out: Vec<Value> = services
        .iter()
        .map(|s| service::to_docker(s, statuses.get(&s.id).copied()))
        .collect();
    reply::ok(&out)
}

/// Running, desired and completed tasks per service, as dockerd's `status=true`: running
/// counts tasks observed running whose desired state is running; desired is the replica
/// count (replicated), the tasks desired running (global), or the jobs' concurrency.
pub(crate) fn statuses(services: &[Service], tasks: &[Task]) -> BTreeMap<ServiceId, ServiceStatus> {
    let mut out: BTreeMap<ServiceId, ServiceStatus> = services
        .iter()
        .map(|s| (s.id.clone(), ServiceStatus::default()))
        .collect();
    for t in tasks {
        let Some(st) = out.get_mut(&t.service_id) else {
            continue;
        };
        if t.desired_state == TaskState::Running && t.status.state == TaskState::Running {
            st.running += 1;
        }
        if t.desired_state <= TaskState::Running {
            st.desired += 1;
        }
        if t.status.state == TaskState::Complete {
            st.completed += 1;
        }
    }
    for s in services {
        if let (Some(st), ServiceMode::Replicated { replicas }) = (out.get_mut(&s.id), s.spec.mode)
        {
            st.desired = replicas;
        }
        if let (
            Some(st),
            ServiceMode::ReplicatedJob {
                max_concurrent,
                total_completions,
            },
        ) = (out.get_mut(&s.id), s.spec.mode)
        {
            st.desired = max_concurrent.min(total_completions.saturating_sub(st.completed));
        }
    }
    out
}

/// `GET /services/{id}?insertDefaults=`: by id, name or id prefix.
pub(crate) async fn inspect(d: &Arc<Daemon>, id: &str) -> Reply {
    let s = d.control().await?.service(id).await?;
    reply::ok(&service::to_docker(&s, None))
}

/// `POST /services/{id}/update?version=&rollback=`: the whole new spec at the version read;
/// `rollback=previous` goes back to the previous spec (the body is then the current spec,
/// as the CLI sends it).
pub(crate) async fn update(d: &Arc<Daemon>, id: &str, r: &ApiRequest) -> Reply {
    let version = r
        .query
        .number("version")?
        .ok_or_else(|| ApiError::bad_request("version: the service version is required"))?;
    let control = d.control().await?;
    match r.query.get("rollback") {
        Some("previous") => {
            let current = control.service(id).await?;
            if current.meta.version != Version(version) {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    format!(
                        "update out of sequence: service {} is at version {}, not {version}",
                        current.spec.name, current.meta.version
                    ),
                ));
            }
            control.rollback_service(id).await?;
        }
        None | Some("") => {
            let spec: DockerServiceSpec = from_body(&r.body)?;
            let spec = service::spec_from_docker(spec)?;
            control.update_service(id, Version(version), &spec).await?;
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "rollback: unknown value {other:?} (only \"previous\")"
            )));
        }
    }
    reply::ok(&json!({ "Warnings": null }))
}

/// `DELETE /services/{id}`.
pub(crate) async fn remove(d: &Arc<Daemon>, id: &str) -> Reply {
    d.control().await?.remove_service(id).await?;
    reply::empty(StatusCode::OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;
    use swarm_core::model::{ServiceSpec, TaskSpec, TaskStatus};

    #[test]
    fn status_counts_running_against_replicas() {
        let mut s = Service {
            id: "s1".into(),
            spec: ServiceSpec::new("web", "img"),
            ..Service::default()
        };
        s.spec.mode = ServiceMode::Replicated { replicas: 3 };
        let now = SystemTime::now();
        let mut running = Task::new("t1".into(), "s1".into(), TaskSpec::default(), now);
        running.status = TaskStatus::new(TaskState::Running, now, "started");
        let pending = Task::new("t2".into(), "s1".into(), TaskSpec::default(), now);
        let mut old = Task::new("t3".into(), "s1".into(), TaskSpec::default(), now);
        old.status = TaskStatus::new(TaskState::Running, now, "started");
        old.desired_state = TaskState::Shutdown;
        let st = statuses(&[s], &[running, pending, old]);
        assert_eq!(
            st.get("s1").copied(),
            Some(ServiceStatus {
                running: 1,
                desired: 3,
                completed: 0
            })
        );
    }
}
