//! The orchestrators driven to convergence on a cluster state, with the allocator, the
//! scheduler and the agents simulated by the fixture.

use crate::manager::orchestrator::fixture::{Fixture, splitmix};
use crate::manager::orchestrator::{
    CONSTRAINT_REJECTED_MESSAGE, MAX_TASK_WRITES_PER_ROUND, orchestrate,
};
use crate::model::{
    NodeAvailability, NodeState, RestartCondition, ServiceId, ServiceMode, Task, TaskState, Version,
};
use std::time::Duration;

fn slot_tasks(f: &Fixture, service: &ServiceId, slot: u64) -> Vec<Task> {
    let mut tasks: Vec<Task> = f
        .tasks_of(service)
        .into_iter()
        .filter(|t| t.slot == Some(slot))
        .collect();
    tasks.sort_by_key(|t| (t.meta.created_at, t.id.clone()));
    tasks
}

fn set_replicas(f: &mut Fixture, service: &ServiceId, replicas: u64) {
    f.update_service(service, |s| s.mode = ServiceMode::Replicated { replicas });
}

#[test]
fn scale_up_from_zero_to_five() {
    let mut f = Fixture::new();
    f.node("n1");
    f.node("n2");
    f.node("n3");
    let web = f.replicated("web", 0);
    f.orchestrate_and_run(0);
    assert!(f.tasks_of(&web).is_empty());

    set_replicas(&mut f, &web, 5);
    let last = f.orchestrate_and_run(1);
    assert!(last.is_idle());
    assert_eq!(f.live_slots(&web), [1, 2, 3, 4, 5]);
    let live = f.live(&web);
    assert!(live.iter().all(|t| t.status.state == TaskState::Running));
    assert!(live.iter().all(|t| t.spec_version == 2));
    assert_eq!(f.live_nodes(&web), ["n1", "n1", "n2", "n2", "n3"]);
}

#[test]
fn scale_down_takes_from_the_busiest_nodes_and_reaps_the_removed_tasks() {
    let mut f = Fixture::new();
    f.node("n1");
    let web = f.replicated("web", 3);
    f.orchestrate_and_run(0);
    f.node("n2");
    f.node("n3");
    set_replicas(&mut f, &web, 5);
    f.orchestrate_and_run(1);
    let on = |f: &Fixture, slot: u64| slot_tasks(f, &web, slot)[0].node_id.clone().unwrap();
    let mut placed: Vec<String> = (1..=5).map(|s| on(&f, s).0).collect();
    let slot_four_on = placed[3].clone();
    placed[3..].sort();
    assert_eq!(placed, ["n1", "n1", "n1", "n2", "n3"]);

    set_replicas(&mut f, &web, 2);
    let round = f.round(2);
    // Slots 2 and 3 (second and third copies on n1), then slot 5 (highest of the first
    // copies) are removed; slots 1 and 4 stay.
    assert_eq!(round.writes.len(), 3);
    assert_eq!(f.live_slots(&web), [1, 4]);
    for slot in [2, 3, 5] {
        assert_eq!(
            slot_tasks(&f, &web, slot)[0].desired_state,
            TaskState::Remove
        );
    }
    f.orchestrate_and_run(3);
    assert_eq!(f.live_nodes(&web), ["n1".to_owned(), slot_four_on]);
    assert_eq!(
        f.tasks_of(&web).len(),
        2,
        "removed tasks are deleted once shut down"
    );
}

#[test]
fn global_follows_joins_drains_and_label_changes() {
    let mut f = Fixture::new();
    for n in ["n1", "n2"] {
        f.node(n);
        f.change_node(n, 0, |node| {
            node.spec.labels.insert("gpu".into(), "yes".into());
        });
    }
    let agent = f.service("agent", ServiceMode::Global);
    f.update_service(&agent, |s| {
        s.task_template.placement.constraints = vec!["node.labels.gpu==yes".into()];
    });
    f.orchestrate_and_run(0);
    assert_eq!(f.live_nodes(&agent), ["n1", "n2"]);

    // A node joins: it gets a task once it has the label.
    f.node("n3");
    f.orchestrate_and_run(1);
    assert_eq!(f.live_nodes(&agent), ["n1", "n2"]);
    f.change_node("n3", 2, |n| {
        n.spec.labels.insert("gpu".into(), "yes".into());
    });
    f.orchestrate_and_run(2);
    assert_eq!(f.live_nodes(&agent), ["n1", "n2", "n3"]);
    assert!(
        f.live(&agent)
            .iter()
            .all(|t| t.status.state == TaskState::Running && t.slot.is_none())
    );

    // Drain n2: its task is shut down and not replaced.
    f.set_availability("n2", 3, NodeAvailability::Drain);
    f.orchestrate_and_run(3);
    assert_eq!(f.live_nodes(&agent), ["n1", "n3"]);
    let on_n2: Vec<Task> = f
        .tasks_of(&agent)
        .into_iter()
        .filter(|t| t.node_id == Some("n2".into()))
        .collect();
    assert_eq!(on_n2.len(), 1);
    assert_eq!(on_n2[0].status.state, TaskState::Shutdown);

    // n1 loses the label: its task is rejected and not replaced there.
    f.change_node("n1", 4, |n| {
        n.spec.labels.remove("gpu");
    });
    f.orchestrate_and_run(4);
    assert_eq!(f.live_nodes(&agent), ["n3"]);

    // Both come back.
    f.change_node("n1", 5, |n| {
        n.spec.labels.insert("gpu".into(), "yes".into());
    });
    f.set_availability("n2", 5, NodeAvailability::Active);
    f.orchestrate_and_run(5);
    assert_eq!(f.live_nodes(&agent), ["n1", "n2", "n3"]);
}

#[test]
fn a_replicated_job_completes_its_total_with_max_concurrent_respected() {
    let mut f = Fixture::new();
    f.node("n1");
    f.node("n2");
    let job = f.service(
        "job",
        ServiceMode::ReplicatedJob {
            max_concurrent: 2,
            total_completions: 5,
        },
    );
    f.orchestrate_and_run(0);
    let tasks = f.tasks_of(&job);
    assert_eq!(tasks.len(), 5);
    assert!(tasks.iter().all(|t| t.status.state == TaskState::Complete));
    let mut slots: Vec<u64> = tasks.iter().filter_map(|t| t.slot).collect();
    slots.sort_unstable();
    assert_eq!(slots, [1, 2, 3, 4, 5]);
    assert_eq!(f.most_running[&job], 2);
    let status = f.state.service(&job).unwrap().job_status.clone().unwrap();
    assert_eq!(status.job_iteration, Version(1));
    assert_eq!(status.last_execution, Some(f.at(0)));
    assert!(tasks.iter().all(|t| t.job_iteration == Some(Version(1))));
    assert!(
        f.orchestrate_and_run(10).is_idle(),
        "a finished job stays done"
    );

    // An update starts a new run of five.
    f.update_service(&job, |_| {});
    f.orchestrate_and_run(20);
    let second: Vec<Task> = f
        .tasks_of(&job)
        .into_iter()
        .filter(|t| t.job_iteration == Some(Version(2)))
        .collect();
    assert_eq!(second.len(), 5);
    assert!(second.iter().all(|t| t.status.state == TaskState::Complete));
}

#[test]
fn a_global_job_runs_once_per_eligible_node() {
    let mut f = Fixture::new();
    f.node("n1");
    f.node("n2");
    f.node("n3");
    f.set_availability("n3", 0, NodeAvailability::Pause);
    let job = f.service("job", ServiceMode::GlobalJob);
    f.orchestrate_and_run(0);
    let tasks = f.tasks_of(&job);
    assert_eq!(tasks.len(), 2);
    assert!(tasks.iter().all(|t| t.status.state == TaskState::Complete));
    assert!(f.orchestrate_and_run(1).is_idle());

    f.set_availability("n3", 2, NodeAvailability::Active);
    f.orchestrate_and_run(2);
    let mut nodes: Vec<String> = f
        .tasks_of(&job)
        .iter()
        .map(|t| t.node_id.clone().unwrap().0)
        .collect();
    nodes.sort();
    assert_eq!(nodes, ["n1", "n2", "n3"]);
}

#[test]
fn a_restart_waits_for_its_delay() {
    let mut f = Fixture::new();
    f.node("n1");
    let web = f.replicated("web", 1);
    f.update_service(&web, |s| {
        s.task_template.restart_policy.delay = Duration::from_secs(10);
    });
    f.orchestrate_and_run(0);
    let first = f.live(&web).remove(0);
    f.report(&first.id, TaskState::Failed, 100);

    let round = f.round(105);
    assert!(round.writes.is_empty());
    assert_eq!(round.next_wake, Some(f.at(110)));
    assert_eq!(
        f.tasks_of(&web).len(),
        1,
        "nothing created before the delay"
    );

    let round = f.round(110);
    assert_eq!(round.writes.len(), 2);
    assert_eq!(round.next_wake, None);
    let tasks = slot_tasks(&f, &web, 1);
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0].id, first.id);
    assert_eq!(tasks[0].desired_state, TaskState::Shutdown);
    assert_eq!(tasks[1].desired_state, TaskState::Running);
    assert_eq!(tasks[1].meta.created_at, f.at(110));
    f.orchestrate_and_run(110);
    assert_eq!(f.live(&web)[0].status.state, TaskState::Running);
}

#[test]
fn max_attempts_within_the_window_stop_restarts() {
    let mut f = Fixture::new();
    f.node("n1");
    let web = f.replicated("web", 1);
    f.update_service(&web, |s| {
        s.task_template.restart_policy.max_attempts = 2;
        s.task_template.restart_policy.window = Duration::from_secs(60);
    });
    f.orchestrate_and_run(0);
    for secs in [10, 20, 30] {
        let task = f.live(&web).remove(0);
        f.report(&task.id, TaskState::Failed, secs);
        f.orchestrate_and_run(secs);
    }
    // The first task and two restarts; the third failure is not restarted.
    let tasks = slot_tasks(&f, &web, 1);
    assert_eq!(tasks.len(), 3);
    assert_eq!(tasks[2].status.state, TaskState::Failed);
    assert_eq!(
        tasks[2].desired_state,
        TaskState::Running,
        "it keeps the slot"
    );
    assert!(f.orchestrate_and_run(1000).is_idle());
    assert_eq!(f.tasks_of(&web).len(), 3);

    // With one attempt per 10 s, failures 100 s apart are always restarted.
    let api = f.replicated("api", 1);
    f.update_service(&api, |s| {
        s.task_template.restart_policy.max_attempts = 1;
        s.task_template.restart_policy.window = Duration::from_secs(10);
    });
    f.orchestrate_and_run(1000);
    for secs in [1100, 1200, 1300] {
        let task = f.live(&api).remove(0);
        f.report(&task.id, TaskState::Failed, secs);
        f.orchestrate_and_run(secs);
    }
    assert_eq!(slot_tasks(&f, &api, 1).len(), 4);
    assert_eq!(f.live(&api)[0].status.state, TaskState::Running);
}

#[test]
fn on_failure_does_not_restart_a_completed_task() {
    let mut f = Fixture::new();
    f.node("n1");
    let web = f.replicated("web", 2);
    f.update_service(&web, |s| {
        s.task_template.restart_policy.condition = RestartCondition::OnFailure;
    });
    f.orchestrate_and_run(0);
    let live = f.live(&web);
    f.report(&live[0].id, TaskState::Complete, 10);
    f.report(&live[1].id, TaskState::Failed, 10);
    f.orchestrate_and_run(20);
    let done = f.state.task(&live[0].id).unwrap();
    assert_eq!(done.desired_state, TaskState::Running);
    assert_eq!(
        slot_tasks(&f, &web, done.slot.unwrap()).len(),
        1,
        "slot stays done"
    );
    let failed_slot = slot_tasks(&f, &web, live[1].slot.unwrap());
    assert_eq!(failed_slot.len(), 2);
    assert_eq!(failed_slot[1].status.state, TaskState::Running);
    assert_eq!(f.tasks_of(&web).len(), 3);
}

#[test]
fn a_down_node_is_replaced_in_the_same_slot_at_once_whatever_the_delay() {
    let mut f = Fixture::new();
    f.node("n1");
    f.node("n2");
    let web = f.replicated("web", 2);
    f.update_service(&web, |s| {
        s.task_template.restart_policy.delay = Duration::from_secs(5);
    });
    f.orchestrate_and_run(0);
    let lost = f
        .live(&web)
        .into_iter()
        .find(|t| t.node_id == Some("n2".into()))
        .unwrap();
    f.set_node_state("n2", 50, NodeState::Down);

    // The task did not fail, its node did: no restart delay.
    f.orchestrate_and_run(50);
    let slot = slot_tasks(&f, &web, lost.slot.unwrap());
    assert_eq!(slot.len(), 2);
    assert_eq!(slot[0].id, lost.id);
    assert_eq!(slot[0].desired_state, TaskState::Shutdown);
    assert_eq!(slot[1].node_id, Some("n1".into()));
    assert_eq!(slot[1].status.state, TaskState::Running);
    assert_eq!(f.live_nodes(&web), ["n1", "n1"]);
}

#[test]
fn a_drained_node_is_replaced_at_once() {
    let mut f = Fixture::new();
    f.node("n1");
    f.node("n2");
    let web = f.replicated("web", 2);
    f.update_service(&web, |s| {
        s.task_template.restart_policy.delay = Duration::from_secs(60);
        s.task_template.restart_policy.condition = RestartCondition::None;
    });
    f.orchestrate_and_run(0);
    f.set_availability("n2", 50, NodeAvailability::Drain);
    let round = f.round(50);
    assert_eq!(round.writes.len(), 2, "shut down and replaced in one round");
    assert_eq!(round.next_wake, None);
    f.orchestrate_and_run(50);
    assert_eq!(f.live_nodes(&web), ["n1", "n1"]);
    assert_eq!(f.live_slots(&web), [1, 2]);
    let drained: Vec<Task> = f
        .tasks_of(&web)
        .into_iter()
        .filter(|t| t.node_id == Some("n2".into()))
        .collect();
    assert_eq!(drained.len(), 1);
    assert_eq!(drained[0].status.state, TaskState::Shutdown);
}

#[test]
fn a_node_that_stops_meeting_the_constraints_loses_its_tasks_to_the_enforcer() {
    let mut f = Fixture::new();
    for n in ["n1", "n2"] {
        f.node(n);
        f.change_node(n, 0, |node| {
            node.spec.labels.insert("zone".into(), "eu".into());
        });
    }
    let web = f.replicated("web", 2);
    f.update_service(&web, |s| {
        s.task_template.placement.constraints = vec!["node.labels.zone==eu".into()];
    });
    f.orchestrate_and_run(0);
    assert_eq!(f.live_nodes(&web), ["n1", "n2"]);
    let moved = f
        .live(&web)
        .into_iter()
        .find(|t| t.node_id == Some("n2".into()))
        .unwrap();

    f.change_node("n2", 10, |n| {
        n.spec.labels.insert("zone".into(), "us".into());
    });
    f.orchestrate_and_run(10);
    let old = f.state.task(&moved.id).unwrap();
    assert_eq!(old.status.state, TaskState::Rejected);
    assert_eq!(old.desired_state, TaskState::Shutdown);
    assert_eq!(old.status.message, CONSTRAINT_REJECTED_MESSAGE);
    assert!(
        old.status
            .err
            .as_deref()
            .unwrap()
            .contains("node.labels.zone==eu")
    );
    let slot = slot_tasks(&f, &web, moved.slot.unwrap());
    assert_eq!(slot.len(), 2);
    assert_eq!(slot[1].node_id, Some("n1".into()));
    assert_eq!(f.live_nodes(&web), ["n1", "n1"]);
}

#[test]
fn a_deleted_service_has_its_tasks_removed_then_reaped() {
    let mut f = Fixture::new();
    f.node("n1");
    let web = f.replicated("web", 3);
    let keep = f.replicated("keep", 1);
    f.orchestrate_and_run(0);
    f.delete_service(&web);
    let round = f.round(1);
    assert_eq!(round.writes.len(), 3);
    assert!(
        f.tasks_of(&web)
            .iter()
            .all(|t| t.desired_state == TaskState::Remove)
    );
    f.orchestrate_and_run(1);
    assert!(f.tasks_of(&web).is_empty());
    assert_eq!(f.live(&keep).len(), 1);
}

#[test]
fn history_keeps_the_retention_limit_per_slot() {
    let mut f = Fixture::new();
    f.node("n1");
    let web = f.replicated("web", 2);
    f.orchestrate_and_run(0);
    let mut failed = Vec::new();
    for round in 1..=8 {
        let secs = round * 10;
        let task = f
            .live(&web)
            .into_iter()
            .find(|t| t.slot == Some(1))
            .unwrap();
        f.report(&task.id, TaskState::Failed, secs);
        failed.push(task.id);
        f.orchestrate_and_run(secs);
    }
    let slot = slot_tasks(&f, &web, 1);
    assert_eq!(slot.len(), 5, "the default limit keeps five per slot");
    // The four newest failures and the running replacement.
    let kept: Vec<_> = slot.iter().map(|t| t.id.clone()).collect();
    assert_eq!(kept[..4], failed[4..]);
    assert_eq!(slot[4].status.state, TaskState::Running);
    assert_eq!(slot_tasks(&f, &web, 2).len(), 1);

    // A lower limit trims further.
    let mut cluster = f.state.cluster().unwrap().clone();
    cluster.spec.orchestration.task_history_retention_limit = 2;
    f.state.set_cluster(Some(cluster));
    f.orchestrate_and_run(100);
    let slot = slot_tasks(&f, &web, 1);
    assert_eq!(slot.len(), 2);
    assert_eq!(slot[0].id, failed[7]);
}

#[test]
fn large_services_are_created_in_bounded_rounds() {
    let mut f = Fixture::new();
    let big = f.replicated("big", 25_000);
    let sizes: Vec<usize> = (0..4).map(|_| f.round(0).writes.len()).collect();
    assert_eq!(
        sizes,
        [
            MAX_TASK_WRITES_PER_ROUND,
            MAX_TASK_WRITES_PER_ROUND,
            5_000,
            0
        ]
    );
    assert_eq!(f.live(&big).len(), 25_000);
    let last = f.live_slots(&big);
    assert_eq!(last.first(), Some(&1));
    assert_eq!(last.last(), Some(&25_000));
}

#[test]
fn a_round_is_determined_by_state_time_and_random_source() {
    let mut f = Fixture::new();
    f.node("n1");
    f.node("n2");
    f.replicated("web", 3);
    f.service("all", ServiceMode::Global);
    let run = |seed: u64| {
        let mut s = seed;
        let mut rng = || splitmix(&mut s);
        orchestrate(&f.state, f.at(0), &mut rng)
    };
    assert_eq!(run(1), run(1));
    assert_eq!(run(1).writes.len(), 5);
    assert_ne!(run(1), run(2));
}

#[test]
fn failed_job_tasks_are_restarted_in_their_slot_until_max_attempts() {
    let mut f = Fixture::new();
    f.node("n1");
    let job = f.service(
        "job",
        ServiceMode::ReplicatedJob {
            max_concurrent: 2,
            total_completions: 2,
        },
    );
    f.update_service(&job, |s| {
        s.task_template.restart_policy.max_attempts = 1;
    });
    f.failing.insert(job.clone());
    f.orchestrate_and_run(0);
    for slot in [1, 2] {
        let tasks = slot_tasks(&f, &job, slot);
        assert_eq!(tasks.len(), 2, "the first run and one restart");
        assert!(tasks.iter().all(|t| t.status.state == TaskState::Failed));
        let mut desired: Vec<TaskState> = tasks.iter().map(|t| t.desired_state).collect();
        desired.sort();
        // The restarted one was shut down; the last one is settled, keeping its slot.
        assert_eq!(desired, [TaskState::Complete, TaskState::Shutdown]);
    }
    assert!(f.orchestrate_and_run(100).is_idle());
    assert_eq!(f.tasks_of(&job).len(), 4);

    // An update starts a new iteration; the failed ones are history.
    f.failing.clear();
    f.update_service(&job, |_| {});
    f.orchestrate_and_run(200);
    let done = f
        .tasks_of(&job)
        .into_iter()
        .filter(|t| t.job_iteration == Some(Version(3)) && t.status.state == TaskState::Complete)
        .count();
    assert_eq!(done, 2);
}

#[test]
fn a_job_update_removes_the_running_tasks_of_the_previous_iteration() {
    let mut f = Fixture::new();
    f.node("n1");
    let job = f.service(
        "job",
        ServiceMode::ReplicatedJob {
            max_concurrent: 1,
            total_completions: 1,
        },
    );
    f.round(0);
    f.schedule(0);
    let first = f.live(&job).remove(0);
    assert_eq!(first.status.state, TaskState::Assigned);
    f.update_service(&job, |_| {});
    f.round(1);
    assert_eq!(
        f.state.task(&first.id).unwrap().desired_state,
        TaskState::Remove
    );
    f.orchestrate_and_run(1);
    let tasks = f.tasks_of(&job);
    assert_eq!(tasks.len(), 1, "the removed task was reaped once stopped");
    assert_eq!(tasks[0].job_iteration, Some(Version(2)));
    assert_eq!(tasks[0].status.state, TaskState::Complete);
}

#[test]
fn a_deleted_node_loses_its_tasks_at_once() {
    let mut f = Fixture::new();
    f.node("n1");
    f.node("n2");
    let web = f.replicated("web", 2);
    f.update_service(&web, |s| {
        s.task_template.restart_policy.delay = Duration::from_secs(60);
    });
    let all = f.service("all", ServiceMode::Global);
    f.orchestrate_and_run(0);
    let n2 = f.state.node(&"n2".into()).unwrap().clone();
    f.apply(&[crate::manager::writes::ManagerWrite::DeleteNode {
        id: n2.id.clone(),
        expected_version: n2.meta.version,
    }]);
    f.orchestrate_and_run(10);
    assert_eq!(f.live_nodes(&web), ["n1", "n1"]);
    assert_eq!(f.live_slots(&web), [1, 2]);
    assert_eq!(f.live_nodes(&all), ["n1"]);
    assert_eq!(
        f.tasks_of(&all).len(),
        1,
        "the task on the deleted node is reaped"
    );
}
