//! The node's task runner, beside the agent loop: it follows the node's assignment set from
//! the leader, runs the tasks through the node's [`Runtime`](crate::runtime::Runtime), and
//! reports their states back.
//!
//! * The **poller** long-polls the leader for the assignment set (through the agent's current
//!   manager and session) and hands each new set to the runner, which answers with the
//!   generation applied and the items now held.
//! * The **runner** opens the sealed secrets with the node's seal key (bound to its own view
//!   of the tasks), keeps them in memory only, drops the ones no task needs, asks the
//!   [`Worker`] what to do and carries it out: a [`DriverHandle`] per started task.
//! * The **reporter** sends the drivers' reports in batches, at most every
//!   [`STATUS_FLUSH_INTERVAL`], to the agent's current manager; a batch stays queued until a
//!   leader took it, so nothing is lost in a leader change.
//! * The **log publisher** follows the node's log subscriptions and publishes the output of
//!   the tasks the runner drives (shared with it as [`LogSources`]).

use crate::agent::{
    AssignedSet, StatusQueue, TemplateContext, Worker, WorkerAction, expand_task_spec,
    items_to_drop, task_items,
};
use crate::manager::dispatcher::{
    Assignments, HeldItem, ItemId, MAX_STATUS_UPDATES_PER_CALL, delivery_binding, referenced_items,
};
use crate::model::{ConfigId, SecretId, TaskId, TaskState, Version};
use crate::node::agent_link::{self, AgentLink, call_at};
use crate::node::agent_snapshot::{AgentSnapshot, MAX_UNREFERENCED_SECRETS};
use crate::node::log_publisher::log_publisher;
use crate::node::log_sources::{LogSource, LogSources};
use crate::node::node::NodeShared;
use crate::node::task_driver::{DriverEvent, DriverHandle};
use crate::node::wire::{NodeCall, NodeReply};
use crate::runtime::{FilePayload, TaskFiles};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use swarm_store::fifo_watch as watch;
use tokio::sync::{Notify, mpsc, oneshot};

/// The reporter sends at most one batch per this interval: reports made meanwhile are
/// coalesced (the latest status of each task).
pub const STATUS_FLUSH_INTERVAL: Duration = Duration::from_millis(100);

/// Most driver events waiting for the runner; a driver waits when it is full. The runner
/// handles at most this many in a row before it publishes the node's view
/// ([`Node::agent_snapshot`](crate::node::Node)) and looks at its other inputs.
pub const MAX_DRIVER_EVENTS: usize = 1024;

/// What the poller learns back from the runner after a set was applied.
#[derive(Clone, Debug, Default)]
struct Applied {
    generation: u64,
    held: Vec<HeldItem>,
    /// An item failed to open: pause before asking again.
    pause: bool,
}

/// A new assignment set for the runner, with the channel for its answer.
type Delivery = (Box<Assignments>, oneshot::Sender<Applied>);

/// The reports waiting for the reporter.
#[derive(Default)]
struct Reports {
    queue: Mutex<StatusQueue>,
    ready: Notify,
}

impl Reports {
    fn queue(&self) -> std::sync::MutexGuard<'_, StatusQueue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A held secret or config: its version and plaintext (wiped on drop).
struct HeldFile {
    version: Version,
    data: FilePayload,
}

/// Runs the node's tasks until the node stops.
pub(crate) async fn task_runner(shared: Arc<NodeShared>) {
    let (deliveries, mut incoming) = mpsc::channel::<Delivery>(1);
    let (events, mut driver_events) = mpsc::channel::<DriverEvent>(MAX_DRIVER_EVENTS);
    let reports = Arc::new(Reports::default());
    let log_sources = LogSources::new();
    let poller = tokio::spawn(poll_assignments(shared.clone(), deliveries));
    let reporter = tokio::spawn(report_statuses(shared.clone(), reports.clone()));
    let logs = tokio::spawn(log_publisher(shared.clone(), log_sources.clone()));
    let mut runner = Runner {
        shared: shared.clone(),
        worker: Worker::new(),
        held: BTreeMap::new(),
        drivers: BTreeMap::new(),
        events,
        reports,
        assigned: AssignedSet::default(),
        log_sources,
        unreferenced_secrets: Vec::new(),
    };
    loop {
        tokio::select! {
            biased;
            () = shared.stop.cancelled() => break,
            Some((assignments, reply)) = incoming.recv() => {
                let applied = runner.apply(*assignments);
                let _ = reply.send(applied);
            }
            Some(event) = driver_events.recv() => {
                runner.on_event(event);
                // The events already waiting, before one publication for all of them (it
                // lists every task of the node).
                for _ in 1..MAX_DRIVER_EVENTS {
                    let Ok(event) = driver_events.try_recv() else {
                        break;
                    };
                    runner.on_event(event);
                }
            }
        }
        runner.publish();
    }
    poller.abort();
    reporter.abort();
    logs.abort();
    // Dropping the handles ends the drivers.
    runner.drivers.clear();
    let _ = poller.await;
    let _ = reporter.await;
    let _ = logs.await;
}

struct Runner {
    shared: Arc<NodeShared>,
    worker: Worker,
    held: BTreeMap<ItemId, HeldFile>,
    drivers: BTreeMap<TaskId, DriverHandle>,
    events: mpsc::Sender<DriverEvent>,
    reports: Arc<Reports>,
    /// The assignment set, from whole sets and changes.
    assigned: AssignedSet,
    log_sources: LogSources,
    /// Secrets delivered that no task referenced (at most [`MAX_UNREFERENCED_SECRETS`]).
    unreferenced_secrets: Vec<SecretId>,
}

impl Runner {
    /// Applies a new assignment set: takes the items delivered, drops the ones no longer
    /// needed, and carries out the worker's decisions.
    fn apply(&mut self, mut assignments: Assignments) -> Applied {
        let node = &self.shared.node_id;
        if let Err(e) = self.assigned.apply(node, &mut assignments) {
            // Nothing of the answer is used: the next call asks for the whole set.
            tracing::warn!(%node, error = %e, "assignment answer not applied");
            self.assigned.forget();
            return self.applied(false);
        }
        let users = referenced_items(self.assigned.tasks());
        let mut pause = false;
        for sealed in &assignments.secrets {
            let item = sealed.held();
            let Some(tasks) = users.get(&item.item) else {
                tracing::warn!(%node, secret = %sealed.id, "a secret no task here needs was sent; ignored");
                if self.unreferenced_secrets.len() < MAX_UNREFERENCED_SECRETS {
                    self.unreferenced_secrets.push(sealed.id.clone());
                }
                continue;
            };
            let opened = delivery_binding(node, tasks, &item)
                .and_then(|binding| self.shared.seal_key.open(&sealed.sealed, &binding));
            match opened {
                Ok(bytes) => {
                    let mut bytes = bytes.into_zeroizing();
                    let data = FilePayload::new(std::mem::take(&mut *bytes));
                    self.held.insert(
                        item.item,
                        HeldFile {
                            version: item.version,
                            data,
                        },
                    );
                }
                Err(e) => {
                    tracing::warn!(%node, secret = %sealed.id, error = %e, "cannot open a delivered secret");
                    pause = true;
                }
            }
        }
        for config in &assignments.configs {
            let item = config.held();
            if !users.contains_key(&item.item) {
                continue;
            }
            self.held.insert(
                item.item,
                HeldFile {
                    version: item.version,
                    data: FilePayload::new(config.data.as_bytes().to_vec()),
                },
            );
        }
        let versions: BTreeMap<ItemId, Version> = self
            .held
            .iter()
            .map(|(item, file)| (item.clone(), file.version))
            .collect();
        for item in items_to_drop(&versions, &assignments.keep) {
            self.held.remove(&item);
        }
        let held: BTreeSet<ItemId> = self.held.keys().cloned().collect();
        let unavailable: BTreeMap<ItemId, String> = assignments
            .unavailable
            .iter()
            .map(|u| (u.item.clone(), u.reason.clone()))
            .collect();
        let actions = self.worker.assign(
            self.assigned.tasks(),
            &held,
            &unavailable,
            crate::clock::now(),
        );
        for action in actions {
            self.carry_out(action);
        }
        self.applied(pause)
    }

    /// What the node holds now, for its next assignment call.
    fn applied(&self, pause: bool) -> Applied {
        Applied {
            generation: self.assigned.generation(),
            held: self
                .held
                .iter()
                .map(|(item, file)| HeldItem {
                    item: item.clone(),
                    version: file.version,
                })
                .collect(),
            pause,
        }
    }

    fn carry_out(&mut self, action: WorkerAction) {
        match action {
            WorkerAction::Start { mut task } => {
                // Placeholders in the spec ({{.Node.Hostname}}, {{.Task.Slot}}, ...) are
                // expanded here, on the node that runs the task, as SwarmKit's agent does.
                let context = TemplateContext::for_task(
                    &task,
                    &self.shared.node_id,
                    Some(&self.shared.description),
                );
                match expand_task_spec(&task.spec, &context) {
                    Ok(spec) => task.spec = spec,
                    Err(e) => {
                        let mut status = crate::model::TaskStatus::new(
                            TaskState::Rejected,
                            crate::clock::now(),
                            "rejected",
                        );
                        status.err = Some(e.to_string());
                        self.worker.observe(&task.id, status.state);
                        self.report(task.id.clone(), status);
                        return;
                    }
                }
                let mut files = TaskFiles::new();
                for item in task_items(&task) {
                    let Some(file) = self.held.get(&item) else {
                        continue;
                    };
                    match item {
                        ItemId::Secret(id) => {
                            files.secrets.insert(id, file.data.clone());
                        }
                        ItemId::Config(id) => {
                            files.configs.insert(id, file.data.clone());
                        }
                    }
                }
                let id = task.id.clone();
                let context = crate::manager::logbroker::LogContext {
                    node: self.shared.node_id.clone(),
                    service: task.service_id.clone(),
                    task: id.clone(),
                };
                let handle = DriverHandle::spawn(
                    *task,
                    files,
                    Arc::clone(&self.shared.config.runtime),
                    self.events.clone(),
                );
                self.log_sources.insert(LogSource {
                    context,
                    controller: handle.controller(),
                });
                self.drivers.insert(id, handle);
            }
            WorkerAction::SetDesired { task, desired } => {
                if let Some(driver) = self.drivers.get(&task) {
                    driver.set_desired(desired);
                }
            }
            WorkerAction::Remove { task } => match self.drivers.get(&task) {
                Some(driver) => driver.remove(),
                None => self.worker.removed(&task),
            },
            WorkerAction::Report { task, status } => self.report(task, status),
        }
    }

    fn report(&self, task: TaskId, status: crate::model::TaskStatus) {
        if !self.reports.queue().push(task.clone(), status) {
            tracing::warn!(node = %self.shared.node_id, %task, "too many status reports waiting; this one is dropped");
        }
        self.reports.ready.notify_one();
    }

    fn on_event(&mut self, event: DriverEvent) {
        match event {
            DriverEvent::Status { task, status } => {
                self.worker.observe(&task, status.state);
                self.report(task, status);
            }
            DriverEvent::Removed { task } => {
                self.worker.removed(&task);
                self.drivers.remove(&task);
                self.log_sources.remove(&task);
            }
        }
    }

    /// Publishes what the agent holds for [`Node::agent_snapshot`](crate::node::Node).
    fn publish(&self) {
        let mut held_secrets: Vec<SecretId> = Vec::new();
        let mut held_configs: Vec<ConfigId> = Vec::new();
        for item in self.held.keys() {
            match item {
                ItemId::Secret(id) => held_secrets.push(id.clone()),
                ItemId::Config(id) => held_configs.push(id.clone()),
            }
        }
        let snapshot = AgentSnapshot {
            generation: self.assigned.generation(),
            running_tasks: self.worker.running(),
            tasks: self.worker.task_ids(),
            held_secrets,
            held_configs,
            unreferenced_secrets: self.unreferenced_secrets.clone(),
        };
        *self
            .shared
            .agent_view
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = snapshot;
    }
}

/// The long poll of the node's assignment set, until the node stops.
async fn poll_assignments(shared: Arc<NodeShared>, deliveries: mpsc::Sender<Delivery>) {
    let mut links: watch::Receiver<Option<AgentLink>> = shared.agent_link.subscribe();
    let mut applied = Applied::default();
    loop {
        let Some(link) = agent_link::current(&shared, &mut links).await else {
            return;
        };
        let call = NodeCall::Assignments {
            session: link.session,
            known_generation: applied.generation,
            held: applied.held.clone(),
        };
        // The leader holds the call up to ASSIGNMENT_WAIT_PERIODS nominal periods: one more
        // announced period covers the jitter, then the usual request timeout.
        let periods = crate::node::assignment_service::ASSIGNMENT_WAIT_PERIODS + 1;
        let timeout = Duration::from_millis(link.period_ms.saturating_mul(u64::from(periods)))
            + shared.config.agent.request_timeout;
        let answer = tokio::select! {
            biased;
            () = shared.stop.cancelled() => return,
            answer = call_at(&shared, &link.manager_node, &link.manager, &call, timeout) => answer,
        };
        match answer {
            Ok(NodeReply::Assignments(assignments)) => {
                let (reply, applied_rx) = oneshot::channel();
                if deliveries.send((assignments, reply)).await.is_err() {
                    return;
                }
                match applied_rx.await {
                    Ok(now) => applied = now,
                    Err(_) => return,
                }
                if applied.pause && !agent_link::retry_pause(&shared, &mut links).await {
                    return;
                }
            }
            Ok(NodeReply::AssignmentsUnchanged { .. }) => {}
            other => {
                tracing::debug!(node = %shared.node_id, manager = %link.manager, failure = %failure(&other), "assignment call failed");
                if !agent_link::retry_pause(&shared, &mut links).await {
                    return;
                }
            }
        }
    }
}

/// Sends the queued reports in batches, until the node stops.
async fn report_statuses(shared: Arc<NodeShared>, reports: Arc<Reports>) {
    let mut links: watch::Receiver<Option<AgentLink>> = shared.agent_link.subscribe();
    loop {
        while reports.queue().is_empty() {
            tokio::select! {
                biased;
                () = shared.stop.cancelled() => return,
                () = reports.ready.notified() => {}
            }
        }
        tokio::select! {
            biased;
            () = shared.stop.cancelled() => return,
            () = tokio::time::sleep(STATUS_FLUSH_INTERVAL) => {}
        }
        let Some(link) = agent_link::current(&shared, &mut links).await else {
            return;
        };
        let batch = reports.queue().next_batch(MAX_STATUS_UPDATES_PER_CALL);
        let call = NodeCall::UpdateTaskStatus {
            session: link.session,
            updates: batch.updates.clone(),
        };
        let timeout = shared.config.agent.request_timeout;
        let answer = tokio::select! {
            biased;
            () = shared.stop.cancelled() => return,
            answer = call_at(&shared, &link.manager_node, &link.manager, &call, timeout) => answer,
        };
        match answer {
            Ok(NodeReply::TaskStatusUpdated { refused }) => {
                for r in &refused {
                    tracing::warn!(node = %shared.node_id, "status report refused: {r}");
                }
                reports.queue().acknowledge(&batch);
            }
            other => {
                tracing::debug!(node = %shared.node_id, manager = %link.manager, failure = %failure(&other), "status reports not taken; sent again");
                if !agent_link::retry_pause(&shared, &mut links).await {
                    return;
                }
            }
        }
    }
}

/// Why a call did not get the answer it expected, for the logs.
fn failure(answer: &Result<NodeReply, crate::node::error::NodeError>) -> String {
    match answer {
        Ok(NodeReply::Refused(r)) => r.message.clone(),
        Ok(_) => "unexpected answer".to_owned(),
        Err(e) => e.to_string(),
    }
}
