//! A manager's data directory: the keys file, the WAL and the snapshots. The one module of
//! the manager's state that touches files.
//!
//! ```text
//! <dir>/manager-keys       the keys file (KeysFile): keyring export, and the key when
//!                          autolock is off; mode 0600, replaced by write + fsync + rename
//! <dir>/manager-keys.tmp   a replacement being written (removed at open)
//! <dir>/wal/               swarm-store's DiskLogStorage, sealed by the keyring cipher
//! <dir>/snapshots/         swarm-store's DiskSnapshotStore, sealed by the keyring cipher
//! ```

use crate::manager::state::keyring_cipher::KeyringCipher;
use crate::manager::state::keys_error::KeysError;
use crate::manager::state::keys_file::{KeysFile, MAX_KEYS_FILE_BYTES};
use crate::manager::state::manager_keys::{KeysChange, ManagerKeys};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use swarm_secrets::UnlockKey;
use swarm_store::storage::{DiskLogOptions, DiskLogStorage, DiskSnapshotStore, StorageError};

/// The keys file's name in a data directory.
pub const KEYS_FILE: &str = "manager-keys";
/// The name a new keys file is written under before it replaces [`KEYS_FILE`].
pub const KEYS_TMP_FILE: &str = "manager-keys.tmp";
/// The WAL's directory in a data directory.
pub const WAL_DIR: &str = "wal";
/// The snapshots' directory in a data directory.
pub const SNAPSHOT_DIR: &str = "snapshots";

/// A failure of the data directory, naming the file or directory.
///
/// New variants may be added: a `match` needs a `_` arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataDirError {
    /// The keys refused (locked, wrong unlock key, autolock state, corrupt keyring): see
    /// [`KeysError`]. Nothing on disk changed.
    #[error("keys file {path}: {source}")]
    Keys {
        /// The keys file.
        path: PathBuf,
        /// Why.
        #[source]
        source: KeysError,
    },
    /// The keys file is not one (bad magic, version, length).
    #[error("keys file {path} is malformed: {detail}")]
    Malformed {
        /// The keys file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A file operation failed.
    #[error("I/O on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// `create` found a manager's state already there.
    #[error("{path} already holds a manager's state: open it instead")]
    AlreadyInitialized {
        /// What was found.
        path: PathBuf,
    },
    /// `open` found no keys file.
    #[error("{path} holds no manager keys: create the data directory first")]
    NotInitialized {
        /// The missing keys file.
        path: PathBuf,
    },
    /// The WAL or the snapshot store failed to open.
    #[error("storage in {path}: {source}")]
    Storage {
        /// The storage's directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: StorageError,
    },
}

impl DataDirError {
    /// Whether the unlock key given was wrong (nothing changed: try again with the right one).
    pub fn is_wrong_unlock_key(&self) -> bool {
        matches!(
            self,
            DataDirError::Keys {
                source: KeysError::WrongUnlockKey,
                ..
            }
        )
    }

    /// Whether the directory is locked and needs the unlock key first.
    pub fn is_locked(&self) -> bool {
        matches!(
            self,
            DataDirError::Keys {
                source: KeysError::Locked,
                ..
            }
        )
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> DataDirError + '_ {
    move |source| DataDirError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Makes `dir`'s entries (a created or renamed file) durable.
fn sync_dir(dir: &Path) -> Result<(), DataDirError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(dir))
}

/// A manager's data directory, opened: its [`ManagerKeys`] and the paths of its storages.
///
/// ```no_run
/// use swarm_core::manager::state::ManagerDataDir;
/// use swarm_store::storage::DiskLogOptions;
/// # fn demo(dir: &std::path::Path, key: swarm_secrets::UnlockKey) -> Result<(), Box<dyn std::error::Error>> {
/// let mut data = ManagerDataDir::open(dir)?;
/// if data.is_locked() {
///     data.unlock(&key)?; // a wrong key: `is_wrong_unlock_key()`, nothing changed
/// }
/// let wal = data.open_log(DiskLogOptions::default())?;
/// let snapshots = data.open_snapshots()?;
/// # drop((wal, snapshots)); Ok(()) }
/// ```
#[derive(Debug)]
pub struct ManagerDataDir {
    dir: PathBuf,
    keys: ManagerKeys,
}

impl ManagerDataDir {
    /// Makes `dir` a new manager's data directory: fresh keys (autolocked under `autolock`'s
    /// key if given, else with a random key in the keys file), written durably before this
    /// returns. [`DataDirError::AlreadyInitialized`] if it has a keys file or a non-empty
    /// WAL directory.
    pub fn create(
        dir: impl AsRef<Path>,
        autolock: Option<&UnlockKey>,
    ) -> Result<ManagerDataDir, DataDirError> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
        let keys_path = dir.join(KEYS_FILE);
        if keys_path.exists() {
            return Err(DataDirError::AlreadyInitialized { path: keys_path });
        }
        let wal = dir.join(WAL_DIR);
        if fs::read_dir(&wal).is_ok_and(|mut entries| entries.next().is_some()) {
            return Err(DataDirError::AlreadyInitialized { path: wal });
        }
        let (keys, file) = ManagerKeys::create(autolock).map_err(|source| DataDirError::Keys {
            path: keys_path.clone(),
            source,
        })?;
        stage_keys_file(&dir, &file)?;
        install_staged_keys_file(&dir)?;
        sync_dir(&dir)?;
        Ok(ManagerDataDir { dir, keys })
    }

    /// Opens an existing data directory: unlocked at once without autolock, locked with it.
    /// A replacement keys file left by a crash is removed (the installed one is whole).
    pub fn open(dir: impl AsRef<Path>) -> Result<ManagerDataDir, DataDirError> {
        let dir = dir.as_ref().to_path_buf();
        let tmp = dir.join(KEYS_TMP_FILE);
        match fs::remove_file(&tmp) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_error(&tmp)(e)),
            _ => {}
        }
        let path = dir.join(KEYS_FILE);
        let bytes = read_keys_file(&path)?;
        let file = KeysFile::decode(&bytes).map_err(|detail| DataDirError::Malformed {
            path: path.clone(),
            detail,
        })?;
        let keys = ManagerKeys::load(file).map_err(|source| DataDirError::Keys { path, source })?;
        Ok(ManagerDataDir { dir, keys })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The keys file.
    pub fn keys_path(&self) -> PathBuf {
        self.dir.join(KEYS_FILE)
    }

    /// The WAL's directory.
    pub fn wal_dir(&self) -> PathBuf {
        self.dir.join(WAL_DIR)
    }

    /// The snapshots' directory.
    pub fn snapshot_dir(&self) -> PathBuf {
        self.dir.join(SNAPSHOT_DIR)
    }

    /// The keys and their rules.
    pub fn keys(&self) -> &ManagerKeys {
        &self.keys
    }

    /// Whether the directory waits for the unlock key.
    pub fn is_locked(&self) -> bool {
        self.keys.is_locked()
    }

    /// Whether autolock is on.
    pub fn autolock(&self) -> bool {
        self.keys.autolock()
    }

    fn keys_error(&self, source: KeysError) -> DataDirError {
        DataDirError::Keys {
            path: self.keys_path(),
            source,
        }
    }

    /// Unlocks with the operator's key; a wrong key is refused
    /// ([`DataDirError::is_wrong_unlock_key`]) and nothing changes, on disk or in memory.
    pub fn unlock(&mut self, key: &UnlockKey) -> Result<(), DataDirError> {
        self.keys.unlock(key).map_err(|e| self.keys_error(e))
    }

    /// The unlock key to show (autolock on and unlocked only).
    pub fn unlock_key(&self) -> Result<&UnlockKey, DataDirError> {
        self.keys.unlock_key().map_err(|e| self.keys_error(e))
    }

    /// The cipher for the storages (unlocked only).
    pub fn cipher(&self) -> Result<Arc<KeyringCipher>, DataDirError> {
        self.keys.cipher().map_err(|e| self.keys_error(e))
    }

    /// Opens the WAL in [`WAL_DIR`] with `options` and this directory's cipher.
    pub fn open_log(&self, options: DiskLogOptions) -> Result<DiskLogStorage, DataDirError> {
        let cipher = self.cipher()?;
        let path = self.wal_dir();
        DiskLogStorage::open(&path, options.with_cipher(cipher))
            .map_err(|source| DataDirError::Storage { path, source })
    }

    /// Opens the snapshot store in [`SNAPSHOT_DIR`] with this directory's cipher.
    pub fn open_snapshots(&self) -> Result<DiskSnapshotStore, DataDirError> {
        let cipher = self.cipher()?;
        let path = self.snapshot_dir();
        DiskSnapshotStore::open(&path)
            .map(|s| s.with_cipher(cipher))
            .map_err(|source| DataDirError::Storage { path, source })
    }

    /// Rotates the unlock key to `new_key` (autolock on): the keys file is rewritten with
    /// fsync and rename, so a crash leaves the old or the new file whole, each opening with
    /// its own key. The old key stops working once this returns.
    pub fn rotate_unlock_key(&mut self, new_key: &UnlockKey) -> Result<(), DataDirError> {
        let change = self
            .keys
            .plan_unlock_key_rotation(new_key)
            .map_err(|e| self.keys_error(e))?;
        self.apply(change)
    }

    /// Turns autolock on with `key` (a fresh data encryption key becomes active).
    pub fn enable_autolock(&mut self, key: &UnlockKey) -> Result<(), DataDirError> {
        let change = self
            .keys
            .plan_enable_autolock(key)
            .map_err(|e| self.keys_error(e))?;
        self.apply(change)
    }

    /// Turns autolock off: a fresh key is kept in the keys file; the operator's key stops
    /// working.
    pub fn disable_autolock(&mut self) -> Result<(), DataDirError> {
        let change = self
            .keys
            .plan_disable_autolock()
            .map_err(|e| self.keys_error(e))?;
        self.apply(change)
    }

    /// Follows the unlock key the cluster wants (`None`: autolock off), as a manager does
    /// when the cluster object changes: enables, rotates or disables autolock as needed.
    /// Returns whether anything changed.
    pub fn match_unlock_key(&mut self, desired: Option<&UnlockKey>) -> Result<bool, DataDirError> {
        match self
            .keys
            .plan_to_match(desired)
            .map_err(|e| self.keys_error(e))?
        {
            Some(change) => self.apply(change).map(|()| true),
            None => Ok(false),
        }
    }

    /// Writes the change's keys file, then commits it in memory once the rename is done
    /// (from then on the file on disk is the new one). An error before the rename changes
    /// nothing; an error syncing the directory after it leaves the change in effect with
    /// only its durability in doubt (a crash may bring back the old file, which opens with
    /// the old key).
    fn apply(&mut self, change: KeysChange) -> Result<(), DataDirError> {
        stage_keys_file(&self.dir, change.file())?;
        install_staged_keys_file(&self.dir)?;
        self.keys.commit(change).map_err(|e| self.keys_error(e))?;
        sync_dir(&self.dir)
    }
}

/// Reads the keys file, at most [`MAX_KEYS_FILE_BYTES`] + 1 bytes of it.
fn read_keys_file(path: &Path) -> Result<Vec<u8>, DataDirError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(DataDirError::NotInitialized {
                path: path.to_path_buf(),
            });
        }
        Err(e) => return Err(io_error(path)(e)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_KEYS_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error(path))?;
    Ok(bytes)
}

/// Step 1 of replacing the keys file: writes [`KEYS_TMP_FILE`] (mode 0600) and fsyncs it.
/// A crash after this leaves the installed keys file as it was.
pub(super) fn stage_keys_file(dir: &Path, file: &KeysFile) -> Result<(), DataDirError> {
    let tmp = dir.join(KEYS_TMP_FILE);
    // A leftover from a crash may have other permissions: start from a new file.
    match fs::remove_file(&tmp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_error(&tmp)(e)),
        _ => {}
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut out = options.open(&tmp).map_err(io_error(&tmp))?;
    out.write_all(&file.encode()).map_err(io_error(&tmp))?;
    out.sync_all().map_err(io_error(&tmp))
}

/// Step 2: renames the staged file over [`KEYS_FILE`] (atomic: a reader sees the old or the
/// new file whole). The directory is synced by the caller.
pub(super) fn install_staged_keys_file(dir: &Path) -> Result<(), DataDirError> {
    let tmp = dir.join(KEYS_TMP_FILE);
    fs::rename(&tmp, dir.join(KEYS_FILE)).map_err(io_error(&tmp))
}
