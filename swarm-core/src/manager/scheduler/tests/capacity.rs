//! Reservations: reasons for what does not fit, capacity appearing, resources freed.

use super::fixture::{Cluster, at, node, reserving, set_availability};
use crate::manager::scheduler::pending::PendingTasks;
use crate::model::{NodeAvailability, TaskSpec, TaskState};

#[test]
fn a_reservation_too_big_stays_pending_with_the_reason_written_once() {
    let mut c = Cluster::with_nodes((0..3).map(|i| node(&format!("n{i}"), 2, 8)));
    c.add_node(node("drained", 16, 8));
    c.update_node("drained", set_availability(NodeAvailability::Drain));
    let ids = c.pending("big", 1, 2, &reserving(4000, 512));
    let round = c.round();
    assert_eq!((round.assigned, round.unplaced), (0, 2));
    assert_eq!(round.writes.len(), 2);
    let task = c.task(&ids[0]);
    assert_eq!(task.status.state, TaskState::Pending);
    assert_eq!(task.node_id, None);
    assert_eq!(
        task.status.err.as_deref(),
        Some("no suitable node (3 nodes lack 4 CPU; 1 node not available for new tasks)")
    );
    assert_eq!(task.status.message, "pending task scheduling");

    // Same reason next round: nothing written.
    c.now = at(5);
    let round = c.round();
    assert_eq!((round.unplaced, round.writes.len()), (2, 0));

    // A different reason is written again.
    c.update_node("n0", set_availability(NodeAvailability::Pause));
    let round = c.round();
    assert_eq!(round.writes.len(), 2);
    assert_eq!(
        c.task(&ids[1]).status.err.as_deref(),
        // Ties come in filter order.
        Some("no suitable node (2 nodes not available for new tasks; 2 nodes lack 4 CPU)")
    );
    assert_eq!(c.task(&ids[1]).status.timestamp, at(5));
}

#[test]
fn a_node_joining_takes_the_pending_task_next_round() {
    let mut c = Cluster::with_nodes([node("small", 1, 1)]);
    let ids = c.pending("big", 1, 1, &reserving(3000, 2048));
    c.round();
    assert_eq!(
        c.task(&ids[0]).status.err.as_deref(),
        Some("no suitable node (1 node lacks 3 CPU)")
    );
    c.now = at(30);
    c.add_node(node("large", 8, 16));
    let round = c.round();
    assert_eq!(round.assigned, 1);
    let task = c.task(&ids[0]);
    assert_eq!(task.node_id.as_ref().map(|n| n.as_str()), Some("large"));
    assert_eq!(task.status.state, TaskState::Assigned);
    assert_eq!(task.status.err, None);
    // The node joined after the others: the engine took it without starting over.
    assert_eq!(c.scheduler.mirror_rebuilds(), 0);
}

#[test]
fn capacity_grows_when_a_node_reports_more() {
    let mut c = Cluster::with_nodes([node("n0", 1, 1)]);
    let ids = c.pending("big", 1, 1, &reserving(2000, 256));
    c.round();
    assert_eq!(c.task(&ids[0]).status.state, TaskState::Pending);
    c.update_node("n0", |n| {
        n.description.as_mut().unwrap().resources.nano_cpus = 4_000_000_000;
    });
    assert_eq!(c.round().assigned, 1);
}

#[test]
fn tasks_that_end_or_are_deleted_free_their_resources() {
    let mut c = Cluster::with_nodes([node("n0", 2, 8)]);
    let first = c.pending("web", 1, 3, &reserving(1000, 256));
    let round = c.round();
    assert_eq!((round.assigned, round.unplaced), (2, 1));
    let placed: Vec<_> = first
        .iter()
        .filter(|id| c.task(id).status.state == TaskState::Assigned)
        .cloned()
        .collect();
    let waiting = first
        .iter()
        .find(|id| c.task(id).status.state == TaskState::Pending)
        .cloned()
        .unwrap();
    assert_eq!(
        c.scheduler.engine().free_resources(&"n0".into()),
        Some((0, (8 << 30) - (512 << 20)))
    );

    // Running changes nothing: the task is charged once.
    c.report(&placed[0], TaskState::Running);
    assert!(c.round().writes.is_empty());
    assert_eq!(
        c.scheduler.engine().free_resources(&"n0".into()),
        Some((0, (8 << 30) - (512 << 20)))
    );

    // It fails: its CPU goes to the waiting task.
    c.report(&placed[0], TaskState::Failed);
    assert_eq!(c.round().assigned, 1);
    assert_eq!(c.node_of(&waiting), Some("n0"));

    // A deleted task frees its share as well.
    let more = c.pending("web", 10, 1, &reserving(1000, 256));
    assert_eq!(c.round().unplaced, 1);
    c.delete_task(&placed[1]);
    assert_eq!(c.round().assigned, 1);
    assert_eq!(c.task(&more[0]).status.state, TaskState::Assigned);
}

#[test]
fn a_task_asked_to_stop_holds_its_resources_until_it_has() {
    let mut c = Cluster::with_nodes([node("n0", 1, 8)]);
    let old = c.pending("web", 1, 1, &reserving(1000, 0));
    c.round();
    c.report(&old[0], TaskState::Running);
    c.update_task(&old[0], |t| t.desired_state = TaskState::Shutdown);
    let new = c.pending("web", 2, 1, &reserving(1000, 0));
    assert_eq!(c.round().unplaced, 1);
    c.report(&old[0], TaskState::Shutdown);
    assert_eq!(c.round().assigned, 1);
    assert_eq!(c.node_of(&new[0]), Some("n0"));
}

#[test]
fn a_round_takes_at_most_its_limit_preset_tasks_first() {
    let mut c = Cluster::with_nodes([node("n0", 1, 1)]);
    c.pending("web", 1, 3, &TaskSpec::default());
    c.pending_on("global.n0", "global", "n0", &TaskSpec::default());
    let pending = PendingTasks::collect(&c.state, 2);
    assert_eq!(pending.preset.len(), 1);
    assert_eq!(pending.preset[0].id.as_str(), "global.n0");
    let unassigned: Vec<_> = pending.unassigned.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(unassigned, ["web.001"]);
    assert_eq!(pending.deferred, 2);
    let all = PendingTasks::collect(&c.state, 10);
    assert_eq!(
        (all.preset.len(), all.unassigned.len(), all.deferred),
        (1, 3, 0)
    );
}
