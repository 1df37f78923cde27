//! The state machine's data shared between the Raft apply path and readers.

use super::doc_table::DocTable;
use crate::fifo_watch as watch;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// How far the local state machine has applied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct AppliedMark {
    /// The Raft log index of the last applied entry (0 before any).
    pub(crate) index: u64,
    /// The store revision after it.
    pub(crate) revision: u64,
}

/// The document table behind a lock, and a channel announcing every applied entry.
#[derive(Debug)]
pub(crate) struct SharedState {
    table: RwLock<DocTable>,
    applied: watch::Sender<AppliedMark>,
    history_changes: usize,
}

impl SharedState {
    /// An empty state keeping `history_changes` recent changes for watches.
    pub(crate) fn new(history_changes: usize) -> Self {
        let (applied, _) = watch::channel(AppliedMark::default());
        SharedState {
            table: RwLock::new(DocTable::new(history_changes)),
            applied,
            history_changes,
        }
    }

    /// The configured history length.
    pub(crate) fn history_changes(&self) -> usize {
        self.history_changes
    }

    /// Reads the table.
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, DocTable> {
        // A panic while holding the lock leaves the table as the last completed apply made it:
        // every apply mutates through `apply_txn`, which checks before it writes.
        self.table
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Writes the table.
    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, DocTable> {
        self.table
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Announces that entries up to `mark.index` are applied.
    pub(crate) fn publish(&self, mark: AppliedMark) {
        self.applied.send_replace(mark);
    }

    /// The last announced mark.
    pub(crate) fn applied(&self) -> AppliedMark {
        *self.applied.borrow()
    }

    /// A receiver of applied marks.
    pub(crate) fn subscribe(&self) -> watch::Receiver<AppliedMark> {
        self.applied.subscribe()
    }

    /// Announces that the state machine will apply nothing more (its member stopped): every
    /// receiver, waiting now or later, fails once it has seen the last mark, so watches and
    /// reads waiting for an index end instead of waiting forever.
    pub(crate) fn close(&self) {
        self.applied.close();
    }

    /// Whether [`SharedState::close`] was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.applied.is_closed()
    }
}
