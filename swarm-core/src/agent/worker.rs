//! The agent's worker: what to do with the tasks the node is given (SwarmKit's
//! `agent/worker.go`), as a sans-IO decision core.

use crate::manager::dispatcher::{HeldItem, ItemId};
use crate::model::{Task, TaskId, TaskState, TaskStatus};
use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

/// The message of a task this agent does not know that the cluster records as started here:
/// an earlier run of the agent had it, and its state was lost with it.
pub const MESSAGE_TASK_LOST: &str = "task lost: the agent restarted while it ran";

/// What the node's task runner does next, from [`Worker::assign`].
#[derive(Clone, Debug, PartialEq)]
pub enum WorkerAction {
    /// Create a controller for the task (with the files of the secrets and configs it
    /// references, all held) and drive it towards its desired state.
    Start {
        /// The task as assigned.
        task: Box<Task>,
    },
    /// The desired state of a task with a controller moved forward (ready to running, or to
    /// shutdown or remove: stop it).
    SetDesired {
        /// The task.
        task: TaskId,
        /// Its new desired state.
        desired: TaskState,
    },
    /// The task is no longer the node's: stop it if it runs and remove its controller.
    Remove {
        /// The task.
        task: TaskId,
    },
    /// Report a status for a task that gets no controller here: rejected (a secret or config
    /// it needs cannot be delivered), shut down before it started, or lost.
    Report {
        /// The task.
        task: TaskId,
        /// Its status.
        status: TaskStatus,
    },
}

/// What the worker knows of one task.
#[derive(Clone, Debug, PartialEq, Eq)]
struct LocalTask {
    /// The desired state last passed on.
    desired: TaskState,
    /// The last state observed here (reported by the controller's driver, or by the worker).
    state: TaskState,
    /// Whether a controller was started for it (and not removed yet).
    controller: bool,
    /// Whether its removal was asked for.
    removing: bool,
}

/// The worker's decisions, from the assignment set and what runs (no I/O, no clock: `now`
/// stamps the statuses it reports itself).
///
/// * A task new to the node, assigned and desired ready, running or complete, is started once
///   every secret and config it references is held; one that cannot be delivered rejects it
///   with the leader's reason.
/// * A task desired shutdown or remove is stopped (its controller is told); one that never
///   started here is reported shut down.
/// * A task no longer in the set is removed.
/// * A task the cluster records as accepted or later that this worker never knew was lost
///   with an earlier run of the agent: it is reported failed ([`MESSAGE_TASK_LOST`]), so the
///   orchestrator replaces it.
///
/// Each decision is taken once: the worker remembers what it passed on.
///
/// ```
/// use std::collections::{BTreeMap, BTreeSet};
/// use std::time::SystemTime;
/// use swarm_core::agent::{Worker, WorkerAction};
/// use swarm_core::model::{Task, TaskSpec, TaskState};
///
/// let now = SystemTime::now();
/// let mut task = Task::new("t1".into(), "web".into(), TaskSpec::default(), now);
/// task.status.state = TaskState::Assigned;
/// let mut worker = Worker::new();
/// let actions = worker.assign(&[task.clone()], &BTreeSet::new(), &BTreeMap::new(), now);
/// assert!(matches!(&actions[..], [WorkerAction::Start { .. }]));
/// // The same set again: nothing more to do.
/// assert!(worker.assign(&[task], &BTreeSet::new(), &BTreeMap::new(), now).is_empty());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Worker {
    tasks: BTreeMap<TaskId, LocalTask>,
}

impl Worker {
    /// A worker that knows no task.
    pub fn new() -> Worker {
        Worker::default()
    }

    /// Decides what to do with the assignment set `assigned`, given the items held and those
    /// the leader cannot deliver (with its reason).
    pub fn assign<'a, I>(
        &mut self,
        assigned: I,
        held: &BTreeSet<ItemId>,
        unavailable: &BTreeMap<ItemId, String>,
        now: SystemTime,
    ) -> Vec<WorkerAction>
    where
        I: IntoIterator<Item = &'a Task>,
        I::IntoIter: Clone,
    {
        let assigned = assigned.into_iter();
        let mut actions = Vec::new();
        let in_set: BTreeSet<&TaskId> = assigned.clone().map(|t| &t.id).collect();
        for task in assigned {
            match self.tasks.get_mut(&task.id) {
                Some(local) => {
                    if local.controller && !local.removing && task.desired_state > local.desired {
                        local.desired = task.desired_state;
                        actions.push(WorkerAction::SetDesired {
                            task: task.id.clone(),
                            desired: task.desired_state,
                        });
                    }
                }
                None => {
                    if let Some(action) = self.first_sight(task, held, unavailable, now) {
                        actions.push(action);
                    }
                }
            }
        }
        let gone: Vec<TaskId> = self
            .tasks
            .keys()
            .filter(|id| !in_set.contains(id))
            .cloned()
            .collect();
        for id in gone {
            let Some(local) = self.tasks.get_mut(&id) else {
                continue;
            };
            if !local.controller {
                self.tasks.remove(&id);
            } else if !local.removing {
                local.removing = true;
                actions.push(WorkerAction::Remove { task: id });
            }
        }
        actions
    }

    /// What to do with a task this worker has not seen.
    fn first_sight(
        &mut self,
        task: &Task,
        held: &BTreeSet<ItemId>,
        unavailable: &BTreeMap<ItemId, String>,
        now: SystemTime,
    ) -> Option<WorkerAction> {
        let observed = task.status.state;
        if observed.is_terminal() {
            return None;
        }
        let report = |worker: &mut Worker, status: TaskStatus| {
            worker.track(task, status.state, false);
            Some(WorkerAction::Report {
                task: task.id.clone(),
                status,
            })
        };
        if task.desired_state >= TaskState::Shutdown {
            let status = TaskStatus::new(TaskState::Shutdown, now, "shutdown before it started");
            return report(self, status);
        }
        if observed > TaskState::Assigned {
            let mut status = TaskStatus::new(TaskState::Failed, now, MESSAGE_TASK_LOST);
            status.err = Some(MESSAGE_TASK_LOST.to_owned());
            return report(self, status);
        }
        let mut waiting = false;
        for item in task_items(task) {
            if held.contains(&item) {
                continue;
            }
            if let Some(reason) = unavailable.get(&item) {
                let mut status = TaskStatus::new(TaskState::Rejected, now, "rejected");
                status.err = Some(reason.clone());
                return report(self, status);
            }
            waiting = true;
        }
        if waiting {
            return None;
        }
        self.track(task, TaskState::Assigned, true);
        Some(WorkerAction::Start {
            task: Box::new(task.clone()),
        })
    }

    fn track(&mut self, task: &Task, state: TaskState, controller: bool) {
        self.tasks.insert(
            task.id.clone(),
            LocalTask {
                desired: task.desired_state,
                state,
                controller,
                removing: false,
            },
        );
    }

    /// A task's controller reached `state` (forward moves only are kept).
    pub fn observe(&mut self, task: &TaskId, state: TaskState) {
        if let Some(local) = self.tasks.get_mut(task) {
            if state > local.state {
                local.state = state;
            }
        }
    }

    /// A task's controller was removed: the worker forgets it.
    pub fn removed(&mut self, task: &TaskId) {
        self.tasks.remove(task);
    }

    /// The tasks last observed running here, in id order.
    pub fn running(&self) -> Vec<TaskId> {
        self.tasks
            .iter()
            .filter(|(_, t)| t.state == TaskState::Running)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// The tasks the worker tracks, in id order.
    pub fn task_ids(&self) -> Vec<TaskId> {
        self.tasks.keys().cloned().collect()
    }

    /// How many tasks the worker tracks (at most the assignment set plus those being removed).
    pub fn tracked(&self) -> usize {
        self.tasks.len()
    }
}

/// The secrets and configs a task references.
pub fn task_items(task: &Task) -> impl Iterator<Item = ItemId> + '_ {
    let container = &task.spec.container;
    container
        .secrets
        .iter()
        .map(|r| ItemId::Secret(r.secret_id.clone()))
        .chain(
            container
                .configs
                .iter()
                .map(|r| ItemId::Config(r.config_id.clone())),
        )
}

/// The held items to drop: those not in the leader's `keep` list at the version held.
///
/// ```
/// use std::collections::BTreeMap;
/// use swarm_core::agent::items_to_drop;
/// use swarm_core::manager::dispatcher::{HeldItem, ItemId};
/// use swarm_core::model::Version;
///
/// let s1 = ItemId::Secret("s1".into());
/// let held = BTreeMap::from([(s1.clone(), Version(3))]);
/// let keep = [HeldItem { item: s1.clone(), version: Version(3) }];
/// assert!(items_to_drop(&held, &keep).is_empty());
/// assert_eq!(items_to_drop(&held, &[]), [s1]);
/// ```
pub fn items_to_drop(
    held: &BTreeMap<ItemId, crate::model::Version>,
    keep: &[HeldItem],
) -> Vec<ItemId> {
    let keep: BTreeSet<(&ItemId, crate::model::Version)> =
        keep.iter().map(|k| (&k.item, k.version)).collect();
    held.iter()
        .filter(|(item, version)| !keep.contains(&(*item, **version)))
        .map(|(item, _)| item.clone())
        .collect()
}

#[cfg(test)]
#[path = "worker_tests.rs"]
mod tests;
