//! Streams of document changes, resumable from a revision.

use crate::error::StoreError;
use crate::fifo_watch as watch;
use crate::state::history::{Change, CompactedBelow};
use crate::state::shared::{AppliedMark, SharedState};
use crate::watch_position::WatchPosition;
use serde::de::DeserializeOwned;
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::sync::Arc;

/// The most changes a watch copies out of the history at once.
pub const WATCH_FETCH_MAX_CHANGES: usize = 1024;

/// What happened to a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatchEventKind<T> {
    /// Created or replaced; `version` is its new version.
    Put {
        /// The new document.
        value: T,
        /// Its version.
        version: u64,
    },
    /// Deleted; `version` is the version it had.
    Deleted {
        /// The version it had.
        version: u64,
    },
}

/// One change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchEvent<T> {
    /// The revision of the change (the changes of one transaction share it).
    pub revision: u64,
    /// The document's key.
    pub key: String,
    /// What happened.
    pub kind: WatchEventKind<T>,
}

/// Changes to one collection's documents under a key prefix, in commit order.
///
/// Resume after a disconnect with [`Collection::watch_from`](crate::Collection::watch_from)
/// from [`Watch::position`]: every change comes exactly once, even when the watch stopped in
/// the middle of a transaction's changes. ([`Watch::revision`] with
/// [`Collection::watch`](crate::Collection::watch) resumes at a whole revision: at least once,
/// returning again the changes of that transaction already returned.) If the store no longer
/// holds the changes after the position (the history is bounded by
/// [`StoreConfig::watch_history_changes`](crate::StoreConfig) and restarts at a snapshot
/// install), [`Watch::next`] fails with [`StoreError::Compacted`]: list again and watch from
/// the listing's revision.
pub struct Watch<T> {
    shared: Arc<SharedState>,
    applied: watch::Receiver<AppliedMark>,
    collection: String,
    prefix: String,
    seen: u64,
    /// Changes at or before it were returned by the watch this one resumes (skipped here).
    resumed_after: WatchPosition,
    buffered: VecDeque<Change>,
    _type: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Watch<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch")
            .field("collection", &self.collection)
            .field("prefix", &self.prefix)
            .field("seen", &self.seen)
            .finish()
    }
}

impl<T: DeserializeOwned> Watch<T> {
    pub(crate) fn new(
        shared: Arc<SharedState>,
        collection: String,
        prefix: String,
        after: WatchPosition,
    ) -> Self {
        let applied = shared.subscribe();
        Watch {
            shared,
            applied,
            collection,
            prefix,
            seen: after.revision(),
            resumed_after: after,
            buffered: VecDeque::new(),
            _type: PhantomData,
        }
    }

    /// The revision up to which every change has been returned (or skipped as not matching).
    ///
    /// Resuming from it ([`Collection::watch`](crate::Collection::watch)) is at least once per
    /// change: when this watch stopped in the middle of a transaction's changes, the resumed
    /// watch returns that transaction's changes again. Resume from [`Watch::position`] to get
    /// every change exactly once.
    pub fn revision(&self) -> u64 {
        self.position().revision()
    }

    /// The point up to which every change has been returned (or skipped as not matching),
    /// down to the operation within a transaction: resume from it with
    /// [`Collection::watch_from`](crate::Collection::watch_from) and no change is returned
    /// twice or skipped.
    pub fn position(&self) -> WatchPosition {
        match self.buffered.front() {
            Some(c) => WatchPosition::before_change(c.revision, c.op_index),
            None => WatchPosition::after_revision(self.seen).max(self.resumed_after),
        }
    }

    /// The next change, waiting for one if needed. Fails with [`StoreError::Shutdown`] once the
    /// member stopped ([`Store::shutdown`](crate::Store::shutdown), or its Raft core failed) and
    /// every change it applied was returned, whether the call was already waiting or came
    /// later.
    pub async fn next(&mut self) -> Result<WatchEvent<T>, StoreError> {
        loop {
            if let Some(change) = self.buffered.pop_front() {
                return self.decode(change);
            }
            self.fetch()?;
            if self.buffered.is_empty() {
                self.applied
                    .changed()
                    .await
                    .map_err(|_| StoreError::Shutdown)?;
            }
        }
    }

    /// The next change if one is already available; `Ok(None)` if none is yet, and
    /// [`StoreError::Shutdown`] once the member stopped and every change it applied was
    /// returned.
    pub fn try_next(&mut self) -> Result<Option<WatchEvent<T>>, StoreError> {
        if self.buffered.is_empty() {
            self.fetch()?;
        }
        match self.buffered.pop_front() {
            Some(change) => self.decode(change).map(Some),
            None if self.shared.is_closed() => Err(StoreError::Shutdown),
            None => Ok(None),
        }
    }

    fn fetch(&mut self) -> Result<(), StoreError> {
        // Mark the current value seen before reading, so a change applied after the read wakes
        // `changed()`.
        self.applied.borrow_and_update();
        let table = self.shared.read();
        let (collection, prefix, resumed_after) =
            (&self.collection, &self.prefix, self.resumed_after);
        let (changes, seen) = table
            .history()
            .since(self.seen, table.revision(), WATCH_FETCH_MAX_CHANGES, |c| {
                c.collection == *collection
                    && c.key.starts_with(prefix.as_str())
                    && !resumed_after.covers(c.revision, c.op_index)
            })
            .map_err(|CompactedBelow(compacted)| StoreError::Compacted {
                requested: self.seen,
                compacted,
            })?;
        self.seen = seen;
        self.buffered.extend(changes);
        Ok(())
    }

    fn decode(&self, change: Change) -> Result<WatchEvent<T>, StoreError> {
        let kind = match change.value {
            Some(bytes) => WatchEventKind::Put {
                value: serde_json::from_slice(&bytes.0).map_err(|e| StoreError::Codec {
                    action: "decode",
                    collection: change.collection.clone(),
                    key: change.key.clone(),
                    detail: e.to_string(),
                })?,
                version: change.version,
            },
            None => WatchEventKind::Deleted {
                version: change.version,
            },
        };
        Ok(WatchEvent {
            revision: change.revision,
            key: change.key,
            kind,
        })
    }
}
