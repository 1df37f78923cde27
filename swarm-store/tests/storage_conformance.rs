//! Every storage implementation of this crate runs the conformance suites.

use std::sync::Arc;
use swarm_store::storage::disk::{DiskLogOptions, DiskLogStorage, DiskSnapshotStore};
use swarm_store::storage::{Cipher, MemLogStorage, MemSnapshotStore, StorageError};
use swarm_store::testkit::TestCipher;
use swarm_store::testkit::storage_conformance::{
    Open, run_log_storage_suite, run_snapshot_store_suite,
};

#[tokio::test]
async fn mem_log_storage_conforms() {
    run_log_storage_suite(|open: Open<MemLogStorage>| async move {
        Ok::<_, StorageError>(match open {
            Open::Fresh => MemLogStorage::new(),
            Open::Reopen(same) => same,
        })
    })
    .await;
}

#[tokio::test]
async fn mem_snapshot_store_conforms() {
    run_snapshot_store_suite(|open: Open<MemSnapshotStore>| async move {
        Ok::<_, StorageError>(match open {
            Open::Fresh => MemSnapshotStore::new(),
            Open::Reopen(same) => same,
        })
    })
    .await;
}

/// Runs the log suite on disk storage opened with `options`, each fresh log in a new directory.
async fn disk_log_suite(options: DiskLogOptions) {
    let root = tempfile::tempdir().expect("temp dir");
    let mut fresh_count = 0;
    run_log_storage_suite(move |open: Open<DiskLogStorage>| {
        let dir = match &open {
            Open::Fresh => {
                fresh_count += 1;
                root.path().join(format!("log-{fresh_count}"))
            }
            Open::Reopen(log) => log.dir().to_path_buf(),
        };
        // Dropping the old handle waits for its writer and releases the directory lock.
        drop(open);
        let options = options.clone();
        async move { DiskLogStorage::open(dir, options) }
    })
    .await;
}

#[tokio::test]
async fn disk_log_storage_conforms() {
    disk_log_suite(DiskLogOptions::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_log_storage_conforms_with_small_segments_and_no_cache() {
    // Segments roll every few records and every read goes to the files.
    disk_log_suite(
        DiskLogOptions::default()
            .with_segment_bytes(swarm_store::storage::disk::MIN_SEGMENT_BYTES)
            .with_cache_bytes(0),
    )
    .await;
}

#[tokio::test]
async fn disk_log_storage_conforms_with_a_cipher() {
    disk_log_suite(
        DiskLogOptions::default()
            .with_cipher(TestCipher::shared(3))
            .with_cache_bytes(1024),
    )
    .await;
}

async fn disk_snapshot_suite(cipher: Option<Arc<dyn Cipher>>) {
    let root = tempfile::tempdir().expect("temp dir");
    let mut fresh_count = 0;
    run_snapshot_store_suite(move |open: Open<DiskSnapshotStore>| {
        let dir = match open {
            Open::Fresh => {
                fresh_count += 1;
                root.path().join(format!("snap-{fresh_count}"))
            }
            Open::Reopen(store) => store
                .path()
                .parent()
                .expect("the file has a directory")
                .to_path_buf(),
        };
        let result = DiskSnapshotStore::open(dir).map(|store| match &cipher {
            Some(c) => store.with_cipher(c.clone()),
            None => store,
        });
        async move { result }
    })
    .await;
}

#[tokio::test]
async fn disk_snapshot_store_conforms() {
    disk_snapshot_suite(None).await;
}

#[tokio::test]
async fn disk_snapshot_store_conforms_with_a_cipher() {
    disk_snapshot_suite(Some(TestCipher::shared(3))).await;
}
