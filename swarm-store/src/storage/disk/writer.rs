//! The writer thread: takes every waiting command, writes one group, syncs once, then resolves
//! the group's tickets (group commit).

use super::files::{io_error, segment_path, sync_dir};
use super::frame::{FrameKind, GROUP_START_FRAME_BYTES, encode_frame};
use super::index::{Location, LogIndex};
use super::meta::{Meta, MetaFile};
use super::spare::{SpareJob, next_segment_bytes};
use super::trash::{remove_gradually, trash_path};
use crate::storage::error::StorageError;
use crate::storage::log_storage::AppendCompleter;
use crate::storage::record::LogPosition;
use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, oneshot};

/// Commands the writer takes in one group at most.
pub(crate) const MAX_GROUP_COMMANDS: usize = 4096;
/// A group is written and synced once it holds this many bytes, even if more commands wait.
pub(crate) const MAX_GROUP_BYTES: usize = 16 << 20;

/// What the storage handles and the writer thread share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) index: Mutex<LogIndex>,
    pub(crate) stats: Counters,
    /// Commands sent to the writer thread and not yet written. Raised under the index lock
    /// when a command is sent; lowered by the writer thread, holding the writer, once the
    /// commands are written. A caller holding the index lock and the writer that reads 0 knows
    /// nothing queued before it is still unwritten (see `DiskLogStorage::append_inline`).
    pub(crate) queued: AtomicUsize,
}

impl Shared {
    /// Locks the index. A poisoned lock means a thread panicked while holding it; every update
    /// under the lock leaves the index consistent, so the data is still good.
    pub(crate) fn lock(&self) -> MutexGuard<'_, LogIndex> {
        self.index
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Running totals of the writer.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) syncs: AtomicU64,
    pub(crate) records: AtomicU64,
    pub(crate) bytes: AtomicU64,
    pub(crate) segments_created: AtomicU64,
    pub(crate) segments_removed: AtomicU64,
}

/// Who waits for a command: an append's ticket (whose callback, if registered, runs on this
/// thread) or a caller awaiting a reply.
pub(crate) enum Done {
    Ticket(AppendCompleter),
    Reply(oneshot::Sender<Result<(), StorageError>>),
}

impl Done {
    fn send(self, result: Result<(), StorageError>) {
        match self {
            Done::Ticket(completer) => completer.complete(result),
            Done::Reply(tx) => {
                let _ = tx.send(result);
            }
        }
    }
}

/// A request to the writer thread.
pub(crate) enum Command {
    /// Write these ready-made entry frames.
    Append {
        batch: u64,
        first_index: u64,
        frames: Vec<u8>,
        frame_bytes: Vec<u32>,
        done: Done,
    },
    /// Write a truncation record.
    Truncate { index: u64, done: Done },
    /// Replace the meta file, then drop segments wholly at or below `purge_upto`.
    Meta {
        meta: Meta,
        purge_upto: Option<u64>,
        done: Done,
    },
}

/// The state of the segment being written and of the log's segments.
pub(crate) struct WriterState {
    pub(crate) file: File,
    pub(crate) segment: u64,
    pub(crate) segment_len: u64,
    /// The segment's preallocated size: groups overwrite zeros up to here, and the writer
    /// rolls to the next segment once `segment_len` reaches it.
    pub(crate) capacity: u64,
    pub(crate) next_group: u64,
    /// Every live segment and the highest entry index ever written to it.
    pub(crate) segments: BTreeMap<u64, Option<u64>>,
    /// The committed value last written to the log.
    pub(crate) written_committed: Option<LogPosition>,
}

struct AppendDone {
    batch: u64,
    first_index: u64,
    /// Offset of each frame inside the group buffer, and its length.
    frames: Vec<(usize, u32)>,
}

/// One group being assembled.
struct Group {
    buf: Vec<u8>,
    appends: Vec<AppendDone>,
    max_index: Option<u64>,
    done: Vec<Done>,
}

impl Group {
    fn new() -> Self {
        Group {
            buf: vec![0; GROUP_START_FRAME_BYTES],
            appends: Vec::new(),
            max_index: None,
            done: Vec::new(),
        }
    }
}

/// The writer thread's owned state.
pub(crate) struct Writer {
    pub(crate) dir: PathBuf,
    pub(crate) shared: Arc<Shared>,
    pub(crate) segment_bytes: u64,
    pub(crate) state: WriterState,
    /// The meta file (vote, purge point, committed position).
    pub(crate) meta_file: MetaFile,
    /// The next segment, being zero-filled ahead of time.
    pub(crate) spare: Option<SpareJob>,
    pub(crate) failed: Option<String>,
    /// Held for the life of the writer: no other process opens the directory meanwhile.
    pub(crate) _lock: nix::fcntl::Flock<File>,
}

fn fail_all(done: Vec<Done>, error: &StorageError) {
    for d in done {
        d.send(Err(copy_error(error)));
    }
}

/// A copy of an error for each waiting caller (`StorageError` is not `Clone`).
fn copy_error(error: &StorageError) -> StorageError {
    match error {
        StorageError::Io { path, source } => StorageError::Io {
            path: path.clone(),
            source: std::io::Error::new(source.kind(), source.to_string()),
        },
        StorageError::Corrupt { path, detail } => StorageError::Corrupt {
            path: path.clone(),
            detail: detail.clone(),
        },
        StorageError::Contract(s) => StorageError::Contract(s.clone()),
        StorageError::Cipher(s) => StorageError::Cipher(s.clone()),
        StorageError::Closed(s) => StorageError::Closed(s.clone()),
    }
}

/// The writer, shared by the writer thread and callers that write inline: whoever holds the
/// lock writes the next group.
pub(crate) struct SharedWriter(Mutex<Writer>);

impl SharedWriter {
    pub(crate) fn new(writer: Writer) -> Self {
        SharedWriter(Mutex::new(writer))
    }

    /// Locks the writer. A poisoned lock means a thread panicked while writing; the writer's
    /// state is still consistent with what reached the disk (a group is recorded only once
    /// synced), so it is used as it is.
    fn lock(&self) -> MutexGuard<'_, Writer> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The writer if no one else holds it right now.
    pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, Writer>> {
        match self.0.try_lock() {
            Ok(guard) => Some(guard),
            Err(std::sync::TryLockError::Poisoned(e)) => Some(e.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// The writer thread: runs until every sender is dropped and the queue is drained.
    pub(crate) fn run(&self, mut rx: mpsc::Receiver<Command>) {
        let mut batch = Vec::new();
        while let Some(first) = rx.blocking_recv() {
            batch.push(first);
            let mut writer = self.lock();
            // Commands that arrived while an inline write held the writer join this group.
            while batch.len() < MAX_GROUP_COMMANDS {
                match rx.try_recv() {
                    Ok(cmd) => batch.push(cmd),
                    Err(_) => break,
                }
            }
            let taken = batch.len();
            writer.process(&mut batch);
            writer.shared.queued.fetch_sub(taken, Ordering::AcqRel);
        }
    }
}

impl Writer {
    /// Writes one command on the calling thread, in a group of its own, and syncs it. The
    /// caller holds the writer and has checked that no command is queued ahead of this one.
    pub(crate) fn write_inline(&mut self, command: Command) {
        self.process(&mut vec![command]);
    }

    fn process(&mut self, batch: &mut Vec<Command>) {
        let mut group = Group::new();
        for cmd in batch.drain(..) {
            if let Some(reason) = &self.failed {
                let error =
                    StorageError::Closed(format!("the log writer failed earlier: {reason}"));
                let done = match cmd {
                    Command::Append { done, .. }
                    | Command::Truncate { done, .. }
                    | Command::Meta { done, .. } => done,
                };
                done.send(Err(error));
                continue;
            }
            match cmd {
                Command::Append {
                    batch,
                    first_index,
                    frames,
                    frame_bytes,
                    done,
                } => {
                    let mut offset = group.buf.len();
                    let mut placed = Vec::with_capacity(frame_bytes.len());
                    for bytes in frame_bytes {
                        placed.push((offset, bytes));
                        offset += bytes as usize;
                    }
                    let count = placed.len() as u64;
                    group.buf.extend_from_slice(&frames);
                    if count > 0 {
                        let max = first_index + count - 1;
                        group.max_index = Some(group.max_index.map_or(max, |m| m.max(max)));
                    }
                    group.appends.push(AppendDone {
                        batch,
                        first_index,
                        frames: placed,
                    });
                    group.done.push(done);
                    if group.buf.len() >= MAX_GROUP_BYTES {
                        self.flush(std::mem::replace(&mut group, Group::new()));
                    }
                }
                Command::Truncate { index, done } => {
                    encode_frame(&mut group.buf, FrameKind::Truncate, index, 0, &[]);
                    group.done.push(done);
                }
                Command::Meta {
                    meta,
                    purge_upto,
                    done,
                } => {
                    self.flush(std::mem::replace(&mut group, Group::new()));
                    let result = match &self.failed {
                        Some(reason) => Err(StorageError::Closed(format!(
                            "the log writer failed earlier: {reason}"
                        ))),
                        None => self.write_meta(&meta, purge_upto),
                    };
                    if let Err(e) = &result {
                        self.fail(e);
                    }
                    done.send(result);
                }
            }
        }
        self.flush(group);
    }

    fn fail(&mut self, error: &StorageError) {
        let reason = error.to_string();
        tracing::error!(dir = %self.dir.display(), %reason, "log writer failed; the log is closed");
        self.shared.lock().failed = Some(reason.clone());
        self.failed = Some(reason);
    }

    /// Writes one group, syncs it, then tells everyone waiting on it.
    fn flush(&mut self, mut group: Group) {
        if group.done.is_empty() {
            return;
        }
        match self.write_group(&mut group) {
            Ok(()) => {
                // Wake the waiters first: the records stay cached (readable) until their
                // locations are recorded just below.
                for done in group.done {
                    done.send(Ok(()));
                }
                let records: usize = group.appends.iter().map(|a| a.frames.len()).sum();
                self.shared.stats.syncs.fetch_add(1, Ordering::Relaxed);
                self.shared
                    .stats
                    .records
                    .fetch_add(records as u64, Ordering::Relaxed);
                self.shared
                    .stats
                    .bytes
                    .fetch_add(group.buf.len() as u64, Ordering::Relaxed);
                let segment = self.state.segment;
                let base = self.state.segment_len - group.buf.len() as u64;
                let mut index = self.shared.lock();
                for append in &group.appends {
                    let locations: Vec<Location> = append
                        .frames
                        .iter()
                        .map(|(offset, bytes)| Location {
                            segment,
                            offset: base + *offset as u64,
                            bytes: *bytes,
                        })
                        .collect();
                    index.set_locations(append.batch, append.first_index, &locations);
                }
            }
            Err(error) => {
                self.fail(&error);
                fail_all(group.done, &error);
            }
        }
    }

    fn write_group(&mut self, group: &mut Group) -> Result<(), StorageError> {
        let committed = self.shared.lock().committed;
        if committed != self.state.written_committed {
            match committed {
                Some(c) => encode_frame(&mut group.buf, FrameKind::Committed, c.index, c.term, &[]),
                None => encode_frame(&mut group.buf, FrameKind::CommittedNone, 0, 0, &[]),
            }
        }
        // Once half the segment is used, start preparing the next one, so it is ready (zeroed
        // and synced) by the time this one is full.
        if self.spare.is_none()
            && self.state.segment_len + group.buf.len() as u64 >= self.state.capacity / 2
        {
            self.spare = Some(SpareJob::start(
                &self.dir,
                self.state.segment + 1,
                next_segment_bytes(self.state.capacity, self.segment_bytes),
            )?);
        }
        // A full segment rolls. If its spare is still being zero-filled, the fill stops and the
        // spare is used as it is: allocated and synced, partly zeroed (appends past the zeroed
        // part cost a little more, but still no size change).
        if self.state.segment_len >= self.state.capacity {
            if let Some(spare) = &self.spare
                && !spare.is_ready()
            {
                spare.hurry();
            }
            self.roll()?;
        }
        let group_bytes = (group.buf.len() - GROUP_START_FRAME_BYTES) as u64;
        let mut start = Vec::with_capacity(GROUP_START_FRAME_BYTES);
        encode_frame(
            &mut start,
            FrameKind::GroupStart,
            self.state.next_group,
            group_bytes,
            &[],
        );
        group.buf[..GROUP_START_FRAME_BYTES].copy_from_slice(&start);
        debug_assert_eq!(start.len(), GROUP_START_FRAME_BYTES);
        let path = segment_path(&self.dir, self.state.segment);
        self.state
            .file
            .write_all_at(&group.buf, self.state.segment_len)
            .map_err(|e| io_error(&path, e))?;
        self.state
            .file
            .sync_data()
            .map_err(|e| io_error(&path, e))?;
        self.state.segment_len += group.buf.len() as u64;
        self.state.next_group += 1;
        self.state.written_committed = committed;
        if let Some(max) = group.max_index {
            let entry = self
                .state
                .segments
                .entry(self.state.segment)
                .or_insert(None);
            *entry = Some(entry.map_or(max, |m| m.max(max)));
        }
        Ok(())
    }

    /// Starts a new segment. The current one is already synced (every group is). The spare
    /// (zero-filled and synced ahead of time; prepared now if it was not) is renamed to the
    /// segment's name and the directory synced before any group goes into it.
    fn roll(&mut self) -> Result<(), StorageError> {
        let next = self.state.segment + 1;
        let job = match self.spare.take() {
            Some(job) if job.seq == next => job,
            _ => {
                // No spare was prepared (e.g. a segment reopened full): allocate one now and
                // skip its zero-fill rather than wait for it.
                let job = SpareJob::start(
                    &self.dir,
                    next,
                    next_segment_bytes(self.state.capacity, self.segment_bytes),
                )?;
                job.hurry();
                job
            }
        };
        if !job.is_ready() {
            tracing::debug!(segment = next, "rolling waits for the spare segment");
        }
        let capacity = job.bytes;
        let spare = job.path.clone();
        let file = job.take()?;
        let path = segment_path(&self.dir, next);
        std::fs::rename(&spare, &path).map_err(|e| io_error(&path, e))?;
        sync_dir(&self.dir)?;
        let reader = file.try_clone().map_err(|e| io_error(&path, e))?;
        self.shared.lock().files.insert(next, Arc::new(reader));
        self.state.file = file;
        self.state.segment = next;
        self.state.segment_len = super::files::SEGMENT_HEADER_BYTES as u64;
        self.state.capacity = capacity;
        self.state.segments.insert(next, None);
        self.shared
            .stats
            .segments_created
            .fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn write_meta(&mut self, meta: &Meta, purge_upto: Option<u64>) -> Result<(), StorageError> {
        self.meta_file.store(meta)?;
        if let Some(upto) = purge_upto {
            let dead = dead_segments(&self.state.segments, self.state.segment, upto);
            if !dead.is_empty() {
                for seq in &dead {
                    let held = self.shared.lock().files.remove(seq);
                    let path = segment_path(&self.dir, *seq);
                    // Out of the log's names at once, freed gradually (see `trash`).
                    let trash = trash_path(&self.dir, &format!("{seq:016x}.wal"));
                    match std::fs::rename(&path, &trash) {
                        Ok(()) => remove_gradually(held, trash),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(io_error(&path, e)),
                    }
                    self.state.segments.remove(seq);
                    self.shared
                        .stats
                        .segments_removed
                        .fetch_add(1, Ordering::Relaxed);
                }
                // No directory sync: the purge point is durable in the meta file already, and
                // a removal lost to a crash is redone by recovery (the segments are dead by the
                // meta's purge point). A sync here would wait for a journal commit, holding up
                // the appends queued behind this command.
            }
        }
        Ok(())
    }
}

/// The oldest segments that hold nothing above `purge_upto` and are not the one being written.
/// Only a prefix is dropped, so the remaining segments stay contiguous. A segment whose entries
/// were all truncated away still counts its highest entry ever written: conservative.
pub(crate) fn dead_segments(
    segments: &BTreeMap<u64, Option<u64>>,
    current: u64,
    purge_upto: u64,
) -> Vec<u64> {
    segments
        .iter()
        .take_while(|(seq, max)| **seq != current && max.is_none_or(|m| m <= purge_upto))
        .map(|(seq, _)| *seq)
        .collect()
}
