//! Replicated services: one live task per replica slot (SwarmKit's replicated orchestrator).

use crate::manager::cluster_state::ClusterState;
use crate::manager::orchestrator::new_task::{TaskIds, new_task};
use crate::manager::orchestrator::round::OrchestrationRound;
use crate::manager::orchestrator::slots::{SlotKey, is_live, tasks_by_slot};
use crate::manager::orchestrator::task_dirtiness::is_task_dirty;
use crate::manager::orchestrator::task_writes::{create, set_desired};
use crate::model::{NodeId, Service, ServiceMode, Task, TaskState};
use std::collections::BTreeMap;
use std::time::SystemTime;

/// For every replicated service, makes the number of slots holding a live task (desired
/// state at most `running`, ended or not) equal to `replicas`.
///
/// * Too few: new tasks, first in the slots that lost their task (shut down by a restart,
///   a node failure or the constraint enforcer), then in the lowest slot numbers never used.
/// * Too many: the slots to drop are taken from the nodes running the most tasks of the
///   service, then tasks not running yet, then the highest slot numbers (SwarmKit's order);
///   every task of a dropped slot gets desired state `remove`, and the reaper deletes them
///   once they stopped.
/// * Slots that lost their task and are not refilled are dropped the same way.
///
/// A slot counts once however many live tasks it holds (a start-first update has two for a
/// while), and tasks whose spec is stale are not replaced here: that is the update
/// supervisor's ([`supervise_updates`](super::supervise_updates)). New tasks get the
/// current spec. At most `max_writes` writes.
pub fn reconcile_replicated(
    state: &ClusterState,
    now: SystemTime,
    rng: &mut dyn FnMut() -> u64,
    max_writes: usize,
) -> OrchestrationRound {
    let mut round = OrchestrationRound::default();
    let mut ids = TaskIds::new(state);
    for service in state.services().values() {
        let ServiceMode::Replicated { replicas } = service.spec.mode else {
            continue;
        };
        let mut service_round = ServiceRound {
            service,
            now,
            max_writes,
            round: &mut round,
        };
        service_round.reconcile(state, replicas, &mut ids, rng);
        if round.full(max_writes) {
            break;
        }
    }
    round
}

struct ServiceRound<'a> {
    service: &'a Service,
    now: SystemTime,
    max_writes: usize,
    round: &'a mut OrchestrationRound,
}

impl ServiceRound<'_> {
    fn reconcile(
        &mut self,
        state: &ClusterState,
        replicas: u64,
        ids: &mut TaskIds<'_>,
        rng: &mut dyn FnMut() -> u64,
    ) {
        let slots = tasks_by_slot(state.tasks_of_service(&self.service.id));
        let mut occupied: Vec<(u64, &Vec<&Task>)> = Vec::new();
        let mut dead: Vec<(u64, &Vec<&Task>)> = Vec::new();
        for (key, tasks) in &slots {
            let SlotKey::Replica(slot) = key else {
                continue;
            };
            if tasks.iter().any(|t| is_live(t)) {
                occupied.push((*slot, tasks));
            } else {
                dead.push((*slot, tasks));
            }
        }
        for (_, tasks) in &occupied {
            self.keep_one_current_task(state, tasks);
        }
        let count = u64::try_from(occupied.len()).unwrap_or(u64::MAX);
        let mut missing = replicas.saturating_sub(count);
        let mut dropped: Vec<&Vec<&Task>> = Vec::new();
        for (slot, tasks) in dead {
            if missing > 0 {
                missing -= 1;
                self.create(ids, rng, slot);
            } else {
                dropped.push(tasks);
            }
        }
        let mut fresh = 1u64;
        while missing > 0 && !self.round.full(self.max_writes) {
            while slots.contains_key(&SlotKey::Replica(fresh)) {
                fresh = fresh.saturating_add(1);
            }
            self.create(ids, rng, fresh);
            fresh = fresh.saturating_add(1);
            missing -= 1;
        }
        if count > replicas {
            let keep = usize::try_from(replicas).unwrap_or(usize::MAX);
            let order = scale_down_order(occupied);
            dropped.extend(order.into_iter().skip(keep));
        }
        for tasks in dropped {
            for task in tasks {
                if let Some(write) = set_desired(task, TaskState::Remove, self.now) {
                    self.round.push(write, self.max_writes);
                }
            }
        }
    }

    /// A slot holding more than one live task of the current spec (never by design: a
    /// start-first update's second task has a newer spec than the first) keeps the one that
    /// got furthest towards running, the oldest of equals, and the others get desired state
    /// `shutdown` (SwarmKit's updater does the same for a slot's extra tasks).
    fn keep_one_current_task(&mut self, state: &ClusterState, tasks: &[&Task]) {
        let node = |t: &Task| t.node_id.as_ref().and_then(|n| state.node(n));
        let current: Vec<&Task> = tasks
            .iter()
            .copied()
            .filter(|t| is_live(t) && !is_task_dirty(self.service, t, node(t)))
            .collect();
        if current.len() < 2 || crate::sabotage::double_start_slot() {
            return;
        }
        // `tasks` is oldest first: `max_by_key` keeps the last of equals, so go newest first.
        let progress = |t: &&&Task| match t.status.state {
            s if s <= TaskState::Running => s as u32,
            _ => 0,
        };
        let Some(keep) = current
            .iter()
            .rev()
            .max_by_key(progress)
            .map(|t| t.id.clone())
        else {
            return;
        };
        for task in current.into_iter().filter(|t| t.id != keep) {
            if let Some(write) = set_desired(task, TaskState::Shutdown, self.now) {
                self.round.push(write, self.max_writes);
            }
        }
    }

    fn create(&mut self, ids: &mut TaskIds<'_>, rng: &mut dyn FnMut() -> u64, slot: u64) {
        if self.round.full(self.max_writes) {
            return;
        }
        if let Some(id) = ids.next(rng) {
            let task = new_task(self.service, id, Some(slot), None, self.now);
            self.round.push(create(task), self.max_writes);
        }
        if crate::sabotage::double_start_slot() {
            // Sabotage (simulation only): a second task for the same slot.
            if let Some(id) = ids.next(rng) {
                let task = new_task(self.service, id, Some(slot), None, self.now);
                self.round.push(create(task), self.max_writes);
            }
        }
    }
}

/// The occupied slots in the order they are kept: the first `replicas` stay. Each slot is
/// ranked by how many slots before it run on its node (a slot not on a node goes last), so
/// the nodes with the most tasks lose theirs first; then running slots before the others,
/// then lower slot numbers first.
fn scale_down_order<'a>(occupied: Vec<(u64, &'a Vec<&'a Task>)>) -> Vec<&'a Vec<&'a Task>> {
    struct Ranked<'a> {
        slot: u64,
        node: Option<NodeId>,
        running: bool,
        tasks: &'a Vec<&'a Task>,
    }
    let mut ranked: Vec<Ranked<'_>> = occupied
        .into_iter()
        .map(|(slot, tasks)| {
            let live: Vec<&&Task> = tasks.iter().filter(|t| is_live(t)).collect();
            let node = match live.as_slice() {
                [only] => only.node_id.clone(),
                _ => None,
            };
            Ranked {
                slot,
                node,
                running: live.iter().any(|t| t.status.state == TaskState::Running),
                tasks,
            }
        })
        .collect();
    ranked.sort_by_key(|r| (!r.running, r.slot));
    let mut per_node: BTreeMap<NodeId, usize> = BTreeMap::new();
    let mut indexed: Vec<(usize, Ranked<'_>)> = ranked
        .into_iter()
        .map(|r| {
            let index = match &r.node {
                Some(node) => {
                    let n = per_node.entry(node.clone()).or_default();
                    *n += 1;
                    *n
                }
                None => usize::MAX,
            };
            (index, r)
        })
        .collect();
    // Stable: equal ranks keep the running-then-slot order.
    indexed.sort_by_key(|(index, _)| *index);
    indexed.into_iter().map(|(_, r)| r.tasks).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manager::orchestrator::fixture::{Fixture, splitmix};

    #[test]
    fn missing_slots_are_created_and_extra_slots_removed() {
        let mut f = Fixture::new();
        f.node("n1");
        let web = f.replicated("web", 3);
        let mut seed = 1;
        let mut rng = || splitmix(&mut seed);
        let round = reconcile_replicated(&f.state, f.at(0), &mut rng, 2);
        assert_eq!(round.writes.len(), 2, "bounded by max_writes");
        f.apply(&round.writes);
        assert_eq!(f.live_slots(&web), [1, 2]);
        let round = reconcile_replicated(&f.state, f.at(0), &mut rng, 100);
        f.apply(&round.writes);
        assert_eq!(f.live_slots(&web), [1, 2, 3]);
        let task = f
            .live(&web)
            .into_iter()
            .find(|t| t.slot == Some(3))
            .unwrap();
        assert_eq!(task.spec_version, 1);
        assert_eq!(task.desired_state, TaskState::Running);
        assert_eq!(task.node_id, None);
        assert!(
            reconcile_replicated(&f.state, f.at(0), &mut rng, 100)
                .writes
                .is_empty()
        );

        // Slot 2 lost its task: it is refilled, not a new slot number.
        let two = f
            .live(&web)
            .into_iter()
            .find(|t| t.slot == Some(2))
            .unwrap();
        f.apply(&[set_desired(&two, TaskState::Shutdown, f.at(1)).unwrap()]);
        let round = reconcile_replicated(&f.state, f.at(1), &mut rng, 100);
        f.apply(&round.writes);
        assert_eq!(f.live_slots(&web), [1, 2, 3]);
        assert_eq!(f.tasks_of(&web).len(), 4);
    }

    #[test]
    fn a_slot_with_two_current_tasks_keeps_the_one_furthest_along() {
        let mut f = Fixture::new();
        f.node("n1");
        f.node("n2");
        let web = f.replicated("web", 2);
        f.orchestrate_and_run(0);
        let running = f.live(&web);
        assert_eq!(running.len(), 2);
        // A replacement committed for slot 1 while the shut down of its task was refused
        // (what a round split over two transactions once left): two current live tasks.
        let one = running.iter().find(|t| t.slot == Some(1)).unwrap().clone();
        let mut extra = Task::new("extra".into(), web.clone(), one.spec.clone(), f.at(1));
        extra.slot = Some(1);
        extra.spec_version = one.spec_version;
        extra.service_annotations = one.service_annotations.clone();
        f.apply(&[crate::manager::orchestrator::task_writes::create(extra)]);
        assert_eq!(f.live(&web).len(), 3);

        let mut seed = 7;
        let mut rng = || splitmix(&mut seed);
        let round = reconcile_replicated(&f.state, f.at(2), &mut rng, 100);
        assert_eq!(round.writes.len(), 1, "{:?}", round.writes);
        f.apply(&round.writes);
        let live: Vec<String> = f.live(&web).iter().map(|t| t.id.to_string()).collect();
        assert_eq!(live.len(), 2);
        assert!(live.contains(&one.id.to_string()), "the running task stays");
        assert!(!live.contains(&"extra".to_owned()));
        // Nothing more to do; a start-first update's two tasks (old and new spec) are not
        // touched (the update scenario tests run those).
        assert!(
            reconcile_replicated(&f.state, f.at(3), &mut rng, 100)
                .writes
                .is_empty()
        );
    }

    #[test]
    fn scale_down_prefers_busy_nodes_then_tasks_not_running_then_high_slots() {
        let task = |slot: u64, node: Option<&str>, state: TaskState| {
            let mut t = Task::new(
                format!("t{slot}").into(),
                "web".into(),
                Default::default(),
                SystemTime::UNIX_EPOCH,
            );
            t.slot = Some(slot);
            t.node_id = node.map(NodeId::new);
            t.status.state = state;
            t
        };
        let tasks = [
            task(1, Some("n1"), TaskState::Running),
            task(2, Some("n2"), TaskState::Starting),
            task(3, Some("n2"), TaskState::Running),
            task(4, Some("n3"), TaskState::Running),
            task(5, None, TaskState::Pending),
            task(6, Some("n1"), TaskState::Running),
        ];
        let groups: Vec<Vec<&Task>> = tasks.iter().map(|t| vec![t]).collect();
        let occupied = groups.iter().map(|g| (g[0].slot.unwrap_or(0), g)).collect();
        let kept: Vec<u64> = scale_down_order(occupied)
            .into_iter()
            .map(|g| g[0].slot.unwrap_or(0))
            .collect();
        // First copies on each node (running ones first, so n2's first copy is its running
        // slot 3), then second copies (running slot 6 before starting slot 2), then the
        // unassigned slot: scaling to 3 removes 6, 2 and 5.
        assert_eq!(kept, [1, 3, 4, 6, 2, 5]);
    }
}
