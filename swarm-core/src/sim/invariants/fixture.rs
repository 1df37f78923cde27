//! Observations made by hand, for the invariants' unit tests.

use crate::manager::cluster_state::ClusterState;
use crate::model::{
    Node, NodeState, NodeStatus, RestartPolicy, Service, ServiceSpec, Task, TaskState, TaskStatus,
    Version,
};
use crate::sim::history::History;
use crate::sim::ledger::Ledger;
use crate::sim::observe::Observation;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A ready node record named `id`.
pub(crate) fn ready_node(id: &str) -> Node {
    Node {
        id: id.into(),
        status: NodeStatus {
            state: NodeState::Ready,
            ..NodeStatus::default()
        },
        ..Node::default()
    }
}

/// `secs` seconds after the epoch.
pub(crate) fn at(secs: f64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs_f64(secs)
}

/// An observation with a leader holding `state` and a history of `history`.
pub(crate) fn observation(state: ClusterState, history: History) -> Observation {
    Observation {
        at: Duration::ZERO,
        now: at(1_000.0),
        leader: Some("m1".to_owned()),
        state: Some(state),
        agents: BTreeMap::new(),
        runtimes: BTreeMap::new(),
        stores: BTreeMap::new(),
        leaders_by_term: BTreeMap::new(),
        ledger: Ledger::default(),
        history: Arc::new(history),
    }
}

/// Service `svc` (replicated, 1 replica) with `policy`.
pub(crate) fn service(policy: &RestartPolicy) -> Service {
    let mut spec = ServiceSpec::new("svc", "image");
    spec.task_template.restart_policy = policy.clone();
    Service {
        id: "svc".into(),
        spec,
        ..Service::default()
    }
}

/// Task `id` of `service` in slot 1 on node `n1`, created at `created` (seconds), at spec
/// version `version`, with status `state` since `ended`.
pub(crate) fn task(
    service: &Service,
    id: &str,
    created: f64,
    version: u64,
    state: TaskState,
    ended: f64,
) -> Task {
    let mut t = Task::new(
        id.into(),
        service.id.clone(),
        service.spec.task_template.clone(),
        at(created),
    );
    t.slot = Some(1);
    t.node_id = Some("n1".into());
    t.spec_version = version;
    t.meta.version = Version(1);
    t.status = TaskStatus::new(state, at(ended), "");
    t
}
