//! Tasks: the document of `GET /tasks` and `GET /tasks/{id}`.

use crate::docker::meta::object;
use crate::docker::task_spec;
use crate::docker::time_text::rfc3339;
use serde_json::{Value, json};
use swarm_core::model::Task;

/// A task as `GET /tasks` answers.
pub(crate) fn to_docker(t: &Task) -> Value {
    let mut status = json!({
        "Timestamp": rfc3339(t.status.timestamp),
        "State": t.status.state.as_str(),
        "Message": t.status.message,
        "PortStatus": {},
    });
    if let Some(err) = &t.status.err {
        status["Err"] = err.clone().into();
    }
    if let Some(code) = t.status.exit_code {
        status["ContainerStatus"] = json!({ "ExitCode": code });
    }
    let mut rest = vec![
        ("Labels", json!({})),
        ("Spec", json!(task_spec::to_docker(&t.spec))),
        ("ServiceID", t.service_id.as_str().into()),
    ];
    if let Some(slot) = t.slot {
        rest.push(("Slot", slot.into()));
    }
    if let Some(node) = &t.node_id {
        rest.push(("NodeID", node.as_str().into()));
    }
    rest.push(("Status", status));
    rest.push(("DesiredState", t.desired_state.as_str().into()));
    if !t.networks.is_empty() {
        rest.push((
            "NetworksAttachments",
            t.networks
                .iter()
                .map(|n| {
                    json!({
                        "Network": { "ID": n.network_id.as_str(), "Spec": { "Name": n.network_name } },
                        "Addresses": n.addresses,
                    })
                })
                .collect(),
        ));
    }
    if let Some(i) = t.job_iteration {
        rest.push(("JobIteration", json!({ "Index": i.index() })));
    }
    object(t.id.as_str(), &t.meta, rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};
    use swarm_core::model::{TaskSpec, TaskState, TaskStatus};

    #[test]
    fn task_document_has_the_fields_service_ps_reads() {
        let t0 = UNIX_EPOCH + Duration::new(1_796_570_926, 409_619_850);
        let mut t = Task::new(
            "nlslx38j2yn6".into(),
            "n0cp".into(),
            TaskSpec::default(),
            t0,
        );
        t.slot = Some(3);
        t.node_id = Some("ysy788".into());
        t.status = TaskStatus::new(TaskState::Running, t0, "started");
        let v = to_docker(&t);
        assert_eq!(v["ID"], "nlslx38j2yn6");
        assert_eq!(v["ServiceID"], "n0cp");
        assert_eq!(v["Slot"], 3);
        assert_eq!(v["NodeID"], "ysy788");
        assert_eq!(v["Status"]["State"], "running");
        assert_eq!(v["Status"]["Message"], "started");
        assert_eq!(v["Status"]["Timestamp"], "2026-12-06T15:28:46.40961985Z");
        assert_eq!(v["DesiredState"], "running");
    }
}
