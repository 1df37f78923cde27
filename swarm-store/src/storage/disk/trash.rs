//! Gradual removal of large files (old snapshots, dead segments).
//!
//! Deleting a file frees all its blocks in one journal transaction. On a file system mounted
//! with online discard (`mount -o discard`, common on cloud disks), ext4 then discards every
//! freed block while committing that transaction, and each `fdatasync` of the log that needs
//! the commit waits for all of it: replacing a 17 MB snapshot held the log's syncs for
//! 25–40 ms in `store_bench`. So a large file is first renamed to a `*.trash` name (out of the
//! way of recovery and of the names it replaces), then shrunk by [`TRASH_CHUNK_BYTES`] every
//! [`TRASH_PAUSE`] on a background thread, and unlinked once empty. Nothing here is needed for
//! correctness: a crash leaves a `*.trash` file, which the next open removes at once.

use super::files::io_error;
use crate::storage::error::StorageError;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The extension of files being removed.
const TRASH_EXTENSION: &str = "trash";
/// How much a file being removed shrinks at a time.
pub(crate) const TRASH_CHUNK_BYTES: u64 = 1 << 20;
/// The pause between two shrinking steps (and between two checks for readers still holding
/// a removed segment). One thread shrinks every file in turn, so the process frees at most
/// ~200 MB/s.
pub(crate) const TRASH_PAUSE: Duration = Duration::from_millis(5);
/// How long the remover waits for readers still holding a removed segment before it gives up
/// shrinking and just unlinks it (the blocks are then freed when the last reader closes it).
const TRASH_READER_WAIT: Duration = Duration::from_secs(30);

/// A fresh `*.trash` path in `dir` for a file named `name`, unique to this process and call.
pub(crate) fn trash_path(dir: &Path, name: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(
        "{name}.{}-{n}.{TRASH_EXTENSION}",
        std::process::id()
    ))
}

/// The most removals queued for the remover thread, and separately the most set aside waiting
/// for readers; past either a file is unlinked at once.
pub(crate) const MAX_PENDING_REMOVALS: usize = 1024;

/// One file to remove.
struct Removal {
    /// A handle some reader may still clone (a dropped segment's), if any.
    held: Option<Arc<File>>,
    path: PathBuf,
    queued_at: std::time::Instant,
}

impl Removal {
    fn readers_gone(&self) -> bool {
        self.held.as_ref().is_none_or(|f| Arc::strong_count(f) == 1)
    }
}

/// Removes `path` (a [`trash_path`] the file was just renamed to, its only name) on the
/// process's remover thread: once nobody else holds `held` (a reader's handle to a segment that
/// was just dropped, if any), the file is shrunk step by step and unlinked. One thread does
/// every removal in turn, so the freeing rate is bounded for the whole process. Best effort: a
/// failure only leaves the file for the next open to remove.
///
/// Never pass a path that shares its inode with a live file (a hard link to it): shrinking
/// would shrink that file too.
pub(crate) fn remove_gradually(held: Option<Arc<File>>, path: PathBuf) {
    static QUEUE: std::sync::OnceLock<Option<std::sync::mpsc::SyncSender<Removal>>> =
        std::sync::OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::sync_channel(MAX_PENDING_REMOVALS);
        match std::thread::Builder::new()
            .name("swarm-store-trash".into())
            .spawn(move || run_remover(rx))
        {
            Ok(_) => Some(tx),
            Err(e) => {
                tracing::warn!(error = %e, "cannot start the remover thread; files are removed at once");
                None
            }
        }
    });
    let removal = Removal {
        held,
        path,
        queued_at: std::time::Instant::now(),
    };
    let refused = match queue {
        Some(tx) => tx.try_send(removal).err().map(|e| match e {
            std::sync::mpsc::TrySendError::Full(r)
            | std::sync::mpsc::TrySendError::Disconnected(r) => r,
        }),
        None => Some(removal),
    };
    if let Some(removal) = refused {
        // Too many waiting: unlinked at once (the blocks are freed together, as before).
        drop(removal.held);
        unlink(&removal.path);
    }
}

/// The remover thread: takes removals in order; one whose readers still hold the file waits at
/// the back (up to [`TRASH_READER_WAIT`], then it is only unlinked).
fn run_remover(rx: std::sync::mpsc::Receiver<Removal>) {
    crate::background::lower_this_thread_priority();
    let mut waiting: std::collections::VecDeque<Removal> = std::collections::VecDeque::new();
    loop {
        let next = if waiting.is_empty() {
            match rx.recv() {
                Ok(r) => r,
                Err(_) => return,
            }
        } else {
            match rx.try_recv() {
                Ok(r) => r,
                Err(std::sync::mpsc::TryRecvError::Empty) => match waiting.pop_front() {
                    Some(r) => r,
                    None => continue,
                },
                Err(std::sync::mpsc::TryRecvError::Disconnected) => return,
            }
        };
        if !next.readers_gone() {
            // Waiting for readers is bounded in time and, like the channel, in number.
            if next.queued_at.elapsed() < TRASH_READER_WAIT && waiting.len() < MAX_PENDING_REMOVALS
            {
                let all_waiting = waiting.iter().all(|r| !r.readers_gone());
                waiting.push_back(next);
                if all_waiting {
                    std::thread::sleep(TRASH_PAUSE);
                }
                continue;
            }
            // A reader held it too long: unlink only (freed when the reader lets go).
            unlink(&next.path);
            continue;
        }
        remove_now(next);
    }
}

fn remove_now(removal: Removal) {
    let Removal { held, path, .. } = removal;
    drop(held);
    // The rename to the trash name must be durable before the file shrinks, or a crash could
    // bring the file back under its old name, shrunk (journaling file systems order these
    // anyway; this does not rely on it).
    let shrunk = path
        .parent()
        .map_or(Ok(()), super::files::sync_dir)
        .map_err(|e| e.to_string())
        .and_then(|()| {
            std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|file| shrink(&file))
                .map_err(|e| e.to_string())
        });
    if let Err(e) = shrunk {
        tracing::debug!(path = %path.display(), error = %e, "cannot shrink a removed file");
    }
    unlink(&path);
}

fn unlink(path: &Path) {
    if let Err(e) = std::fs::remove_file(path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), error = %e, "cannot remove a file");
    }
}

fn shrink(file: &File) -> std::io::Result<()> {
    let mut len = file.metadata()?.len();
    while len > 0 {
        len = len.saturating_sub(TRASH_CHUNK_BYTES);
        file.set_len(len)?;
        if len > 0 {
            std::thread::sleep(TRASH_PAUSE);
        }
    }
    Ok(())
}

/// Removes every `*.trash` file in `dir` at once (left by a crash or by a remover that had not
/// finished); returns how many.
pub(crate) fn remove_leftovers(dir: &Path) -> Result<usize, StorageError> {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
        let path = entry.map_err(|e| io_error(dir, e))?.path();
        if path.extension().is_some_and(|e| e == TRASH_EXTENSION) {
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                // A remover thread of an earlier open got there first.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(&path, e)),
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removed_file_shrinks_then_disappears_after_its_readers_let_go() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("big");
        std::fs::write(&path, vec![1u8; 3 * TRASH_CHUNK_BYTES as usize + 5]).expect("write");
        let file = Arc::new(
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .expect("open"),
        );
        let trash = trash_path(dir.path(), "big");
        std::fs::rename(&path, &trash).expect("rename");
        let reader = file.clone();
        remove_gradually(Some(file), trash.clone());
        std::thread::sleep(TRASH_PAUSE * 4);
        assert_eq!(
            reader.metadata().expect("stat").len(),
            3 * TRASH_CHUNK_BYTES + 5,
            "untouched while a reader holds it"
        );
        drop(reader);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while trash.exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(TRASH_PAUSE);
        }
        assert!(!trash.exists(), "removed in the end");
    }

    #[test]
    fn leftovers_are_removed_and_other_files_kept() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(trash_path(dir.path(), "snapshot"), b"old").expect("write");
        std::fs::write(dir.path().join("snapshot"), b"keep").expect("write");
        assert_eq!(remove_leftovers(dir.path()).expect("remove"), 1);
        assert_eq!(remove_leftovers(dir.path()).expect("remove"), 0);
        assert!(dir.path().join("snapshot").exists());
    }
}
