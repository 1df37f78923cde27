//! Rolling updates and rollbacks (SwarmKit's update supervisor and updater), as a pure
//! step: every decision is read from the service (`update_status`, spec, previous spec) and
//! its tasks, so a new leader continues an update where the last one left it.

use crate::manager::cluster_state::ClusterState;
use crate::manager::orchestrator::new_task::{TaskIds, new_task};
use crate::manager::orchestrator::round::OrchestrationRound;
use crate::manager::orchestrator::slots::SlotKey;
use crate::manager::orchestrator::task_writes::{create, set_desired};
use crate::manager::orchestrator::update_outcome::{UpdateOutcome, failure_outcome};
use crate::manager::orchestrator::update_progress::UpdateProgress;
use crate::manager::orchestrator::update_slots::{UpdateSlot, update_slots};
use crate::manager::writes::{ManagerWrite, ObjectWrite};
use crate::model::{
    Service, ServiceMode, Task, TaskState, UpdateConfig, UpdateOrder, UpdateState, UpdateStatus,
};
use std::time::{Duration, SystemTime};

/// How long a stop-first update waits for the old task of a slot to stop before it starts
/// the new one anyway (SwarmKit's restart supervisor `defaultOldTaskTimeout`): a node that
/// never reports the old task stopped delays its slot by at most this much.
pub const OLD_TASK_TIMEOUT: Duration = Duration::from_secs(60);

/// How much longer than the delay the last batch is watched when the delay is at least the
/// monitor window (SwarmKit's `delay + 1s`).
const MONITOR_PAST_DELAY: Duration = Duration::from_secs(1);

/// Replaces the tasks of replicated and global services that do not match their service's
/// current spec, slot by slot (replica slots; nodes for global services), per the service's
/// update config (its rollback config while it rolls back), and keeps `update_status`.
///
/// A task is *dirty* when [`is_task_dirty`](super::is_task_dirty) says so; a slot is when
/// it holds a dirty live task or more than one live task.
///
/// * **Start.** A service without update status that has a dirty slot gets `updating`
///   ("update in progress", started now). [`update_service`] clears the status, so a new
///   update supersedes one in progress or paused; [`rollback_service`] sets
///   `rollback_started`.
/// * **Batches.** A dirty slot without a task of the current spec gets a new one, marked as
///   the update's own ([`Task::update_started_at`] is the update's start): at most
///   `parallelism` slots (0: all) are in progress at once, a slot counting from its new
///   task's creation until `delay` after that task first ran (or ended, or left the slot).
///   Only the update's own tasks are watched: a replacement another step makes (a restart
///   of one of them, a task for a failed node, a new slot) holds no place and does not
///   extend the watch, as in SwarmKit, so the update ends while its tasks keep restarting.
///   Stop-first: the new task is created desired `ready` (prepared, not started) and the
///   old ones shut down; the new one gets desired `running` once no other task of the slot
///   holds its node (or after [`OLD_TASK_TIMEOUT`]). Start-first: the new task is created
///   desired `running`, and the old ones are shut down once it runs.
/// * **Failures.** A task of the update (its own, of the current spec) that ends early
///   (failed, rejected, exited, or stopped while desired running) before it ran or at most
///   `monitor` after it started counts its slot as failed. When the failed
///   slots exceed `max_failure_ratio` of the slots the update touches, the failure action
///   applies: `pause` (status `paused` / `rollback_paused`, `update paused due to failure or
///   early termination of task <id>`), `rollback` (spec and previous spec swapped back,
///   status `rollback_started`, "update rolled back due to …"; during a rollback it pauses,
///   "rollback paused due to …") or `continue`.
/// * **Pause.** A paused update starts no new slot; slots already in progress finish, and a
///   slot left with only a prepared task of a spec no longer current (rolled back while it
///   waited for the old task to stop) gets a task of the current spec.
/// * **No status.** A service without update status and without a dirty slot (a spec change
///   such as a scale cleared the status of an update under way) still has its prepared tasks
///   started once their slots' old tasks stopped; nothing else is done.
/// * **Completion.** Once no slot is dirty and every task of the update settled, the last
///   batch is
///   watched for `monitor` more (`delay` + 1 s when the delay is at least the monitor), then
///   the status becomes `completed` ("update completed") or `rollback_completed`
///   ("rollback completed") with `completed_at`.
///
/// `next_wake` is the earliest of: a delay ending while slots wait, the end of the last
/// watch, an old task's timeout. Job services have no updates (a job update starts a new
/// iteration). At most `max_writes` writes, one per object.
///
/// [`update_service`]: crate::manager::control::update_service
/// [`rollback_service`]: crate::manager::control::rollback_service
/// [`Task::update_started_at`]: crate::model::Task::update_started_at
pub fn supervise_updates(
    state: &ClusterState,
    now: SystemTime,
    rng: &mut dyn FnMut() -> u64,
    max_writes: usize,
) -> OrchestrationRound {
    let mut round = OrchestrationRound::default();
    let mut ids = TaskIds::new(state);
    for service in state.services().values() {
        if round.full(max_writes) {
            break;
        }
        if !matches!(
            service.spec.mode,
            ServiceMode::Replicated { .. } | ServiceMode::Global
        ) {
            continue;
        }
        let mut update = ServiceUpdate {
            state,
            service,
            now,
            max_writes,
            round: &mut round,
        };
        update.run(&mut ids, rng);
    }
    round
}

/// How the slots of one round's batch are started.
struct Batch<'c> {
    /// The update config in force (the rollback config while rolling back).
    config: &'c UpdateConfig,
    /// Whether the update is paused: only slots it left with nothing to run are refilled.
    paused: bool,
    /// When the update started: the mark of the tasks it creates.
    started_at: SystemTime,
}

/// The update of one service in one round.
struct ServiceUpdate<'a, 'r> {
    state: &'a ClusterState,
    service: &'a Service,
    now: SystemTime,
    max_writes: usize,
    round: &'r mut OrchestrationRound,
}

impl<'a> ServiceUpdate<'a, '_> {
    fn run(&mut self, ids: &mut TaskIds<'_>, rng: &mut dyn FnMut() -> u64) {
        let (groups, slots) = update_slots(self.state, self.service);
        let any_dirty = slots.iter().any(|s| s.dirty);
        let any_prepared = slots
            .iter()
            .any(|s| s.keep.is_some_and(|k| k.desired_state == TaskState::Ready));
        let (phase, started_at, just_started) = match &self.service.update_status {
            Some(status)
                if matches!(
                    status.state,
                    UpdateState::Completed | UpdateState::RollbackCompleted
                ) && !any_dirty
                    && !any_prepared =>
            {
                return;
            }
            Some(status) => (status.state, status.started_at, false),
            None if any_dirty => {
                self.start();
                (UpdateState::Updating, self.now, true)
            }
            None => {
                // A spec change (a scale, say) cleared the status while a stop-first slot
                // waited: its prepared task still starts once the old one stopped.
                if any_prepared {
                    let config = self.service.spec.effective_update_config();
                    for slot in &slots {
                        if let Some(keep) = slot.keep
                            && keep.desired_state == TaskState::Ready
                        {
                            self.settle(slot, keep, &config);
                        }
                    }
                }
                return;
            }
        };
        let config = match phase {
            UpdateState::RollbackStarted
            | UpdateState::RollbackPaused
            | UpdateState::RollbackCompleted => self.service.spec.effective_rollback_config(),
            _ => self.service.spec.effective_update_config(),
        };
        let progress = UpdateProgress::read(
            self.state,
            self.service,
            &groups,
            started_at,
            &config,
            self.now,
        );
        let in_progress = matches!(phase, UpdateState::Updating | UpdateState::RollbackStarted);
        if in_progress && !just_started {
            let touched = slots
                .iter()
                .filter(|s| s.dirty)
                .map(|s| s.key.clone())
                .chain(progress.slots.iter().cloned())
                .collect::<std::collections::BTreeSet<SlotKey>>()
                .len();
            if let Some(outcome) = failure_outcome(self.service, phase, &config, &progress, touched)
            {
                self.conclude(outcome);
                return;
            }
        }
        for slot in &slots {
            if let Some(keep) = slot.keep
                && (slot.dirty || keep.desired_state == TaskState::Ready)
            {
                self.settle(slot, keep, &config);
            }
        }
        let paused = matches!(phase, UpdateState::Paused | UpdateState::RollbackPaused);
        let batch = Batch {
            config: &config,
            paused,
            started_at,
        };
        self.start_slots(&slots, &progress, &batch, ids, rng);
        if in_progress && !just_started && !any_dirty && !progress.unsettled {
            self.complete_when_watched(phase, &progress, &config);
        }
    }

    /// Replaces dirty slots without a task of the current spec, as many as `parallelism`
    /// leaves room for. A `paused` update replaces only the slots it left with nothing to
    /// run: every live task a prepared one that cannot start (its spec is no longer current:
    /// the update was rolled back while the slot waited), the old one already stopped.
    fn start_slots(
        &mut self,
        slots: &[UpdateSlot<'a>],
        progress: &UpdateProgress<'_>,
        batch: &Batch<'_>,
        ids: &mut TaskIds<'_>,
        rng: &mut dyn FnMut() -> u64,
    ) {
        let stranded =
            |s: &UpdateSlot<'_>| s.live.iter().all(|t| t.desired_state == TaskState::Ready);
        let mut waiting = slots
            .iter()
            .filter(|s| s.dirty && s.keep.is_none() && (!batch.paused || stranded(s)));
        let mut room = match usize::try_from(batch.config.parallelism) {
            Ok(0) | Err(_) => usize::MAX,
            Ok(p) => p.saturating_sub(progress.busy.len()),
        };
        while room > 0 {
            let Some(slot) = waiting.next() else {
                return;
            };
            if self.round.full(self.max_writes) {
                return;
            }
            self.replace(slot, batch, ids, rng);
            room -= 1;
        }
        if waiting.next().is_some()
            && let Some(at) = progress.delay_ends
        {
            self.round.wake_at(at);
        }
    }

    /// A new task of the current spec for `slot`, marked as the update's own (its
    /// `update_started_at`): stop-first shuts the old ones down now and starts the new one once
    /// they stopped; start-first starts it at once.
    fn replace(
        &mut self,
        slot: &UpdateSlot<'a>,
        batch: &Batch<'_>,
        ids: &mut TaskIds<'_>,
        rng: &mut dyn FnMut() -> u64,
    ) {
        let order = batch.config.order;
        let Some(id) = ids.next(rng) else {
            return;
        };
        let (number, node) = match &slot.key {
            SlotKey::Replica(n) => (Some(*n), None),
            SlotKey::Node(node) => (None, Some(node.clone())),
            SlotKey::Unplaced => return,
        };
        let mut task = new_task(self.service, id, number, node, self.now);
        task.update_started_at = Some(batch.started_at);
        if order == UpdateOrder::StopFirst && slot.others_holding_node(self.state, None) {
            task.desired_state = TaskState::Ready;
        }
        self.push(create(task));
        if order == UpdateOrder::StopFirst {
            for old in &slot.live {
                self.shut_down(old);
            }
        }
    }

    /// A slot that has its task of the current spec: the others are shut down (start-first:
    /// once that task runs), and a task waiting as `ready` starts once the others stopped.
    fn settle(&mut self, slot: &UpdateSlot<'a>, keep: &'a Task, config: &UpdateConfig) {
        let others = slot.live.iter().filter(|t| t.id != keep.id);
        if keep.desired_state == TaskState::Ready {
            for old in others {
                self.shut_down(old);
            }
            let timeout = keep.meta.created_at.checked_add(OLD_TASK_TIMEOUT);
            let timed_out = timeout.is_none_or(|at| self.now >= at);
            if !slot.others_holding_node(self.state, Some(keep)) || timed_out {
                if let Some(write) = set_desired(keep, TaskState::Running, self.now) {
                    self.push(write);
                }
            } else if let Some(at) = timeout {
                self.round.wake_at(at);
            }
            return;
        }
        let old_runs = slot
            .live
            .iter()
            .any(|t| t.id != keep.id && t.status.state == TaskState::Running);
        let wait = config.order == UpdateOrder::StartFirst
            && keep.status.state != TaskState::Running
            && old_runs;
        if !wait {
            for old in others {
                self.shut_down(old);
            }
        }
    }

    /// Completes the update once its last batch was watched long enough.
    fn complete_when_watched(
        &mut self,
        phase: UpdateState,
        progress: &UpdateProgress<'_>,
        config: &UpdateConfig,
    ) {
        let watch = if config.delay >= config.monitor {
            config.delay.saturating_add(MONITOR_PAST_DELAY)
        } else {
            config.monitor
        };
        let done_at = match progress.last_settled {
            None => Some(self.now),
            Some(at) => at
                .checked_add(config.delay)
                .and_then(|t| t.checked_add(watch)),
        };
        let Some(done_at) = done_at else {
            return;
        };
        if self.now < done_at {
            self.round.wake_at(done_at);
            return;
        }
        let outcome = if phase == UpdateState::RollbackStarted {
            UpdateOutcome::RollbackCompleted
        } else {
            UpdateOutcome::Completed
        };
        self.conclude(outcome);
    }

    /// Writes the update status `updating`.
    fn start(&mut self) {
        let mut changed = self.service.clone();
        changed.update_status = Some(UpdateStatus {
            state: UpdateState::Updating,
            started_at: self.now,
            completed_at: None,
            message: super::UPDATE_IN_PROGRESS_MESSAGE.to_owned(),
        });
        self.write_service(changed);
    }

    /// Writes the service as `outcome` leaves it.
    fn conclude(&mut self, outcome: UpdateOutcome) {
        let changed = outcome.apply(self.state, self.service, self.now);
        self.write_service(changed);
    }

    fn write_service(&mut self, mut changed: Service) {
        changed.meta.updated_at = self.now;
        self.push(ManagerWrite::Service(ObjectWrite::Update {
            object: changed,
            expected_version: self.service.meta.version,
        }));
    }

    fn shut_down(&mut self, task: &Task) {
        if let Some(write) = set_desired(task, TaskState::Shutdown, self.now) {
            self.push(write);
        }
    }

    fn push(&mut self, write: ManagerWrite) {
        self.round.push(write, self.max_writes);
    }
}
