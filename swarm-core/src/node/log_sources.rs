//! The tasks whose logs this node can read: one entry per task the task runner drives.

use crate::manager::logbroker::{LogContext, LogSelector};
use crate::model::TaskId;
use crate::node::task_driver::SharedController;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use swarm_store::fifo_watch as watch;

/// A task the node runs, for its logs.
#[derive(Clone)]
pub(crate) struct LogSource {
    /// Its node, service and id, as its messages carry them.
    pub(crate) context: LogContext,
    /// Its controller while it exists.
    pub(crate) controller: SharedController,
}

/// The node's tasks with their controllers, shared by the task runner (which adds a task when
/// it starts driving it and drops it once removed) with the log publishers, woken on every
/// change.
#[derive(Clone)]
pub(crate) struct LogSources {
    tasks: Arc<Mutex<BTreeMap<TaskId, LogSource>>>,
    changed: Arc<watch::Sender<u64>>,
}

impl LogSources {
    pub(crate) fn new() -> Self {
        LogSources {
            tasks: Arc::default(),
            changed: Arc::new(watch::channel(0).0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<TaskId, LogSource>> {
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn bump(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// The runner drives `source`'s task now.
    pub(crate) fn insert(&self, source: LogSource) {
        self.lock().insert(source.context.task.clone(), source);
        self.bump();
    }

    /// The task was removed.
    pub(crate) fn remove(&self, task: &TaskId) {
        if self.lock().remove(task).is_some() {
            self.bump();
        }
    }

    /// The tasks `selector` selects, in id order.
    pub(crate) fn selected(&self, selector: &LogSelector) -> Vec<LogSource> {
        self.lock()
            .values()
            .filter(|s| {
                selector.selects(&s.context.task, &s.context.service, Some(&s.context.node))
            })
            .cloned()
            .collect()
    }

    /// A receiver woken by every change.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}
