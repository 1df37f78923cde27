//! Disk storage recovery: torn tails are cut, damage to synced data is reported, never served.
//!
//! The tests damage files at known offsets. With the default cipher and no committed position,
//! a log whose every append holds one record of `PAYLOAD_BYTES` is laid out as a 28-byte
//! segment header (magic, sequence number, preallocated size, checksum) followed by one write
//! group per append: a 29-byte group-start frame and a
//! 29-byte entry frame header+fixed body, then the payload.
//!
//! Segments are preallocated (zero-filled ahead of time), so a segment file is longer than its
//! data: [`data_len`] is where the data ends (every payload byte here is nonzero), and a torn
//! write looks like zeros where the data should be.

use std::path::{Path, PathBuf};
use swarm_store::storage::disk::{
    DiskLogOptions, DiskLogStorage, DiskSnapshotStore, MIN_SEGMENT_BYTES,
};
use swarm_store::storage::{
    LogPosition, LogRecord, LogStorage, SnapshotStore, StorageError, StoredSnapshot,
};

const PAYLOAD_BYTES: usize = 100;
const SEGMENT_HEADER: u64 = 28;
/// The header of a segment of format 1 (written by earlier versions, still read): magic,
/// sequence number, checksum.
const SEGMENT_HEADER_V1: u64 = 20;
const GROUP_BYTES: u64 = 29 + 29 + PAYLOAD_BYTES as u64;

fn record(index: u64) -> LogRecord {
    LogRecord {
        index,
        term: 1,
        payload: vec![index as u8; PAYLOAD_BYTES].into(),
    }
}

/// Writes records 1..=n, one durable append (one group) each, and closes the log.
async fn write_log(dir: &Path, n: u64, options: DiskLogOptions) {
    let log = DiskLogStorage::open(dir, options).expect("open");
    for i in 1..=n {
        log.append(vec![record(i)])
            .await
            .expect("append")
            .await
            .expect("durable");
    }
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "wal"))
        .collect();
    files.sort();
    files
}

/// Where the data of a segment ends: the preallocated rest of the file is zeros.
fn data_len(path: &Path) -> u64 {
    let bytes = std::fs::read(path).expect("read");
    bytes
        .iter()
        .rposition(|b| *b != 0)
        .map_or(0, |p| p as u64 + 1)
}

/// Overwrites `from..to` of `path` with zeros, as a torn write into preallocated space leaves it.
fn zero(path: &Path, from: u64, to: u64) {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open");
    std::os::unix::fs::FileExt::write_all_at(&file, &vec![0; (to - from) as usize], from)
        .expect("zero");
}

fn flip(path: &Path, offset: u64) {
    let mut bytes = std::fs::read(path).expect("read");
    bytes[offset as usize] ^= 0x5a;
    std::fs::write(path, bytes).expect("write");
}

/// Offset of a byte in the middle of record `index`'s payload (first segment).
fn payload_offset(index: u64) -> u64 {
    SEGMENT_HEADER + (index - 1) * GROUP_BYTES + 29 + 29 + PAYLOAD_BYTES as u64 / 2
}

async fn assert_records(log: &DiskLogStorage, upto: u64) {
    let got = log.read(0..=u64::MAX).await.expect("read");
    assert_eq!(got.len() as u64, upto, "records present");
    for (i, r) in (1..).zip(&got) {
        assert_eq!(r, &record(i), "record {i}");
    }
    assert_eq!(
        log.state().await.expect("state").last,
        (upto > 0).then_some(LogPosition {
            term: 1,
            index: upto
        })
    );
}

fn expect_corrupt(result: Result<DiskLogStorage, StorageError>, what: &str) -> String {
    match result {
        Err(e @ StorageError::Corrupt { .. }) => e.to_string(),
        Err(e) => panic!("{what}: expected Corrupt, got {e}"),
        Ok(_) => panic!("{what}: damage was not detected"),
    }
}

#[tokio::test]
async fn the_layout_assumed_by_these_tests_holds() {
    let dir = tempfile::tempdir().expect("tmp");
    write_log(dir.path(), 3, DiskLogOptions::default()).await;
    let files = segments(dir.path());
    assert_eq!(files.len(), 1);
    assert_eq!(data_len(&files[0]), SEGMENT_HEADER + 3 * GROUP_BYTES);
    let len = std::fs::metadata(&files[0]).expect("meta").len();
    assert!(
        len > 10 * (SEGMENT_HEADER + 3 * GROUP_BYTES),
        "the segment is preallocated: {len} bytes"
    );
    let bytes = std::fs::read(&files[0]).expect("read");
    assert_eq!(bytes[payload_offset(2) as usize], 2, "payload of record 2");
}

/// A torn last group, as a power loss leaves it: zeros where its end should be (the segment is
/// preallocated), or a file cut short (the part of a group that grew the segment past its
/// preallocated size: only there can a crash leave the file short).
#[tokio::test]
async fn a_torn_last_group_is_cut() {
    for zeros in [true, false] {
        let dir = tempfile::tempdir().expect("tmp");
        // Cut short: segments of MIN_SEGMENT_BYTES hold 25 groups; the 26th starts inside the
        // preallocated space and grows the file past it.
        let (n, options) = if zeros {
            (10, DiskLogOptions::default())
        } else {
            (
                26,
                DiskLogOptions::default().with_segment_bytes(MIN_SEGMENT_BYTES),
            )
        };
        write_log(dir.path(), n, options).await;
        let seg = &segments(dir.path())[0];
        let end = data_len(seg);
        if zeros {
            zero(seg, end - 7, end);
        } else {
            let len = std::fs::metadata(seg).expect("meta").len();
            assert!(
                len == end && end - GROUP_BYTES < MIN_SEGMENT_BYTES && end > MIN_SEGMENT_BYTES,
                "the last group grew the file past its preallocation: {len} bytes, data to {end}"
            );
            std::fs::OpenOptions::new()
                .write(true)
                .open(seg)
                .expect("open")
                .set_len(end - 7)
                .expect("truncate");
        }
        let log = DiskLogStorage::open(dir.path(), DiskLogOptions::default()).expect("reopen");
        assert_records(&log, n - 1).await;
        assert_eq!(log.stats().recovered_cut_bytes, GROUP_BYTES - 7);
        assert_eq!(
            data_len(seg),
            SEGMENT_HEADER + (n - 1) * GROUP_BYTES,
            "the cut group is zeroed on disk"
        );
        // The log goes on from the cut, and the result survives another restart.
        log.append(vec![record(n)])
            .await
            .expect("append")
            .await
            .expect("durable");
        drop(log);
        let log = DiskLogStorage::open(dir.path(), DiskLogOptions::default()).expect("reopen");
        assert_records(&log, n).await;
        assert_eq!(log.stats().recovered_cut_bytes, 0);
    }
}

/// Before: a segment cut below the size it was preallocated to opened silently, its tail cut
/// as if torn by a crash, and whatever was written past the cut (acknowledged records
/// included) was lost. A preallocated segment is never shortened by a crash, so this is
/// damage: `Corrupt`, naming the file, whether the cut falls in the data or in the zeros after
/// it, in the last segment or an earlier one.
#[tokio::test]
async fn a_segment_truncated_below_its_preallocated_size_is_corrupt() {
    for (what, cut_in_data, last) in [
        ("last segment, cut in its data", true, true),
        ("last segment, cut in its zeros", false, true),
        ("earlier segment, cut in its data", true, false),
    ] {
        let dir = tempfile::tempdir().expect("tmp");
        // Small segments: 30 records fill the first one and go on in the second.
        let options = DiskLogOptions::default().with_segment_bytes(MIN_SEGMENT_BYTES);
        let n = if last { 10 } else { 30 };
        write_log(dir.path(), n, options.clone()).await;
        let files = segments(dir.path());
        assert_eq!(files.len(), if last { 1 } else { 2 }, "{what}");
        let seg = files[0].clone();
        let end = data_len(&seg);
        let len = std::fs::metadata(&seg).expect("meta").len();
        let cut = if cut_in_data {
            end - 3 * GROUP_BYTES
        } else {
            len - 100
        };
        assert!(cut < len && (cut < end) == cut_in_data, "{what}");
        std::fs::OpenOptions::new()
            .write(true)
            .open(&seg)
            .expect("open")
            .set_len(cut)
            .expect("truncate");
        let e = expect_corrupt(DiskLogStorage::open(dir.path(), options), what);
        assert!(e.contains("preallocated"), "{what}: {e}");
        assert!(
            e.contains(&seg.display().to_string()),
            "{what}: the error names the file: {e}"
        );
    }
}

/// A torn record whose end never reached the disk: zeros follow its first bytes. The group is
/// cut, and the zeros after it are the clean end of the data.
#[tokio::test]
async fn a_torn_record_followed_by_zeros_is_cut() {
    let dir = tempfile::tempdir().expect("tmp");
    write_log(dir.path(), 10, DiskLogOptions::default()).await;
    let seg = segments(dir.path())[0].clone();
    let end = data_len(&seg);
    zero(&seg, payload_offset(10), end);
    let log = DiskLogStorage::open(dir.path(), DiskLogOptions::default()).expect("reopen");
    assert_records(&log, 9).await;
    assert_eq!(
        log.stats().recovered_cut_bytes,
        payload_offset(10) - (SEGMENT_HEADER + 9 * GROUP_BYTES)
    );
}

#[tokio::test]
async fn a_flipped_byte_in_the_last_group_is_cut() {
    let dir = tempfile::tempdir().expect("tmp");
    write_log(dir.path(), 10, DiskLogOptions::default()).await;
    flip(&segments(dir.path())[0], payload_offset(10));
    let log = DiskLogStorage::open(dir.path(), DiskLogOptions::default()).expect("reopen");
    assert_records(&log, 9).await;
}

#[tokio::test]
async fn zeros_after_the_tail_are_the_end_and_garbage_is_cut() {
    let dir = tempfile::tempdir().expect("tmp");
    write_log(dir.path(), 5, DiskLogOptions::default()).await;
    let seg = segments(dir.path())[0].clone();
    let mut bytes = std::fs::read(&seg).expect("read");
    let len = bytes.len();
    bytes.extend_from_slice(&[0; 4096]);
    std::fs::write(&seg, &bytes).expect("write");
    let log = DiskLogStorage::open(dir.path(), DiskLogOptions::default()).expect("reopen");
    assert_records(&log, 5).await;
    assert_eq!(log.stats().recovered_cut_bytes, 0, "zeros are not damage");
    drop(log);
    let end = data_len(&seg);
    let garbage: Vec<u8> = (0..3000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 | 1)
        .collect();
    std::os::unix::fs::FileExt::write_all_at(
        &std::fs::OpenOptions::new()
            .write(true)
            .open(&seg)
            .expect("open"),
        &garbage,
        end + 100,
    )
    .expect("write");
    let log = DiskLogStorage::open(dir.path(), DiskLogOptions::default()).expect("reopen");
    assert_records(&log, 5).await;
    assert_eq!(log.stats().recovered_cut_bytes, 100 + 3000);
    assert_eq!(data_len(&seg), end, "the garbage was zeroed");
    assert_eq!(
        std::fs::metadata(&seg).expect("meta").len() as usize,
        len + 4096,
        "the file keeps its size"
    );
}

/// A crash can leave a spare (the next segment, zero-filled ahead of time) that was never
/// used, or a segment renamed from a spare that no group reached yet.
#[tokio::test]
async fn a_crash_after_preallocation_leaves_a_usable_log() {
    let dir = tempfile::tempdir().expect("tmp");
    write_log(dir.path(), 3, DiskLogOptions::default()).await;
    let spare = dir.path().join("0000000000000001.4242-0.spare");
    std::fs::write(&spare, vec![0xee; 5000]).expect("write spare");
    let log = DiskLogStorage::open(dir.path(), DiskLogOptions::default()).expect("reopen");
    assert_records(&log, 3).await;
    assert!(!spare.exists(), "a leftover spare is removed");
    drop(log);
    // Segment 1 renamed from a spare: a header and zeros, no group yet. Segment 0 ends with
    // zeros but is no longer the last one. (Its header is of format 1, without the
    // preallocated size: such segments, left by earlier versions, are still read.)
    let mut header = Vec::from(*b"SWSTWAL1");
    header.extend_from_slice(&1u64.to_le_bytes());
    let crc = crc32c::crc32c(&header);
    header.extend_from_slice(&crc.to_le_bytes());
    header.resize(64 << 10, 0);
    let next = dir.path().join("0000000000000001.wal");
    std::fs::write(&next, &header).expect("write segment");
    let log = DiskLogStorage::open(dir.path(), DiskLogOptions::default()).expect("reopen");
    assert_records(&log, 3).await;
    assert_eq!(log.stats().recovered_cut_bytes, 0);
    for i in 4..=6 {
        log.append(vec![record(i)])
            .await
            .expect("append")
            .await
            .expect("durable");
    }
    drop(log);
    assert_eq!(
        data_len(&next),
        SEGMENT_HEADER_V1 + 3 * GROUP_BYTES,
        "written in place"
    );
    let log = DiskLogStorage::open(dir.path(), DiskLogOptions::default()).expect("reopen");
    assert_records(&log, 6).await;
}

#[tokio::test]
async fn damage_in_the_middle_of_the_last_segment_is_corrupt() {
    let dir = tempfile::tempdir().expect("tmp");
    write_log(dir.path(), 10, DiskLogOptions::default()).await;
    let seg = segments(dir.path())[0].clone();
    flip(&seg, payload_offset(4));
    let message = expect_corrupt(
        DiskLogStorage::open(dir.path(), DiskLogOptions::default()),
        "flipped payload of record 4 of 10",
    );
    assert!(message.contains("synced"), "{message}");
    flip(&seg, payload_offset(4)); // undo
    // A damaged group start in the middle is just as fatal.
    flip(&seg, SEGMENT_HEADER + 5 * GROUP_BYTES + 14);
    expect_corrupt(
        DiskLogStorage::open(dir.path(), DiskLogOptions::default()),
        "damaged start of group 6 of 10",
    );
}

#[tokio::test]
async fn damage_in_a_closed_segment_is_corrupt_and_a_missing_segment_too() {
    let dir = tempfile::tempdir().expect("tmp");
    let options = DiskLogOptions::default().with_segment_bytes(MIN_SEGMENT_BYTES);
    write_log(dir.path(), 300, options.clone()).await;
    let files = segments(dir.path());
    assert!(
        files.len() >= 3,
        "expected several segments, got {}",
        files.len()
    );
    // Damage the very last group of the first segment: in a closed segment even the tail was
    // synced before the next segment was started.
    let first_len = data_len(&files[0]);
    flip(&files[0], first_len - 10);
    expect_corrupt(
        DiskLogStorage::open(dir.path(), options.clone()),
        "damaged closed segment",
    );
    flip(&files[0], first_len - 10);
    DiskLogStorage::open(dir.path(), options.clone()).expect("undamaged again");
    std::fs::remove_file(&files[1]).expect("remove");
    let message = expect_corrupt(DiskLogStorage::open(dir.path(), options), "missing segment");
    assert!(message.contains("missing"), "{message}");
}

#[tokio::test]
async fn a_torn_segment_creation_is_removed() {
    let dir = tempfile::tempdir().expect("tmp");
    write_log(dir.path(), 3, DiskLogOptions::default()).await;
    let next = dir.path().join("0000000000000001.wal");
    std::fs::write(&next, b"SWST").expect("write");
    let log = DiskLogStorage::open(dir.path(), DiskLogOptions::default()).expect("reopen");
    assert_records(&log, 3).await;
    assert!(!next.exists(), "the torn segment was removed");
}

#[tokio::test]
async fn damaged_meta_is_corrupt() {
    let dir = tempfile::tempdir().expect("tmp");
    {
        let log = DiskLogStorage::open(dir.path(), DiskLogOptions::default()).expect("open");
        log.save_vote(b"my vote").await.expect("vote");
    }
    // A leftover temporary file from an interrupted replacement is ignored and removed.
    std::fs::write(dir.path().join("meta.tmp"), b"half written").expect("write");
    let log = DiskLogStorage::open(dir.path(), DiskLogOptions::default()).expect("reopen");
    assert_eq!(
        log.read_vote().await.expect("vote").as_deref(),
        Some(&b"my vote"[..])
    );
    drop(log);
    assert!(!dir.path().join("meta.tmp").exists());
    // The meta file keeps two copies: one damaged copy loses nothing.
    let meta = dir.path().join("meta");
    let slot_bytes = std::fs::metadata(&meta).expect("meta").len() / 2;
    flip(&meta, 20);
    let log = DiskLogStorage::open(dir.path(), DiskLogOptions::default()).expect("one copy left");
    assert_eq!(
        log.read_vote().await.expect("vote").as_deref(),
        Some(&b"my vote"[..])
    );
    drop(log);
    // Opening repaired the damaged copy from the whole one: the other copy may fail next.
    flip(&meta, slot_bytes + 20);
    let log = DiskLogStorage::open(dir.path(), DiskLogOptions::default()).expect("repaired");
    assert_eq!(
        log.read_vote().await.expect("vote").as_deref(),
        Some(&b"my vote"[..])
    );
    drop(log);
    // Both copies damaged at once is corruption.
    flip(&meta, 20);
    flip(&meta, slot_bytes + 20);
    expect_corrupt(
        DiskLogStorage::open(dir.path(), DiskLogOptions::default()),
        "damaged meta",
    );
}

#[tokio::test]
async fn damage_found_while_reading_is_an_error_not_wrong_bytes() {
    let dir = tempfile::tempdir().expect("tmp");
    let options = DiskLogOptions::default().with_cache_bytes(0);
    let log = DiskLogStorage::open(dir.path(), options).expect("open");
    for i in 1..=5 {
        log.append(vec![record(i)])
            .await
            .expect("append")
            .await
            .expect("durable");
    }
    assert_records(&log, 5).await; // served from the file: nothing is cached
    flip(&segments(dir.path())[0], payload_offset(3));
    match log.read(3..=3).await {
        Err(StorageError::Corrupt { detail, .. }) => {
            assert!(detail.contains("record 3"), "{detail}")
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert_eq!(log.read(2..=2).await.expect("read"), vec![record(2)]);
}

#[tokio::test]
async fn a_directory_is_opened_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = DiskLogStorage::open(dir.path(), DiskLogOptions::default()).expect("open");
    match DiskLogStorage::open(dir.path(), DiskLogOptions::default()) {
        Err(StorageError::Io { source, .. }) => {
            assert_eq!(source.kind(), std::io::ErrorKind::WouldBlock)
        }
        other => panic!("a second open must fail, got {other:?}"),
    }
    drop(log);
    DiskLogStorage::open(dir.path(), DiskLogOptions::default()).expect("open after close");
    match DiskLogStorage::open(dir.path(), DiskLogOptions::default().with_segment_bytes(10)) {
        Err(StorageError::Contract(m)) => assert!(m.contains("segment_bytes"), "{m}"),
        other => panic!("a tiny segment size must be refused, got {other:?}"),
    }
}

#[tokio::test]
async fn segments_roll_and_are_dropped_after_a_purge() {
    let dir = tempfile::tempdir().expect("tmp");
    let options = DiskLogOptions::default().with_segment_bytes(MIN_SEGMENT_BYTES);
    let log = DiskLogStorage::open(dir.path(), options.clone()).expect("open");
    for first in (1..=500).step_by(10) {
        let batch: Vec<LogRecord> = (first..first + 10).map(record).collect();
        log.append(batch)
            .await
            .expect("append")
            .await
            .expect("durable");
    }
    let before = segments(dir.path()).len();
    assert!(before > 5, "expected rolling, got {before} segments");
    assert_eq!(log.stats().segments_created as usize, before - 1);
    log.purge(LogPosition {
        term: 1,
        index: 400,
    })
    .await
    .expect("purge");
    let after = segments(dir.path()).len();
    // How many go depends on where groups fall across segment boundaries, but 80% of the
    // records are gone, so some segments are.
    assert!(
        after < before && after >= 1,
        "{before} segments before the purge, {after} after"
    );
    assert_eq!(log.stats().segments_removed as usize, before - after);
    drop(log);
    let log = DiskLogStorage::open(dir.path(), options).expect("reopen");
    let got = log.read(0..=u64::MAX).await.expect("read");
    assert_eq!(got.first().map(|r| r.index), Some(401));
    assert_eq!(got, (401..=500).map(record).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_snapshot_written_in_many_paced_pieces_round_trips_exactly() {
    // Several write pieces (256 KiB each) plus a ragged end, so the piece boundaries fall
    // inside the data.
    let data: Vec<u8> = (0..(3 << 20) + 17)
        .map(|i: u32| (i * 31 % 251) as u8)
        .collect();
    let dir = tempfile::tempdir().expect("tmp");
    let store = DiskSnapshotStore::open(dir.path()).expect("open");
    store
        .save(StoredSnapshot {
            meta: "large meta".into(),
            data: data.clone().into(),
        })
        .await
        .expect("save");
    let back = DiskSnapshotStore::open(dir.path())
        .expect("reopen")
        .load()
        .await
        .expect("load")
        .expect("a snapshot");
    assert_eq!(&back.meta[..], b"large meta");
    assert!(back.data == data, "the data came back different");
    flip(&store.path(), 2 << 20);
    assert!(matches!(
        store.load().await,
        Err(StorageError::Corrupt { .. })
    ));
}

#[tokio::test]
async fn a_damaged_snapshot_is_corrupt() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = DiskSnapshotStore::open(dir.path()).expect("open");
    store
        .save(StoredSnapshot {
            meta: "meta".into(),
            data: vec![7; 10_000].into(),
        })
        .await
        .expect("save");
    std::fs::write(dir.path().join("snapshot.tmp"), b"torn").expect("write");
    let store = DiskSnapshotStore::open(dir.path()).expect("reopen");
    assert!(!dir.path().join("snapshot.tmp").exists());
    assert_eq!(
        store.load().await.expect("load").map(|s| s.data.len()),
        Some(10_000)
    );
    flip(&store.path(), 5000);
    match store.load().await {
        Err(StorageError::Corrupt { .. }) => {}
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let bytes = std::fs::read(store.path()).expect("read");
    std::fs::write(store.path(), &bytes[..bytes.len() - 1]).expect("write");
    assert!(matches!(
        store.load().await,
        Err(StorageError::Corrupt { .. })
    ));
}

/// A torn write may leave later frames of the same group intact (pages are written in any
/// order); they were never acknowledged, so the whole group is cut, not reported.
#[tokio::test]
async fn damage_inside_the_last_group_is_cut_even_with_valid_frames_after_it() {
    const ENTRY_BYTES: u64 = 29 + PAYLOAD_BYTES as u64;
    let last_group = SEGMENT_HEADER + 3 * GROUP_BYTES;
    for (what, offset) in [
        (
            "second entry of the group",
            last_group + 29 + ENTRY_BYTES + 29 + 50,
        ),
        ("group start", last_group + 20),
        ("first entry header", last_group + 29 + 6),
    ] {
        let dir = tempfile::tempdir().expect("tmp");
        write_log(dir.path(), 3, DiskLogOptions::default()).await;
        {
            let log = DiskLogStorage::open(dir.path(), DiskLogOptions::default()).expect("open");
            let batch: Vec<LogRecord> = (4..=8).map(record).collect();
            log.append(batch)
                .await
                .expect("append")
                .await
                .expect("durable");
        }
        let seg = segments(dir.path())[0].clone();
        assert_eq!(data_len(&seg), last_group + 29 + 5 * ENTRY_BYTES, "layout");
        flip(&seg, offset);
        let log = DiskLogStorage::open(dir.path(), DiskLogOptions::default())
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_records(&log, 3).await;
        assert_eq!(
            log.stats().recovered_cut_bytes,
            29 + 5 * ENTRY_BYTES,
            "{what}"
        );
    }
}

/// Nothing in the disk storage needs a tokio runtime: another executor can drive it.
#[test]
fn works_outside_a_tokio_runtime() {
    let dir = tempfile::tempdir().expect("tmp");
    futures::executor::block_on(async {
        let log = DiskLogStorage::open(dir.path(), DiskLogOptions::default().with_cache_bytes(0))
            .expect("open");
        for i in 1..=3 {
            log.append(vec![record(i)])
                .await
                .expect("append")
                .await
                .expect("durable");
        }
        assert_records(&log, 3).await; // read from the files
        let snapshots = DiskSnapshotStore::open(dir.path()).expect("snapshots");
        let snapshot = StoredSnapshot {
            meta: "m".into(),
            data: "d".into(),
        };
        snapshots.save(snapshot.clone()).await.expect("save");
        assert_eq!(snapshots.load().await.expect("load"), Some(snapshot));
    });
}

#[tokio::test]
async fn index_limits_are_errors_not_panics() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = DiskLogStorage::open(dir.path(), DiskLogOptions::default()).expect("open");
    let at = |index| LogRecord {
        index,
        term: 1,
        payload: "x".into(),
    };
    log.append(vec![at(u64::MAX - 1)])
        .await
        .expect("append")
        .await
        .expect("durable");
    assert!(matches!(
        log.append(vec![at(u64::MAX)]).await,
        Err(StorageError::Contract(_))
    ));
    log.purge(LogPosition {
        term: 1,
        index: u64::MAX,
    })
    .await
    .expect("purge");
    assert!(matches!(
        log.append(vec![at(u64::MAX)]).await,
        Err(StorageError::Contract(_))
    ));
    assert_eq!(log.read(0..=u64::MAX).await.expect("read"), vec![]);
    drop(log);
    let log = DiskLogStorage::open(dir.path(), DiskLogOptions::default()).expect("reopen");
    assert_eq!(
        log.state().await.expect("state").last,
        Some(LogPosition {
            term: 1,
            index: u64::MAX
        })
    );
}

/// Segments are removed oldest first, and only after a purge: a log that does not start right
/// after its purge point (or at segment 0 when never purged) lost a segment, and opening it
/// fails naming the gap instead of serving a log with a hole.
#[tokio::test]
async fn a_missing_oldest_segment_is_corrupt() {
    let options = DiskLogOptions::default().with_segment_bytes(MIN_SEGMENT_BYTES);
    // Never purged: segment 0 must be there.
    let dir = tempfile::tempdir().expect("tmp");
    write_log(dir.path(), 300, options.clone()).await;
    let files = segments(dir.path());
    assert!(files.len() >= 3, "{} segments", files.len());
    std::fs::remove_file(&files[0]).expect("remove");
    let message = expect_corrupt(
        DiskLogStorage::open(dir.path(), options.clone()),
        "missing segment 0",
    );
    assert!(message.contains("segment 0 is missing"), "{message}");

    // Purged up to 10: the segment holding 11.. must be there.
    let dir = tempfile::tempdir().expect("tmp");
    write_log(dir.path(), 300, options.clone()).await;
    {
        let log = DiskLogStorage::open(dir.path(), options.clone()).expect("open");
        log.purge(LogPosition { term: 1, index: 10 })
            .await
            .expect("purge");
    }
    let files = segments(dir.path());
    let first = DiskLogStorage::open(dir.path(), options.clone())
        .expect("intact")
        .read(0..=u64::MAX)
        .await
        .expect("read");
    assert_eq!(
        first.first().map(|r| r.index),
        Some(11),
        "starts after the purge"
    );
    std::fs::remove_file(&files[0]).expect("remove the oldest segment");
    let message = expect_corrupt(
        DiskLogStorage::open(dir.path(), options),
        "missing oldest segment after a purge",
    );
    assert!(
        message.contains("purge point is entry 10") && message.contains("entries 11..="),
        "{message}"
    );
}
