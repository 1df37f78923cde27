//! The one path by which snapshots reach the [`SnapshotStore`](crate::storage::SnapshotStore):
//! it never lets the saved snapshot go backwards.
//!
//! openraft builds snapshots in a spawned task while installs run on the state-machine worker,
//! so a slow build at applied index X can finish after a snapshot Y > X was installed and the
//! log purged up to Y. Saving X then would leave a member that restores X but whose log starts
//! after Y: it could not start, and X+1..=Y would be gone. Every save therefore goes through a
//! [`SnapshotSaver`], which holds a lock across the save and skips any snapshot whose last log
//! index is not greater than the saved one (equal is skipped too, so the restore at startup,
//! which installs the stored snapshot, does not rewrite it).

use super::snapshot_store::{DynSnapshotStore, decode_meta, encode_meta};
use super::types::SnapshotMeta;
use crate::storage::StoredSnapshot;
use bytes::Bytes;
use std::io;
use std::sync::Arc;

/// Saves snapshots monotonically by last log index. Shared by the builder and the install path.
pub(crate) struct SnapshotSaver {
    store: Arc<dyn DynSnapshotStore>,
    /// The last log index of the saved snapshot (`Some(None)`: no snapshot or one of an empty
    /// log); `None` until first read from the store. Held across each save.
    last_saved: tokio::sync::Mutex<Option<Option<u64>>>,
}

impl SnapshotSaver {
    /// A saver over `store`; what the store holds is read at the first save.
    pub(crate) fn new(store: Arc<dyn DynSnapshotStore>) -> Self {
        SnapshotSaver {
            store,
            last_saved: tokio::sync::Mutex::new(None),
        }
    }

    /// The store snapshots are saved to and loaded from.
    pub(crate) fn store(&self) -> &Arc<dyn DynSnapshotStore> {
        &self.store
    }

    /// Saves the snapshot unless the store already holds one at or past its last log index.
    /// Returns whether it was saved.
    pub(crate) async fn save(&self, meta: &SnapshotMeta, data: Bytes) -> io::Result<bool> {
        let mut guard = self.last_saved.lock().await;
        let saved = match *guard {
            Some(saved) => saved,
            None => {
                let stored = self.store.load_dyn().await.map_err(io::Error::other)?;
                let saved = match stored {
                    None => None,
                    Some(s) => decode_meta(&s.meta)?.last_log_id.map(|l| l.index),
                };
                *guard = Some(saved);
                saved
            }
        };
        let index = meta.last_log_id.map(|l| l.index);
        if index <= saved {
            tracing::debug!(
                ?index,
                ?saved,
                "snapshot not saved: the store holds one at or past it"
            );
            return Ok(false);
        }
        self.store
            .save_dyn(StoredSnapshot {
                meta: encode_meta(meta)?,
                data,
            })
            .await
            .map_err(io::Error::other)?;
        *guard = Some(index);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::types::{StoredMembership, log_id};
    use crate::storage::MemSnapshotStore;

    fn meta(index: u64) -> SnapshotMeta {
        SnapshotMeta {
            last_log_id: Some(log_id(1, index)),
            last_membership: StoredMembership::default(),
        }
    }

    async fn stored_index(store: &Arc<dyn DynSnapshotStore>) -> Option<u64> {
        let s = store.load_dyn().await.unwrap().unwrap();
        decode_meta(&s.meta).unwrap().last_log_id.map(|l| l.index)
    }

    #[tokio::test]
    async fn an_older_or_equal_snapshot_never_replaces_a_newer_one() {
        let store: Arc<dyn DynSnapshotStore> = Arc::new(MemSnapshotStore::new());
        let saver = SnapshotSaver::new(store.clone());
        assert!(
            saver
                .save(&meta(20), Bytes::from_static(b"Y"))
                .await
                .unwrap()
        );
        // A slow build at 10 finishing after 20 was installed.
        assert!(
            !saver
                .save(&meta(10), Bytes::from_static(b"X"))
                .await
                .unwrap()
        );
        assert!(
            !saver
                .save(&meta(20), Bytes::from_static(b"Y2"))
                .await
                .unwrap()
        );
        assert_eq!(stored_index(&store).await, Some(20));
        assert_eq!(store.load_dyn().await.unwrap().unwrap().data, &b"Y"[..]);
        assert!(
            saver
                .save(&meta(30), Bytes::from_static(b"Z"))
                .await
                .unwrap()
        );
        assert_eq!(stored_index(&store).await, Some(30));
    }

    #[tokio::test]
    async fn a_new_saver_respects_what_the_store_already_holds() {
        let store: Arc<dyn DynSnapshotStore> = Arc::new(MemSnapshotStore::new());
        SnapshotSaver::new(store.clone())
            .save(&meta(20), Bytes::from_static(b"Y"))
            .await
            .unwrap();
        // After a restart: the restore installs 20 again, a stale build offers 10.
        let saver = SnapshotSaver::new(store.clone());
        assert!(
            !saver
                .save(&meta(20), Bytes::from_static(b"Y"))
                .await
                .unwrap()
        );
        assert!(
            !saver
                .save(&meta(10), Bytes::from_static(b"X"))
                .await
                .unwrap()
        );
        assert_eq!(stored_index(&store).await, Some(20));
    }
}
