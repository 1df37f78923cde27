//! One round of the leader's steps on one view, planned as one set of writes.
//!
//! The orchestrators, the allocator and the scheduler run one after another, each on the
//! view the earlier ones left (their writes applied to a copy of the state), and their writes
//! are folded object by object ([`WriteFusion`]): a task the orchestrators create, the
//! allocator gives its addresses and the scheduler places is committed as one create of an
//! assigned task, not as three writes one commit apart. The plan is a pure function of the
//! state, the time, the random sequence and the scheduler's memory of earlier rounds; the
//! orchestration loop commits it.

use crate::manager::allocator::allocate;
use crate::manager::cluster_state::ClusterState;
use crate::manager::orchestrator::orchestrate_in_view;
use crate::manager::scheduler::Scheduler;
use crate::manager::write_fusion::WriteFusion;
use crate::manager::writes::ManagerWrite;
use std::borrow::Cow;
use std::time::SystemTime;

/// What a round asks for.
#[derive(Debug, Default)]
pub struct RoundPlan {
    /// The folded writes, each object named at most once; every replace and delete carries
    /// the version read from the state the round started from.
    pub writes: Vec<ManagerWrite>,
    /// The earliest time a step waits for (a restart delay).
    pub next_wake: Option<SystemTime>,
    /// Writes the orchestrators returned.
    pub orchestrated: usize,
    /// Writes the allocator returned.
    pub allocated: usize,
    /// Writes the scheduler returned.
    pub scheduled: usize,
}

/// Plans one round on `state` at `now`: the orchestrators
/// ([`orchestrate`](crate::manager::orchestrator::orchestrate)), then the allocator
/// ([`allocate`]) on the view they left, then `scheduler` on the view both left.
///
/// The writes apply to `state` as one transaction, or in any split that keeps each
/// [`commit group`](ManagerWrite::commit_group) whole: an object's writes fold into one, and
/// each step's writes were checked against the view. The same state, time, random sequence and
/// scheduler give the same plan.
///
/// ```
/// use std::time::SystemTime;
/// use swarm_core::manager::cluster_state::ClusterState;
/// use swarm_core::manager::round_plan::plan_round;
/// use swarm_core::manager::scheduler::Scheduler;
/// use swarm_core::model::{Service, ServiceMode, ServiceSpec, Version};
///
/// let mut state = ClusterState::new();
/// let mut spec = ServiceSpec::new("web", "nginx");
/// spec.mode = ServiceMode::Replicated { replicas: 3 };
/// state.put_service(Service { id: "web".into(), spec, spec_version: Version(1), ..Service::default() });
/// let mut seed = 0u64;
/// let mut rng = || { seed += 1; seed };
/// let plan = plan_round(&state, SystemTime::now(), &mut rng, &mut Scheduler::default());
/// // Three tasks created, then given their addresses and moved to pending (no node to
/// // place them on yet), and the service its endpoint: one write per object.
/// assert_eq!((plan.orchestrated, plan.allocated, plan.writes.len()), (3, 4, 4));
/// state.apply(&plan.writes)?;
/// # Ok::<(), swarm_core::manager::cluster_state::StateConflict>(())
/// ```
pub fn plan_round(
    state: &ClusterState,
    now: SystemTime,
    rng: &mut dyn FnMut() -> u64,
    scheduler: &mut Scheduler,
) -> RoundPlan {
    let (round, view) = orchestrate_in_view(state, now, rng);
    let mut view: Cow<'_, ClusterState> = view.map_or(Cow::Borrowed(state), Cow::Owned);
    let mut fusion = WriteFusion::new();
    let orchestrated = round.writes.len();
    fusion.extend(round.writes);
    let allocations = allocate(&view, now);
    let allocated = allocations.len();
    for write in allocations {
        // Computed on this view, so each applies; one that did not is left for the next
        // round rather than committed on a guess.
        if view.to_mut().apply(std::slice::from_ref(&write)).is_ok() {
            fusion.push(write);
        }
    }
    let scheduled = scheduler.schedule(&view, now).writes;
    let scheduled_count = scheduled.len();
    fusion.extend(scheduled);
    RoundPlan {
        writes: fusion.finish(),
        next_wake: round.next_wake,
        orchestrated,
        allocated,
        scheduled: scheduled_count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manager::orchestrator::fixture::{Fixture, splitmix};
    use crate::manager::orchestrator::orchestrate;
    use crate::manager::writes::ObjectWrite;
    use crate::model::{Task, TaskId, TaskState};
    use std::collections::BTreeMap;

    /// The tasks with their versions cleared (the fused route counts fewer writes).
    fn tasks(state: &ClusterState) -> BTreeMap<TaskId, Task> {
        state
            .tasks()
            .values()
            .map(|t| {
                let mut t = t.clone();
                t.meta.version = Default::default();
                (t.id.clone(), t)
            })
            .collect()
    }

    /// A state with three workers and two services, one of them already half running.
    fn fixture() -> Fixture {
        let mut f = Fixture::new();
        for n in ["n1", "n2", "n3"] {
            f.node(n);
        }
        f.replicated("web", 2);
        f.round(1);
        f.schedule(1);
        f.run_agents(1);
        f.replicated("api", 4);
        let web = f.state.service_by_name("web").expect("web").id.clone();
        f.update_service(&web, |s| {
            s.mode = crate::model::ServiceMode::Replicated { replicas: 5 }
        });
        f
    }

    #[test]
    fn a_round_commits_each_new_task_once_created_addressed_and_placed() {
        let f = fixture();
        let mut seed = 11;
        let plan = plan_round(
            &f.state,
            f.at(2),
            &mut || splitmix(&mut seed),
            &mut Scheduler::default(),
        );
        assert_eq!(plan.orchestrated, 7, "3 more web tasks, 4 api tasks");
        assert!(plan.allocated >= 7 && plan.scheduled >= 7, "{plan:?}");
        let creates: Vec<&Task> = plan
            .writes
            .iter()
            .filter_map(|w| match w {
                ManagerWrite::Task(ObjectWrite::Create(t)) => Some(t),
                _ => None,
            })
            .collect();
        assert_eq!(
            creates.len(),
            7,
            "one write per new task: {:?}",
            plan.writes
        );
        for t in creates {
            assert_eq!(t.status.state, TaskState::Assigned, "{t:?}");
            assert!(t.node_id.is_some(), "{t:?}");
        }
        let mut state = f.state.clone();
        state
            .apply(&plan.writes)
            .expect("the plan applies as one transaction");
    }

    #[test]
    fn the_fused_round_leaves_the_state_the_three_commits_leave() {
        let f = fixture();
        let now = f.at(2);
        // Three commits, each step on the state the previous one's writes left.
        let mut stepwise = f.state.clone();
        let mut seed = 11;
        let round = orchestrate(&stepwise, now, &mut || splitmix(&mut seed));
        stepwise.apply(&round.writes).expect("orchestrated");
        let allocations = allocate(&stepwise, now);
        stepwise.apply(&allocations).expect("allocated");
        let placed = Scheduler::default().schedule(&stepwise, now).writes;
        stepwise.apply(&placed).expect("scheduled");
        // One commit of the fused plan.
        let mut fused = f.state.clone();
        let mut seed = 11;
        let plan = plan_round(
            &fused,
            now,
            &mut || splitmix(&mut seed),
            &mut Scheduler::default(),
        );
        fused.apply(&plan.writes).expect("fused");
        assert_eq!(tasks(&fused), tasks(&stepwise));
        assert!(plan.writes.len() < round.writes.len() + allocations.len() + placed.len());
    }

    #[test]
    fn a_round_with_nothing_to_do_plans_nothing() {
        let mut f = fixture();
        let mut scheduler = Scheduler::default();
        let mut seed = 3;
        for secs in 2..6 {
            let plan = plan_round(
                &f.state,
                f.at(secs),
                &mut || splitmix(&mut seed),
                &mut scheduler,
            );
            f.apply(&plan.writes);
            f.run_agents(secs);
        }
        let plan = plan_round(
            &f.state,
            f.at(9),
            &mut || splitmix(&mut seed),
            &mut scheduler,
        );
        assert!(plan.writes.is_empty(), "{:?}", plan.writes);
    }
}
