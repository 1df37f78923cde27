//! Streams of document changes, resumable from a revision.

use crate::error::StoreError;
use crate::raft::runtime::watch;
use crate::state::history::{Change, CompactedBelow};
use crate::state::shared::{AppliedMark, SharedState};
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
/// Resume after a disconnect with [`Collection::watch`](crate::Collection::watch) from
/// [`Watch::revision`]. If the store no longer holds the changes after that revision (the history
/// is bounded by [`StoreConfig::watch_history_changes`](crate::StoreConfig) and restarts at a
/// snapshot install), [`Watch::next`] fails with [`StoreError::Compacted`]: list again and watch
/// from the listing's revision.
pub struct Watch<T> {
    shared: Arc<SharedState>,
    applied: watch::Receiver<AppliedMark>,
    collection: String,
    prefix: String,
    seen: u64,
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
        after: u64,
    ) -> Self {
        let applied = shared.subscribe();
        Watch {
            shared,
            applied,
            collection,
            prefix,
            seen: after,
            buffered: VecDeque::new(),
            _type: PhantomData,
        }
    }

    /// The revision up to which every change has been returned (or skipped as not matching).
    pub fn revision(&self) -> u64 {
        self.buffered
            .front()
            .map_or(self.seen, |c| c.revision.saturating_sub(1))
    }

    /// The next change, waiting for one if needed.
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

    /// The next change if one is already available.
    pub fn try_next(&mut self) -> Result<Option<WatchEvent<T>>, StoreError> {
        if self.buffered.is_empty() {
            self.fetch()?;
        }
        self.buffered
            .pop_front()
            .map(|c| self.decode(c))
            .transpose()
    }

    fn fetch(&mut self) -> Result<(), StoreError> {
        // Mark the current value seen before reading, so a change applied after the read wakes
        // `changed()`.
        self.applied.borrow_and_update();
        let table = self.shared.read();
        let (collection, prefix) = (&self.collection, &self.prefix);
        let (changes, seen) = table
            .history()
            .since(self.seen, table.revision(), WATCH_FETCH_MAX_CHANGES, |c| {
                c.collection == *collection && c.key.starts_with(prefix.as_str())
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
