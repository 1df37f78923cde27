//! With the `serde` feature: specs, deltas and outcomes round-trip through JSON, and
//! constraints travel as text that is validated when read.
#![cfg(feature = "serde")]
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use swarm_sched::*;

#[test]
fn specs_deltas_and_outcomes_round_trip() {
    let node = NodeSpec::new("n1", "host1")
        .with_capacity(2.0, 1 << 30)
        .with_label("zone", "eu")
        .with_ip("10.0.0.1".parse().unwrap())
        .with_generic(GenericResource::Named {
            kind: "gpu".into(),
            value: "GPU-0".into(),
        });
    let delta = Delta::NodeAdded(node.clone());
    let json = serde_json::to_string(&delta).unwrap();
    assert_eq!(serde_json::from_str::<Delta>(&json).unwrap(), delta);

    let spec = TaskSpec::default()
        .with_reservation(0.5, 1 << 20)
        .with_constraint(Constraint::parse("node.labels.zone==eu").unwrap())
        .with_preference(SpreadPreference::node_label("rack"))
        .with_generic("gpu", 1);
    let json = serde_json::to_value(&spec).unwrap();
    assert_eq!(json["constraints"][0], "node.labels.zone==eu");
    assert_eq!(json["preferences"][0], "node.labels.rack");
    assert_eq!(serde_json::from_value::<TaskSpec>(json).unwrap(), spec);

    let mut engine = Engine::default();
    engine.apply(delta).unwrap();
    let out = engine
        .schedule(TaskGroup {
            service: "s".into(),
            spec_version: 1,
            spec: Arc::new(spec),
            tasks: vec!["t1".into(), "t2".into()],
        })
        .unwrap();
    let json = serde_json::to_string(&out).unwrap();
    let back: GroupOutcome = serde_json::from_str(&json).unwrap();
    assert_eq!(back, out);
    assert_eq!(
        back.reason.unwrap().to_string(),
        "no suitable node (1 node lacks 1 gpu)"
    );
}

#[test]
fn an_invalid_constraint_is_rejected_when_read() {
    let err = serde_json::from_str::<Constraint>("\"node.labels.zone=eu\"").unwrap_err();
    assert!(err.to_string().contains("at position 16"), "{err}");
}
