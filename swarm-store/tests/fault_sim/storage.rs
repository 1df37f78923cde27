//! Each member's storage, kept across its restarts, and the disk I/O gate that keeps the paused
//! clock still while a writer thread syncs a file.

use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use swarm_store::storage::{
    AppendTicket, LogPosition, LogRecord, LogState, LogStorage, MemLogStorage, MemSnapshotStore,
    SnapshotStore, StorageError, StoredSnapshot,
};

/// One member's storage, kept across its restarts.
#[derive(Clone)]
pub enum Disk {
    Memory {
        log: MemLogStorage,
        snapshots: MemSnapshotStore,
    },
    /// Directories of the disk log and snapshot store.
    Files { log: PathBuf, snapshots: PathBuf },
}

/// Attempts at reopening a member's files while the crashed incarnation still holds the lock.
pub const REOPEN_ATTEMPTS: usize = 100;

/// Disk I/O in flight across the simulation. While it is non-zero, [`hold_clock`] keeps the
/// runtime busy so the paused clock does not jump ahead while a writer thread syncs a file
/// (which would look like a disk taking seconds per fsync and starve everything of time).
#[derive(Clone, Default)]
pub struct IoGate {
    in_flight: Arc<AtomicUsize>,
    started: Arc<tokio::sync::Notify>,
}

/// Counts one I/O operation for as long as it lives.
pub struct IoPass(Arc<AtomicUsize>);

impl IoGate {
    fn enter(&self) -> IoPass {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.started.notify_one();
        IoPass(self.in_flight.clone())
    }
}

impl Drop for IoPass {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Keeps virtual time still while disk I/O is in flight: spins (yielding, with tiny real
/// sleeps) until it completes.
pub async fn hold_clock(gate: IoGate) {
    loop {
        gate.started.notified().await;
        while gate.in_flight.load(Ordering::SeqCst) > 0 {
            std::thread::sleep(Duration::from_micros(20));
            tokio::task::yield_now().await;
        }
    }
}

/// A log whose operations are counted by an [`IoGate`].
pub struct GatedLog<L> {
    pub inner: L,
    pub gate: IoGate,
}

impl<L: LogStorage> LogStorage for GatedLog<L> {
    async fn append(&self, records: Vec<LogRecord>) -> Result<AppendTicket, StorageError> {
        let pass = self.gate.enter();
        let ticket = self.inner.append(records).await?;
        let (tx, gated) = AppendTicket::pending();
        tokio::spawn(async move {
            let result = ticket.await;
            drop(pass);
            let _ = tx.send(result);
        });
        Ok(gated)
    }
    async fn truncate(&self, index: u64) -> Result<(), StorageError> {
        let _pass = self.gate.enter();
        self.inner.truncate(index).await
    }
    async fn purge(&self, upto: LogPosition) -> Result<(), StorageError> {
        let _pass = self.gate.enter();
        self.inner.purge(upto).await
    }
    async fn read(&self, range: RangeInclusive<u64>) -> Result<Vec<LogRecord>, StorageError> {
        let _pass = self.gate.enter();
        self.inner.read(range).await
    }
    async fn state(&self) -> Result<LogState, StorageError> {
        self.inner.state().await
    }
    async fn save_vote(&self, vote: &[u8]) -> Result<(), StorageError> {
        let _pass = self.gate.enter();
        self.inner.save_vote(vote).await
    }
    async fn read_vote(&self) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.read_vote().await
    }
    async fn save_committed(&self, committed: Option<LogPosition>) -> Result<(), StorageError> {
        self.inner.save_committed(committed).await
    }
    async fn read_committed(&self) -> Result<Option<LogPosition>, StorageError> {
        self.inner.read_committed().await
    }
}

/// A snapshot store whose operations are counted by an [`IoGate`].
pub struct GatedSnapshots<S> {
    pub inner: S,
    pub gate: IoGate,
}

impl<S: SnapshotStore> SnapshotStore for GatedSnapshots<S> {
    async fn save(&self, snapshot: StoredSnapshot) -> Result<(), StorageError> {
        let _pass = self.gate.enter();
        self.inner.save(snapshot).await
    }
    async fn load(&self) -> Result<Option<StoredSnapshot>, StorageError> {
        let _pass = self.gate.enter();
        self.inner.load().await
    }
}
