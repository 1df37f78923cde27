//! File-system helpers: durable directory updates, atomic replacement, segment names and headers.

use crate::storage::error::StorageError;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering as AtomicOrdering};

/// The first bytes of every segment file written now (format 2: the header records the size
/// the segment was preallocated to).
pub(crate) const SEGMENT_MAGIC: [u8; 8] = *b"SWSTWAL2";
/// Magic, sequence number, preallocated size and checksum: the header of format 2.
pub(crate) const SEGMENT_HEADER_BYTES: usize = 28;
/// The first bytes of a segment of format 1 (written by earlier versions, still read).
const SEGMENT_MAGIC_V1: [u8; 8] = *b"SWSTWAL1";
/// Magic, sequence number and checksum: the header of format 1.
const SEGMENT_HEADER_V1_BYTES: usize = 20;
/// The extension of segment files.
const SEGMENT_EXTENSION: &str = "wal";

/// Wraps an I/O error with the path it concerns.
pub(crate) fn io_error(path: &Path, source: std::io::Error) -> StorageError {
    StorageError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A corruption error for `path`.
pub(crate) fn corrupt(path: &Path, detail: impl Into<String>) -> StorageError {
    StorageError::Corrupt {
        path: path.to_path_buf(),
        detail: detail.into(),
    }
}

/// Runs blocking file work on tokio's blocking pool when inside a tokio runtime (so async
/// workers are not held up), or right here otherwise.
pub(crate) async fn run_blocking<T, F>(what: &str, work: F) -> Result<T, StorageError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StorageError> + Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle
            .spawn_blocking(work)
            .await
            .map_err(|e| StorageError::Closed(format!("{what} task failed: {e}")))?,
        Err(_) => work(),
    }
}

/// Makes the directory's entries (creations, renames, removals) durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error(dir, e))
}

/// Creates `dir` (and missing parents) if it does not exist, and makes its entry in the parent
/// directory durable.
pub(crate) fn create_dir_durably(dir: &Path) -> Result<(), StorageError> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    sync_dir(parent)
}

/// A file larger than this is written in pieces of this size, each made durable before the
/// next, so the disk never holds more than one piece of it queued ahead of the log's own syncs
/// (a log `fdatasync` waits for every write queued before it).
pub(crate) const PACED_WRITE_CHUNK_BYTES: usize = 256 << 10;
/// The pause after each piece of a large file, leaving the disk to the log's syncs for a while:
/// a large file is written at most at ~`PACED_WRITE_CHUNK_BYTES` per pause plus write time.
pub(crate) const PACED_WRITE_PAUSE: std::time::Duration = std::time::Duration::from_millis(1);

/// Replaces `dir/name` with the concatenation of `pieces` atomically and durably: write
/// `name.tmp`, fsync it, rename it over `name`, fsync the directory. A crash leaves either the
/// old file or the new one. Files over [`PACED_WRITE_CHUNK_BYTES`] are written in paced,
/// synced chunks.
pub(crate) fn replace_file(dir: &Path, name: &str, pieces: &[&[u8]]) -> Result<(), StorageError> {
    write_tmp(dir, name, pieces)?;
    commit_tmp(dir, name)
}

/// The first half of [`replace_file`]: writes and syncs `name.tmp`.
pub(crate) fn write_tmp(dir: &Path, name: &str, pieces: &[&[u8]]) -> Result<(), StorageError> {
    let tmp = dir.join(format!("{name}.tmp"));
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(|e| io_error(&tmp, e))?;
    let total: usize = pieces.iter().map(|p| p.len()).sum();
    if total <= PACED_WRITE_CHUNK_BYTES {
        for piece in pieces {
            file.write_all(piece).map_err(|e| io_error(&tmp, e))?;
        }
    } else {
        let mut pending = 0;
        for chunk in pieces
            .iter()
            .flat_map(|p| p.chunks(PACED_WRITE_CHUNK_BYTES))
        {
            file.write_all(chunk).map_err(|e| io_error(&tmp, e))?;
            pending += chunk.len();
            if pending >= PACED_WRITE_CHUNK_BYTES {
                pending = 0;
                file.sync_data().map_err(|e| io_error(&tmp, e))?;
                std::thread::sleep(PACED_WRITE_PAUSE);
            }
        }
    }
    file.sync_all().map_err(|e| io_error(&tmp, e))
}

/// The second half of [`replace_file`]: renames `name.tmp` (written by [`write_tmp`]) over
/// `name` and syncs the directory.
pub(crate) fn commit_tmp(dir: &Path, name: &str) -> Result<(), StorageError> {
    let tmp = dir.join(format!("{name}.tmp"));
    let target = dir.join(name);
    std::fs::rename(&tmp, &target).map_err(|e| io_error(&target, e))?;
    sync_dir(dir)
}

/// Removes a leftover `name.tmp` from an interrupted [`replace_file`].
pub(crate) fn remove_leftover_tmp(dir: &Path, name: &str) -> Result<(), StorageError> {
    let tmp = dir.join(format!("{name}.tmp"));
    match std::fs::remove_file(&tmp) {
        Ok(()) => sync_dir(dir),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(&tmp, e)),
    }
}

/// The path of segment `seq`.
pub(crate) fn segment_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{seq:016x}.{SEGMENT_EXTENSION}"))
}

/// The sequence number a segment file name stands for, if it is one.
pub(crate) fn parse_segment_name(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(&format!(".{SEGMENT_EXTENSION}"))?;
    if stem.len() != 16 {
        return None;
    }
    u64::from_str_radix(stem, 16).ok()
}

/// The header written at the start of segment `seq`, preallocated to `preallocated_bytes`
/// (header included).
pub(crate) fn segment_header(seq: u64, preallocated_bytes: u64) -> [u8; SEGMENT_HEADER_BYTES] {
    let mut header = [0; SEGMENT_HEADER_BYTES];
    header[..8].copy_from_slice(&SEGMENT_MAGIC);
    header[8..16].copy_from_slice(&seq.to_le_bytes());
    header[16..24].copy_from_slice(&preallocated_bytes.to_le_bytes());
    let crc = crc32c::crc32c(&header[..24]);
    header[24..].copy_from_slice(&crc.to_le_bytes());
    header
}

/// The header of format 1: no preallocated size.
#[cfg(test)]
fn segment_header_v1(seq: u64) -> [u8; SEGMENT_HEADER_V1_BYTES] {
    let mut header = [0; SEGMENT_HEADER_V1_BYTES];
    header[..8].copy_from_slice(&SEGMENT_MAGIC_V1);
    header[8..16].copy_from_slice(&seq.to_le_bytes());
    let crc = crc32c::crc32c(&header[..16]);
    header[16..].copy_from_slice(&crc.to_le_bytes());
    header
}

/// What a segment's header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SegmentHeader {
    /// Where the segment's data starts (the header's length).
    pub(crate) data_start: usize,
    /// The size the segment was preallocated to, header included (`None`: a segment of format
    /// 1, which did not record it). A segment is never shorter: it is created at this size
    /// (allocated and synced under a temporary name, then renamed), appends overwrite its
    /// zeros or grow it, and recovery overwrites a cut group with zeros instead of shortening.
    pub(crate) preallocated_bytes: Option<u64>,
}

/// The header of segment `seq` at the start of `bytes`, if it is a valid one of either format.
pub(crate) fn read_segment_header(bytes: &[u8], seq: u64) -> Option<SegmentHeader> {
    let magic = bytes.get(..8)?;
    if magic == SEGMENT_MAGIC {
        let header = bytes.get(..SEGMENT_HEADER_BYTES)?;
        let preallocated_bytes = u64::from_le_bytes(header[16..24].try_into().ok()?);
        (header == segment_header(seq, preallocated_bytes)).then_some(SegmentHeader {
            data_start: SEGMENT_HEADER_BYTES,
            preallocated_bytes: Some(preallocated_bytes),
        })
    } else if magic == SEGMENT_MAGIC_V1 {
        let header = bytes.get(..SEGMENT_HEADER_V1_BYTES)?;
        let mut expected = [0; SEGMENT_HEADER_V1_BYTES];
        expected[..8].copy_from_slice(&SEGMENT_MAGIC_V1);
        expected[8..16].copy_from_slice(&seq.to_le_bytes());
        let crc = crc32c::crc32c(&expected[..16]);
        expected[16..].copy_from_slice(&crc.to_le_bytes());
        (header == expected).then_some(SegmentHeader {
            data_start: SEGMENT_HEADER_V1_BYTES,
            preallocated_bytes: None,
        })
    } else {
        None
    }
}

/// Whether `bytes` start with a valid header for segment `seq`.
pub(crate) fn check_segment_header(bytes: &[u8], seq: u64) -> bool {
    read_segment_header(bytes, seq).is_some()
}

/// Zeros are written in chunks of this many bytes, each made durable before the next, so
/// filling a segment never queues more than one chunk ahead of the log's own syncs.
pub(crate) const ZERO_FILL_CHUNK_BYTES: usize = 64 << 10;
/// A spare segment filled in the background pauses this long after each chunk, so the log's own
/// syncs (on the same disk) get through between chunks: the fill takes at most ~20 MB/s of the
/// disk.
pub(crate) const BACKGROUND_FILL_PAUSE: std::time::Duration = std::time::Duration::from_millis(2);

/// The extension of spare segments: preallocated ahead of time, never part of the log until
/// renamed to a segment name.
const SPARE_EXTENSION: &str = "spare";

/// A fresh path for a spare prepared to become segment `seq`. The name is unique to this
/// process and call, so a spare thread of a log that was closed (and whose directory may
/// already be open again) can only ever touch its own file.
pub(crate) fn spare_path(dir: &Path, seq: u64) -> PathBuf {
    static NEXT_SPARE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT_SPARE.fetch_add(1, AtomicOrdering::Relaxed);
    dir.join(format!(
        "{seq:016x}.{}-{n}.{SPARE_EXTENSION}",
        std::process::id()
    ))
}

/// What the owner of a zero-fill wants from it; checked between chunks.
#[derive(Debug, Default)]
pub(crate) struct FillControl(AtomicU8);

const FILL_GO_ON: u8 = 0;
const FILL_HURRY: u8 = 1;
const FILL_ABANDON: u8 = 2;

impl FillControl {
    /// Stop writing zeros and hand the file over as it is (allocated, partly zeroed).
    pub(crate) fn hurry(&self) {
        let _ = self.0.compare_exchange(
            FILL_GO_ON,
            FILL_HURRY,
            AtomicOrdering::AcqRel,
            AtomicOrdering::Acquire,
        );
    }

    /// Stop and remove the file: it will not be used.
    pub(crate) fn abandon(&self) {
        self.0.store(FILL_ABANDON, AtomicOrdering::Release);
    }

    /// Whether the file was abandoned.
    pub(crate) fn is_abandoned(&self) -> bool {
        self.get() == FILL_ABANDON
    }

    fn get(&self) -> u8 {
        self.0.load(AtomicOrdering::Acquire)
    }
}

/// Writes zeros over `from..to` of `file`, chunk by chunk, each chunk synced before the next,
/// waiting `pause` after each chunk (cut short by an unpark of this thread). Stops early
/// (returning `Ok(false)`) once `control` says so.
pub(crate) fn write_zeros(
    file: &File,
    path: &Path,
    from: u64,
    to: u64,
    control: &FillControl,
    pause: std::time::Duration,
) -> Result<bool, StorageError> {
    use std::os::unix::fs::FileExt;
    let zeros = vec![0u8; ZERO_FILL_CHUNK_BYTES];
    let mut at = from;
    while at < to {
        if control.get() != FILL_GO_ON {
            return Ok(false);
        }
        let n = usize::try_from(to - at).map_or(ZERO_FILL_CHUNK_BYTES, |left| {
            left.min(ZERO_FILL_CHUNK_BYTES)
        });
        file.write_all_at(&zeros[..n], at)
            .map_err(|e| io_error(path, e))?;
        file.sync_data().map_err(|e| io_error(path, e))?;
        at += n as u64;
        if !pause.is_zero() && at < to {
            std::thread::park_timeout(pause);
        }
    }
    Ok(true)
}

/// Creates, at `path`, a file holding segment `seq`'s header followed by zeros up to
/// `total_bytes`: first allocated (`posix_fallocate`) and synced, file and directory, then
/// overwritten with zeros chunk by chunk (see [`write_zeros`], `pause` after each chunk).
/// Appending over written zeros never changes the file's size or its extents, so `fdatasync`
/// has no metadata to commit; over allocated-but-unwritten space it has no size change but
/// must mark the extent written. An existing file at `path` is replaced.
///
/// When `control` says hurry, the file is returned as it is (allocated, read as zeros
/// throughout, partly written); when it says abandon, the file is removed and `Ok(None)`
/// returned.
pub(crate) fn create_zeroed_segment(
    dir: &Path,
    path: &Path,
    seq: u64,
    total_bytes: u64,
    control: &FillControl,
    pause: std::time::Duration,
) -> Result<Option<File>, StorageError> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(|e| io_error(path, e))?;
    let total_bytes = total_bytes.max(SEGMENT_HEADER_BYTES as u64);
    file.write_all(&segment_header(seq, total_bytes))
        .map_err(|e| io_error(path, e))?;
    let len = i64::try_from(total_bytes).map_err(|_| {
        io_error(
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "segment size too large"),
        )
    })?;
    nix::fcntl::posix_fallocate(&file, 0, len)
        .map_err(|errno| io_error(path, std::io::Error::from(errno)))?;
    file.sync_all().map_err(|e| io_error(path, e))?;
    sync_dir(dir)?;
    let zeroed = write_zeros(
        &file,
        path,
        SEGMENT_HEADER_BYTES as u64,
        total_bytes,
        control,
        pause,
    )?;
    if !zeroed && control.get() == FILL_ABANDON {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Ok(None);
    }
    Ok(Some(file))
}

/// Removes every spare left in `dir` (by a crash, or by a log closed before it used its spare);
/// returns how many were removed.
pub(crate) fn remove_spares(dir: &Path) -> Result<usize, StorageError> {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        let path = entry.path();
        if path.extension().is_some_and(|e| e == SPARE_EXTENSION) {
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                // The abandoned spare thread of an earlier open of this directory (in this
                // process) removes its own spare when it stops; gone is what we want.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(&path, e)),
            }
        }
    }
    if removed > 0 {
        sync_dir(dir)?;
    }
    Ok(removed)
}

/// The sequence numbers of the segments in `dir`, ascending.
pub(crate) fn list_segments(dir: &Path) -> Result<Vec<u64>, StorageError> {
    let mut seqs = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        if let Some(seq) = entry.file_name().to_str().and_then(parse_segment_name) {
            seqs.push(seq);
        }
    }
    seqs.sort_unstable();
    Ok(seqs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_names_round_trip() {
        let path = segment_path(Path::new("/x"), 0x2a);
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 name");
        assert_eq!(name, "000000000000002a.wal");
        assert_eq!(parse_segment_name(name), Some(0x2a));
        assert_eq!(parse_segment_name("2a.wal"), None);
        assert_eq!(parse_segment_name("000000000000002a.tmp"), None);
        assert!(check_segment_header(&segment_header(3, 4096), 3));
        assert!(!check_segment_header(&segment_header(3, 4096), 4));
        assert!(!check_segment_header(&[0; SEGMENT_HEADER_BYTES], 0));
        let mut damaged = segment_header(3, 4096);
        damaged[17] ^= 1;
        assert!(
            !check_segment_header(&damaged, 3),
            "the size is checksummed"
        );
        assert_eq!(
            read_segment_header(&segment_header(3, 4096), 3),
            Some(SegmentHeader {
                data_start: SEGMENT_HEADER_BYTES,
                preallocated_bytes: Some(4096)
            })
        );
        // Segments of format 1 are still read; they carry no preallocated size.
        assert_eq!(
            read_segment_header(&segment_header_v1(3), 3),
            Some(SegmentHeader {
                data_start: SEGMENT_HEADER_V1_BYTES,
                preallocated_bytes: None
            })
        );
        assert!(!check_segment_header(&segment_header_v1(3), 4));
    }

    use std::time::Duration;

    #[test]
    fn zeroed_segments_are_fully_written_and_spares_are_removed() {
        let dir = tempfile::tempdir().expect("tmp");
        let control = FillControl::default();
        let total = 3 * ZERO_FILL_CHUNK_BYTES as u64 + 5;
        let path = spare_path(dir.path(), 7);
        create_zeroed_segment(dir.path(), &path, 7, total, &control, Duration::ZERO)
            .expect("create")
            .expect("not cancelled");
        let bytes = std::fs::read(&path).expect("read");
        assert_eq!(bytes.len() as u64, total);
        assert_eq!(
            read_segment_header(&bytes, 7).and_then(|h| h.preallocated_bytes),
            Some(total)
        );
        assert!(bytes[SEGMENT_HEADER_BYTES..].iter().all(|b| *b == 0));
        assert_eq!(list_segments(dir.path()).expect("list"), Vec::<u64>::new());
        control.abandon();
        let other = spare_path(dir.path(), 8);
        assert!(
            create_zeroed_segment(dir.path(), &other, 8, total, &control, Duration::ZERO)
                .expect("create")
                .is_none()
        );
        assert!(!other.exists(), "an abandoned spare is removed");
        // Hurried: handed over at once, full size, reading as zeros past the header.
        let hurried = FillControl::default();
        hurried.hurry();
        let third = spare_path(dir.path(), 9);
        let file = create_zeroed_segment(dir.path(), &third, 9, total, &hurried, Duration::ZERO)
            .expect("create")
            .expect("handed over");
        assert_eq!(file.metadata().expect("meta").len(), total);
        let bytes = std::fs::read(&third).expect("read");
        assert!(check_segment_header(&bytes, 9));
        assert!(bytes[SEGMENT_HEADER_BYTES..].iter().all(|b| *b == 0));
        std::fs::remove_file(&third).expect("rm");
        assert_eq!(remove_spares(dir.path()).expect("remove"), 1);
        assert!(!path.exists());
    }
}
