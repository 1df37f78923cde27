//! One orchestration round: every orchestration step in a fixed order on one view.

use crate::manager::cluster_state::ClusterState;
use crate::manager::orchestrator::round::{MAX_TASK_WRITES_PER_ROUND, OrchestrationRound};
use crate::manager::orchestrator::{
    enforce_constraints, handle_node_failures, reap_tasks, reconcile_global, reconcile_global_jobs,
    reconcile_replicated, reconcile_replicated_jobs, remove_orphaned_tasks, supervise_restarts,
    supervise_updates,
};
use crate::manager::writes::{ManagerWrite, ObjectWrite};
use std::collections::BTreeSet;
use std::time::SystemTime;

/// Runs every orchestration step on `state` at `now`, each on the view the earlier ones
/// left (their writes applied to a copy), in this order: [`remove_orphaned_tasks`],
/// [`handle_node_failures`], [`enforce_constraints`], [`supervise_restarts`],
/// [`reconcile_replicated`], [`reconcile_global`], [`supervise_updates`] (after the
/// reconcilers, so slots dropped by a scale-down are not updated and slots they refilled are
/// up to date), [`reconcile_replicated_jobs`], [`reconcile_global_jobs`], [`reap_tasks`].
///
/// The round's writes all carry the versions read from `state` and name each object at
/// most once (a step's write to an object an earlier step already wrote is left for the
/// next round), so they apply to `state` together. At most
/// [`MAX_TASK_WRITES_PER_ROUND`] writes; `next_wake` is the earliest time a step waits for.
/// The same `state`, `now` and random sequence give the same round.
///
/// ```
/// use std::time::SystemTime;
/// use swarm_core::manager::cluster_state::ClusterState;
/// use swarm_core::manager::orchestrator::orchestrate;
/// use swarm_core::manager::writes::{ManagerWrite, ObjectWrite};
/// use swarm_core::model::{Service, ServiceMode, ServiceSpec, Version};
///
/// let mut state = ClusterState::new();
/// let mut spec = ServiceSpec::new("web", "nginx");
/// spec.mode = ServiceMode::Replicated { replicas: 3 };
/// state.put_service(Service { id: "web".into(), spec, spec_version: Version(1), ..Service::default() });
/// let mut seed = 0u64;
/// let mut rng = || { seed += 1; seed };
/// let round = orchestrate(&state, SystemTime::now(), &mut rng);
/// assert_eq!(round.writes.len(), 3);
/// assert!(round.writes.iter().all(|w| matches!(w, ManagerWrite::Task(ObjectWrite::Create(_)))));
/// state.apply(&round.writes)?;
/// assert!(orchestrate(&state, SystemTime::now(), &mut rng).is_idle());
/// # Ok::<(), swarm_core::manager::cluster_state::StateConflict>(())
/// ```
pub fn orchestrate(
    state: &ClusterState,
    now: SystemTime,
    rng: &mut dyn FnMut() -> u64,
) -> OrchestrationRound {
    orchestrate_in_view(state, now, rng).0
}

/// [`orchestrate`], with the view its writes left: `state` with them applied (`None` when the
/// round wrote nothing, so the view is `state` itself). The next steps of a round run on it.
pub fn orchestrate_in_view(
    state: &ClusterState,
    now: SystemTime,
    rng: &mut dyn FnMut() -> u64,
) -> (OrchestrationRound, Option<ClusterState>) {
    let mut run = Run {
        base: state,
        view: None,
        round: OrchestrationRound::default(),
        written: BTreeSet::new(),
    };
    run.step(|view, max| remove_orphaned_tasks(view, now, max));
    run.step(|view, max| handle_node_failures(view, now, max));
    run.step(|view, max| enforce_constraints(view, now, max));
    run.step(|view, max| supervise_restarts(view, now, max));
    run.step(|view, max| reconcile_replicated(view, now, rng, max));
    run.step(|view, max| reconcile_global(view, now, rng, max));
    run.step(|view, max| supervise_updates(view, now, rng, max));
    run.step(|view, max| reconcile_replicated_jobs(view, now, rng, max));
    run.step(|view, max| reconcile_global_jobs(view, now, rng, max));
    run.step(reap_tasks);
    (run.round, run.view)
}

/// The round being built: the view with the kept writes applied, and the objects written.
struct Run<'a> {
    /// The state the round started from.
    base: &'a ClusterState,
    /// `base` with the kept writes applied, copied at the first write a step returned (a
    /// round with nothing to do copies nothing).
    view: Option<ClusterState>,
    round: OrchestrationRound,
    written: BTreeSet<(&'static str, String)>,
}

impl Run<'_> {
    fn step(&mut self, step: impl FnOnce(&ClusterState, usize) -> OrchestrationRound) {
        let left = MAX_TASK_WRITES_PER_ROUND.saturating_sub(self.round.writes.len());
        if left == 0 {
            return;
        }
        let out = step(self.view.as_ref().unwrap_or(self.base), left);
        if let Some(at) = out.next_wake {
            self.round.wake_at(at);
        }
        if out.writes.is_empty() {
            return;
        }
        let base = self.base;
        let view = self.view.get_or_insert_with(|| base.clone());
        for write in out.writes.into_iter().take(left) {
            let Some(object) = object_key(&write) else {
                continue;
            };
            if self.written.contains(&object) {
                continue;
            }
            // Checked against the view, so a write that would not apply is never returned.
            if view.apply(std::slice::from_ref(&write)).is_err() {
                continue;
            }
            self.written.insert(object);
            self.round.writes.push(write);
        }
    }
}

/// The object a write names (steps only write services and tasks).
fn object_key(write: &ManagerWrite) -> Option<(&'static str, String)> {
    fn id<T: crate::manager::state::schema::StoredObject>(w: &ObjectWrite<T>) -> String {
        match w {
            ObjectWrite::Create(o) | ObjectWrite::Update { object: o, .. } => o.key().to_owned(),
            ObjectWrite::Delete { id, .. } => id.clone(),
        }
    }
    match write {
        ManagerWrite::Task(w) => Some(("tasks", id(w))),
        ManagerWrite::Service(w) => Some(("services", id(w))),
        _ => None,
    }
}
