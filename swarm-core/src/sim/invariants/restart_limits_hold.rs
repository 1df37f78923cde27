//! A restart policy is never exceeded. A *restart* is a task created in a slot (replica slot,
//! or node of a global service) after the slot's previous task of the same spec version (and
//! job iteration) ended by itself (failed, rejected, or completed for a service; not seen
//! ordered to stop before it ended) on a node the managers never had down, drained or removed
//! meanwhile (a node's failure replaces its tasks at once, which is no restart). Each restart comes at least the policy's `delay` after the end it
//! follows, and with `max_attempts` set, at most that many restarts of the slot are created
//! within any `window` (the whole run without one). Read from the run's history of every
//! task the leaders showed, so tasks the managers deleted since still count.

use crate::model::{NodeId, ServiceId, Task, TaskState};
use crate::sim::observe::Observation;
use crate::sim::seen_task::SeenTask;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// One slot: its service, its replica number or (global services) its node.
type SlotKey<'a> = (&'a ServiceId, Option<u64>, Option<&'a NodeId>);

/// `Err` names the service, the slot and the restarts.
pub fn check(obs: &Observation) -> Result<(), String> {
    let history = &obs.history;
    let mut slots: BTreeMap<SlotKey<'_>, Vec<&SeenTask>> = BTreeMap::new();
    for seen in history.tasks.values() {
        let t = &seen.task;
        let node = if t.slot.is_none() {
            t.node_id.as_ref()
        } else {
            None
        };
        slots
            .entry((&t.service_id, t.slot, node))
            .or_default()
            .push(seen);
    }
    for tasks in slots.values_mut() {
        tasks.sort_by(|a, b| {
            (a.task.meta.created_at, &a.task.id).cmp(&(b.task.meta.created_at, &b.task.id))
        });
        // Restarts by (spec version, job iteration): a rollback brings an earlier version
        // back, and its first task is no restart (it follows a task of another version).
        let mut restarts: BTreeMap<(u64, Option<u64>), Vec<SystemTime>> = BTreeMap::new();
        for pair in tasks.windows(2) {
            let (before, after) = (pair[0], pair[1]);
            let version = (
                after.task.spec_version,
                after.task.job_iteration.map(|v| v.0),
            );
            if (
                before.task.spec_version,
                before.task.job_iteration.map(|v| v.0),
            ) != version
            {
                continue;
            }
            let Some(ended) = restart_after(before, after, obs) else {
                continue;
            };
            let t = &after.task;
            let policy = &before.task.spec.restart_policy;
            let created = t.meta.created_at;
            if created < ended + policy.delay {
                return Err(format!(
                    "{}: task {} restarted {} ms after task {} ended, before its delay of {} ms",
                    slot_name(t, obs),
                    t.id,
                    millis(created.duration_since(ended).unwrap_or_default()),
                    before.task.id,
                    millis(policy.delay)
                ));
            }
            let made = restarts.entry(version).or_default();
            made.push(created);
            if policy.max_attempts == 0 {
                continue;
            }
            let in_window = made
                .iter()
                .filter(|r| policy.window.is_zero() || **r + policy.window > created)
                .count();
            if u64::try_from(in_window).unwrap_or(u64::MAX) > policy.max_attempts {
                let listed: Vec<String> = tasks
                    .iter()
                    .map(|s| {
                        let t = &s.task;
                        format!(
                            "{} v{} created {} ms {} at {} ms (desired {})",
                            t.id,
                            t.spec_version,
                            since_epoch_ms(t.meta.created_at),
                            t.status.state,
                            since_epoch_ms(t.status.timestamp),
                            s.desired_max
                        )
                    })
                    .collect();
                return Err(format!(
                    "{}: task {} is restart number {in_window} within {}, max_attempts is {}; the slot's tasks: [{}]",
                    slot_name(t, obs),
                    t.id,
                    if policy.window.is_zero() {
                        "the run".to_owned()
                    } else {
                        format!("a window of {} ms", millis(policy.window))
                    },
                    policy.max_attempts,
                    listed.join(", ")
                ));
            }
        }
    }
    Ok(())
}

/// When `before` ended, if `after` (the next task of the slot) restarted it: `before` ended
/// by itself no later than `after` was created, on a node never failed meanwhile.
fn restart_after(before: &SeenTask, after: &SeenTask, obs: &Observation) -> Option<SystemTime> {
    let b = &before.task;
    let job = b.job_iteration.is_some();
    let by_itself = match b.status.state {
        TaskState::Failed | TaskState::Rejected => true,
        TaskState::Complete => !job,
        _ => false,
    };
    let ended = b.status.timestamp;
    if !by_itself || before.stopped_before_end || ended > after.task.meta.created_at {
        return None;
    }
    let node_failed = b.node_id.as_ref().is_some_and(|n| {
        obs.history
            .node_failed_between(n, b.meta.created_at, after.first_seen)
    });
    (!node_failed).then_some(ended)
}

fn slot_name(t: &Task, obs: &Observation) -> String {
    let service = obs
        .state
        .as_ref()
        .and_then(|s| s.service(&t.service_id))
        .map_or(t.service_id.as_str(), |s| s.spec.name.as_str());
    match (t.slot, &t.node_id) {
        (Some(slot), _) => format!("service {service} slot {slot}"),
        (None, Some(node)) => format!("service {service} on node {node}"),
        (None, None) => format!("service {service}"),
    }
}

fn millis(d: Duration) -> u128 {
    d.as_millis()
}

/// A time as milliseconds modulo 10^7 (the run's times are close together; enough to order
/// them in a message).
fn since_epoch_ms(t: SystemTime) -> u128 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        % 10_000_000
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manager::cluster_state::ClusterState;
    use crate::model::RestartPolicy;
    use crate::sim::history::History;
    use crate::sim::invariants::fixture::{at, observation, service, task};

    fn policy() -> RestartPolicy {
        RestartPolicy {
            delay: Duration::from_secs(1),
            max_attempts: 1,
            ..RestartPolicy::default()
        }
    }

    fn history(tasks: &[Task]) -> History {
        let mut h = History::default();
        for t in tasks {
            h.tasks
                .insert(t.id.clone(), SeenTask::new(t, t.meta.created_at));
        }
        h
    }

    #[test]
    fn one_restart_after_its_delay_holds() {
        let s = service(&policy());
        let t0 = task(&s, "t0", 0.0, 1, TaskState::Failed, 3.0);
        let t1 = task(&s, "t1", 4.0, 1, TaskState::Failed, 7.0);
        let obs = observation(ClusterState::new(), history(&[t0, t1]));
        assert_eq!(check(&obs), Ok(()));
    }

    #[test]
    fn a_restart_before_its_delay_is_named() {
        let s = service(&policy());
        let t0 = task(&s, "t0", 0.0, 1, TaskState::Failed, 3.0);
        let t1 = task(&s, "t1", 3.5, 1, TaskState::Running, 3.5);
        let obs = observation(ClusterState::new(), history(&[t0, t1]));
        let err = check(&obs).unwrap_err();
        assert!(
            err.contains("t1 restarted 500 ms after task t0 ended"),
            "{err}"
        );
    }

    #[test]
    fn restarts_beyond_max_attempts_are_named_and_node_failures_are_no_restarts() {
        let s = service(&policy());
        let t0 = task(&s, "t0", 0.0, 1, TaskState::Failed, 3.0);
        let t1 = task(&s, "t1", 4.0, 1, TaskState::Failed, 7.0);
        let t2 = task(&s, "t2", 8.0, 1, TaskState::Running, 8.0);
        let h = history(&[t0, t1, t2.clone()]);
        let err = check(&observation(ClusterState::new(), h.clone())).unwrap_err();
        assert!(
            err.contains("t2 is restart number 2 within the run"),
            "{err}"
        );
        // The node failed between t1's creation and t2: t2 replaced a task of a failed
        // node, no restart.
        let mut failed = h.clone();
        failed.node_failed_at.insert("n1".into(), vec![at(7.5)]);
        assert_eq!(check(&observation(ClusterState::new(), failed)), Ok(()));
        // A new spec version starts afresh.
        let mut newer = h;
        let mut t2_v2 = t2;
        t2_v2.spec_version = 2;
        newer
            .tasks
            .insert(t2_v2.id.clone(), SeenTask::new(&t2_v2, at(8.0)));
        assert_eq!(check(&observation(ClusterState::new(), newer)), Ok(()));
    }
}
