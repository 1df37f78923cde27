//! Opening a log directory: scan every segment, verify every frame, cut a torn tail, rebuild the
//! index.
//!
//! # Torn tail or corruption?
//!
//! The writer syncs each write group before it writes the next one, and it creates a segment
//! (header fsynced, directory fsynced) before writing into it. So after a crash only the **last
//! group of the last segment** can be incomplete; every earlier byte was durable when the crash
//! happened. Recovery therefore:
//!
//! - cuts the last segment at the start of its first damaged group, if nothing valid that was
//!   written *after* that group follows (that group was never acknowledged: its sync did not
//!   complete);
//! - reports [`StorageError::Corrupt`] for damage anywhere else: in a segment that is not the
//!   last, or in the last segment when a valid frame past the damaged group's end, or a later
//!   group's start, proves the damaged group had been synced. Cutting there would silently drop
//!   acknowledged records, so an operator must decide (restore the member from its peers).
//!
//! A frame whose checksum matches but whose content is impossible (an unknown kind, an index
//! that does not follow) is never a torn write and is always reported as corrupt.
//!
//! # Preallocated segments
//!
//! Segments are zero-filled ahead of time (see `spare`), so a segment normally ends with zeros
//! after its last group. An all-zero frame header is never a frame (its magic does not match),
//! so zeros at a group boundary are the clean end of the segment's data, in any segment. After
//! a torn group is cut, its bytes are overwritten with zeros (and synced) rather than the file
//! shortened, so the segment keeps its preallocated size and a later scan never mistakes
//! leftovers of the cut group for data written after it. So a segment is never shorter than
//! the size its header records (format 2; a format-1 segment has no such field): a shorter
//! one was cut by something other than a crash, and is [`StorageError::Corrupt`] naming the
//! file. Only a group that grew a segment past its preallocated size can be torn short, and
//! only past that size. Spares (`*.spare`) are never part of
//! the log: a leftover one is removed. A segment renamed from a spare but never written holds
//! only its header and zeros: an empty segment.
//!
//! # The log starts right after the purge point
//!
//! Segments are only ever removed after a purge, oldest first, so without a purge point the
//! first segment is segment 0, and with one the first entry kept is the one right after it.
//! Anything else means a segment went missing, and is [`StorageError::Corrupt`] naming the
//! first segment present and the missing entries.

use super::files::{
    SEGMENT_HEADER_BYTES, check_segment_header, corrupt, create_zeroed_segment, io_error,
    list_segments, read_segment_header, remove_leftover_tmp, remove_spares, segment_path,
    spare_path, sync_dir, write_zeros,
};
use super::frame::{FRAME_MAGIC, FrameError, FrameKind, decode_frame};
use super::index::{Location, LogIndex, Slot};
use super::meta::{META_FILE, MetaFile};
use super::spare::next_segment_bytes;
use super::writer::{WriterState, dead_segments};
use crate::storage::error::StorageError;
use crate::storage::record::LogPosition;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::path::Path;
use std::sync::Arc;

/// What opening a directory found.
pub(crate) struct Recovered {
    pub(crate) index: LogIndex,
    pub(crate) writer: WriterState,
    /// The meta file, open for the writer's updates.
    pub(crate) meta_file: MetaFile,
    /// Bytes cut from the tail of the last segment (0 when it was clean).
    pub(crate) cut_bytes: u64,
}

enum Event {
    Entry {
        index: u64,
        term: u64,
        location: Location,
    },
    Truncate(u64),
    Committed(Option<LogPosition>),
}

/// The log as rebuilt so far.
struct Replay {
    index: LogIndex,
    last_group: Option<u64>,
    wal_committed: Option<Option<LogPosition>>,
    segments: BTreeMap<u64, Option<u64>>,
}

impl Replay {
    fn apply(&mut self, path: &Path, event: Event) -> Result<(), StorageError> {
        match event {
            Event::Entry {
                index,
                term,
                location,
            } => {
                let max = self.segments.entry(location.segment).or_insert(None);
                *max = Some(max.map_or(index, |m| m.max(index)));
                if self.index.slots.is_empty() {
                    if let Some(p) = self.index.last_purged {
                        if index <= p.index {
                            return Ok(()); // purged: skipped
                        }
                        if Some(index) != p.index.checked_add(1) {
                            return Err(corrupt(
                                path,
                                format!(
                                    "the log resumes at entry {index} (offset {}) but the purge \
                                     point is entry {}: entries {}..={} are missing (was an \
                                     older segment removed?)",
                                    location.offset,
                                    p.index,
                                    p.index.saturating_add(1),
                                    index.saturating_sub(1)
                                ),
                            ));
                        }
                    }
                } else if Some(index) != self.index.next_index() {
                    return Err(corrupt(
                        path,
                        format!(
                            "entry {index} at offset {} does not follow entry {}",
                            location.offset,
                            self.index
                                .next_index()
                                .unwrap_or_default()
                                .saturating_sub(1)
                        ),
                    ));
                }
                self.index.push(
                    index,
                    Slot {
                        term,
                        batch: 0,
                        payload: None,
                        location: Some(location),
                    },
                );
            }
            Event::Truncate(index) => {
                self.index.truncate(index);
            }
            Event::Committed(c) => self.wal_committed = Some(c),
        }
        Ok(())
    }
}

/// Decides whether damage at `at` is a torn tail (returns `Ok`) or corruption.
///
/// `group` is the write group the damaged bytes belong to and `group_end` where it ends, when
/// its start frame was intact.
fn torn_or_corrupt(
    path: &Path,
    data: &[u8],
    at: usize,
    is_last: bool,
    group: Option<u64>,
    group_end: Option<usize>,
    error: &FrameError,
) -> Result<(), StorageError> {
    if !is_last {
        return Err(corrupt(
            path,
            format!("{error} at offset {at} in a segment that is not the last one"),
        ));
    }
    let mut offset = at + 1;
    while let Some(found) = data.get(offset..).and_then(|rest| {
        rest.windows(FRAME_MAGIC.len())
            .position(|w| w == FRAME_MAGIC)
    }) {
        let o = offset + found;
        if let Ok(frame) = decode_frame(data, o) {
            let past_group = group_end.is_some_and(|end| o >= end);
            let later_group =
                frame.kind == FrameKind::GroupStart && group.is_none_or(|g| frame.a > g);
            if past_group || later_group {
                return Err(corrupt(
                    path,
                    format!(
                        "{error} at offset {at}, but a valid frame at offset {o} was written \
                         after it, so the damaged data had been synced"
                    ),
                ));
            }
        }
        offset = o + 1;
    }
    Ok(())
}

/// Scans one segment's frames into `replay`; returns the length of its valid prefix (shorter
/// than `data` only for a torn tail of the last segment).
fn scan_segment(
    path: &Path,
    segment: u64,
    data: &[u8],
    data_start: usize,
    is_last: bool,
    replay: &mut Replay,
) -> Result<usize, StorageError> {
    replay.segments.entry(segment).or_insert(None);
    let mut pos = data_start;
    while pos < data.len() {
        let expected = replay.last_group.map(|g| g + 1);
        let start = match decode_frame(data, pos) {
            Ok(f) if f.kind == FrameKind::GroupStart && expected.is_none_or(|g| f.a == g) => f,
            Ok(f) => {
                return Err(corrupt(
                    path,
                    format!(
                        "offset {pos}: expected the start of write group {expected:?}, found \
                         a valid {:?} frame ({}, {})",
                        f.kind, f.a, f.b
                    ),
                ));
            }
            Err(e @ FrameError::Malformed(_)) => {
                return Err(corrupt(path, format!("{e} at offset {pos}")));
            }
            Err(_) if is_zeros(&data[pos..]) => {
                // The preallocated, never written rest of the segment: its data ends here.
                return Ok(pos);
            }
            Err(e) => {
                torn_or_corrupt(path, data, pos, is_last, expected, None, &e)?;
                return Ok(pos);
            }
        };
        let group = start.a;
        let group_end = usize::try_from(start.b)
            .ok()
            .and_then(|b| (pos + start.total_bytes).checked_add(b));
        let Some(group_end) = group_end else {
            return Err(corrupt(
                path,
                format!("write group at offset {pos} is impossibly long"),
            ));
        };
        let mut at = pos + start.total_bytes;
        let mut events = Vec::new();
        let mut damage = None;
        while at < group_end {
            match decode_frame(data, at) {
                Ok(f) if f.kind != FrameKind::GroupStart && at + f.total_bytes <= group_end => {
                    let location = Location {
                        segment,
                        offset: at as u64,
                        bytes: u32::try_from(f.total_bytes).unwrap_or(u32::MAX),
                    };
                    events.push(match f.kind {
                        FrameKind::Truncate => Event::Truncate(f.a),
                        FrameKind::Committed => Event::Committed(Some(LogPosition {
                            term: f.b,
                            index: f.a,
                        })),
                        FrameKind::CommittedNone => Event::Committed(None),
                        FrameKind::Entry | FrameKind::GroupStart => Event::Entry {
                            index: f.a,
                            term: f.b,
                            location,
                        },
                    });
                    at += f.total_bytes;
                }
                Ok(f) => {
                    return Err(corrupt(
                        path,
                        format!(
                            "a valid {:?} frame at offset {at} does not fit in write group {group} \
                             ending at {group_end}",
                            f.kind
                        ),
                    ));
                }
                Err(e @ FrameError::Malformed(_)) => {
                    return Err(corrupt(path, format!("{e} at offset {at}")));
                }
                Err(e) => {
                    damage = Some((at, e));
                    break;
                }
            }
        }
        if let Some((at, e)) = damage {
            torn_or_corrupt(path, data, at, is_last, Some(group), Some(group_end), &e)?;
            return Ok(pos);
        }
        for event in events {
            replay.apply(path, event)?;
        }
        replay.last_group = Some(group);
        pos = group_end;
    }
    Ok(pos)
}

/// Whether every byte is zero.
fn is_zeros(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| *b == 0)
}

/// The length of `bytes` without its trailing zeros.
fn trimmed_len(bytes: &[u8]) -> usize {
    bytes.iter().rposition(|b| *b != 0).map_or(0, |p| p + 1)
}

fn open_rw(path: &Path) -> Result<File, StorageError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| io_error(path, e))
}

/// Opens the log in `dir` (created if missing), repairing a torn tail.
pub(crate) fn recover(
    dir: &Path,
    cache_limit_bytes: usize,
    segment_bytes: u64,
) -> Result<Recovered, StorageError> {
    remove_leftover_tmp(dir, META_FILE)?;
    remove_spares(dir)?;
    super::trash::remove_leftovers(dir)?;
    let (meta_file, meta) = MetaFile::open(dir)?;
    let mut seqs = list_segments(dir)?;
    if meta.last_purged.is_none()
        && let Some(&first) = seqs.first()
        && first != 0
    {
        return Err(corrupt(
            &segment_path(dir, 0),
            format!(
                "segment 0 is missing: the log was never purged, yet its first segment is {first}"
            ),
        ));
    }
    for pair in seqs.windows(2) {
        if pair[1] != pair[0] + 1 {
            return Err(corrupt(
                &segment_path(dir, pair[0] + 1),
                format!(
                    "segment {} is missing between {} and {}",
                    pair[0] + 1,
                    pair[0],
                    pair[1]
                ),
            ));
        }
    }
    // A crash while creating a segment can leave it without a complete header; nothing was
    // written into it yet (the header is synced first), so it is simply removed.
    let mut cut_bytes = 0;
    if let Some(&last) = seqs.last() {
        let path = segment_path(dir, last);
        let len = std::fs::metadata(&path)
            .map_err(|e| io_error(&path, e))?
            .len();
        if len <= SEGMENT_HEADER_BYTES as u64 {
            let head = std::fs::read(&path).map_err(|e| io_error(&path, e))?;
            if !check_segment_header(&head, last) {
                std::fs::remove_file(&path).map_err(|e| io_error(&path, e))?;
                sync_dir(dir)?;
                seqs.pop();
                cut_bytes += len;
            }
        }
    }
    let mut index = LogIndex::new(cache_limit_bytes);
    index.vote = meta.vote.clone();
    index.last_purged = meta.last_purged;
    let mut replay = Replay {
        index,
        last_group: None,
        wal_committed: None,
        segments: BTreeMap::new(),
    };
    let mut valid_len = SEGMENT_HEADER_BYTES;
    let mut data_len = SEGMENT_HEADER_BYTES;
    let mut torn_len = 0;
    for (i, &seq) in seqs.iter().enumerate() {
        let path = segment_path(dir, seq);
        let is_last = i + 1 == seqs.len();
        let data = std::fs::read(&path).map_err(|e| io_error(&path, e))?;
        let Some(header) = read_segment_header(&data, seq) else {
            return Err(corrupt(
                &path,
                format!("segment {seq} has a damaged header"),
            ));
        };
        if let Some(preallocated) = header.preallocated_bytes
            && (data.len() as u64) < preallocated
        {
            // A segment is created at its full size and never shortened, so no crash leaves
            // it shorter: something cut the file, and whatever was written past the cut is
            // gone. Cutting the log there would silently drop records that may have been
            // acknowledged.
            return Err(corrupt(
                &path,
                format!(
                    "segment {seq} is {} bytes, shorter than the {preallocated} bytes it was                      preallocated to: the file was cut short after it was written (a crash                      cannot shorten a preallocated segment), so records at its end may be lost",
                    data.len()
                ),
            ));
        }
        valid_len = scan_segment(&path, seq, &data, header.data_start, is_last, &mut replay)?;
        data_len = data.len();
        if is_last {
            let torn = trimmed_len(&data[valid_len..]);
            if torn > 0 {
                torn_len = torn;
                cut_bytes += torn as u64;
                tracing::warn!(
                    segment = %path.display(),
                    offset = valid_len,
                    bytes = torn,
                    "cutting a torn tail left by a crash"
                );
            }
        }
    }
    let (current, file, capacity) = match seqs.last() {
        Some(&seq) => {
            let path = segment_path(dir, seq);
            let file = open_rw(&path)?;
            let len = file.metadata().map_err(|e| io_error(&path, e))?.len();
            if len != data_len as u64 {
                return Err(corrupt(
                    &path,
                    format!("segment {seq} changed size while it was scanned"),
                ));
            }
            // Zero what follows the valid data (a cut torn group, garbage) so the writer
            // overwrites zeros again and a later scan never sees those bytes.
            let dirty_end = (valid_len + torn_len) as u64;
            if dirty_end > valid_len as u64 {
                let never = super::files::FillControl::default();
                write_zeros(
                    &file,
                    &path,
                    valid_len as u64,
                    dirty_end,
                    &never,
                    std::time::Duration::ZERO,
                )?;
                file.sync_all().map_err(|e| io_error(&path, e))?;
            }
            (seq, file, len.max(valid_len as u64))
        }
        None => {
            let seq = 0;
            valid_len = SEGMENT_HEADER_BYTES;
            replay.segments.insert(seq, None);
            let bytes = next_segment_bytes(0, segment_bytes);
            let never = super::files::FillControl::default();
            // Prepared under a spare's name and renamed once whole, as every later segment:
            // a crash meanwhile leaves a spare (removed at the next open), never a segment
            // shorter than its header says.
            let spare = spare_path(dir, seq);
            let file =
                create_zeroed_segment(dir, &spare, seq, bytes, &never, std::time::Duration::ZERO)?
                    .ok_or_else(|| {
                        StorageError::Closed("creating the first segment was cancelled".into())
                    })?;
            let path = segment_path(dir, seq);
            std::fs::rename(&spare, &path).map_err(|e| io_error(&path, e))?;
            sync_dir(dir)?;
            (seq, file, bytes)
        }
    };
    let Replay {
        mut index,
        last_group,
        wal_committed,
        mut segments,
    } = replay;
    // Drop segments that a purge made useless but that a crash kept.
    if let Some(purged) = index.last_purged {
        let dead = dead_segments(&segments, current, purged.index);
        for seq in &dead {
            let path = segment_path(dir, *seq);
            std::fs::remove_file(&path).map_err(|e| io_error(&path, e))?;
            segments.remove(seq);
        }
        if !dead.is_empty() {
            sync_dir(dir)?;
        }
    }
    for &seq in segments.keys() {
        let path = segment_path(dir, seq);
        let reader = if seq == current {
            file.try_clone().map_err(|e| io_error(&path, e))?
        } else {
            File::open(&path).map_err(|e| io_error(&path, e))?
        };
        index.files.insert(seq, Arc::new(reader));
    }
    // Keep the most advanced committed value saved before the crash.
    let committed = match (meta.committed, wal_committed.flatten()) {
        (Some(a), Some(b)) => Some(if b.index >= a.index { b } else { a }),
        (a, b) => a.or(b),
    };
    index.committed = committed;
    Ok(Recovered {
        index,
        writer: WriterState {
            file,
            segment: current,
            segment_len: valid_len as u64,
            capacity,
            next_group: last_group.map_or(0, |g| g + 1),
            segments,
            written_committed: committed,
        },
        meta_file,
        cut_bytes,
    })
}
