//! The spare segment: the next segment, created, allocated and zero-filled on its own thread
//! while the writer fills the current one, so rolling never waits for a file to be allocated
//! and appends overwrite zeros that are already on disk. If the writer fills the current
//! segment before the spare is zeroed, it hurries the spare: the zero-fill stops and the
//! spare is used as it is (allocated, partly zeroed).

use super::files::{BACKGROUND_FILL_PAUSE, FillControl, create_zeroed_segment, spare_path};
use crate::storage::error::StorageError;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The first segment of a log is preallocated to this size (or `segment_bytes` when smaller);
/// each next one is [`PREALLOCATION_GROWTH`] times the previous, up to `segment_bytes`. A log
/// that stays small (tests, a quiet cluster) never zero-fills more than it needs; a busy one
/// reaches full-size segments after a few rolls.
pub(crate) const FIRST_SEGMENT_BYTES: u64 = 256 << 10;
/// How much larger each preallocated segment is than the one before it.
pub(crate) const PREALLOCATION_GROWTH: u64 = 4;

/// The size to preallocate for the segment after one of `current_bytes`.
pub(crate) fn next_segment_bytes(current_bytes: u64, segment_bytes: u64) -> u64 {
    current_bytes
        .saturating_mul(PREALLOCATION_GROWTH)
        .max(FIRST_SEGMENT_BYTES)
        .min(segment_bytes)
}

/// A spare segment being prepared on its own thread.
pub(crate) struct SpareJob {
    /// The segment sequence number the spare is for.
    pub(crate) seq: u64,
    /// Its size in bytes, header included.
    pub(crate) bytes: u64,
    /// Where it is being written (renamed to the segment's name when taken).
    pub(crate) path: PathBuf,
    control: Arc<FillControl>,
    thread: Option<std::thread::JoinHandle<Result<Option<File>, StorageError>>>,
}

impl SpareJob {
    /// Starts preparing the spare for segment `seq` of `bytes` bytes in `dir`.
    pub(crate) fn start(dir: &Path, seq: u64, bytes: u64) -> Result<Self, StorageError> {
        let control = Arc::new(FillControl::default());
        let path = spare_path(dir, seq);
        let thread = {
            let (dir, target, control) = (dir.to_path_buf(), path.clone(), control.clone());
            std::thread::Builder::new()
                .name("swarm-wal-spare".into())
                .spawn(move || {
                    let result = create_zeroed_segment(
                        &dir,
                        &target,
                        seq,
                        bytes,
                        &control,
                        BACKGROUND_FILL_PAUSE,
                    );
                    if control.is_abandoned() {
                        // Nobody will take it (the log was closed): remove it. The name is
                        // ours alone, so this cannot touch a file of a later open.
                        if let Ok(Some(file)) = result {
                            drop(file);
                            let _ = std::fs::remove_file(&target);
                        }
                        return Ok(None);
                    }
                    result
                })
                .map_err(|e| super::files::io_error(&path, e))?
        };
        Ok(SpareJob {
            seq,
            bytes,
            path,
            control,
            thread: Some(thread),
        })
    }

    /// Whether the spare is ready (taking it will not wait).
    pub(crate) fn is_ready(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Asks the thread to stop writing zeros and hand the spare over as it is: allocated and
    /// synced (reading as zeros throughout), partly overwritten with zeros. Taking it then
    /// waits at most for the chunk being written.
    pub(crate) fn hurry(&self) {
        self.control.hurry();
        if let Some(thread) = &self.thread {
            thread.thread().unpark();
        }
    }

    /// Waits until the spare is allocated and synced (and zero-filled, unless hurried), and
    /// returns it.
    pub(crate) fn take(mut self) -> Result<File, StorageError> {
        let thread = self
            .thread
            .take()
            .ok_or_else(|| StorageError::Closed("the spare segment was already taken".into()))?;
        match thread.join() {
            Ok(Ok(Some(file))) => Ok(file),
            Ok(Ok(None)) => Err(StorageError::Closed(
                "the spare segment was abandoned".into(),
            )),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(StorageError::Closed(
                "the thread preparing the spare segment panicked".into(),
            )),
        }
    }
}

impl Drop for SpareJob {
    /// Abandons an untaken spare: the thread stops at its next chunk and removes the file
    /// itself. It is not waited for, so closing a log (and releasing its directory lock) never
    /// waits on a zero-fill; a spare left by a crash, or by a close racing the end of the fill,
    /// is removed by the next open.
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.control.abandon();
            thread.thread().unpark();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_grow_geometrically_up_to_the_segment_size() {
        let max = 64 << 20;
        let mut bytes = next_segment_bytes(0, max);
        let mut sizes = vec![bytes];
        while bytes < max {
            bytes = next_segment_bytes(bytes, max);
            sizes.push(bytes);
        }
        assert_eq!(sizes, [256 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20]);
        assert_eq!(next_segment_bytes(0, 4096), 4096);
        assert_eq!(next_segment_bytes(u64::MAX, max), max);
    }

    #[test]
    fn a_spare_is_taken_once_ready_and_removed_when_dropped() {
        let dir = tempfile::tempdir().expect("tmp");
        let job = SpareJob::start(dir.path(), 3, 100_000).expect("start");
        let path = job.path.clone();
        let file = job.take().expect("spare");
        assert_eq!(file.metadata().expect("meta").len(), 100_000);
        assert!(path.exists());
        std::fs::remove_file(&path).expect("rm");
        let job = SpareJob::start(dir.path(), 4, 100_000).expect("start");
        let path = job.path.clone();
        drop(job);
        // The abandoned spare's thread removes it without being waited for.
        let gone = (0..500).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(2));
            !path.exists()
        });
        assert!(gone, "an unused spare is removed");
        let job = SpareJob::start(dir.path(), 5, 64 << 20).expect("start");
        job.hurry();
        let file = job.take().expect("hurried spare");
        assert_eq!(
            file.metadata().expect("meta").len(),
            64 << 20,
            "allocated in full"
        );
    }
}
