//! Builders shared by the behaviour tests (each test file uses some of them).
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use swarm_sched::*;

pub(crate) const GIB: u64 = 1 << 30;
pub(crate) const MIB: u64 = 1 << 20;

pub(crate) fn node(i: usize) -> NodeSpec {
    NodeSpec::new(format!("n{i}"), format!("host{i}")).with_capacity(4.0, 8 * GIB)
}

pub(crate) fn engine(nodes: impl IntoIterator<Item = NodeSpec>) -> Engine {
    let mut e = Engine::default();
    e.apply_all(nodes.into_iter().map(Delta::NodeAdded))
        .unwrap();
    e
}

pub(crate) fn group(service: &str, n: usize, spec: TaskSpec) -> TaskGroup {
    TaskGroup {
        service: service.into(),
        spec_version: 1,
        spec: Arc::new(spec),
        tasks: (0..n).map(|i| format!("{service}.{i}").into()).collect(),
    }
}

pub(crate) fn per_node(out: &GroupOutcome) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for a in &out.assignments {
        *m.entry(a.node.to_string()).or_insert(0) += 1;
    }
    m
}

pub(crate) fn c(s: &str) -> Constraint {
    Constraint::parse(s).unwrap()
}

pub(crate) fn limit_field(err: SchedError) -> String {
    match err {
        SchedError::LimitExceeded { field, .. } => field,
        other => panic!("expected LimitExceeded, got {other:?}"),
    }
}
