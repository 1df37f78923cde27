//! The snapshot file.

use super::files::{commit_tmp, corrupt, io_error, remove_leftover_tmp, write_tmp};
use super::trash::{remove_gradually, trash_path};
use crate::storage::cipher::Cipher;
use crate::storage::error::StorageError;
use crate::storage::record::StoredSnapshot;
use crate::storage::snapshot_store::SnapshotStore;
use bytes::Bytes;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The snapshot file's name inside its directory.
const SNAPSHOT_FILE: &str = "snapshot";
const SNAPSHOT_MAGIC: [u8; 8] = *b"SWSTSNP1";
/// Magic, sealed length, checksum.
const SNAPSHOT_HEADER_BYTES: usize = 20;
/// Associated data binding the sealed bytes to their role.
const SNAPSHOT_ASSOCIATED_DATA: &[u8] = b"swarm-store snapshot v1";
/// The largest snapshot file accepted (meta and data together, sealed). The store never builds
/// an image larger than [`crate::MAX_SNAPSHOT_BYTES`], which fits in this with room for the
/// metadata and cipher overhead (checked at compile time).
pub const MAX_SNAPSHOT_FILE_BYTES: u64 = 16 << 30;

/// A [`SnapshotStore`] keeping the latest snapshot in one file.
///
/// The file is `magic | sealed_len u64 | crc32c u32 | sealed`, where `sealed` is the cipher's
/// output for `meta_len u64 | meta | data`. [`save`](SnapshotStore::save) writes
/// `snapshot.tmp`, fsyncs it, renames it over `snapshot` and fsyncs the directory, so a crash
/// leaves the old snapshot or the new one, whole. The file is written in paced, synced pieces
/// on a lower-priority thread, and the replaced file is freed gradually (renamed `*.trash`),
/// so saving a large snapshot does not hold up a log on the same disk. It may share a
/// directory with a [`DiskLogStorage`](super::DiskLogStorage).
///
/// A save runs to its end on its own thread even if the caller stops waiting: do not open a
/// second store on the same directory while the first may still be saving.
///
/// ```
/// use swarm_store::storage::disk::DiskSnapshotStore;
/// use swarm_store::storage::{SnapshotStore, StoredSnapshot};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), swarm_store::storage::StorageError> {
/// let dir = std::env::temp_dir().join(format!("swarm-snap-doc-{}", std::process::id()));
/// let store = DiskSnapshotStore::open(&dir)?;
/// store.save(StoredSnapshot { meta: "m".into(), data: "state".into() }).await?;
/// assert_eq!(store.load().await?.map(|s| s.data), Some("state".into()));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct DiskSnapshotStore {
    dir: PathBuf,
    /// `None`: stored as is (the plain bytes are written without being copied).
    cipher: Option<Arc<dyn Cipher>>,
    /// Serializes saves, so two never race on the temporary file.
    save_lock: Arc<Mutex<()>>,
    /// Held while a save swaps the new file in and hands the old one to the remover, and while
    /// a load reads the file: a load never reads an old file being freed.
    swap_lock: Arc<Mutex<()>>,
}

impl std::fmt::Debug for DiskSnapshotStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskSnapshotStore")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl DiskSnapshotStore {
    /// Opens (creating if needed) the snapshot store in `dir`, removing a temporary file left
    /// by a crash during a save. Snapshots are stored unencrypted until
    /// [`with_cipher`](Self::with_cipher) sets a cipher.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StorageError> {
        let dir = dir.as_ref().to_path_buf();
        super::files::create_dir_durably(&dir)?;
        remove_leftover_tmp(&dir, SNAPSHOT_FILE)?;
        super::trash::remove_leftovers(&dir)?;
        Ok(DiskSnapshotStore {
            dir,
            cipher: None,
            save_lock: Arc::new(Mutex::new(())),
            swap_lock: Arc::new(Mutex::new(())),
        })
    }

    /// Seals every snapshot with `cipher` (the same cipher must open the directory later).
    pub fn with_cipher(mut self, cipher: Arc<dyn Cipher>) -> Self {
        self.cipher = Some(cipher);
        self
    }

    /// The path of the snapshot file.
    pub fn path(&self) -> PathBuf {
        self.dir.join(SNAPSHOT_FILE)
    }

    fn save_blocking(&self, snapshot: &StoredSnapshot) -> Result<(), StorageError> {
        let meta_len = (snapshot.meta.len() as u64).to_le_bytes();
        // Sealed: one copy of the plain bytes for the cipher. Unsealed: the pieces are written
        // as they are (a snapshot may be hundreds of megabytes).
        let sealed = match &self.cipher {
            Some(cipher) => {
                let mut plain = Vec::with_capacity(8 + snapshot.meta.len() + snapshot.data.len());
                plain.extend_from_slice(&meta_len);
                plain.extend_from_slice(&snapshot.meta);
                plain.extend_from_slice(&snapshot.data);
                Some(
                    cipher
                        .seal(&plain, SNAPSHOT_ASSOCIATED_DATA)
                        .map_err(|e| StorageError::Cipher(format!("sealing the snapshot: {e}")))?,
                )
            }
            None => None,
        };
        let body: Vec<&[u8]> = match &sealed {
            Some(sealed) => vec![sealed],
            None => vec![&meta_len, &snapshot.meta, &snapshot.data],
        };
        let sealed_len: u64 = body.iter().map(|p| p.len() as u64).sum();
        if sealed_len > MAX_SNAPSHOT_FILE_BYTES {
            return Err(StorageError::Contract(format!(
                "snapshot of {sealed_len} bytes sealed exceeds the limit {MAX_SNAPSHOT_FILE_BYTES}"
            )));
        }
        let crc = body
            .iter()
            .fold(0, |crc, piece| crc32c::crc32c_append(crc, piece));
        let mut header = Vec::with_capacity(SNAPSHOT_HEADER_BYTES);
        header.extend_from_slice(&SNAPSHOT_MAGIC);
        header.extend_from_slice(&sealed_len.to_le_bytes());
        header.extend_from_slice(&crc.to_le_bytes());
        let mut pieces = vec![header.as_slice()];
        pieces.extend(body);
        // One save at a time writes the temporary file; loads are not held up meanwhile.
        let _writing = lock(&self.save_lock);
        write_tmp(&self.dir, SNAPSHOT_FILE, &pieces)?;
        let _swapping = lock(&self.swap_lock);
        // The old snapshot keeps a second name until the new one replaced it, so it is freed
        // gradually afterwards rather than all at once by the rename (see `trash`). Where
        // hard links are not supported it is simply freed by the rename.
        let old = self.path();
        let trash = trash_path(&self.dir, SNAPSHOT_FILE);
        let kept = match std::fs::hard_link(&old, &trash) {
            Ok(()) => true,
            Err(e) => {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::debug!(path = %trash.display(), error = %e, "cannot link the old snapshot");
                }
                false
            }
        };
        let replaced = commit_tmp(&self.dir, SNAPSHOT_FILE);
        if kept {
            if replaced.is_ok() {
                // The trash name is now the old file's only one: shrinking it is safe.
                remove_gradually(None, trash);
            } else if let Err(e) = std::fs::remove_file(&trash) {
                // Still a second name of the current snapshot: only unlinked, never shrunk.
                tracing::warn!(path = %trash.display(), error = %e, "cannot remove a link");
            }
        }
        replaced
    }

    fn load_blocking(&self) -> Result<Option<StoredSnapshot>, StorageError> {
        let path = self.path();
        let read = {
            // Not while a save swaps files: the old file is freed right after.
            let _swapping = lock(&self.swap_lock);
            std::fs::read(&path)
        };
        let bytes = match read {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(&path, e)),
        };
        if bytes.len() < SNAPSHOT_HEADER_BYTES || bytes[..8] != SNAPSHOT_MAGIC {
            return Err(corrupt(&path, "snapshot file has no valid header"));
        }
        let mut len = [0; 8];
        len.copy_from_slice(&bytes[8..16]);
        let sealed_len = u64::from_le_bytes(len);
        let mut crc = [0; 4];
        crc.copy_from_slice(&bytes[16..20]);
        let sealed = &bytes[SNAPSHOT_HEADER_BYTES..];
        if sealed.len() as u64 != sealed_len {
            return Err(corrupt(
                &path,
                format!(
                    "snapshot holds {} bytes but its header says {sealed_len}",
                    sealed.len()
                ),
            ));
        }
        if crc32c::crc32c(sealed) != u32::from_le_bytes(crc) {
            return Err(corrupt(&path, "snapshot checksum mismatch"));
        }
        let plain = match &self.cipher {
            Some(cipher) => Bytes::from(
                cipher
                    .open(sealed, SNAPSHOT_ASSOCIATED_DATA)
                    .map_err(|e| StorageError::Cipher(format!("opening the snapshot: {e}")))?,
            ),
            None => Bytes::from(bytes).slice(SNAPSHOT_HEADER_BYTES..),
        };
        if plain.len() < 8 {
            return Err(corrupt(&path, "snapshot too short for its meta length"));
        }
        len.copy_from_slice(&plain[..8]);
        let meta_len = usize::try_from(u64::from_le_bytes(len))
            .ok()
            .filter(|m| *m <= plain.len() - 8)
            .ok_or_else(|| corrupt(&path, "snapshot meta length exceeds the snapshot"))?;
        Ok(Some(StoredSnapshot {
            meta: plain.slice(8..8 + meta_len),
            data: plain.slice(8 + meta_len..),
        }))
    }
}

/// Locks `m`; a poisoned lock guards nothing but the order of file operations.
fn lock(m: &Mutex<()>) -> std::sync::MutexGuard<'_, ()> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SnapshotStore for DiskSnapshotStore {
    async fn save(&self, snapshot: StoredSnapshot) -> Result<(), StorageError> {
        // Writing a large file is long, paced work: on a thread of its own at a lower
        // priority, so the log's writer and the async workers keep the processor.
        let store = self.clone();
        crate::background::run_low_priority("snapshot-save", move || store.save_blocking(&snapshot))
            .await
            .map_err(|e| StorageError::Closed(format!("snapshot save task failed: {e}")))?
    }

    async fn load(&self) -> Result<Option<StoredSnapshot>, StorageError> {
        let store = self.clone();
        super::files::run_blocking("snapshot load", move || store.load_blocking()).await
    }
}
