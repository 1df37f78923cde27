//! Where tasks go: spread, constraints, unavailable nodes, host ports, named resources.

use super::fixture::{Cluster, at, manager, node, reserving, service, set_availability};
use crate::manager::scheduler::ASSIGNED_MESSAGE;
use crate::manager::writes::{ManagerWrite, ObjectWrite};
use crate::model::{
    Endpoint, GenericResource, NodeAvailability, NodeState, PortConfig, PublishMode, Resources,
    TaskSpec, TaskState, Version,
};
use std::collections::BTreeMap;

#[test]
fn ten_tasks_spread_two_per_node_over_five_nodes() {
    let mut c = Cluster::with_nodes((0..5).map(|i| node(&format!("n{i}"), 4, 8)));
    c.now = at(10);
    let spec = reserving(500, 256);
    let ids = c.pending("web", 1, 10, &spec);
    let before = c.task(&ids[0]).clone();

    let round = c.scheduler.schedule(&c.state, c.now);
    assert_eq!((round.assigned, round.unplaced, round.deferred), (10, 0, 0));
    assert_eq!(round.writes.len(), 10);
    // The first write is task web.001's, read at its version, with what was decided.
    let ManagerWrite::Task(ObjectWrite::Update {
        object,
        expected_version,
    }) = &round.writes[0]
    else {
        panic!("a task update: {:?}", round.writes[0]);
    };
    assert_eq!(*expected_version, before.meta.version);
    assert_eq!(object.id, before.id);
    assert_eq!(object.status.state, TaskState::Assigned);
    assert_eq!(object.status.message, ASSIGNED_MESSAGE);
    assert_eq!(object.status.timestamp, at(10));
    assert_eq!(object.status.err, None);
    assert_eq!(object.meta.updated_at, at(10));
    assert_eq!(
        object.assigned_resources,
        spec.resources.reservations.clone()
    );
    assert!(object.node_id.is_some());

    c.state.apply(&round.writes).unwrap();
    let expected: BTreeMap<String, usize> = (0..5).map(|i| (format!("n{i}"), 2)).collect();
    assert_eq!(c.per_node(), expected);
    // Nothing left: the next round writes nothing.
    assert!(c.round().writes.is_empty());
}

#[test]
fn a_manager_constraint_keeps_tasks_on_managers() {
    let mut c = Cluster::with_nodes([
        manager("m1", 4, 8),
        manager("m2", 4, 8),
        node("w1", 4, 8),
        node("w2", 4, 8),
        node("w3", 4, 8),
    ]);
    let mut spec = reserving(100, 64);
    spec.placement.constraints = vec!["node.role==manager".into()];
    c.pending("ctl", 1, 6, &spec);
    let round = c.round();
    assert_eq!(round.assigned, 6);
    assert_eq!(
        c.per_node(),
        BTreeMap::from([("m1".to_owned(), 3), ("m2".to_owned(), 3)])
    );
}

#[test]
fn drained_paused_and_down_nodes_get_nothing() {
    let mut c = Cluster::with_nodes((0..4).map(|i| node(&format!("n{i}"), 8, 8)));
    c.update_node("n0", set_availability(NodeAvailability::Drain));
    c.update_node("n1", |n| n.status.state = NodeState::Down);
    c.update_node("n2", set_availability(NodeAvailability::Pause));
    c.pending("web", 1, 4, &reserving(100, 64));
    assert_eq!(c.round().assigned, 4);
    assert_eq!(c.per_node(), BTreeMap::from([("n3".to_owned(), 4)]));

    // With no usable node left, the reason counts every node as unavailable.
    c.update_node("n3", |n| n.status.state = NodeState::Disconnected);
    let late = c.pending("web", 10, 1, &reserving(100, 64));
    let round = c.round();
    assert_eq!(round.unplaced, 1);
    assert_eq!(
        c.task(&late[0]).status.err.as_deref(),
        Some("no suitable node (4 nodes not available for new tasks)")
    );
}

#[test]
fn only_pending_tasks_desired_ready_running_or_complete_are_placed() {
    let mut c = Cluster::with_nodes([node("n0", 4, 8)]);
    let ids = c.pending("job", 1, 4, &TaskSpec::default());
    c.update_task(&ids[0], |t| t.desired_state = TaskState::Complete);
    c.update_task(&ids[1], |t| t.desired_state = TaskState::Shutdown);
    // A task still in `new` waits for the allocator.
    c.update_task(&ids[2], |t| t.status.state = TaskState::New);
    // A stop-first update's new task is prepared while the old one stops.
    c.update_task(&ids[3], |t| t.desired_state = TaskState::Ready);
    let round = c.round();
    assert_eq!(round.assigned, 2);
    assert_eq!(c.node_of(&ids[0]), Some("n0"));
    assert_eq!(c.task(&ids[1]).status.state, TaskState::Pending);
    assert_eq!(c.task(&ids[2]).status.state, TaskState::New);
    assert_eq!(c.node_of(&ids[3]), Some("n0"));
}

#[test]
fn host_mode_ports_allow_one_task_per_node() {
    let mut c = Cluster::with_nodes((0..3).map(|i| node(&format!("n{i}"), 4, 8)));
    let mut web = service("web");
    web.endpoint = Some(Endpoint {
        ports: vec![PortConfig {
            target_port: 80,
            published_port: 8080,
            publish_mode: PublishMode::Host,
            ..PortConfig::default()
        }],
        ..Endpoint::default()
    });
    c.put_service(web);
    let ids = c.pending("web", 1, 4, &TaskSpec::default());
    let round = c.round();
    assert_eq!((round.assigned, round.unplaced), (3, 1));
    assert_eq!(
        c.per_node().values().copied().collect::<Vec<_>>(),
        [1, 1, 1]
    );
    assert_eq!(
        c.task(&ids[3]).status.err.as_deref(),
        Some("no suitable node (3 nodes have host port 8080/tcp in use)")
    );

    // A fresh scheduler reads the ports held from the stored tasks and agrees.
    let fresh = crate::manager::scheduler::Scheduler::new().schedule(&c.state, c.now);
    assert!(fresh.writes.is_empty());
    assert_eq!(fresh.unplaced, 1);

    // One task ends: its port is free again.
    c.report(&ids[0], TaskState::Running);
    c.report(&ids[0], TaskState::Complete);
    let round = c.round();
    assert_eq!(round.assigned, 1);
    assert_eq!(c.task(&ids[3]).status.state, TaskState::Assigned);
}

#[test]
fn named_items_are_claimed_once_and_recorded_on_the_task() {
    let mut gpu_node = node("g", 8, 8);
    gpu_node.description.as_mut().unwrap().resources.generic = vec![
        GenericResource::Named {
            kind: "gpu".into(),
            value: "GPU-0".into(),
        },
        GenericResource::Named {
            kind: "gpu".into(),
            value: "GPU-1".into(),
        },
    ];
    let mut c = Cluster::with_nodes([gpu_node, node("cpu-only", 8, 8)]);
    let spec = super::fixture::with_generic(reserving(100, 64), "gpu", 1);
    let ids = c.pending("train", 1, 3, &spec);
    let round = c.round();
    assert_eq!((round.assigned, round.unplaced), (2, 1));
    let mut items = Vec::new();
    for id in &ids[..2] {
        let task = c.task(id);
        assert_eq!(task.node_id.as_ref().unwrap().as_str(), "g");
        let held = task.assigned_resources.as_ref().unwrap();
        assert_eq!(
            held.generic[0],
            GenericResource::Discrete {
                kind: "gpu".into(),
                value: 1
            }
        );
        let GenericResource::Named { value, .. } = &held.generic[1] else {
            panic!("a named item: {held:?}");
        };
        items.push(value.clone());
    }
    items.sort();
    assert_eq!(items, ["GPU-0", "GPU-1"]);
    assert_eq!(
        c.task(&ids[2]).status.err.as_deref(),
        Some("no suitable node (2 nodes lack 1 gpu)")
    );

    // The claims are read back from the tasks: a fresh scheduler sees both GPUs taken.
    let fresh = crate::manager::scheduler::Scheduler::new().schedule(&c.state, c.now);
    assert!(fresh.writes.is_empty());
    assert_eq!(fresh.unplaced, 1);
}

#[test]
fn a_task_spec_that_does_not_convert_says_why_once() {
    let mut c = Cluster::with_nodes([node("n0", 4, 8)]);
    let mut spec = TaskSpec::default();
    spec.placement.constraints = vec!["node.labels.zone=eu".into()];
    let ids = c.pending("bad", 1, 1, &spec);
    let round = c.round();
    assert_eq!(
        (round.assigned, round.unplaced, round.writes.len()),
        (0, 1, 1)
    );
    assert_eq!(
        c.task(&ids[0]).status.err.as_deref(),
        Some(
            "invalid task spec: placement.constraints[0]: invalid constraint \
             \"node.labels.zone=eu\" at position 16: expected operator \"==\" or \"!=\", \
             found \"=\""
        )
    );
    assert_eq!(c.task(&ids[0]).status.state, TaskState::Pending);
    assert!(c.round().writes.is_empty());
}

#[test]
fn a_task_without_reservations_is_assigned_zero_resources() {
    let mut c = Cluster::with_nodes([node("n0", 1, 1)]);
    let ids = c.pending("tiny", 1, 1, &TaskSpec::default());
    c.round();
    assert_eq!(
        c.task(&ids[0]).assigned_resources,
        Some(Resources::default())
    );
    assert_eq!(c.task(&ids[0]).meta.version, Version(2));
}
