//! The manager's log broker behind a lock, with a change signal for the calls waiting on it.

use crate::manager::logbroker::LogBroker;
use std::sync::{Mutex, MutexGuard, PoisonError};
use swarm_store::fifo_watch as watch;

/// This manager's [`LogBroker`] (used while it leads) and a counter bumped after every
/// change, which long polls (a client's read, a node's subscriptions, a publication waiting
/// for room) wait on.
pub(crate) struct LogHub {
    broker: Mutex<LogBroker>,
    changed: watch::Sender<u64>,
}

impl LogHub {
    pub(crate) fn new() -> Self {
        LogHub {
            broker: Mutex::new(LogBroker::new()),
            changed: watch::channel(0).0,
        }
    }

    /// The broker. Never held across an `.await`; taken after this manager's cluster state
    /// lock when both are held.
    pub(crate) fn lock(&self) -> MutexGuard<'_, LogBroker> {
        self.broker.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wakes the waiting calls.
    pub(crate) fn bump(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver woken by [`LogHub::bump`].
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}
