//! At-rest encryption: with a cipher set, no plaintext reaches the disk, and data round-trips.
//! The cipher is the testkit's real AEAD (ChaCha20-Poly1305 from ring) with a random nonce per
//! seal.

use std::path::Path;
use std::sync::Arc;
use swarm_store::storage::disk::{DiskLogOptions, DiskLogStorage, DiskSnapshotStore};
use swarm_store::storage::{
    Cipher, LogPosition, LogRecord, LogStorage, SnapshotStore, StorageError, StoredSnapshot,
};
use swarm_store::testkit::TestCipher;

const MARKER: &[u8] = b"SWARM-PLAINTEXT-MARKER-7f3a";

fn payload(i: u64) -> Vec<u8> {
    let mut p = format!("record {i}: ").into_bytes();
    for _ in 0..(i % 5 + 1) {
        p.extend_from_slice(MARKER);
    }
    p
}

/// Every file under `dir` that contains `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            hits.extend(files_containing(&path, needle));
        } else {
            let bytes = std::fs::read(&path).expect("read");
            if bytes.windows(needle.len()).any(|w| w == needle) {
                hits.push(path.display().to_string());
            }
        }
    }
    hits
}

async fn fill(dir: &Path, log_cipher: Option<Arc<dyn Cipher>>) {
    let mut options = DiskLogOptions::default().with_segment_bytes(8192);
    let mut snapshots = DiskSnapshotStore::open(dir).expect("snapshots");
    if let Some(c) = log_cipher {
        options = options.with_cipher(c.clone());
        snapshots = snapshots.with_cipher(c);
    }
    let log = DiskLogStorage::open(dir, options).expect("open");
    for first in (1..=200).step_by(20) {
        let batch = (first..first + 20)
            .map(|i| LogRecord {
                index: i,
                term: 3,
                payload: payload(i).into(),
            })
            .collect();
        log.append(batch)
            .await
            .expect("append")
            .await
            .expect("durable");
    }
    log.truncate(190).await.expect("truncate");
    log.purge(LogPosition { term: 3, index: 50 })
        .await
        .expect("purge");
    log.save_committed(Some(LogPosition {
        term: 3,
        index: 180,
    }))
    .await
    .expect("committed");
    log.save_vote(b"vote").await.expect("vote");
    let mut data = b"state machine ".to_vec();
    data.extend_from_slice(MARKER);
    let mut meta = b"snapshot meta ".to_vec();
    meta.extend_from_slice(MARKER);
    snapshots
        .save(StoredSnapshot {
            meta: meta.into(),
            data: data.into(),
        })
        .await
        .expect("snapshot");
}

#[tokio::test]
async fn without_a_cipher_the_marker_is_on_disk() {
    // The control: proves the scan below would see plaintext.
    let dir = tempfile::tempdir().expect("tmp");
    fill(dir.path(), None).await;
    let hits = files_containing(dir.path(), MARKER);
    assert!(hits.iter().any(|h| h.ends_with(".wal")), "{hits:?}");
    assert!(hits.iter().any(|h| h.ends_with("snapshot")), "{hits:?}");
}

#[tokio::test]
async fn with_a_cipher_no_plaintext_reaches_the_disk_and_data_round_trips() {
    let dir = tempfile::tempdir().expect("tmp");
    fill(dir.path(), Some(TestCipher::shared(1))).await;
    let hits = files_containing(dir.path(), MARKER);
    assert!(hits.is_empty(), "plaintext marker found in {hits:?}");
    // Nor any long run of it (a partial leak).
    assert!(files_containing(dir.path(), &MARKER[..12]).is_empty());

    let cipher = TestCipher::shared(1);
    let log = DiskLogStorage::open(
        dir.path(),
        DiskLogOptions::default().with_cipher(cipher.clone()),
    )
    .expect("reopen");
    let records = log.read(0..=u64::MAX).await.expect("read");
    assert_eq!(records.len(), 139, "records 51..=189");
    for r in &records {
        assert_eq!(r.payload, payload(r.index), "record {}", r.index);
    }
    let snapshot = DiskSnapshotStore::open(dir.path())
        .expect("snapshots")
        .with_cipher(cipher)
        .load()
        .await
        .expect("load")
        .expect("a snapshot");
    assert!(snapshot.data.ends_with(MARKER) && snapshot.meta.ends_with(MARKER));
    drop(log);

    // The wrong key opens nothing: an error, never garbage.
    let wrong = TestCipher::shared(2);
    let log = DiskLogStorage::open(
        dir.path(),
        DiskLogOptions::default().with_cipher(wrong.clone()),
    )
    .expect("the log structure is intact");
    assert!(matches!(
        log.read(60..=60).await,
        Err(StorageError::Cipher(_))
    ));
    let snapshots = DiskSnapshotStore::open(dir.path())
        .expect("open")
        .with_cipher(wrong);
    assert!(matches!(
        snapshots.load().await,
        Err(StorageError::Cipher(_))
    ));
}
