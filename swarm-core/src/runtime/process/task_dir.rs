//! The private per-task directory holding a task's secret and config files.
//!
//! Layout, under the runtime's state directory (a tmpfs such as `/dev/shm` where available):
//!
//! ```text
//! <state>/<task-id>/            0700, the task's private directory   ($SWARM_TASK_DIR)
//!     secrets/<name>            bare secret targets                 ($SWARM_SECRETS_DIR)
//!     configs/<name>            bare config targets                 ($SWARM_CONFIGS_DIR)
//!     root/<absolute target>    absolute targets, e.g. /etc/app.conf → root/etc/app.conf
//!                                                                   ($SWARM_FILES_ROOT)
//!     work/                     the default working directory
//! ```
//!
//! Directories are created with mode 0700 and, when the runtime is root and the task runs as
//! another user, owned by that user so that the task can reach its files. Each file gets its
//! target's mode and, when the runtime is root, its target's uid and gid.

use crate::runtime::error::{LifecycleStep, RuntimeError};
use crate::runtime::files::{FileKind, ResolvedFile};
use std::fs::{self, DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Mode of every directory the runtime creates.
pub const PRIVATE_DIR_MODE: u32 = 0o700;

/// Environment variable: the task's private directory.
pub const ENV_TASK_DIR: &str = "SWARM_TASK_DIR";
/// Environment variable: where bare secret targets are.
pub const ENV_SECRETS_DIR: &str = "SWARM_SECRETS_DIR";
/// Environment variable: where bare config targets are.
pub const ENV_CONFIGS_DIR: &str = "SWARM_CONFIGS_DIR";
/// Environment variable: the directory absolute targets are mapped under.
pub const ENV_FILES_ROOT: &str = "SWARM_FILES_ROOT";
/// Environment variable: the task id.
pub const ENV_TASK_ID: &str = "SWARM_TASK_ID";

/// A task's private directory (see the module docs for the layout).
#[derive(Clone, Debug)]
pub struct TaskDir {
    /// The task directory.
    pub path: PathBuf,
}

fn io(step: LifecycleStep, what: String) -> impl FnOnce(std::io::Error) -> RuntimeError {
    move |e| RuntimeError::io(step, what, e)
}

impl TaskDir {
    /// The task directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where bare secret targets go.
    pub fn secrets_dir(&self) -> PathBuf {
        self.path.join("secrets")
    }

    /// Where bare config targets go.
    pub fn configs_dir(&self) -> PathBuf {
        self.path.join("configs")
    }

    /// The directory absolute targets are mapped under.
    pub fn files_root(&self) -> PathBuf {
        self.path.join("root")
    }

    /// The default working directory.
    pub fn work_dir(&self) -> PathBuf {
        self.path.join("work")
    }

    /// Where `file` lands.
    pub fn file_path(&self, file: &ResolvedFile) -> PathBuf {
        let base = if file.is_absolute() {
            self.files_root()
        } else {
            match file.kind {
                FileKind::Secret => self.secrets_dir(),
                FileKind::Config => self.configs_dir(),
            }
        };
        base.join(file.relative_target())
    }

    /// Creates the directory at `path` (which must not exist) and writes `files` into it.
    /// `dir_owner` is the (uid, gid) the directories are given (root only); `chown_files` sets
    /// each file's owner to its target's uid/gid (root only). On error nothing is left behind.
    pub fn create(
        path: PathBuf,
        dir_owner: Option<(u32, u32)>,
        chown_files: bool,
        files: &[ResolvedFile],
    ) -> Result<TaskDir, RuntimeError> {
        let step = LifecycleStep::Prepare;
        let mut builder = DirBuilder::new();
        builder.mode(PRIVATE_DIR_MODE);
        builder.create(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                RuntimeError::permanent(
                    step,
                    format!("task directory {} already exists", path.display()),
                )
            } else {
                RuntimeError::io(step, format!("creating {}", path.display()), e)
            }
        })?;
        let dir = TaskDir { path };
        match dir.populate(dir_owner, chown_files, files) {
            Ok(()) => Ok(dir),
            Err(e) => {
                let _ = fs::remove_dir_all(&dir.path);
                Err(e)
            }
        }
    }

    fn populate(
        &self,
        dir_owner: Option<(u32, u32)>,
        chown_files: bool,
        files: &[ResolvedFile],
    ) -> Result<(), RuntimeError> {
        let step = LifecycleStep::Prepare;
        let mut dirs = DirBuilder::new();
        dirs.mode(PRIVATE_DIR_MODE);
        let chown_dir = |p: &Path| -> Result<(), RuntimeError> {
            if let Some((uid, gid)) = dir_owner {
                std::os::unix::fs::chown(p, Some(uid), Some(gid))
                    .map_err(io(step, format!("chown {}", p.display())))?;
            }
            Ok(())
        };
        chown_dir(&self.path)?;
        for d in [
            self.secrets_dir(),
            self.configs_dir(),
            self.files_root(),
            self.work_dir(),
        ] {
            dirs.create(&d)
                .map_err(io(step, format!("creating {}", d.display())))?;
            chown_dir(&d)?;
        }
        for f in files {
            let target = self.file_path(f);
            // Parent directories of nested targets (`a/b/name`, `/etc/app/x.conf`).
            let parent = target.parent().unwrap_or(&self.path).to_path_buf();
            let mut missing = Vec::new();
            let mut p = parent.as_path();
            while !p.exists() {
                missing.push(p.to_path_buf());
                match p.parent() {
                    Some(pp) => p = pp,
                    None => break,
                }
            }
            for d in missing.iter().rev() {
                dirs.create(d)
                    .map_err(io(step, format!("creating {}", d.display())))?;
                chown_dir(d)?;
            }
            let mut out = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&target)
                .map_err(io(
                    step,
                    format!("creating the file of {} {}", f.kind.as_str(), f.name),
                ))?;
            out.write_all(f.data.expose()).map_err(io(
                step,
                format!("writing the file of {} {}", f.kind.as_str(), f.name),
            ))?;
            drop(out);
            if chown_files {
                std::os::unix::fs::chown(&target, Some(f.uid), Some(f.gid))
                    .map_err(io(step, format!("chown {}", target.display())))?;
            }
            fs::set_permissions(&target, fs::Permissions::from_mode(f.target.mode))
                .map_err(io(step, format!("chmod {}", target.display())))?;
        }
        Ok(())
    }

    /// Removes the directory and everything in it. A directory already gone is fine. If the
    /// task made some of its directories read-only, write permission is restored (the runtime
    /// owns them, or is root) and the removal retried once.
    pub fn remove(&self) -> Result<(), RuntimeError> {
        let mut result = fs::remove_dir_all(&self.path);
        if matches!(&result, Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied) {
            restore_dir_permissions(&self.path, MAX_REMOVE_WALK_ENTRIES);
            result = fs::remove_dir_all(&self.path);
        }
        match result {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(RuntimeError::io(
                LifecycleStep::Remove,
                format!("removing {}", self.path.display()),
                e,
            )),
        }
    }
}

/// Most directory entries visited when restoring permissions before a removal.
pub const MAX_REMOVE_WALK_ENTRIES: usize = 100_000;

/// Gives the owner rwx on every directory under `root` (without following symlinks), visiting
/// at most `budget` entries.
fn restore_dir_permissions(root: &Path, budget: usize) {
    let mut stack = vec![root.to_path_buf()];
    let mut visited = 0usize;
    while let Some(dir) = stack.pop() {
        let Ok(meta) = fs::symlink_metadata(&dir) else {
            continue;
        };
        if !meta.is_dir() {
            continue;
        }
        let mode = meta.permissions().mode() | 0o700;
        let _ = fs::set_permissions(&dir, fs::Permissions::from_mode(mode));
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            visited += 1;
            if visited > budget {
                return;
            }
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(e.path());
            }
        }
    }
}
