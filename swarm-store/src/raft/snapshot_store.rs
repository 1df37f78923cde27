//! The snapshot store as the Raft adapters use it: an object-safe view of a [`SnapshotStore`],
//! and the encoding of the snapshot metadata saved beside each image.

use super::types::SnapshotMeta;
use crate::storage::{SnapshotStore, StorageError, StoredSnapshot};
use bytes::Bytes;
use std::future::Future;
use std::io;
use std::pin::Pin;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An object-safe view of a [`SnapshotStore`], so the Raft handle's type does not depend on the
/// caller's storage type.
pub(crate) trait DynSnapshotStore: Send + Sync + 'static {
    fn save_dyn(&self, snapshot: StoredSnapshot) -> BoxFuture<'_, Result<(), StorageError>>;
    fn load_dyn(&self) -> BoxFuture<'_, Result<Option<StoredSnapshot>, StorageError>>;
}

impl<S: SnapshotStore> DynSnapshotStore for S {
    fn save_dyn(&self, snapshot: StoredSnapshot) -> BoxFuture<'_, Result<(), StorageError>> {
        Box::pin(self.save(snapshot))
    }

    fn load_dyn(&self) -> BoxFuture<'_, Result<Option<StoredSnapshot>, StorageError>> {
        Box::pin(self.load())
    }
}

/// An [`io::ErrorKind::InvalidData`] error: `what` failed because of `e`.
pub(crate) fn invalid(what: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("{what}: {e}"))
}

/// Encodes snapshot metadata for the [`SnapshotStore`].
pub(crate) fn encode_meta(meta: &SnapshotMeta) -> io::Result<Bytes> {
    postcard::to_allocvec(meta)
        .map(Bytes::from)
        .map_err(|e| invalid("cannot encode snapshot metadata", e))
}

/// Decodes snapshot metadata.
pub(crate) fn decode_meta(bytes: &[u8]) -> io::Result<SnapshotMeta> {
    postcard::from_bytes(bytes).map_err(|e| invalid("cannot decode snapshot metadata", e))
}
