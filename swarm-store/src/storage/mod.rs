//! Durable storage behind the Raft log: the contracts every implementation keeps, an in-memory
//! implementation and an on-disk one.
//!
//! The traits are byte-level and know nothing of openraft: a [`LogRecord`] carries a Raft index, a
//! term and an opaque payload (the encoded entry); the vote is an opaque blob. The Raft layer in
//! this crate adapts them to openraft's storage traits, so an openraft upgrade stays local to it.
//!
//! - [`LogStorage`] and [`SnapshotStore`] state their contracts (what is visible when, what is
//!   durable when a call returns); the conformance suite in `testkit::storage_conformance`
//!   (cargo feature `testkit`) checks every rule and any implementation can run it in its tests.
//! - [`MemLogStorage`] and [`MemSnapshotStore`] keep everything in memory (tests, simulation).
//! - [`DiskLogStorage`] is a segmented write-ahead log with CRC-32C frames, group commit on a
//!   writer thread (one `fdatasync` per group of waiting appends) and crash recovery that cuts a
//!   torn tail but reports damage to synced data; [`DiskSnapshotStore`] replaces one snapshot
//!   file atomically. Both seal what they write with a [`Cipher`] (none by default).

pub mod cipher;
pub mod disk;
pub mod error;
pub mod log_storage;
pub mod memory;
pub mod record;
pub mod snapshot_store;

pub use cipher::{Cipher, NoCipher};
pub use disk::{DiskLogOptions, DiskLogStorage, DiskSnapshotStore};
pub use error::StorageError;
pub use log_storage::{AppendCompleter, AppendTicket, DurableCallback, LogStorage};
pub use memory::{MemLogStorage, MemSnapshotStore};
pub use record::{LogPosition, LogRecord, LogState, StoredSnapshot};
pub use snapshot_store::SnapshotStore;
