//! A slot never runs two tasks at once: no two tasks of one replica slot (of a replicated
//! service or job), nor of one node of a global service, are running in the nodes' runtimes
//! at the same instant, except an old and a new task of a service that updates or rolls back
//! start-first. A task a manager already ordered to stop is not counted: on a node cut off
//! or crashed it runs until its agent hears (the replacement may run meanwhile, as in
//! SwarmKit). Nor is a task whose record the last leader's state observed no longer held: the
//! managers deleted it, the strongest order to stop (an agent stops a task no longer assigned
//! once it hears). Checked at every observation, from the runtimes themselves.
//!
//! The history sees the leaders' records only at observations, made in the pauses between
//! workload steps, not while a step's control call runs (seconds under faults) nor after a
//! pause drawn nil: a task ordered to stop and then deleted between two observations never
//! showed its stop order there (seed 6854); its absence says as much. A leader whose copy
//! lags (one that just took over) may lack a task for a moment; the next state that holds it
//! counts it again.

use crate::model::{NodeId, ServiceId, Task};
use crate::sim::observe::Observation;
use std::collections::BTreeMap;

/// A slot: a replica slot number, or the node of a global service's task.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    Replica(u64),
    Node(Option<NodeId>),
}

/// A task running in a slot: its id, spec version, the node whose runtime runs it, and its
/// record as the leaders last showed it (named in the report).
type Running<'a> = (&'a str, u64, &'a str, &'a Task);

/// `Err` names the service, the slot, the tasks and the nodes running them.
pub fn check(obs: &Observation) -> Result<(), String> {
    let history = &obs.history;
    let mut slots: BTreeMap<(&ServiceId, Slot), Vec<Running<'_>>> = BTreeMap::new();
    for (node, running) in &obs.runtimes {
        for id in running {
            // A task no leader ever showed is `no_task_lost`'s concern.
            let Some(seen) = history.tasks.get(id) else {
                continue;
            };
            if seen.ordered_to_stop() || seen.absent {
                continue;
            }
            let task = &seen.task;
            let slot = match task.slot {
                Some(n) => Slot::Replica(n),
                None => Slot::Node(task.node_id.clone()),
            };
            slots.entry((&task.service_id, slot)).or_default().push((
                id.as_str(),
                task.spec_version,
                node.as_str(),
                task,
            ));
        }
    }
    for ((service, slot), tasks) in slots {
        if tasks.len() < 2 {
            continue;
        }
        let versions: std::collections::BTreeSet<u64> = tasks.iter().map(|t| t.1).collect();
        let start_first = history.start_first.contains(service) && versions.len() == tasks.len();
        if start_first {
            continue;
        }
        let name = obs
            .state
            .as_ref()
            .and_then(|s| s.service(service))
            .map_or(service.as_str(), |s| s.spec.name.as_str());
        let listed: Vec<String> = tasks
            .iter()
            .map(|(id, version, node, record)| {
                format!(
                    "{id} (spec version {version}) on {node} (last record: {:?}, desired {:?}, \
                     store version {})",
                    record.status.state, record.desired_state, record.meta.version.0
                )
            })
            .collect();
        return Err(format!(
            "service {name} slot {slot:?} runs {} tasks at once: {}",
            tasks.len(),
            listed.join(", ")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manager::cluster_state::ClusterState;
    use crate::model::{RestartPolicy, TaskState};
    use crate::sim::history::History;
    use crate::sim::invariants::fixture::{at, observation, service, task};
    use crate::sim::seen_task::SeenTask;

    #[test]
    fn two_running_tasks_of_a_slot_are_named_unless_one_was_told_to_stop_or_start_first() {
        let s = service(&RestartPolicy::default());
        let a = task(&s, "a", 0.0, 1, TaskState::Running, 1.0);
        let b = task(&s, "b", 0.0, 1, TaskState::Running, 1.0);
        let mut history = History::default();
        for t in [&a, &b] {
            history
                .tasks
                .insert(t.id.clone(), SeenTask::new(t, at(1.0)));
        }
        let mut obs = observation(ClusterState::new(), history.clone());
        obs.runtimes
            .insert("w1".to_owned(), vec!["a".into(), "b".into()]);
        let err = check(&obs).unwrap_err();
        assert!(
            err.contains("runs 2 tasks at once: a (spec version 1) on w1"),
            "{err}"
        );

        // The same spec version stays a violation under a start-first update.
        let mut start_first = history.clone();
        start_first.start_first.insert(s.id.clone());
        let mut obs2 = obs.clone();
        obs2.history = std::sync::Arc::new(start_first.clone());
        assert!(check(&obs2).is_err());
        // Old and new spec versions of a start-first update may overlap.
        let mut b2 = b.clone();
        b2.spec_version = 2;
        start_first
            .tasks
            .insert(b2.id.clone(), SeenTask::new(&b2, at(1.0)));
        obs2.history = std::sync::Arc::new(start_first);
        assert_eq!(check(&obs2), Ok(()));

        // A task a manager told to stop may run on until its agent hears.
        let mut stopping = history;
        let mut a2 = a;
        a2.desired_state = TaskState::Shutdown;
        a2.meta.version = crate::model::Version(2);
        if let Some(seen) = stopping.tasks.get_mut(&a2.id) {
            seen.update(&a2);
        }
        obs.history = std::sync::Arc::new(stopping);
        assert_eq!(check(&obs), Ok(()));
    }

    /// Seed 6854 (3 managers, 2 workers, 12 steps, 4 AppendEntries in flight): `scale 0` set
    /// the task of slot 2 on w1 (cut off) desired `remove`, `rollback` created a new task for
    /// slot 2 on m1, and the reaper deleted the old record, all within 2.1 s of control calls
    /// without an observation. The history's last record of the old task said desired
    /// `running`, and w1 still ran it: reported as two tasks of the slot, though the managers
    /// had ordered the old one to stop and then deleted it.
    #[test]
    fn seed_6854_a_task_deleted_between_two_observations_is_not_counted() {
        let s = service(&RestartPolicy::default());
        let old = task(&s, "old", 0.0, 1, TaskState::Running, 1.0);
        let new = task(&s, "new", 5.0, 2, TaskState::Running, 6.0);
        let mut before = ClusterState::new();
        before.put_task(old.clone());
        let mut after = ClusterState::new();
        after.put_task(new.clone());
        let mut history = History::default();
        history.record(&before, at(1.0));
        history.record(&after, at(6.0));
        let mut obs = observation(after, history.clone());
        obs.runtimes.insert("w1".to_owned(), vec![old.id.clone()]);
        obs.runtimes.insert("m1".to_owned(), vec![new.id.clone()]);
        assert_eq!(check(&obs), Ok(()));
        // Still so at an observation without a leader (the next one in that run).
        obs.state = None;
        assert_eq!(check(&obs), Ok(()));

        // A leader whose state holds the old record desired running again: two in the slot.
        let mut both = ClusterState::new();
        both.put_task(old);
        both.put_task(new);
        history.record(&both, at(7.0));
        obs.history = std::sync::Arc::new(history);
        let err = check(&obs).unwrap_err();
        assert!(err.contains("runs 2 tasks at once"), "{err}");
    }
}
