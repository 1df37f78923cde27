//! Storage errors.

use std::path::PathBuf;

/// An error from a [`LogStorage`](super::LogStorage) or [`SnapshotStore`](super::SnapshotStore).
///
/// Every storage error is fatal for the Raft node that sees it: the node stops rather than risk
/// acknowledging something that is not durable. [`StorageError::is_retryable`] tells a supervisor
/// whether restarting the node on the same storage may help.
///
/// New variants may be added: a `match` needs a `_` arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// An I/O call failed.
    #[error("storage I/O error on {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Data read back failed its checksum or could not be decoded where no torn write is possible.
    #[error("corrupt storage at {path}: {detail}")]
    Corrupt {
        /// The file involved.
        path: PathBuf,
        /// What was wrong.
        detail: String,
    },
    /// The caller broke the contract (e.g. appended a non-contiguous index).
    #[error("storage contract violated: {0}")]
    Contract(String),
    /// The at-rest cipher failed to seal or open a record.
    #[error("storage cipher failed: {0}")]
    Cipher(String),
    /// The storage was closed or its writer stopped after an earlier failure.
    #[error("storage is closed: {0}")]
    Closed(String),
}

impl StorageError {
    /// Whether restarting on the same storage may succeed (transient I/O such as a full disk),
    /// as opposed to corruption or a contract violation, which need an operator.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StorageError::Io { .. } | StorageError::Closed(_))
    }
}
