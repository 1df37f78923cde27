//! The in-memory log with injected disk faults: it conforms while sound, a failed write
//! persists nothing, and a slow append lands only after its delay.

use bytes::Bytes;
use std::time::Duration;
use swarm_store::storage::{LogRecord, LogStorage, StorageError};
use swarm_store::testkit::FaultyLogStorage;
use swarm_store::testkit::storage_conformance::{Open, run_log_storage_suite};

fn record(index: u64) -> LogRecord {
    LogRecord {
        index,
        term: 1,
        payload: Bytes::from(vec![u8::try_from(index % 256).unwrap_or(0)]),
    }
}

#[tokio::test]
async fn a_sound_faulty_log_conforms() {
    run_log_storage_suite(|open: Open<FaultyLogStorage>| async move {
        Ok::<_, StorageError>(match open {
            Open::Fresh => FaultyLogStorage::new(),
            Open::Reopen(same) => same,
        })
    })
    .await;
}

#[tokio::test]
async fn a_failed_append_persists_nothing_and_the_disk_refuses_writes_until_repaired() {
    let log = FaultyLogStorage::new();
    log.append(vec![record(1), record(2)]).await.unwrap();
    log.faults().fail_next_write();
    let failed = log.append(vec![record(3), record(4)]).await;
    assert!(matches!(failed, Err(StorageError::Io { .. })), "{failed:?}");
    assert!(log.faults().failed());
    assert!(log.save_vote(b"vote").await.is_err());
    // A restart on the same disk finds what was appended before the failed call, nothing of it.
    let restarted = log.clone();
    restarted.faults().repair();
    let state = restarted.state().await.unwrap();
    assert_eq!(state.last.map(|p| p.index), Some(2));
    assert_eq!(restarted.read_vote().await.unwrap(), None);
    restarted.append(vec![record(3)]).await.unwrap();
    assert_eq!(restarted.read(1..=3).await.unwrap().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_slow_append_lands_after_its_delay_and_the_disk_speeds_up_later() {
    let log = FaultyLogStorage::new();
    log.faults().slow_appends(200, Duration::from_secs(1));
    let writer = log.clone();
    let append = tokio::spawn(async move { writer.append(vec![record(1)]).await.map(|_| ()) });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        log.state().await.unwrap().last,
        None,
        "landed before its delay"
    );
    append.await.unwrap().unwrap();
    assert_eq!(log.state().await.unwrap().last.map(|p| p.index), Some(1));
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Past the slow period an append lands at once: no time passes.
    let before = tokio::time::Instant::now();
    log.append(vec![record(2)]).await.unwrap();
    assert_eq!(tokio::time::Instant::now(), before);
}
