//! Jobs run to completion exactly: in its current iteration, a replicated job never has more
//! tasks completed than its total completions, reaches that total and then starts no task
//! more; a global job completes at most once on each node, and once on every ready, active
//! node. The bound counts the tasks the managers did not order to stop (seed 206: a task
//! replaced while its node was seen down completed there all the same, cut off); a slot or
//! node is done once any of its tasks completed, as the job reconcilers see it (seed 734).
//!
//! [`check_bounded`] (at most) holds always; [`check`] (exactly, and nothing more started)
//! once converged. Jobs whose image crashes are left out of [`check`] (their restart policy
//! gives up by design), and so is a job while no node is ready and active.

use crate::manager::cluster_state::ClusterState;
use crate::model::{NodeAvailability, NodeId, NodeState, Service, ServiceMode, Task, TaskState};
use crate::sim::invariants::{image_can_run, leader_state, node_name};
use crate::sim::observe::Observation;
use std::collections::BTreeMap;

/// The tasks of `service`'s current iteration (none before its first iteration started);
/// with `live_only`, those the managers did not order to stop. A task replaced because its
/// node was seen down may still complete on that node, cut off (the managers cannot stop
/// what they cannot reach: a job runs at least once, as in SwarmKit), so the bound counts
/// live tasks only; a slot or node is done once any of its tasks completed (as the job
/// reconcilers see it).
fn current<'a>(state: &'a ClusterState, service: &Service, live_only: bool) -> Vec<&'a Task> {
    let Some(iteration) = service.job_status.as_ref().map(|s| s.job_iteration) else {
        return Vec::new();
    };
    state
        .tasks_of_service(&service.id)
        .filter(|t| {
            t.job_iteration == Some(iteration)
                && (!live_only || t.desired_state <= TaskState::Complete)
        })
        .collect()
}

/// Completed tasks of `tasks`, by node.
fn completed_by_node<'a>(tasks: &[&'a Task]) -> BTreeMap<Option<&'a NodeId>, usize> {
    let mut by_node: BTreeMap<Option<&NodeId>, usize> = BTreeMap::new();
    for t in tasks
        .iter()
        .filter(|t| t.status.state == TaskState::Complete)
    {
        *by_node.entry(t.node_id.as_ref()).or_insert(0) += 1;
    }
    by_node
}

/// A node's name in the leader's state, or its id.
fn name_of<'a>(state: &'a ClusterState, node: Option<&'a NodeId>) -> &'a str {
    node.map_or("no node", |id| {
        state.node(id).map_or(id.as_str(), node_name)
    })
}

/// Holds always: no replicated job has more completed tasks in its current iteration than
/// its total, no global job two completed tasks on one node. `Err` names the job.
pub fn check_bounded(obs: &Observation) -> Result<(), String> {
    let Some(state) = obs.state.as_ref() else {
        return Ok(());
    };
    for service in state.services().values() {
        let tasks = current(state, service, true);
        match service.spec.mode {
            ServiceMode::ReplicatedJob {
                total_completions, ..
            } => {
                let done: Vec<String> = tasks
                    .iter()
                    .filter(|t| t.status.state == TaskState::Complete)
                    .map(|t| {
                        format!(
                            "{} slot {:?} on {}",
                            t.id,
                            t.slot,
                            name_of(state, t.node_id.as_ref())
                        )
                    })
                    .collect();
                if u64::try_from(done.len()).unwrap_or(u64::MAX) > total_completions {
                    return Err(format!(
                        "job {} completed {} tasks of a total of {total_completions}: [{}]",
                        service.spec.name,
                        done.len(),
                        done.join(", ")
                    ));
                }
            }
            ServiceMode::GlobalJob => {
                for (node, done) in completed_by_node(&tasks) {
                    if done > 1 {
                        return Err(format!(
                            "global job {} completed {done} tasks on {}",
                            service.spec.name,
                            name_of(state, node)
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Holds once converged: every replicated job completed exactly its total and runs nothing
/// more; every global job completed once on each ready, active node. `Err` names the job.
pub fn check(obs: &Observation) -> Result<(), String> {
    let state = leader_state(obs)?;
    check_bounded(obs)?;
    let available: Vec<&NodeId> = state
        .nodes()
        .values()
        .filter(|n| {
            n.status.state == NodeState::Ready && n.spec.availability == NodeAvailability::Active
        })
        .map(|n| &n.id)
        .collect();
    for service in state.services().values() {
        if !service.spec.mode.is_job()
            || !image_can_run(&service.spec.task_template.container.image)
            || available.is_empty()
        {
            continue;
        }
        let name = &service.spec.name;
        if service.job_status.is_none() {
            return Err(format!("job {name} never started an iteration"));
        }
        let tasks = current(state, service, false);
        match service.spec.mode {
            ServiceMode::ReplicatedJob {
                total_completions, ..
            } => {
                let done = tasks
                    .iter()
                    .filter(|t| t.status.state == TaskState::Complete)
                    .map(|t| t.slot)
                    .collect::<std::collections::BTreeSet<_>>()
                    .len();
                let still: Vec<String> = tasks
                    .iter()
                    .filter(|t| {
                        t.status.state != TaskState::Complete
                            && t.desired_state <= TaskState::Complete
                            && !t.status.state.is_terminal()
                    })
                    .map(|t| format!("{} slot {:?} {}", t.id, t.slot, t.status.state))
                    .collect();
                if u64::try_from(done).unwrap_or(u64::MAX) != total_completions || !still.is_empty()
                {
                    return Err(format!(
                        "job {name} completed {done} of {total_completions}; still meant to run: [{}]",
                        still.join(", ")
                    ));
                }
            }
            ServiceMode::GlobalJob => {
                let by_node = completed_by_node(&tasks);
                for node in &available {
                    let done = by_node.get(&Some(*node)).copied().unwrap_or(0);
                    if done == 0 {
                        return Err(format!(
                            "global job {name} completed {done} tasks on {}, a ready and active node",
                            name_of(state, Some(*node))
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{JobStatus, RestartPolicy, Version};
    use crate::sim::history::History;
    use crate::sim::invariants::fixture::{observation, ready_node, service, task};

    fn job_state(mode: ServiceMode, states: &[(&str, u64, TaskState)]) -> ClusterState {
        let mut s = service(&RestartPolicy::default());
        s.spec.mode = mode;
        s.job_status = Some(JobStatus {
            job_iteration: Version(1),
            last_execution: None,
        });
        let mut state = ClusterState::new();
        for node in ["n1", "n2"] {
            state.put_node(ready_node(node));
        }
        for (i, (node, slot, st)) in states.iter().enumerate() {
            let mut t = task(&s, &format!("t{i}"), 0.0, 1, *st, 1.0);
            t.node_id = Some((*node).into());
            t.slot = (*slot > 0).then_some(*slot);
            t.job_iteration = Some(Version(1));
            t.desired_state = TaskState::Complete;
            state.put_task(t);
        }
        state.put_service(s);
        state
    }

    #[test]
    fn a_replicated_job_completes_exactly_its_total_and_then_runs_nothing() {
        let mode = ServiceMode::ReplicatedJob {
            max_concurrent: 2,
            total_completions: 2,
        };
        let done = [
            ("n1", 1, TaskState::Complete),
            ("n2", 2, TaskState::Complete),
        ];
        let obs = observation(job_state(mode, &done), History::default());
        assert_eq!(check(&obs), Ok(()));

        let short = [
            ("n1", 1, TaskState::Complete),
            ("n2", 2, TaskState::Running),
        ];
        let obs = observation(job_state(mode, &short), History::default());
        assert_eq!(check_bounded(&obs), Ok(()));
        assert!(check(&obs).unwrap_err().contains("completed 1 of 2"));

        let over = [
            ("n1", 1, TaskState::Complete),
            ("n2", 2, TaskState::Complete),
            ("n2", 2, TaskState::Complete),
        ];
        let obs = observation(job_state(mode, &over), History::default());
        assert!(
            check_bounded(&obs)
                .unwrap_err()
                .contains("completed 3 tasks of a total of 2")
        );
    }

    /// Seed 206 (3 managers, 2 workers, 12 steps): the leader's own node was seen down a
    /// moment (its agent's manager cut off from the leader), its job task replaced on w1, and
    /// the task completed on m1 before its agent heard it was to stop: two completed tasks
    /// in slot 1, one of them ordered to stop. The job counts one.
    #[test]
    fn seed_206_a_completed_task_the_managers_ordered_to_stop_is_not_counted() {
        let mode = ServiceMode::ReplicatedJob {
            max_concurrent: 3,
            total_completions: 2,
        };
        let done = [
            ("n1", 1, TaskState::Complete),
            ("n2", 1, TaskState::Complete),
            ("n2", 2, TaskState::Complete),
        ];
        let mut state = job_state(mode, &done);
        let mut replaced = state.task(&"t0".into()).cloned().unwrap();
        replaced.desired_state = TaskState::Shutdown;
        state.put_task(replaced);
        let obs = observation(state, History::default());
        assert_eq!(check_bounded(&obs), Ok(()));
        assert_eq!(check(&obs), Ok(()));
    }

    /// Seed 734 (3 managers, 2 workers, 12 steps): a global job's task completed on w2 after
    /// the managers had ordered it to stop; the reconciler counts w2 done (it starts no
    /// other task there), and so does the checker.
    #[test]
    fn seed_734_a_node_whose_only_completion_was_ordered_to_stop_is_done() {
        let done = [
            ("n1", 0, TaskState::Complete),
            ("n2", 0, TaskState::Complete),
        ];
        let mut state = job_state(ServiceMode::GlobalJob, &done);
        let mut stopped = state.task(&"t1".into()).cloned().unwrap();
        stopped.desired_state = TaskState::Shutdown;
        state.put_task(stopped);
        let obs = observation(state, History::default());
        assert_eq!(check(&obs), Ok(()));
    }

    #[test]
    fn a_global_job_completes_once_on_each_available_node() {
        let done = [
            ("n1", 0, TaskState::Complete),
            ("n2", 0, TaskState::Complete),
        ];
        let obs = observation(job_state(ServiceMode::GlobalJob, &done), History::default());
        assert_eq!(check(&obs), Ok(()));

        let missing = [("n1", 0, TaskState::Complete)];
        let obs = observation(
            job_state(ServiceMode::GlobalJob, &missing),
            History::default(),
        );
        assert!(check(&obs).unwrap_err().contains("completed 0 tasks on n2"));

        let twice = [
            ("n1", 0, TaskState::Complete),
            ("n1", 0, TaskState::Complete),
            ("n2", 0, TaskState::Complete),
        ];
        let obs = observation(
            job_state(ServiceMode::GlobalJob, &twice),
            History::default(),
        );
        assert!(
            check_bounded(&obs)
                .unwrap_err()
                .contains("completed 2 tasks on n1")
        );
    }
}
