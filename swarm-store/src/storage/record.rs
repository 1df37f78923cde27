//! The plain values stored by [`LogStorage`](super::LogStorage) and
//! [`SnapshotStore`](super::SnapshotStore).

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// A position in the Raft log: the term and index of one entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LogPosition {
    /// The term the entry was proposed in.
    pub term: u64,
    /// The entry's index (the first entry of a log has index 0 or 1, as the Raft layer decides).
    pub index: u64,
}

/// One Raft log entry as storage sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    /// The entry's index.
    pub index: u64,
    /// The entry's term.
    pub term: u64,
    /// The encoded entry; opaque to storage.
    pub payload: Bytes,
}

impl LogRecord {
    /// The position of this record.
    pub fn position(&self) -> LogPosition {
        LogPosition {
            term: self.term,
            index: self.index,
        }
    }
}

/// What a log holds: where it was purged up to and its last record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogState {
    /// The last purged position; records at or below its index are gone.
    pub last_purged: Option<LogPosition>,
    /// The last record present, or the last purged position when the log is empty after a purge.
    pub last: Option<LogPosition>,
}

/// A snapshot of the replicated state machine, as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSnapshot {
    /// Encoded snapshot metadata (last included position, membership, id); opaque to storage.
    pub meta: Bytes,
    /// The encoded state machine; opaque to storage.
    pub data: Bytes,
}

impl std::fmt::Debug for StoredSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSnapshot")
            .field("meta_bytes", &self.meta.len())
            .field("data_bytes", &self.data.len())
            .finish()
    }
}
