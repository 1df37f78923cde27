//! The durable snapshot contract.

use super::error::StorageError;
use super::record::StoredSnapshot;
use std::future::Future;

/// Keeps the latest snapshot of the state machine.
///
/// # Contract
/// - `save` replaces the stored snapshot atomically: after a crash at any moment, `load`
///   returns either the previous snapshot or the new one, whole, never a mix or a torn file.
/// - When `save` returns, the new snapshot is durable.
/// - `load` returns exactly the bytes saved, or [`StorageError::Corrupt`] if they were damaged.
pub trait SnapshotStore: Send + Sync + 'static {
    /// Durably and atomically replaces the stored snapshot.
    fn save(
        &self,
        snapshot: StoredSnapshot,
    ) -> impl Future<Output = Result<(), StorageError>> + Send;

    /// The stored snapshot, if any.
    fn load(&self) -> impl Future<Output = Result<Option<StoredSnapshot>, StorageError>> + Send;
}
