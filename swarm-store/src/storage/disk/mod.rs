//! On-disk storage: a segmented write-ahead log ([`DiskLogStorage`]) and a snapshot file
//! ([`DiskSnapshotStore`]).
//!
//! # Layout of a log directory
//!
//! ```text
//! LOCK                     flock held while a DiskLogStorage has the directory open
//! meta                     vote, purge point, committed position; two slots updated in turn
//! 0000000000000000.wal     segments, numbered without gaps; only the last one is written
//! 0000000000000001.wal
//! ```
//!
//! Each segment starts with a 20-byte header (magic, sequence number, checksum) followed by
//! *write groups*. A group is what one `fdatasync` makes durable: a group-start frame (its
//! sequence number and length) and then the frames of every command the writer took at once:
//! entries, truncations, and the latest committed position. Each frame carries its length and a
//! CRC-32C over its body; an entry's payload is sealed by the [`Cipher`] with the record's index
//! and term as associated data, so a record copied elsewhere in the log does not open.
//!
//! # Durability
//!
//! - [`append`](LogStorage::append) makes records visible at once (they stay in the in-memory
//!   cache) and hands the frames to the writer thread through a queue of
//!   [`WRITER_QUEUE_COMMANDS`]. The writer takes every waiting command (up to
//!   `MAX_GROUP_COMMANDS`), writes them as one group, calls `fdatasync` once, and only then
//!   resolves their tickets, in order. An error fails every waiting ticket and closes the log.
//! - [`append_inline`](LogStorage::append_inline) writes and syncs the records on the calling
//!   thread, in a group of their own, when the writer is idle (nothing queued, no group being
//!   written; the writer sits behind a lock that the writer thread holds while it writes), and
//!   returns a resolved ticket; when the writer is busy it queues like `append`. Either way
//!   groups reach the disk in call order.
//! - [`truncate`](LogStorage::truncate) writes a truncation record through the same queue and
//!   returns after its group is synced; on replay the record removes what precedes it.
//! - [`purge`](LogStorage::purge) and [`save_vote`](LogStorage::save_vote) update the meta
//!   file: its two slots are overwritten in turn, each followed by `fdatasync` (no rename, no
//!   directory sync: no journal commit on the writer's path), so one slot is always whole.
//!   Then the writer deletes the oldest segments that hold nothing above the purge point,
//!   without syncing the directory: recovery deletes them again if a crash undid that.
//! - [`save_committed`](LogStorage::save_committed) only updates memory; the value rides in
//!   the next group or meta file written (rule 7 allows losing it).
//! - Segments are **preallocated**: a segment file is created with its header and zeros up to
//!   its size, written in chunks and fsynced (file and directory), before any group goes into
//!   it, so a group overwrites zeros that are already allocated and `fdatasync` never has to
//!   commit a size change (about a third cheaper on ext4). The next segment (a `*.spare` file)
//!   is prepared on its own thread once the current one is half full: allocated
//!   (`posix_fallocate`) and synced, then zero-filled in paced chunks; it is renamed into place
//!   (directory fsynced) when the writer rolls. If the writer gets there first, the zero-fill
//!   stops and the spare is used allocated but partly unwritten (still no size change). The first segment of a log is small
//!   (256 KiB) and each next one 4× larger, up to [`DiskLogOptions::segment_bytes`].
//!
//! # Recovery
//!
//! Opening scans every segment and verifies every frame. A torn write can only damage the last
//! group of the last segment, which is cut. Damage anywhere else, or in the last segment when
//! valid data written later follows it, is [`StorageError::Corrupt`]: those bytes had been
//! synced, so cutting them would silently lose acknowledged records. Zeros at a group boundary
//! are the preallocated end of a segment's data; a cut group is overwritten with zeros. A log
//! that does not start right after its purge point (a missing oldest segment) is
//! [`StorageError::Corrupt`] too, and so is a segment shorter than the size it was
//! preallocated to (recorded in its header; segments of format 1, written before the header
//! held it, are read without this check): no crash shortens a preallocated segment, so a
//! shorter one was cut by something else and the records past the cut may be lost.
//!
//! # Example
//!
//! ```
//! use swarm_store::storage::disk::{DiskLogOptions, DiskLogStorage};
//! use swarm_store::storage::{LogRecord, LogStorage};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), swarm_store::storage::StorageError> {
//! let dir = std::env::temp_dir().join(format!("swarm-wal-doc-{}", std::process::id()));
//! let log = DiskLogStorage::open(&dir, DiskLogOptions::default())?;
//! let ticket = log
//!     .append(vec![LogRecord { index: 1, term: 1, payload: "hello".into() }])
//!     .await?;
//! ticket.await?; // durable now
//! drop(log);
//!
//! let log = DiskLogStorage::open(&dir, DiskLogOptions::default())?;
//! assert_eq!(log.read(1..=1).await?[0].payload, "hello");
//! # drop(log);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok(())
//! # }
//! ```

mod files;
mod frame;
mod index;
mod meta;
mod recovery;
mod snapshot;
mod spare;
mod trash;
mod writer;

pub use snapshot::{DiskSnapshotStore, MAX_SNAPSHOT_FILE_BYTES};

use super::cipher::{Cipher, NoCipher};
use super::error::StorageError;
use super::log_storage::{AppendTicket, LogStorage};
use super::record::{LogPosition, LogRecord, LogState};
use files::{corrupt, io_error, segment_path};
use frame::{BODY_FIXED_BYTES, FrameKind, MAX_FRAME_BODY_BYTES, decode_frame, encode_frame};
use index::{ReadPlan, Slot};
use meta::Meta;
use std::ops::RangeInclusive;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::{mpsc, oneshot};
use writer::{Command, Shared, SharedWriter, Writer};

/// Segments roll once they reach this size, unless [`DiskLogOptions::segment_bytes`] says
/// otherwise.
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 << 20;
/// The smallest segment size accepted (tests use small segments to exercise rolling).
pub const MIN_SEGMENT_BYTES: u64 = 4 << 10;
/// Payload bytes kept in memory for reads by default; older records are read from their
/// segment.
pub const DEFAULT_CACHE_BYTES: usize = 64 << 20;
/// Commands that may wait for the writer thread; appends wait for room beyond that.
pub const WRITER_QUEUE_COMMANDS: usize = 1024;
/// The largest sealed payload of one record.
pub const MAX_SEALED_PAYLOAD_BYTES: usize = MAX_FRAME_BODY_BYTES - BODY_FIXED_BYTES;
/// The name of the lock file in a log directory.
const LOCK_FILE: &str = "LOCK";

/// How a [`DiskLogStorage`] is opened.
#[derive(Clone)]
pub struct DiskLogOptions {
    /// A segment is closed and a new one started once it holds this many bytes (a group that
    /// starts below the limit may end above it). At least [`MIN_SEGMENT_BYTES`]. Segments are
    /// preallocated (zero-filled ahead of time) to their size: the first one of a log to
    /// 256 KiB, each next one to 4× the previous, up to this size, so a small log stays small.
    pub segment_bytes: u64,
    /// Payload bytes of recent records kept in memory; reads of older records go to disk.
    pub cache_bytes: usize,
    /// Seals every record payload before it is written. It must be the same cipher (same
    /// key) on every open of the directory.
    pub cipher: Arc<dyn Cipher>,
}

impl Default for DiskLogOptions {
    fn default() -> Self {
        DiskLogOptions {
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            cache_bytes: DEFAULT_CACHE_BYTES,
            cipher: Arc::new(NoCipher),
        }
    }
}

impl DiskLogOptions {
    /// Sets the at-rest cipher.
    pub fn with_cipher(mut self, cipher: Arc<dyn Cipher>) -> Self {
        self.cipher = cipher;
        self
    }

    /// Sets the segment size in bytes.
    pub fn with_segment_bytes(mut self, segment_bytes: u64) -> Self {
        self.segment_bytes = segment_bytes;
        self
    }

    /// Sets the payload cache size in bytes.
    pub fn with_cache_bytes(mut self, cache_bytes: usize) -> Self {
        self.cache_bytes = cache_bytes;
        self
    }
}

impl std::fmt::Debug for DiskLogOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskLogOptions")
            .field("segment_bytes", &self.segment_bytes)
            .field("cache_bytes", &self.cache_bytes)
            .finish_non_exhaustive()
    }
}

/// Counters of a [`DiskLogStorage`] since it was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WalStats {
    /// Groups written, each made durable by one `fdatasync`.
    pub syncs: u64,
    /// Entry records written.
    pub records_written: u64,
    /// Bytes written to segments (frames and group headers).
    pub bytes_written: u64,
    /// Segments created by rolling.
    pub segments_created: u64,
    /// Segments deleted after a purge.
    pub segments_removed: u64,
    /// Bytes of torn tail cut when the directory was opened.
    pub recovered_cut_bytes: u64,
}

/// A [`LogStorage`] on disk: a segmented write-ahead log with group commit.
///
/// See the [module documentation](self) for the format and the crash model. Clones share the
/// same log. The last clone dropped stops the writer thread after it has written everything
/// queued (dropping blocks for at most one group sync) and releases the directory lock.
#[derive(Clone)]
pub struct DiskLogStorage {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    shared: Arc<Shared>,
    cipher: Arc<dyn Cipher>,
    tx: Option<mpsc::Sender<Command>>,
    /// The writer, also taken by inline appends when it is idle.
    writer: Arc<SharedWriter>,
    thread: Option<std::thread::JoinHandle<()>>,
    recovered_cut_bytes: u64,
}

impl Drop for Inner {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(thread) = self.thread.take() {
            // The writer drains the queue and exits once every sender is gone; a panic in it
            // was already reported by the panic hook.
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for DiskLogStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskLogStorage")
            .field("dir", &self.inner.dir)
            .finish_non_exhaustive()
    }
}

fn closed() -> StorageError {
    StorageError::Closed("the log writer thread has stopped".into())
}

impl DiskLogStorage {
    /// Opens (creating if needed) the log in `dir`, recovering from a crash: every frame is
    /// verified, a torn tail is cut, segments made useless by a purge are deleted.
    ///
    /// Blocks while it scans the log; call it from a blocking context (or `spawn_blocking`)
    /// when the log is large. Fails with [`StorageError::Io`] when another handle or process
    /// has the directory open, and with [`StorageError::Corrupt`] when synced data is damaged.
    pub fn open(dir: impl AsRef<Path>, options: DiskLogOptions) -> Result<Self, StorageError> {
        let dir = dir.as_ref().to_path_buf();
        if options.segment_bytes < MIN_SEGMENT_BYTES {
            return Err(StorageError::Contract(format!(
                "segment_bytes is {} but must be at least {MIN_SEGMENT_BYTES}",
                options.segment_bytes
            )));
        }
        files::create_dir_durably(&dir)?;
        let lock_path = dir.join(LOCK_FILE);
        let lock_file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io_error(&lock_path, e))?;
        let lock = nix::fcntl::Flock::lock(lock_file, nix::fcntl::FlockArg::LockExclusiveNonblock)
            .map_err(|(_, errno)| {
                io_error(
                    &lock_path,
                    std::io::Error::new(
                        std::io::ErrorKind::WouldBlock,
                        format!("the log directory is already open elsewhere ({errno})"),
                    ),
                )
            })?;
        let recovered = recovery::recover(&dir, options.cache_bytes, options.segment_bytes)?;
        tracing::debug!(
            dir = %dir.display(),
            records = recovered.index.slots.len(),
            last = ?recovered.index.last(),
            last_purged = ?recovered.index.last_purged,
            segments = recovered.writer.segments.len(),
            cut_bytes = recovered.cut_bytes,
            "opened the write-ahead log"
        );
        let shared = Arc::new(Shared {
            index: std::sync::Mutex::new(recovered.index),
            stats: Default::default(),
            queued: Default::default(),
        });
        let (tx, rx) = mpsc::channel(WRITER_QUEUE_COMMANDS);
        let writer = Writer {
            dir: dir.clone(),
            shared: shared.clone(),
            segment_bytes: options.segment_bytes,
            state: recovered.writer,
            meta_file: recovered.meta_file,
            spare: None,
            failed: None,
            _lock: lock,
        };
        let writer = Arc::new(SharedWriter::new(writer));
        let thread_writer = writer.clone();
        let thread = std::thread::Builder::new()
            .name("swarm-wal-writer".into())
            .spawn(move || thread_writer.run(rx))
            .map_err(|e| io_error(&dir, e))?;
        Ok(DiskLogStorage {
            inner: Arc::new(Inner {
                dir,
                shared,
                cipher: options.cipher,
                tx: Some(tx),
                writer,
                thread: Some(thread),
                recovered_cut_bytes: recovered.cut_bytes,
            }),
        })
    }

    /// The directory this log lives in.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Counters since the log was opened.
    pub fn stats(&self) -> WalStats {
        let c = &self.inner.shared.stats;
        WalStats {
            syncs: c.syncs.load(Ordering::Relaxed),
            records_written: c.records.load(Ordering::Relaxed),
            bytes_written: c.bytes.load(Ordering::Relaxed),
            segments_created: c.segments_created.load(Ordering::Relaxed),
            segments_removed: c.segments_removed.load(Ordering::Relaxed),
            recovered_cut_bytes: self.inner.recovered_cut_bytes,
        }
    }

    async fn reserve(&self) -> Result<mpsc::Permit<'_, Command>, StorageError> {
        let tx = self.inner.tx.as_ref().ok_or_else(closed)?;
        tx.reserve().await.map_err(|_| closed())
    }

    fn check_open(index: &index::LogIndex) -> Result<(), StorageError> {
        match &index.failed {
            Some(reason) => Err(StorageError::Closed(format!(
                "the log failed earlier: {reason}"
            ))),
            None => Ok(()),
        }
    }

    /// Sends a meta update built under the lock and waits until it is durable.
    async fn write_meta(
        &self,
        purge: Option<LogPosition>,
        vote: Option<Vec<u8>>,
    ) -> Result<(), StorageError> {
        let permit = self.reserve().await?;
        let (done, wait) = oneshot::channel();
        let mut purged = Vec::new();
        {
            let mut index = self.inner.shared.lock();
            Self::check_open(&index)?;
            if let Some(upto) = purge {
                if !index.slots.is_empty()
                    && index.last_purged.is_none_or(|p| p.index < upto.index)
                    && index.first > upto.index.saturating_add(1)
                {
                    return Err(StorageError::Contract(format!(
                        "purge up to entry {} would leave a hole before the first entry {}",
                        upto.index, index.first
                    )));
                }
                purged = index.purge(upto);
            }
            if vote.is_some() {
                index.vote = vote;
            }
            let meta = Meta {
                vote: index.vote.clone(),
                last_purged: index.last_purged,
                committed: index.committed,
            };
            let purge_upto = purge.and(index.last_purged).map(|p| p.index);
            self.inner.shared.queued.fetch_add(1, Ordering::AcqRel);
            permit.send(Command::Meta {
                meta,
                purge_upto,
                done: writer::Done::Reply(done),
            });
        }
        // Freed off this thread (the Raft core's, waiting for the purge) and off the lock.
        if !purged.is_empty() {
            crate::background::drop_in_background("purged-records", purged);
        }
        wait.await.map_err(|_| closed())?
    }
}

fn read_from_disk(
    dir: &Path,
    cipher: &dyn Cipher,
    index: u64,
    term: u64,
    location: index::Location,
    file: &std::fs::File,
) -> Result<LogRecord, StorageError> {
    let path = segment_path(dir, location.segment);
    let mut buf = vec![0; location.bytes as usize];
    file.read_exact_at(&mut buf, location.offset)
        .map_err(|e| io_error(&path, e))?;
    let frame = decode_frame(&buf, 0).map_err(|e| {
        corrupt(
            &path,
            format!("record {index} at offset {}: {e}", location.offset),
        )
    })?;
    if frame.kind != FrameKind::Entry || frame.a != index || frame.b != term {
        return Err(corrupt(
            &path,
            format!(
                "record {index} at offset {} holds {:?} {}/{} instead",
                location.offset, frame.kind, frame.a, frame.b
            ),
        ));
    }
    let payload = cipher
        .open(frame.payload, &frame::entry_associated_data(index, term))
        .map_err(|e| StorageError::Cipher(format!("opening record {index}: {e}")))?;
    Ok(LogRecord {
        index,
        term,
        payload: payload.into(),
    })
}

/// One append's frames, sealed and encoded, ready for the writer.
struct EncodedAppend {
    records: Vec<LogRecord>,
    frames: Vec<u8>,
    frame_bytes: Vec<u32>,
}

impl DiskLogStorage {
    /// Seals and encodes the records' frames (no lock held).
    fn encode(&self, records: Vec<LogRecord>) -> Result<EncodedAppend, StorageError> {
        let mut frames = Vec::with_capacity(
            records
                .iter()
                .map(|r| frame::frame_bytes(r.payload.len()))
                .sum(),
        );
        let mut frame_bytes = Vec::with_capacity(records.len());
        for r in &records {
            let sealed = self
                .inner
                .cipher
                .seal(&r.payload, &frame::entry_associated_data(r.index, r.term))
                .map_err(|e| StorageError::Cipher(format!("sealing record {}: {e}", r.index)))?;
            if sealed.len() > MAX_SEALED_PAYLOAD_BYTES {
                return Err(StorageError::Contract(format!(
                    "record {} is {} bytes sealed, more than the limit {MAX_SEALED_PAYLOAD_BYTES}",
                    r.index,
                    sealed.len()
                )));
            }
            let before = frames.len();
            encode_frame(&mut frames, FrameKind::Entry, r.index, r.term, &sealed);
            frame_bytes.push(u32::try_from(frames.len() - before).unwrap_or(u32::MAX));
        }
        Ok(EncodedAppend {
            records,
            frames,
            frame_bytes,
        })
    }

    /// Checks the records follow the log (rule 1) and makes them visible, under the index
    /// lock; returns the command that writes them.
    fn place(
        index: &mut index::LogIndex,
        encoded: EncodedAppend,
        done: writer::Done,
    ) -> Result<Command, StorageError> {
        Self::check_open(index)?;
        let EncodedAppend {
            records,
            frames,
            frame_bytes,
        } = encoded;
        let first_index = records[0].index;
        let expected = index.next_index().unwrap_or(first_index);
        for (k, r) in records.iter().enumerate() {
            let want = expected.checked_add(k as u64).filter(|w| *w < u64::MAX);
            if want != Some(r.index) {
                return Err(StorageError::Contract(match want {
                    Some(want) => {
                        format!("append of index {} but the next index is {want}", r.index)
                    }
                    None => format!("append of index {}: the log is full", r.index),
                }));
            }
        }
        let batch = index.next_batch;
        index.next_batch += 1;
        for r in records {
            index.push(
                r.index,
                Slot {
                    term: r.term,
                    batch,
                    payload: Some(r.payload),
                    location: None,
                },
            );
        }
        Ok(Command::Append {
            batch,
            first_index,
            frames,
            frame_bytes,
            done,
        })
    }

    /// Writes and syncs an encoded append on this thread if the writer is idle, returning its
    /// resolved ticket; otherwise hands the append back.
    fn try_write_inline(
        &self,
        encoded: EncodedAppend,
    ) -> Result<Result<AppendTicket, EncodedAppend>, StorageError> {
        let (command, ticket, mut writer) = {
            let mut index = self.inner.shared.lock();
            // Sends raise `queued` under the index lock, and the writer thread lowers it while
            // holding the writer: holding both and reading 0, nothing sent before this append
            // is unwritten, and whatever is sent after it waits for the writer.
            let writer = (self.inner.shared.queued.load(Ordering::Acquire) == 0)
                .then(|| self.inner.writer.try_lock())
                .flatten()
                .filter(|_| self.inner.shared.queued.load(Ordering::Acquire) == 0);
            let Some(writer) = writer else {
                return Ok(Err(encoded));
            };
            let (done, ticket) = AppendTicket::completer();
            let command = Self::place(&mut index, encoded, writer::Done::Ticket(done))?;
            (command, ticket, writer)
        };
        // The index lock is released: readers and the writer's bookkeeping take it meanwhile.
        writer.write_inline(command);
        Ok(Ok(ticket))
    }

    /// Queues an encoded append to the writer thread.
    async fn append_queued(&self, encoded: EncodedAppend) -> Result<AppendTicket, StorageError> {
        let permit = self.reserve().await?;
        let (done, ticket) = AppendTicket::completer();
        let mut index = self.inner.shared.lock();
        let command = Self::place(&mut index, encoded, writer::Done::Ticket(done))?;
        self.inner.shared.queued.fetch_add(1, Ordering::AcqRel);
        permit.send(command);
        Ok(ticket)
    }
}

impl LogStorage for DiskLogStorage {
    async fn append(&self, records: Vec<LogRecord>) -> Result<AppendTicket, StorageError> {
        if records.is_empty() {
            return Ok(AppendTicket::ready(Ok(())));
        }
        let encoded = self.encode(records)?;
        self.append_queued(encoded).await
    }

    /// When the writer is idle (no group being written, nothing queued), writes and syncs the
    /// records on the calling thread, one `fdatasync` without a hand-off to the writer thread
    /// and back; the ticket is then resolved. Otherwise queues them like
    /// [`append`](LogStorage::append), so they join the writer's next group.
    async fn append_inline(&self, records: Vec<LogRecord>) -> Result<AppendTicket, StorageError> {
        if records.is_empty() {
            return Ok(AppendTicket::ready(Ok(())));
        }
        let encoded = self.encode(records)?;
        match self.try_write_inline(encoded)? {
            Ok(ticket) => Ok(ticket),
            Err(encoded) => self.append_queued(encoded).await,
        }
    }

    async fn truncate(&self, index: u64) -> Result<(), StorageError> {
        let permit = self.reserve().await?;
        let (done, wait) = oneshot::channel();
        {
            let mut log = self.inner.shared.lock();
            Self::check_open(&log)?;
            if log.truncate(index) == 0 {
                // Nothing at or above `index` is in the log, queued or durable: every earlier
                // removal was durable when its call returned.
                return Ok(());
            }
            self.inner.shared.queued.fetch_add(1, Ordering::AcqRel);
            permit.send(Command::Truncate {
                index,
                done: writer::Done::Reply(done),
            });
        }
        wait.await.map_err(|_| closed())?
    }

    async fn purge(&self, upto: LogPosition) -> Result<(), StorageError> {
        self.write_meta(Some(upto), None).await
    }

    async fn read(&self, range: RangeInclusive<u64>) -> Result<Vec<LogRecord>, StorageError> {
        let plan = {
            let index = self.inner.shared.lock();
            Self::check_open(&index)?;
            index
                .plan_read(*range.start(), *range.end())
                .map_err(|detail| corrupt(&self.inner.dir, detail))?
        };
        if plan.iter().all(|p| matches!(p, ReadPlan::Cached(_))) {
            return Ok(plan
                .into_iter()
                .filter_map(|p| match p {
                    ReadPlan::Cached(r) => Some(r),
                    ReadPlan::OnDisk { .. } => None,
                })
                .collect());
        }
        let dir = self.inner.dir.clone();
        let cipher = self.inner.cipher.clone();
        files::run_blocking("log read", move || {
            plan.into_iter()
                .map(|p| match p {
                    ReadPlan::Cached(r) => Ok(r),
                    ReadPlan::OnDisk {
                        index,
                        term,
                        location,
                        file,
                    } => read_from_disk(&dir, cipher.as_ref(), index, term, location, &file),
                })
                .collect()
        })
        .await
    }

    async fn state(&self) -> Result<LogState, StorageError> {
        let index = self.inner.shared.lock();
        Self::check_open(&index)?;
        Ok(LogState {
            last_purged: index.last_purged,
            last: index.last(),
        })
    }

    async fn save_vote(&self, vote: &[u8]) -> Result<(), StorageError> {
        if vote.len() > meta::MAX_VOTE_BYTES {
            return Err(StorageError::Contract(format!(
                "vote of {} bytes exceeds the limit {}",
                vote.len(),
                meta::MAX_VOTE_BYTES
            )));
        }
        self.write_meta(None, Some(vote.to_vec())).await
    }

    async fn read_vote(&self) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.inner.shared.lock().vote.clone())
    }

    async fn save_committed(&self, committed: Option<LogPosition>) -> Result<(), StorageError> {
        let mut index = self.inner.shared.lock();
        Self::check_open(&index)?;
        index.committed = committed;
        Ok(())
    }

    async fn read_committed(&self) -> Result<Option<LogPosition>, StorageError> {
        Ok(self.inner.shared.lock().committed)
    }
}
