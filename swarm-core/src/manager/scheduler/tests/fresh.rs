//! The engine is a cache: a long-lived scheduler decides as a fresh one would.

use super::fixture::{Cluster, at, manager, node, pending_task, reserving, service, with_generic};
use crate::manager::scheduler::Scheduler;
use crate::manager::writes::{ManagerWrite, ObjectWrite};
use crate::model::{
    Endpoint, GenericResource, NodeAvailability, NodeState, PlacementPreference, PortConfig,
    PublishMode, TaskId, TaskSpec, TaskState,
};
use std::time::Duration;

/// splitmix64: the tests' seeded random source.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The task templates the random rounds use: plain, spread over zones with a constraint,
/// a host port, a generic resource.
fn template(kind: usize) -> (String, TaskSpec) {
    match kind {
        0 => ("plain".into(), reserving(500, 256)),
        1 => {
            let mut spec = reserving(1000, 512);
            spec.placement.constraints = vec!["node.labels.zone!=c".into()];
            spec.placement.preferences = vec![PlacementPreference::Spread {
                spread_descriptor: "node.labels.zone".into(),
            }];
            ("zoned".into(), spec)
        }
        2 => ("ported".into(), TaskSpec::default()),
        _ => ("gpu".into(), with_generic(reserving(250, 0), "gpu", 1)),
    }
}

fn random_node(rng: &mut Rng, id: &str) -> crate::model::Node {
    let cores = 2 + rng.below(6) as i64;
    let mut n = if rng.below(5) == 0 {
        manager(id, cores, 4)
    } else {
        node(id, cores, 4)
    };
    n.spec
        .labels
        .insert("zone".into(), ["a", "b", "c"][rng.below(3)].into());
    if rng.below(3) == 0 {
        n.description.as_mut().unwrap().resources.generic = (0..2)
            .map(|i| GenericResource::Named {
                kind: "gpu".into(),
                value: format!("{id}-gpu{i}"),
            })
            .collect();
    }
    n
}

fn ids_where(c: &Cluster, f: impl Fn(&crate::model::Task) -> bool) -> Vec<TaskId> {
    c.state
        .tasks()
        .values()
        .filter(|t| f(t))
        .map(|t| t.id.clone())
        .collect()
}

/// Numbers for new names.
#[derive(Default)]
struct Counters {
    tasks: usize,
    nodes: usize,
}

/// One random change to the cluster.
fn change(c: &mut Cluster, rng: &mut Rng, next: &mut Counters) {
    let nodes: Vec<String> = c
        .state
        .nodes()
        .keys()
        .map(|n| n.as_str().to_owned())
        .collect();
    match rng.below(10) {
        0 => {
            // Ids that sort before the first nodes': the creation time orders them.
            next.nodes += 1;
            let id = format!("j{:03}", 999 - next.nodes);
            c.add_node(random_node(rng, &id));
            if rng.below(4) == 0 {
                // A record created before the last node the engine holds (a clock behind).
                c.update_node(&id, |n| n.meta.created_at = at(0));
            }
        }
        1 if nodes.len() > 2 => c.remove_node(&nodes[rng.below(nodes.len())]),
        2 if !nodes.is_empty() => {
            let id = &nodes[rng.below(nodes.len())];
            let pick = rng.below(5);
            c.update_node(id, |n| match pick {
                0 => n.spec.availability = NodeAvailability::Drain,
                1 => n.spec.availability = NodeAvailability::Active,
                2 => n.status.state = NodeState::Down,
                3 => n.status.state = NodeState::Ready,
                _ => {
                    n.description.as_mut().unwrap().resources.nano_cpus += 1_000_000_000;
                }
            });
        }
        3 | 4 => {
            let (name, spec) = template(rng.below(4));
            let n = 1 + rng.below(6);
            let first = next.tasks;
            next.tasks += n;
            c.pending(&name, first, n, &spec);
        }
        5 if !nodes.is_empty() => {
            next.tasks += 1;
            let on = &nodes[rng.below(nodes.len())];
            let id = format!("monitor.{:04}", next.tasks);
            c.pending_on(&id, "monitor", on, &reserving(250, 128));
        }
        6 | 7 => {
            let held = ids_where(c, |t| {
                t.status.state >= TaskState::Assigned && t.status.state <= TaskState::Running
            });
            if !held.is_empty() {
                let id = &held[rng.below(held.len())];
                let to = [TaskState::Running, TaskState::Complete, TaskState::Failed][rng.below(3)];
                if c.task(id).status.state < to {
                    c.report(id, to);
                }
            }
        }
        8 => {
            let ended = ids_where(c, |t| t.status.state.is_terminal());
            if !ended.is_empty() {
                c.delete_task(&ended[rng.below(ended.len())]);
            }
        }
        _ => {
            // The host port service publishes another port, or its first one again.
            let mut ported = c
                .state
                .service(&"ported".into())
                .cloned()
                .unwrap_or_else(|| service("ported"));
            let port = 9000 + rng.below(2) as u32;
            ported.endpoint = Some(Endpoint {
                ports: vec![PortConfig {
                    target_port: 80,
                    published_port: port,
                    publish_mode: PublishMode::Host,
                    ..PortConfig::default()
                }],
                ..Endpoint::default()
            });
            c.put_service(ported);
        }
    }
}

/// The engine views of two schedulers hold the same nodes with the same free resources and
/// the same task counts.
fn assert_same_view(long: &Scheduler, fresh: &Scheduler, c: &Cluster) {
    assert_eq!(long.engine().node_count(), fresh.engine().node_count());
    assert_eq!(long.engine().task_count(), fresh.engine().task_count());
    for id in c.state.nodes().keys() {
        let id: swarm_sched::NodeId = id.into();
        assert_eq!(
            long.engine().free_resources(&id),
            fresh.engine().free_resources(&id),
            "free resources of {id}"
        );
        for service in ["plain", "zoned", "ported", "gpu", "monitor"] {
            assert_eq!(
                long.engine().task_counts(&id, &service.into()),
                fresh.engine().task_counts(&id, &service.into())
            );
        }
        assert_eq!(
            long.engine().generic_free(&id, "gpu"),
            fresh.engine().generic_free(&id, "gpu")
        );
    }
}

#[test]
fn a_long_lived_scheduler_decides_as_a_fresh_one_round_after_round() {
    let mut decided = 0;
    for seed in 0..12 {
        let mut rng = Rng(seed);
        let mut c = Cluster::with_nodes((0..6).map(|i| random_node(&mut rng, &format!("n{i}"))));
        let mut next = Counters::default();
        for round in 0..40 {
            c.now = at(10 * (round + 1));
            for _ in 0..1 + rng.below(4) {
                change(&mut c, &mut rng, &mut next);
            }
            let mut fresh = Scheduler::new();
            let expected = fresh.schedule(&c.state, c.now);
            let got = c.scheduler.schedule(&c.state, c.now);
            assert_eq!(got, expected, "seed {seed}, round {round}");
            decided += got.assigned + got.unplaced;
            c.state.apply(&got.writes).unwrap();
            assert_same_view(&c.scheduler, &fresh, &c);
        }
    }
    // The rounds did place and refuse tasks.
    assert!(decided > 500, "{decided} decisions");
}

#[test]
fn ties_between_equal_nodes_fall_the_same_way_after_history() {
    // Five equal nodes; tasks come and go so that the nodes reach their counts in an order
    // that a fresh engine does not see.
    let mut c = Cluster::with_nodes((0..5).map(|i| node(&format!("n{i}"), 8, 8)));
    let spec = reserving(100, 0);
    let first = c.pending("web", 1, 10, &spec);
    c.round();
    for id in first.iter().rev().step_by(3) {
        c.report(id, TaskState::Running);
        c.report(id, TaskState::Complete);
    }
    c.round();
    c.pending("web", 20, 3, &spec);
    c.pending("api", 1, 4, &spec);
    let fresh = Scheduler::new().schedule(&c.state, c.now);
    let long = c.scheduler.schedule(&c.state, c.now);
    assert_eq!(long, fresh);
    assert_eq!(long.assigned, 7);
}

#[test]
fn an_unchanged_state_starts_nothing_over_and_a_removed_node_does() {
    let mut c = Cluster::with_nodes((0..3).map(|i| node(&format!("n{i}"), 4, 4)));
    c.pending("web", 1, 6, &reserving(500, 0));
    c.round();
    for _ in 0..3 {
        let round = c.round();
        assert!(round.writes.is_empty() && round.problems.is_empty());
    }
    assert_eq!(c.scheduler.mirror_rebuilds(), 0);
    c.now += Duration::from_secs(5);
    c.add_node(node("n3", 4, 4));
    c.round();
    assert_eq!(c.scheduler.mirror_rebuilds(), 0);
    c.remove_node("n1");
    c.round();
    assert_eq!(c.scheduler.mirror_rebuilds(), 1);
    // The tasks on the other nodes are still charged after the rebuild.
    assert_eq!(c.scheduler.engine().task_count(), 4);
}

#[test]
fn writes_that_were_not_stored_are_forgotten_next_round() {
    let mut c = Cluster::with_nodes([node("n0", 1, 1)]);
    let ids = c.pending("web", 1, 1, &reserving(1000, 0));
    // The transaction is lost: the task is still pending in the state.
    let lost = c.scheduler.schedule(&c.state, c.now);
    assert_eq!(lost.assigned, 1);
    let again = c.scheduler.schedule(&c.state, c.now);
    assert_eq!(again, Scheduler::new().schedule(&c.state, c.now));
    assert_eq!(again.assigned, 1);
    c.state.apply(&again.writes).unwrap();
    assert_eq!(c.node_of(&ids[0]), Some("n0"));
}

#[test]
fn problems_are_reported_every_round_until_the_object_changes() {
    let mut c = Cluster::with_nodes([node("ok", 4, 4)]);
    let mut bad = node("bad", 4, 4);
    bad.description.as_mut().unwrap().resources.memory_bytes = -1;
    c.add_node(bad);
    let mut task = pending_task("odd", "web", &TaskSpec::default(), c.now);
    task.node_id = Some("ok".into());
    task.status.state = TaskState::Running;
    task.assigned_resources = Some(crate::model::Resources {
        nano_cpus: -3,
        ..Default::default()
    });
    c.state
        .apply(&[ManagerWrite::Task(ObjectWrite::Create(task))])
        .unwrap();
    for _ in 0..2 {
        let round = c.round();
        let text: Vec<String> = round.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "node bad is left out of scheduling: node bad: description.resources.memory_bytes is -1, below zero",
                "task odd is not charged to its node: task odd: assigned_resources.nano_cpus is -3, below zero",
            ]
        );
    }
    c.update_node("bad", |n| {
        n.description.as_mut().unwrap().resources.memory_bytes = 1 << 30;
    });
    assert_eq!(c.round().problems.len(), 1);
    assert_eq!(c.scheduler.engine().node_count(), 2);
}
