//! [`FaultyLogStorage`]: the in-memory log with injected disk faults.

use super::DiskFaults;
use crate::storage::{
    AppendTicket, LogPosition, LogRecord, LogState, LogStorage, MemLogStorage, StorageError,
};
use std::ops::RangeInclusive;

/// A [`MemLogStorage`] whose writes fail or whose appends are slow when its [`DiskFaults`]
/// switch says so. A failed call persists nothing of itself; what earlier calls wrote stays.
/// A slow append waits (tokio's clock) before its records land, so they are neither visible
/// nor durable earlier. Clones share the log and the switch, so a simulated manager restarted
/// on it finds its disk as it was kept.
#[derive(Clone, Debug, Default)]
pub struct FaultyLogStorage {
    log: MemLogStorage,
    faults: DiskFaults,
}

impl FaultyLogStorage {
    /// An empty log with no fault set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The fault switch of this log (shared by its clones).
    pub fn faults(&self) -> &DiskFaults {
        &self.faults
    }

    /// `Err` when the switch fails this write call.
    fn check(&self, call: &str) -> Result<(), StorageError> {
        if self.faults.write_fails() {
            return Err(StorageError::Io {
                path: std::path::PathBuf::from("memory-disk"),
                source: std::io::Error::other(format!("injected disk fault in {call}")),
            });
        }
        Ok(())
    }

    async fn slow(&self) {
        if let Some(delay) = self.faults.append_delay() {
            tokio::time::sleep(delay).await;
        }
    }
}

impl LogStorage for FaultyLogStorage {
    async fn append(&self, records: Vec<LogRecord>) -> Result<AppendTicket, StorageError> {
        self.slow().await;
        self.check("append")?;
        self.log.append(records).await
    }

    async fn append_inline(&self, records: Vec<LogRecord>) -> Result<AppendTicket, StorageError> {
        self.slow().await;
        self.check("append")?;
        self.log.append_inline(records).await
    }

    async fn truncate(&self, index: u64) -> Result<(), StorageError> {
        self.check("truncate")?;
        self.log.truncate(index).await
    }

    async fn purge(&self, upto: LogPosition) -> Result<(), StorageError> {
        self.check("purge")?;
        self.log.purge(upto).await
    }

    async fn read(&self, range: RangeInclusive<u64>) -> Result<Vec<LogRecord>, StorageError> {
        self.log.read(range).await
    }

    async fn state(&self) -> Result<LogState, StorageError> {
        self.log.state().await
    }

    async fn save_vote(&self, vote: &[u8]) -> Result<(), StorageError> {
        self.check("save_vote")?;
        self.log.save_vote(vote).await
    }

    async fn read_vote(&self) -> Result<Option<Vec<u8>>, StorageError> {
        self.log.read_vote().await
    }

    async fn save_committed(&self, committed: Option<LogPosition>) -> Result<(), StorageError> {
        self.check("save_committed")?;
        self.log.save_committed(committed).await
    }

    async fn read_committed(&self) -> Result<Option<LogPosition>, StorageError> {
        self.log.read_committed().await
    }
}
