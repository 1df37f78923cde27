//! Rolling updates and rollbacks driven to their end on a cluster state, with the allocator,
//! the scheduler and the agents simulated by the fixture, the service changed through the
//! control steps.

use crate::manager::cluster_state::ClusterState;
use crate::manager::control::{rollback_service, update_service};
use crate::manager::orchestrator::fixture::Fixture;
use crate::manager::orchestrator::{
    MANUAL_ROLLBACK_MESSAGE, ROLLBACK_COMPLETED_MESSAGE, UPDATE_COMPLETED_MESSAGE,
    UPDATE_IN_PROGRESS_MESSAGE, update_paused_message, update_rolled_back_message,
};
use crate::model::{
    FailureAction, RestartCondition, ServiceId, ServiceMode, ServiceSpec, Task, TaskState,
    UpdateConfig, UpdateOrder, UpdateState, UpdateStatus, Version,
};
use std::collections::BTreeMap;
use std::time::Duration;

/// Most wake-ups [`run_until_idle`] follows.
const MAX_WAKES: usize = 100;

fn cluster(nodes: usize) -> Fixture {
    let mut f = Fixture::new();
    for n in 1..=nodes {
        f.node(&format!("n{n}"));
    }
    f
}

/// A replicated service of `replicas` on image `v1` with `update` as its update config and
/// restarts off (a failed task keeps its slot, so failures stay visible), running at 0 s.
fn web(f: &mut Fixture, replicas: u64, update: UpdateConfig) -> ServiceId {
    let web = f.replicated("web", replicas);
    f.update_service(&web, |s| {
        s.task_template.container.image = "v1".into();
        s.task_template.restart_policy.condition = RestartCondition::None;
        s.update_config = Some(update);
    });
    f.orchestrate_and_run(0);
    assert!(
        f.live(&web)
            .iter()
            .all(|t| t.status.state == TaskState::Running)
    );
    web
}

fn config(parallelism: u64, delay_secs: u64, order: UpdateOrder) -> UpdateConfig {
    UpdateConfig {
        parallelism,
        delay: Duration::from_secs(delay_secs),
        order,
        ..UpdateConfig::default()
    }
}

/// `service update` through the control step at `secs`.
fn update(f: &mut Fixture, id: &ServiceId, secs: u64, edit: impl FnOnce(&mut ServiceSpec)) {
    let service = f.state.service(id).expect("service").clone();
    let mut spec = service.spec.clone();
    edit(&mut spec);
    let writes = update_service(
        &f.state,
        id.as_str(),
        service.meta.version,
        &spec,
        f.at(secs),
    )
    .expect("update accepted");
    f.apply(&writes.writes);
}

fn set_image(f: &mut Fixture, id: &ServiceId, secs: u64, image: &str) {
    update(f, id, secs, |s| {
        s.task_template.container.image = image.into()
    });
}

/// Converges at `secs`, then at every time a step asks to be woken, until nothing waits;
/// `check` runs after every step of every pass. Returns the last time run.
fn run_until_idle(f: &mut Fixture, secs: u64, mut check: impl FnMut(&Fixture)) -> u64 {
    let mut now = secs;
    for _ in 0..MAX_WAKES {
        let round = f.converge(now, &mut check);
        let Some(wake) = round.next_wake else {
            return now;
        };
        let next = f.secs_of(wake);
        assert!(next > now, "woken for {next} at {now}");
        now = next;
    }
    panic!("still waiting after {MAX_WAKES} wake-ups");
}

fn status(f: &Fixture, id: &ServiceId) -> UpdateStatus {
    f.state
        .service(id)
        .and_then(|s| s.update_status.clone())
        .expect("an update status")
}

fn images(tasks: &[Task]) -> Vec<String> {
    let mut images: Vec<String> = tasks
        .iter()
        .map(|t| t.spec.container.image.clone())
        .collect();
    images.sort();
    images
}

/// Tasks of `id` on `image`, by creation second.
fn created_per_second(f: &Fixture, id: &ServiceId, image: &str) -> BTreeMap<u64, usize> {
    let mut per_second = BTreeMap::new();
    for t in f.tasks_of(id) {
        if t.spec.container.image == image {
            *per_second.entry(f.secs_of(t.meta.created_at)).or_default() += 1;
        }
    }
    per_second
}

fn running(f: &Fixture, id: &ServiceId) -> usize {
    f.state
        .tasks_of_service(id)
        .filter(|t| t.status.state == TaskState::Running)
        .count()
}

#[test]
fn parallelism_two_of_six_replaces_two_at_a_time_with_the_delay_between() {
    let mut f = cluster(3);
    let web = web(&mut f, 6, config(2, 10, UpdateOrder::StopFirst));
    set_image(&mut f, &web, 100, "v2");

    let first = f.orchestrate_and_run(100);
    assert_eq!(
        first.next_wake,
        Some(f.at(110)),
        "the next batch after the delay"
    );
    let started = status(&f, &web);
    assert_eq!(started.state, UpdateState::Updating);
    assert_eq!(started.message, UPDATE_IN_PROGRESS_MESSAGE);
    assert_eq!(started.started_at, f.at(100));
    assert_eq!(
        created_per_second(&f, &web, "v2"),
        BTreeMap::from([(100, 2)])
    );
    // Nothing moves before the delay ends.
    assert!(f.orchestrate_and_run(105).writes.is_empty());

    let end = run_until_idle(&mut f, 110, |_| {});
    assert_eq!(
        created_per_second(&f, &web, "v2"),
        BTreeMap::from([(100, 2), (110, 2), (120, 2)])
    );
    // The last batch ran at 120: its delay (10 s), then a watch of delay + 1 s (the delay
    // is not shorter than the 5 s monitor).
    assert_eq!(end, 141);
    let done = status(&f, &web);
    assert_eq!(done.state, UpdateState::Completed);
    assert_eq!(done.message, UPDATE_COMPLETED_MESSAGE);
    assert_eq!(done.completed_at, Some(f.at(141)));
    let live = f.live(&web);
    assert_eq!(images(&live), ["v2"; 6]);
    assert!(live.iter().all(|t| t.status.state == TaskState::Running));
    assert_eq!(f.live_slots(&web), [1, 2, 3, 4, 5, 6], "same slots");
}

#[test]
fn start_first_never_runs_fewer_than_the_replicas_and_stop_first_never_more() {
    for order in [UpdateOrder::StartFirst, UpdateOrder::StopFirst] {
        let mut f = cluster(2);
        let web = web(&mut f, 4, config(1, 0, order));
        set_image(&mut f, &web, 100, "v2");
        let (mut fewest, mut most) = (usize::MAX, 0);
        let mut prepared_first = false;
        run_until_idle(&mut f, 100, |f| {
            let n = running(f, &web);
            fewest = fewest.min(n);
            most = most.max(n);
            prepared_first |= f
                .state
                .tasks_of_service(&web)
                .any(|t| t.desired_state == TaskState::Ready);
        });
        match order {
            UpdateOrder::StartFirst => {
                assert_eq!((fewest, most), (4, 5), "one extra at a time");
                assert!(!prepared_first);
            }
            UpdateOrder::StopFirst => {
                assert_eq!((fewest, most), (3, 4), "one missing at a time");
                assert!(
                    prepared_first,
                    "new tasks wait, prepared, for the old to stop"
                );
            }
        }
        assert_eq!(status(&f, &web).state, UpdateState::Completed);
        assert_eq!(images(&f.live(&web)), ["v2"; 4]);
        assert_eq!(f.tasks_of(&web).len(), 8, "one replacement per slot");
    }
}

#[test]
fn a_failure_inside_the_monitor_window_pauses_and_a_new_update_resumes() {
    let mut f = cluster(3);
    let web = web(&mut f, 6, config(1, 0, UpdateOrder::StopFirst));
    f.failing_images.insert("bad".into());
    set_image(&mut f, &web, 100, "bad");
    run_until_idle(&mut f, 100, |_| {});

    let bad: Vec<Task> = f
        .tasks_of(&web)
        .into_iter()
        .filter(|t| t.spec.container.image == "bad")
        .collect();
    assert_eq!(bad.len(), 1, "paused after the first slot");
    assert_eq!(bad[0].status.state, TaskState::Failed);
    let paused = status(&f, &web);
    assert_eq!(paused.state, UpdateState::Paused);
    assert_eq!(paused.message, update_paused_message(bad[0].id.as_str()));
    assert_eq!(
        images(&f.live(&web)),
        ["bad", "v1", "v1", "v1", "v1", "v1"],
        "the other slots keep running the old spec"
    );
    assert!(
        f.orchestrate_and_run(1000).is_idle(),
        "a paused update waits"
    );

    // A new update supersedes the paused one and replaces every slot.
    set_image(&mut f, &web, 2000, "v3");
    run_until_idle(&mut f, 2000, |_| {});
    let done = status(&f, &web);
    assert_eq!(done.state, UpdateState::Completed);
    assert_eq!(done.started_at, f.at(2000));
    assert_eq!(images(&f.live(&web)), ["v3"; 6]);
}

#[test]
fn a_failure_with_failure_action_rollback_returns_every_slot_to_the_previous_spec() {
    let mut f = cluster(3);
    let mut cfg = config(2, 0, UpdateOrder::StartFirst);
    cfg.failure_action = FailureAction::Rollback;
    let web = web(&mut f, 6, cfg);
    f.failing_images.insert("bad".into());
    set_image(&mut f, &web, 100, "bad");

    let mut rolled_back_by = None;
    let mut fewest = usize::MAX;
    run_until_idle(&mut f, 100, |f| {
        fewest = fewest.min(running(f, &web));
        let s = status(f, &web);
        if s.state == UpdateState::RollbackStarted && rolled_back_by.is_none() {
            rolled_back_by = Some(s.message);
        }
    });
    let first_failed = f
        .tasks_of(&web)
        .into_iter()
        .filter(|t| t.spec.container.image == "bad")
        .min_by_key(|t| (t.status.timestamp, t.id.clone()))
        .expect("a bad task");
    assert_eq!(
        rolled_back_by.as_deref(),
        Some(update_rolled_back_message(first_failed.id.as_str()).as_str())
    );
    assert_eq!(
        fewest, 6,
        "start-first kept the old tasks until the new ones ran"
    );
    let done = status(&f, &web);
    assert_eq!(done.state, UpdateState::RollbackCompleted);
    assert_eq!(done.message, ROLLBACK_COMPLETED_MESSAGE);
    assert_eq!(done.started_at, f.at(100));
    let service = f.state.service(&web).unwrap();
    assert_eq!(service.spec.task_template.container.image, "v1");
    assert_eq!(service.spec_version, Version(2), "the old version is back");
    assert_eq!(service.previous_spec, None);
    let live = f.live(&web);
    assert_eq!(images(&live), ["v1"; 6]);
    assert!(live.iter().all(|t| t.status.state == TaskState::Running));
}

#[test]
fn a_rollback_that_fails_is_paused() {
    let mut f = cluster(2);
    let mut cfg = config(1, 0, UpdateOrder::StopFirst);
    cfg.failure_action = FailureAction::Rollback;
    let web = web(&mut f, 2, cfg);
    set_image(&mut f, &web, 100, "v2");
    run_until_idle(&mut f, 100, |_| {});
    assert_eq!(status(&f, &web).state, UpdateState::Completed);
    // v1 now fails: rolling back to it (default rollback config, failure action pause)
    // pauses at its first failure.
    f.failing_images.insert("v1".into());
    let writes = rollback_service(&f.state, "web", f.at(200)).unwrap();
    f.apply(&writes.writes);
    run_until_idle(&mut f, 200, |_| {});
    let failed: Vec<Task> = f
        .tasks_of(&web)
        .into_iter()
        .filter(|t| t.spec.container.image == "v1" && t.status.state == TaskState::Failed)
        .collect();
    assert_eq!(failed.len(), 1);
    let paused = status(&f, &web);
    assert_eq!(paused.state, UpdateState::RollbackPaused);
    assert_eq!(paused.message, update_paused_message(failed[0].id.as_str()));
}

#[test]
fn failure_action_continue_carries_on_and_completes() {
    let mut f = cluster(3);
    let mut cfg = config(2, 0, UpdateOrder::StopFirst);
    cfg.failure_action = FailureAction::Continue;
    let web = web(&mut f, 4, cfg);
    f.failing_images.insert("bad".into());
    set_image(&mut f, &web, 100, "bad");
    run_until_idle(&mut f, 100, |_| {});
    assert_eq!(status(&f, &web).state, UpdateState::Completed);
    let live = f.live(&web);
    assert_eq!(images(&live), ["bad"; 4]);
    assert!(live.iter().all(|t| t.status.state == TaskState::Failed));
}

#[test]
fn max_failure_ratio_tolerates_failures_up_to_the_ratio() {
    for (ratio, bad_slots) in [(0.3, 2), (0.5, 4)] {
        let mut f = cluster(3);
        let mut cfg = config(1, 0, UpdateOrder::StopFirst);
        cfg.max_failure_ratio = ratio;
        let web = web(&mut f, 6, cfg);
        f.failing_images.insert("bad".into());
        set_image(&mut f, &web, 100, "bad");
        run_until_idle(&mut f, 100, |_| {});
        let bad: Vec<Task> = f
            .tasks_of(&web)
            .into_iter()
            .filter(|t| t.spec.container.image == "bad")
            .collect();
        // 1/6 and 2/6 stay within 0.3 only for the first; 3/6 is not above 0.5, 4/6 is.
        assert_eq!(bad.len(), bad_slots, "ratio {ratio}");
        assert_eq!(status(&f, &web).state, UpdateState::Paused, "ratio {ratio}");
    }
}

#[test]
fn the_monitor_window_decides_whether_a_failure_counts() {
    // A task failing 3 s after it started counts in a 5 s window; 6 s after, it does not.
    for (fails_after, counts) in [(3, true), (6, false)] {
        let mut f = cluster(2);
        let mut cfg = config(1, 20, UpdateOrder::StopFirst);
        cfg.monitor = Duration::from_secs(5);
        let web = web(&mut f, 2, cfg);
        set_image(&mut f, &web, 100, "v2");
        f.orchestrate_and_run(100);
        let first = f
            .live(&web)
            .into_iter()
            .find(|t| t.spec.container.image == "v2")
            .unwrap();
        assert_eq!(first.running_since, Some(f.at(100)));
        f.report(&first.id, TaskState::Failed, 100 + fails_after);
        run_until_idle(&mut f, 100 + fails_after, |_| {});
        let s = status(&f, &web);
        if counts {
            assert_eq!(s.state, UpdateState::Paused);
            assert_eq!(s.message, update_paused_message(first.id.as_str()));
            assert_eq!(created_per_second(&f, &web, "v2").len(), 1);
        } else {
            assert_eq!(s.state, UpdateState::Completed);
            assert_eq!(
                created_per_second(&f, &web, "v2")[&120],
                1,
                "second slot after the delay"
            );
        }
    }
}

#[test]
fn a_manual_rollback_returns_to_the_previous_spec_with_the_rollback_config() {
    let mut f = cluster(3);
    let web = web(&mut f, 6, config(1, 0, UpdateOrder::StopFirst));
    update(&mut f, &web, 1, |s| {
        s.rollback_config = Some(config(0, 0, UpdateOrder::StartFirst));
    });
    set_image(&mut f, &web, 100, "v2");
    run_until_idle(&mut f, 100, |_| {});
    assert_eq!(status(&f, &web).state, UpdateState::Completed);
    let updated_version = f.state.service(&web).unwrap().spec_version;

    let writes = rollback_service(&f.state, web.as_str(), f.at(200)).unwrap();
    f.apply(&writes.writes);
    let started = status(&f, &web);
    assert_eq!(started.state, UpdateState::RollbackStarted);
    assert_eq!(started.message, MANUAL_ROLLBACK_MESSAGE);
    run_until_idle(&mut f, 200, |_| {});

    let done = status(&f, &web);
    assert_eq!(done.state, UpdateState::RollbackCompleted);
    assert_eq!(done.message, ROLLBACK_COMPLETED_MESSAGE);
    assert_eq!(images(&f.live(&web)), ["v1"; 6]);
    // The rollback config (parallelism 0): every slot at once.
    assert_eq!(created_per_second(&f, &web, "v1")[&200], 6);
    let service = f.state.service(&web).unwrap();
    assert_eq!(
        service
            .previous_spec
            .as_ref()
            .unwrap()
            .task_template
            .container
            .image,
        "v2"
    );
    assert_eq!(service.previous_spec_version, Some(updated_version));

    // The next update gets a version no task carries.
    set_image(&mut f, &web, 300, "v3");
    let service = f.state.service(&web).unwrap();
    assert!(service.spec_version > updated_version);
    run_until_idle(&mut f, 300, |_| {});
    assert_eq!(images(&f.live(&web)), ["v3"; 6]);
}

#[test]
fn a_new_update_supersedes_one_in_progress() {
    let mut f = cluster(3);
    let web = web(&mut f, 4, config(1, 10, UpdateOrder::StartFirst));
    set_image(&mut f, &web, 100, "v2");
    f.orchestrate_and_run(100);
    assert_eq!(images(&f.live(&web)), ["v1", "v1", "v1", "v2"]);

    set_image(&mut f, &web, 105, "v3");
    run_until_idle(&mut f, 105, |_| {});
    let done = status(&f, &web);
    assert_eq!(done.state, UpdateState::Completed);
    assert_eq!(done.started_at, f.at(105));
    assert_eq!(images(&f.live(&web)), ["v3"; 4]);
    assert_eq!(
        created_per_second(&f, &web, "v2"),
        BTreeMap::from([(100, 1)]),
        "the first update went no further"
    );
    // The new update starts at once: the old update's delay does not hold it.
    assert_eq!(created_per_second(&f, &web, "v3")[&105], 1);
}

#[test]
fn force_update_redeploys_without_a_spec_change() {
    let mut f = cluster(2);
    let web = web(&mut f, 3, config(0, 0, UpdateOrder::StopFirst));
    let before: Vec<_> = f.live(&web).into_iter().map(|t| t.id).collect();
    update(&mut f, &web, 100, |s| s.task_template.force_update += 1);
    run_until_idle(&mut f, 100, |_| {});
    assert_eq!(status(&f, &web).state, UpdateState::Completed);
    let after = f.live(&web);
    assert_eq!(after.len(), 3);
    assert!(after.iter().all(|t| !before.contains(&t.id)));
    assert!(
        after
            .iter()
            .all(|t| t.spec.force_update == 1 && t.status.state == TaskState::Running)
    );
    assert_eq!(images(&after), ["v1"; 3]);
}

#[test]
fn a_constraint_change_alone_keeps_the_tasks_whose_node_still_matches() {
    let mut f = cluster(3);
    for n in ["n1", "n2", "n3"] {
        f.change_node(n, 0, |node| {
            node.spec.labels.insert("zone".into(), "eu".into());
        });
    }
    let web = web(&mut f, 3, config(1, 0, UpdateOrder::StopFirst));
    let before: Vec<_> = f.live(&web).into_iter().map(|t| t.id).collect();
    update(&mut f, &web, 100, |s| {
        s.task_template.placement.constraints = vec!["node.labels.zone==eu".into()];
    });
    run_until_idle(&mut f, 100, |_| {});
    let after: Vec<_> = f.live(&web).into_iter().map(|t| t.id).collect();
    assert_eq!(after, before, "every node still matches: nothing replaced");
    assert_eq!(f.state.service(&web).unwrap().update_status, None);

    // n3 leaves the zone, then the constraint changes again: only its task moves.
    f.change_node("n3", 200, |node| {
        node.spec.labels.insert("zone".into(), "us".into());
    });
    f.change_node("n3", 200, |node| {
        node.spec.availability = crate::model::NodeAvailability::Pause;
    });
    update(&mut f, &web, 200, |s| {
        s.task_template.placement.constraints = vec!["node.labels.zone!=us".into()];
    });
    run_until_idle(&mut f, 200, |_| {});
    let live = f.live(&web);
    let kept: Vec<_> = live.iter().filter(|t| before.contains(&t.id)).collect();
    assert_eq!(kept.len(), 2);
    assert!(
        kept.iter()
            .all(|t| t.node_id.as_ref().is_some_and(|n| n.as_str() != "n3"))
    );
    assert_eq!(f.live_nodes(&web).iter().filter(|n| *n == "n3").count(), 0);
    assert_eq!(status(&f, &web).state, UpdateState::Completed);
}

#[test]
fn a_new_leader_rebuilt_from_the_stored_objects_continues_the_update() {
    let mut f = cluster(3);
    let web = web(&mut f, 6, config(2, 10, UpdateOrder::StartFirst));
    set_image(&mut f, &web, 100, "v2");
    f.orchestrate_and_run(100);
    f.orchestrate_and_run(110);
    assert_eq!(
        created_per_second(&f, &web, "v2"),
        BTreeMap::from([(100, 2), (110, 2)])
    );

    // The new leader reads every object back from its stored form.
    let mut successor = Fixture::new();
    successor.state = stored_copy(&f.state);
    successor.rng = f.rng;
    assert_eq!(successor.state.tasks(), f.state.tasks());
    assert_eq!(successor.state.services(), f.state.services());
    let end = run_until_idle(&mut successor, 115, |_| {});
    assert_eq!(
        created_per_second(&successor, &web, "v2"),
        BTreeMap::from([(100, 2), (110, 2), (120, 2)]),
        "the delay of the second batch is still kept"
    );
    assert_eq!(end, 141);
    let done = status(&successor, &web);
    assert_eq!(done.state, UpdateState::Completed);
    assert_eq!(done.started_at, f.at(100));
    assert_eq!(images(&successor.live(&web)), ["v2"; 6]);

    // The old leader, had it gone on, would have come to the same state.
    run_until_idle(&mut f, 115, |_| {});
    assert_eq!(f.state.tasks(), successor.state.tasks());
    assert_eq!(f.state.services(), successor.state.services());
}

/// `state` rebuilt from the JSON of every object, as a manager reads the store.
fn stored_copy(state: &ClusterState) -> ClusterState {
    fn copy<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T) -> T {
        serde_json::from_str(&serde_json::to_string(value).expect("serialize")).expect("parse")
    }
    let mut copied = ClusterState::new();
    copied.set_cluster(state.cluster().map(copy));
    for node in state.nodes().values() {
        copied.put_node(copy(node));
    }
    for service in state.services().values() {
        copied.put_service(copy(service));
    }
    for task in state.tasks().values() {
        copied.put_task(copy(task));
    }
    copied
}

#[test]
fn a_global_service_updates_node_by_node() {
    let mut f = cluster(3);
    let agent = f.service("agent", ServiceMode::Global);
    f.update_service(&agent, |s| {
        s.task_template.container.image = "v1".into();
        s.update_config = Some(config(1, 5, UpdateOrder::StartFirst));
    });
    f.orchestrate_and_run(0);
    assert_eq!(f.live_nodes(&agent), ["n1", "n2", "n3"]);
    set_image(&mut f, &agent, 100, "v2");
    let mut fewest = usize::MAX;
    run_until_idle(&mut f, 100, |f| fewest = fewest.min(running(f, &agent)));
    assert_eq!(fewest, 3);
    assert_eq!(
        created_per_second(&f, &agent, "v2"),
        BTreeMap::from([(100, 1), (105, 1), (110, 1)])
    );
    assert_eq!(status(&f, &agent).state, UpdateState::Completed);
    assert_eq!(f.live_nodes(&agent), ["n1", "n2", "n3"]);
    assert_eq!(images(&f.live(&agent)), ["v2"; 3]);
}

#[test]
fn scaling_during_an_update_counts_each_slot_once() {
    let mut f = cluster(3);
    let web = web(&mut f, 3, config(1, 10, UpdateOrder::StartFirst));
    set_image(&mut f, &web, 100, "v2");
    f.orchestrate_and_run(100);
    // Slot being updated holds two tasks for a moment: the reconciler must not see four.
    update(&mut f, &web, 101, |s| {
        s.mode = ServiceMode::Replicated { replicas: 5 }
    });
    run_until_idle(&mut f, 101, |f| {
        let live = f.live(&web);
        assert!(live.len() <= 6, "at most one extra task: {}", live.len());
    });
    assert_eq!(f.live_slots(&web), [1, 2, 3, 4, 5]);
    assert_eq!(images(&f.live(&web)), ["v2"; 5]);
    assert_eq!(status(&f, &web).state, UpdateState::Completed);
}

#[test]
fn a_stop_first_task_starts_after_the_timeout_when_the_old_one_never_reports_stopped() {
    let mut f = cluster(1);
    let web = web(&mut f, 1, config(1, 0, UpdateOrder::StopFirst));
    let old = f.live(&web).remove(0);
    set_image(&mut f, &web, 100, "v2");
    f.round(100);
    f.schedule(100);
    let new = f
        .live(&web)
        .into_iter()
        .find(|t| t.spec.container.image == "v2")
        .expect("the new task");
    assert_eq!(new.desired_state, TaskState::Ready);
    assert_eq!(
        f.state.task(&old.id).unwrap().desired_state,
        TaskState::Shutdown
    );
    // Its agent prepares the new task but never reports the old one stopped.
    f.report(&new.id, TaskState::Ready, 101);
    let waiting = f.round(130);
    assert!(waiting.writes.is_empty());
    assert_eq!(waiting.next_wake, Some(f.at(100) + super::OLD_TASK_TIMEOUT));
    let started = f.round(160);
    assert_eq!(started.writes.len(), 1);
    assert_eq!(
        f.state.task(&new.id).unwrap().desired_state,
        TaskState::Running
    );
}

/// Seed 46 of the simulation: a stop-first update's new task waited prepared (desired
/// `ready`) for its slot's old task to stop, and a scale cleared the update status
/// meanwhile (any spec change does, as in SwarmKit). The supervisor looked at no service
/// without an update status and no dirty slot, so the task stayed prepared forever and the
/// service one replica short.
#[test]
fn a_prepared_task_starts_after_a_scale_cleared_the_update_status() {
    let mut f = cluster(2);
    let web = web(&mut f, 1, config(1, 0, UpdateOrder::StopFirst));
    let old = f.live(&web).remove(0);
    set_image(&mut f, &web, 10, "v2");
    f.round(10);
    f.schedule(10);
    let new = f
        .live(&web)
        .into_iter()
        .find(|t| t.spec.container.image == "v2")
        .expect("the slot's new task");
    assert_eq!(
        new.desired_state,
        TaskState::Ready,
        "it waits for the old one"
    );
    update(&mut f, &web, 11, |s| {
        s.mode = ServiceMode::Replicated { replicas: 2 }
    });
    assert_eq!(f.state.service(&web).expect("web").update_status, None);
    f.report(&old.id, TaskState::Shutdown, 12);
    f.orchestrate_and_run(12);
    let new = f.state.task(&new.id).expect("the new task");
    assert_eq!(new.desired_state, TaskState::Running);
    assert_eq!(new.status.state, TaskState::Running);
    assert_eq!(images(&f.live(&web)), ["v2", "v2"]);
}

/// Seed 626 of the simulation: a node paused during a start-first update of a global
/// service kept the old task and the new one running side by side for good (the update
/// covered only nodes taking new tasks).
#[test]
fn a_node_paused_during_a_start_first_global_update_keeps_one_task() {
    let mut f = cluster(2);
    let agent = f.service("agent", ServiceMode::Global);
    f.update_service(&agent, |s| {
        s.task_template.container.image = "v1".into();
        s.update_config = Some(config(0, 0, UpdateOrder::StartFirst));
    });
    f.orchestrate_and_run(0);
    set_image(&mut f, &agent, 10, "v2");
    f.round(10);
    f.schedule(10);
    f.set_availability("n1", 11, crate::model::NodeAvailability::Pause);
    f.run_agents(11);
    f.orchestrate_and_run(12);
    let on_n1: Vec<Task> = f
        .live(&agent)
        .into_iter()
        .filter(|t| t.node_id.as_ref().is_some_and(|n| n.as_str() == "n1"))
        .collect();
    assert_eq!(
        images(&on_n1),
        ["v2"],
        "the old task of the paused node was shut down"
    );
    assert_eq!(images(&f.live(&agent)), ["v2", "v2"]);
}

/// Seed 1726 of the simulation: a stop-first update's new task waited prepared for the old
/// one to stop, the update was rolled back meanwhile (so that task's spec is no longer
/// current) and the rollback paused: the slot was left with nothing that could run.
#[test]
fn a_paused_rollback_refills_a_slot_left_with_only_a_stale_prepared_task() {
    let mut f = cluster(2);
    let web = web(&mut f, 1, config(1, 0, UpdateOrder::StopFirst));
    set_image(&mut f, &web, 10, "v2");
    f.round(10);
    f.schedule(10);
    let writes = rollback_service(&f.state, web.as_str(), f.at(11)).expect("rollback accepted");
    f.apply(&writes.writes);
    let mut paused = f.state.service(&web).expect("web").clone();
    if let Some(status) = &mut paused.update_status {
        status.state = UpdateState::RollbackPaused;
    }
    f.state.put_service(paused);
    f.run_agents(11);
    assert!(
        f.live(&web)
            .iter()
            .all(|t| t.desired_state == TaskState::Ready && t.spec.container.image == "v2"),
        "only the prepared task of the rolled-back spec is left"
    );
    f.orchestrate_and_run(12);
    let live = f.live(&web);
    assert_eq!(images(&live), ["v1"]);
    assert_eq!(live[0].status.state, TaskState::Running);
}

/// Seeds 8923 and 8948 of the simulation: the update's tasks of a service ran past the
/// monitor window, then failed (turned unhealthy), and their restart policy (a window, so no
/// end to the attempts) replaced them over and over. The replacements counted as tasks of the
/// update: each took the update's watch `monitor` past its start, and with one replica or
/// another always restarting, the update stayed `updating` for good. An update now watches
/// the tasks it created, as SwarmKit's updater does.
#[test]
fn an_update_completes_while_restarts_of_its_tasks_go_on() {
    let mut f = cluster(2);
    let web = f.replicated("web", 2);
    f.update_service(&web, |s| {
        s.task_template.container.image = "v1".into();
        s.task_template.restart_policy.condition = RestartCondition::Any;
        s.task_template.restart_policy.delay = Duration::from_secs(1);
        s.task_template.restart_policy.max_attempts = 0;
        s.update_config = Some(UpdateConfig {
            parallelism: 1,
            delay: Duration::from_secs(2),
            monitor: Duration::from_secs(1),
            failure_action: FailureAction::Rollback,
            ..UpdateConfig::default()
        });
    });
    f.orchestrate_and_run(0);
    set_image(&mut f, &web, 100, "v2");
    // Slot by slot at 100 and 102; the last watch (the 2 s delay, then delay + 1 s) would
    // end at 107. Every task of v2 runs 3 s (past the 1 s monitor), then fails, and is
    // restarted 1 s later: one slot or the other restarts every second or two.
    for secs in 100..=140 {
        let ran_long_enough: Vec<_> = f
            .tasks_of(&web)
            .into_iter()
            .filter(|t| {
                t.spec.container.image == "v2"
                    && t.status.state == TaskState::Running
                    && t.running_since
                        .is_some_and(|since| since + Duration::from_secs(3) <= f.at(secs))
            })
            .map(|t| t.id)
            .collect();
        for id in &ran_long_enough {
            f.report(id, TaskState::Failed, secs);
        }
        f.orchestrate_and_run(secs);
    }
    let restarted = f
        .tasks_of(&web)
        .iter()
        .filter(|t| t.spec.container.image == "v2" && f.secs_of(t.meta.created_at) > 110)
        .count();
    assert!(restarted >= 4, "the tasks kept restarting: {restarted}");
    let done = status(&f, &web);
    assert_eq!(
        (done.state, done.message.as_str()),
        (UpdateState::Completed, UPDATE_COMPLETED_MESSAGE)
    );
    assert_eq!(done.completed_at, Some(f.at(107)));
}
