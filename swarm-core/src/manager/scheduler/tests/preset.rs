//! Tasks whose node is preset (global services): checked against that node alone.

use super::fixture::{Cluster, node, reserving, set_availability, with_generic};
use crate::model::{GenericResource, NodeAvailability, TaskId, TaskState};

#[test]
fn a_preset_task_goes_to_its_node_if_it_fits_there() {
    let mut c = Cluster::with_nodes([node("busy", 4, 8), node("idle", 4, 8)]);
    c.pending("web", 1, 3, &reserving(1000, 0));
    c.round();
    let spec = reserving(500, 512);
    c.pending_on("monitor.busy", "monitor", "busy", &spec);
    c.pending_on("monitor.idle", "monitor", "idle", &spec);
    let round = c.round();
    assert_eq!(round.assigned, 2);
    for (id, node) in [("monitor.busy", "busy"), ("monitor.idle", "idle")] {
        let task = c.task(&TaskId::new(id));
        assert_eq!(task.status.state, TaskState::Assigned);
        assert_eq!(task.node_id.as_ref().map(|n| n.as_str()), Some(node));
        assert_eq!(task.assigned_resources, spec.resources.reservations);
    }
    // The busy node holds its web tasks and the monitor's reservation.
    let web_on_busy = c.per_node()["busy"] - 1;
    let cpu_used = 1_000_000_000 * web_on_busy as i64 + 500_000_000;
    assert_eq!(
        c.scheduler.engine().free_resources(&"busy".into()),
        Some((4_000_000_000 - cpu_used, (8 << 30) - (512 << 20)))
    );
}

#[test]
fn a_preset_node_that_cannot_take_the_task_is_named_in_the_reason() {
    let mut c = Cluster::with_nodes([node("small", 4, 1), node("drained", 4, 8)]);
    c.update_node("drained", set_availability(NodeAvailability::Drain));
    let spec = reserving(100, 2048);
    c.pending_on("monitor.small", "monitor", "small", &spec);
    c.pending_on("monitor.drained", "monitor", "drained", &spec);
    c.pending_on("monitor.gone", "monitor", "gone", &spec);
    let round = c.round();
    assert_eq!(
        (round.assigned, round.unplaced, round.writes.len()),
        (0, 3, 3)
    );
    let err = |id: &str| c.task(&TaskId::new(id)).status.err.clone();
    assert_eq!(
        err("monitor.small").as_deref(),
        Some("no suitable node (1 node lacks 2 GiB memory)")
    );
    assert_eq!(
        err("monitor.drained").as_deref(),
        Some("no suitable node (1 node not available for new tasks)")
    );
    assert_eq!(
        err("monitor.gone").as_deref(),
        Some("node gone is not known to the scheduler")
    );
    // Reasons unchanged: nothing written.
    assert!(c.round().writes.is_empty());
    // The drained node comes back: its task is placed.
    c.update_node("drained", set_availability(NodeAvailability::Active));
    assert_eq!(c.round().assigned, 1);
    assert_eq!(
        c.task(&TaskId::new("monitor.drained")).status.state,
        TaskState::Assigned
    );
}

#[test]
fn preset_tasks_are_placed_before_the_others() {
    let mut c = Cluster::with_nodes([node("n0", 1, 8)]);
    // "a..." sorts before "z...": the unassigned task comes first in id order.
    let unassigned = c.pending("a-web", 1, 1, &reserving(1000, 0));
    c.pending_on("z-monitor.n0", "z-monitor", "n0", &reserving(1000, 0));
    let round = c.round();
    assert_eq!((round.assigned, round.unplaced), (1, 1));
    assert_eq!(
        c.task(&TaskId::new("z-monitor.n0")).status.state,
        TaskState::Assigned
    );
    assert_eq!(
        c.task(&unassigned[0]).status.err.as_deref(),
        Some("no suitable node (1 node lacks 1 CPU)")
    );
}

#[test]
fn generic_resources_of_a_preset_task_are_checked_on_its_node_as_it_is_now() {
    let mut gpu = node("g", 8, 8);
    gpu.description.as_mut().unwrap().resources.generic = vec![GenericResource::Named {
        kind: "gpu".into(),
        value: "GPU-7".into(),
    }];
    let mut c = Cluster::with_nodes([gpu]);
    let spec = with_generic(reserving(100, 0), "gpu", 1);
    // Two tasks of one group preset to the same node: the second finds the item taken.
    c.pending_on("monitor.1", "monitor", "g", &spec);
    c.pending_on("monitor.2", "monitor", "g", &spec);
    let round = c.round();
    assert_eq!((round.assigned, round.unplaced), (1, 1));
    let first = c.task(&TaskId::new("monitor.1"));
    assert_eq!(
        first.assigned_resources.as_ref().unwrap().generic[1],
        GenericResource::Named {
            kind: "gpu".into(),
            value: "GPU-7".into()
        }
    );
    assert_eq!(
        c.task(&TaskId::new("monitor.2")).status.err.as_deref(),
        Some("no suitable node (1 node lacks 1 gpu)")
    );
}
