//! In-memory storage, for tests, simulation and members that need no durability.
//!
//! "Durable" here means "kept for the life of the value": a clone shares the same log, so a
//! simulated node can be "restarted" with the storage it had.

use super::error::StorageError;
use super::log_storage::{AppendTicket, LogStorage};
use super::record::{LogPosition, LogRecord, LogState, StoredSnapshot};
use super::snapshot_store::SnapshotStore;
use std::collections::VecDeque;
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Default)]
struct MemLog {
    records: VecDeque<LogRecord>,
    last_purged: Option<LogPosition>,
    vote: Option<Vec<u8>>,
    committed: Option<LogPosition>,
}

impl MemLog {
    fn last(&self) -> Option<LogPosition> {
        self.records
            .back()
            .map(LogRecord::position)
            .or(self.last_purged)
    }
}

/// A [`LogStorage`] kept in memory. Clones share the same log.
#[derive(Clone, Default)]
pub struct MemLogStorage {
    inner: Arc<Mutex<MemLog>>,
}

impl MemLogStorage {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, MemLog> {
        // A poisoned lock only means another thread panicked while holding it; the log itself
        // is updated with single assignments and stays consistent, so keep going.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl std::fmt::Debug for MemLogStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let log = self.lock();
        f.debug_struct("MemLogStorage")
            .field("records", &log.records.len())
            .field("last_purged", &log.last_purged)
            .finish()
    }
}

impl LogStorage for MemLogStorage {
    async fn append(&self, records: Vec<LogRecord>) -> Result<AppendTicket, StorageError> {
        let mut log = self.lock();
        let first = log
            .last()
            .map_or(records.first().map_or(0, |r| r.index), |p| {
                p.index.saturating_add(1)
            });
        for (k, r) in records.iter().enumerate() {
            let expected = first.checked_add(k as u64).filter(|e| *e < u64::MAX);
            if expected != Some(r.index) {
                return Err(StorageError::Contract(match expected {
                    Some(expected) => format!(
                        "append of index {} but the next index is {expected}",
                        r.index
                    ),
                    None => format!("append of index {}: the log is full", r.index),
                }));
            }
        }
        log.records.extend(records);
        Ok(AppendTicket::ready(Ok(())))
    }

    async fn truncate(&self, index: u64) -> Result<(), StorageError> {
        let mut log = self.lock();
        while log.records.back().is_some_and(|r| r.index >= index) {
            log.records.pop_back();
        }
        Ok(())
    }

    async fn purge(&self, upto: LogPosition) -> Result<(), StorageError> {
        let mut log = self.lock();
        if let Some(first) = log.records.front().map(|r| r.index)
            && log.last_purged.is_none_or(|p| p.index < upto.index)
            && first > upto.index.saturating_add(1)
        {
            return Err(StorageError::Contract(format!(
                "purge up to entry {} would leave a hole before the first entry {first}",
                upto.index
            )));
        }
        while log.records.front().is_some_and(|r| r.index <= upto.index) {
            log.records.pop_front();
        }
        if log.last_purged.is_none_or(|p| p.index < upto.index) {
            log.last_purged = Some(upto);
        }
        Ok(())
    }

    async fn read(&self, range: RangeInclusive<u64>) -> Result<Vec<LogRecord>, StorageError> {
        let log = self.lock();
        let Some(first) = log.records.front().map(|r| r.index) else {
            return Ok(Vec::new());
        };
        let start = range.start().saturating_sub(first);
        let Ok(start) = usize::try_from(start) else {
            return Ok(Vec::new());
        };
        Ok(log
            .records
            .iter()
            .skip(start)
            .take_while(|r| r.index <= *range.end())
            .filter(|r| r.index >= *range.start())
            .cloned()
            .collect())
    }

    async fn state(&self) -> Result<LogState, StorageError> {
        let log = self.lock();
        Ok(LogState {
            last_purged: log.last_purged,
            last: log.last(),
        })
    }

    async fn save_vote(&self, vote: &[u8]) -> Result<(), StorageError> {
        self.lock().vote = Some(vote.to_vec());
        Ok(())
    }

    async fn read_vote(&self) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.lock().vote.clone())
    }

    async fn save_committed(&self, committed: Option<LogPosition>) -> Result<(), StorageError> {
        self.lock().committed = committed;
        Ok(())
    }

    async fn read_committed(&self) -> Result<Option<LogPosition>, StorageError> {
        Ok(self.lock().committed)
    }
}

/// A [`SnapshotStore`] kept in memory. Clones share the same snapshot.
#[derive(Clone, Default, Debug)]
pub struct MemSnapshotStore {
    inner: Arc<Mutex<Option<StoredSnapshot>>>,
}

impl MemSnapshotStore {
    /// A store with no snapshot.
    pub fn new() -> Self {
        Self::default()
    }
}

impl SnapshotStore for MemSnapshotStore {
    async fn save(&self, snapshot: StoredSnapshot) -> Result<(), StorageError> {
        *self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(snapshot);
        Ok(())
    }

    async fn load(&self) -> Result<Option<StoredSnapshot>, StorageError> {
        Ok(self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone())
    }
}
