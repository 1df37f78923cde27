//! Per-task secret and config files on a memory filesystem, bind-mounted read-only into the
//! container.
//!
//! Layout: `<secrets_root>/<namespace>/<task id>/{secret,config}-<n>`, directories mode 0700.
//! Before any byte is written the task's directory is checked with `statfs` to be on tmpfs: a
//! secret never reaches the node's disk. Each file gets its target's uid, gid and mode, which the
//! container sees through the bind mount.

use crate::error::DockerError;
use crate::labels::dir_name;
use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use swarm_core::runtime::{FileKind, ResolvedFile};

/// Where a secret with a bare file name appears inside the container, as in Docker.
const SECRETS_DIR_IN_CONTAINER: &str = "/run/secrets";
/// Where a config with a bare file name appears inside the container: the root, as in Docker.
const CONFIGS_DIR_IN_CONTAINER: &str = "/";

/// Most task directories one orphan sweep removes.
const MAX_ORPHAN_DIRS_PER_SWEEP: usize = 10_000;

fn field(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Secret => "container.secrets",
        FileKind::Config => "container.configs",
    }
}

/// A file written on the host and where it is mounted in the container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WrittenFile {
    pub(crate) host_path: PathBuf,
    pub(crate) container_path: String,
}

/// The absolute path inside the container of a resolved (already validated) file: a bare name
/// goes under `/run/secrets` (secrets) or `/` (configs), as in Docker.
pub(crate) fn container_path(file: &ResolvedFile) -> String {
    let base = if file.is_absolute() {
        "/"
    } else {
        match file.kind {
            FileKind::Secret => SECRETS_DIR_IN_CONTAINER,
            FileKind::Config => CONFIGS_DIR_IN_CONTAINER,
        }
    };
    Path::new(base)
        .join(file.relative_target())
        .to_string_lossy()
        .into_owned()
}

/// Refuses two files (a secret and a config included) that land on the same container path.
pub(crate) fn check_distinct_targets(files: &[ResolvedFile]) -> Result<(), DockerError> {
    let mut seen = HashSet::new();
    let mut index = HashMap::<FileKind, usize>::new();
    for f in files {
        let i = index.entry(f.kind).or_insert(0);
        let path = container_path(f);
        if !seen.insert(path.clone()) {
            return Err(DockerError::InvalidSpec {
                field: format!("{}[{i}].target.name", field(f.kind)),
                reason: format!("{path} is also the target of another secret or config"),
            });
        }
        *i += 1;
    }
    Ok(())
}

/// Fails unless `path` is on tmpfs.
///
/// With `allow_disk` a disk filesystem is accepted after a loud warning (log and stderr).
pub(crate) fn check_memory_fs(path: &Path, allow_disk: bool) -> Result<(), DockerError> {
    use nix::sys::statfs::{TMPFS_MAGIC, statfs};
    let st = statfs(path).map_err(|errno| DockerError::Io {
        operation: "statfs",
        path: path.to_path_buf(),
        source: std::io::Error::from(errno),
    })?;
    let fs = st.filesystem_type();
    if fs == TMPFS_MAGIC {
        return Ok(());
    }
    let fs_type = format!("{:#x}", fs.0);
    if allow_disk {
        tracing::warn!(
            path = %path.display(),
            fs_type,
            "!!! secrets_root is NOT on tmpfs: secret files of tasks are written to the node's \
             disk (allow_secrets_on_disk is set)"
        );
        eprintln!(
            "!!! swarm-docker: {} is not on tmpfs (fs magic {fs_type}): secrets reach the disk",
            path.display()
        );
        return Ok(());
    }
    Err(DockerError::SecretsNotOnTmpfs {
        path: path.to_path_buf(),
        fs_type,
    })
}

/// Creates the secrets root (mode 0700) if needed and checks that it is safe to hold secrets:
/// a real directory (not a symlink), owned by this process's user, closed to group and others
/// (a directory of ours with wider bits is closed to 0700), and on tmpfs.
///
/// The default root lives in `/dev/shm`, which every user may write: without these checks
/// another local user could plant the directory (or a symlink) first and read every secret.
pub(crate) fn prepare_secrets_root(root: &Path, allow_disk: bool) -> Result<(), DockerError> {
    let insecure = |reason: String| DockerError::InsecureSecretsRoot {
        path: root.to_path_buf(),
        reason,
    };
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(root)
        .map_err(io("creating secrets root", root))?;
    let meta = fs::symlink_metadata(root).map_err(io("inspecting secrets root", root))?;
    if meta.file_type().is_symlink() {
        return Err(insecure("it is a symbolic link".to_owned()));
    }
    if !meta.is_dir() {
        return Err(insecure("it is not a directory".to_owned()));
    }
    let euid = nix::unistd::geteuid().as_raw();
    if meta.uid() != euid {
        return Err(insecure(format!(
            "it is owned by uid {}, not by this process's uid {euid}",
            meta.uid()
        )));
    }
    if meta.mode() & 0o077 != 0 {
        tracing::warn!(path = %root.display(), mode = format!("{:o}", meta.mode() & 0o7777), "closing the secrets root to 0700");
        fs::set_permissions(root, fs::Permissions::from_mode(0o700))
            .map_err(io("changing mode of", root))?;
    }
    check_memory_fs(root, allow_disk)
}

/// The per-namespace directory holding task directories.
pub(crate) fn namespace_dir(root: &Path, namespace: &str) -> PathBuf {
    root.join(dir_name(namespace))
}

/// The private directory of one task.
pub(crate) fn task_dir(root: &Path, namespace: &str, task_id: &str) -> PathBuf {
    namespace_dir(root, namespace).join(dir_name(task_id))
}

fn io<'a>(
    operation: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> DockerError + 'a {
    move |source| DockerError::Io {
        operation,
        path: path.to_path_buf(),
        source,
    }
}

/// Writes a task's files into its private directory (replacing an earlier attempt's) after
/// checking that the directory is on a memory filesystem. On error nothing is left behind.
pub(crate) fn write_task_files(
    dir: &Path,
    allow_disk: bool,
    files: &[ResolvedFile],
) -> Result<Vec<WrittenFile>, DockerError> {
    check_distinct_targets(files)?;
    remove_task_dir(dir)?;
    if files.is_empty() {
        return Ok(Vec::new());
    }
    create_task_dir(dir)?;
    if let Err(e) = check_memory_fs(dir, allow_disk) {
        // Nothing was written yet; leave no empty directory behind.
        let _ = fs::remove_dir(dir);
        return Err(e);
    }
    let mut written = Vec::with_capacity(files.len());
    let result = (|| {
        for (n, f) in files.iter().enumerate() {
            let host_path = dir.join(format!("{}-{n}", f.kind.as_str()));
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&host_path)
                .map_err(io("creating file", &host_path))?;
            file.write_all(f.data.expose())
                .map_err(io("writing file", &host_path))?;
            drop(file);
            std::os::unix::fs::chown(&host_path, Some(f.uid), Some(f.gid))
                .map_err(io("changing owner of", &host_path))?;
            fs::set_permissions(&host_path, fs::Permissions::from_mode(f.target.mode))
                .map_err(io("changing mode of", &host_path))?;
            written.push(WrittenFile {
                host_path,
                container_path: container_path(f),
            });
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(written),
        Err(e) => {
            let _ = remove_task_dir(dir);
            Err(e)
        }
    }
}

/// Attempts at creating a task directory: another task's `remove` may take away the (empty)
/// namespace directory between the creation of the parent and of the child.
const CREATE_DIR_ATTEMPTS: usize = 3;

fn create_task_dir(dir: &Path) -> Result<(), DockerError> {
    let mut attempt = 1;
    loop {
        match fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
        {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && attempt < CREATE_DIR_ATTEMPTS => {
                attempt += 1;
            }
            Err(e) => return Err(io("creating task directory", dir)(e)),
        }
    }
}

/// Removes a task's directory and everything in it (a missing directory is fine), then the
/// namespace directory above it if that is now empty.
pub(crate) fn remove_task_dir(dir: &Path) -> Result<(), DockerError> {
    match fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(DockerError::Io {
                operation: "removing task directory",
                path: dir.to_path_buf(),
                source: e,
            });
        }
    }
    if let Some(parent) = dir.parent() {
        // Fails (harmlessly) while other tasks of the namespace have files.
        let _ = fs::remove_dir(parent);
    }
    Ok(())
}

/// Removes the directories of tasks not in `live` (given as directory names); returns how many.
pub(crate) fn remove_orphan_dirs(
    root: &Path,
    namespace: &str,
    live: &HashSet<String>,
) -> Result<usize, DockerError> {
    let ns = namespace_dir(root, namespace);
    let entries = match fs::read_dir(&ns) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => {
            return Err(DockerError::Io {
                operation: "listing",
                path: ns,
                source: e,
            });
        }
    };
    let mut removed = 0;
    for entry in entries.take(MAX_ORPHAN_DIRS_PER_SWEEP) {
        let entry = entry.map_err(io("listing", &ns))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !live.contains(&name) {
            remove_task_dir(&entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarm_core::model::{
        ConfigId, ConfigReference, ContainerSpec, FileTarget, SecretId, SecretReference, TaskId,
    };
    use swarm_core::runtime::TaskFiles;

    fn resolve(secrets: &[(&str, u32)], configs: &[&str]) -> Vec<ResolvedFile> {
        let mut spec = ContainerSpec::default();
        let mut files = TaskFiles::new();
        for (i, (name, mode)) in secrets.iter().enumerate() {
            let mut target = FileTarget::new(*name);
            target.mode = *mode;
            spec.secrets.push(SecretReference {
                secret_id: SecretId::new(format!("s{i}")),
                secret_name: format!("secret{i}"),
                target,
            });
            files = files.with_secret(format!("s{i}"), format!("data{i}").into_bytes());
        }
        for (i, name) in configs.iter().enumerate() {
            spec.configs.push(ConfigReference {
                config_id: ConfigId::new(format!("c{i}")),
                config_name: format!("config{i}"),
                target: FileTarget::new(*name),
            });
            files = files.with_config(format!("c{i}"), b"cfg".to_vec());
        }
        files.resolve(&TaskId::new("t"), &spec).unwrap()
    }

    #[test]
    fn bare_names_go_to_docker_defaults() {
        let r = resolve(
            &[
                ("db_pw", 0o444),
                ("/etc/app/key", 0o444),
                ("sub/key", 0o444),
            ],
            &["app.ini"],
        );
        let paths: Vec<String> = r.iter().map(container_path).collect();
        assert_eq!(
            paths,
            [
                "/run/secrets/db_pw",
                "/etc/app/key",
                "/run/secrets/sub/key",
                "/app.ini"
            ]
        );
    }

    #[test]
    fn a_secret_and_a_config_on_one_path_are_refused() {
        let r = resolve(&[("/app.ini", 0o444)], &["app.ini"]);
        let e = check_distinct_targets(&r).unwrap_err();
        assert!(
            e.to_string().contains("container.configs[0].target.name"),
            "{e}"
        );
    }

    #[test]
    fn files_are_written_with_mode_on_tmpfs_and_removed() {
        if check_memory_fs(Path::new("/dev/shm"), false).is_err() {
            eprintln!("!!! SKIPPED: /dev/shm is not a tmpfs on this host");
            return;
        }
        let root = tempfile::Builder::new()
            .prefix("swarm-docker-unit-")
            .tempdir_in("/dev/shm")
            .unwrap();
        let files = resolve(&[("token", 0o400)], &[]);
        let dir = task_dir(root.path(), "ns", "task1");
        let written = write_task_files(&dir, false, &files).unwrap();
        assert_eq!(written.len(), 1);
        assert_eq!(written[0].container_path, "/run/secrets/token");
        let meta = fs::metadata(&written[0].host_path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o7777, 0o400);
        assert_eq!(fs::read(&written[0].host_path).unwrap(), b"data0");
        let dir_mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(dir_mode, 0o700);
        // A second prepare replaces the first one's files.
        let written = write_task_files(&dir, false, &files).unwrap();
        assert_eq!(fs::read(&written[0].host_path).unwrap(), b"data0");
        // The orphan sweep keeps live tasks and removes the others.
        write_task_files(&task_dir(root.path(), "ns", "task2"), false, &files).unwrap();
        let live: HashSet<String> = ["task1".to_owned()].into_iter().collect();
        assert_eq!(remove_orphan_dirs(root.path(), "ns", &live).unwrap(), 1);
        assert!(dir.exists());
        assert!(!task_dir(root.path(), "ns", "task2").exists());
        remove_task_dir(&dir).unwrap();
        assert!(!dir.exists());
    }

    #[test]
    fn secrets_root_must_be_ours_and_closed() {
        if check_memory_fs(Path::new("/dev/shm"), false).is_err() {
            eprintln!("!!! SKIPPED: /dev/shm is not a tmpfs on this host");
            return;
        }
        let base = tempfile::Builder::new()
            .prefix("swarm-docker-root-")
            .tempdir_in("/dev/shm")
            .unwrap();
        // Created with 0700.
        let root = base.path().join("root");
        prepare_secrets_root(&root, false).unwrap();
        assert_eq!(
            fs::metadata(&root).unwrap().permissions().mode() & 0o777,
            0o700
        );
        // An existing directory of ours that is too open is closed.
        fs::set_permissions(&root, fs::Permissions::from_mode(0o777)).unwrap();
        prepare_secrets_root(&root, false).unwrap();
        assert_eq!(
            fs::metadata(&root).unwrap().permissions().mode() & 0o777,
            0o700
        );
        // A symlink planted in its place is refused.
        let link = base.path().join("link");
        std::os::unix::fs::symlink(&root, &link).unwrap();
        let e = prepare_secrets_root(&link, false).unwrap_err();
        assert!(matches!(e, DockerError::InsecureSecretsRoot { .. }), "{e}");
        assert!(!e.is_retryable());
        // A directory owned by someone else is refused (only testable as root).
        if nix::unistd::geteuid().is_root() {
            let foreign = base.path().join("foreign");
            fs::create_dir(&foreign).unwrap();
            std::os::unix::fs::chown(&foreign, Some(65534), Some(65534)).unwrap();
            let e = prepare_secrets_root(&foreign, false).unwrap_err();
            assert!(e.to_string().contains("owned by uid 65534"), "{e}");
        }
    }

    #[test]
    fn disk_directories_are_refused() {
        let disk = tempfile::tempdir().unwrap();
        if check_memory_fs(disk.path(), false).is_ok() {
            eprintln!("!!! SKIPPED: the temp directory is itself on tmpfs");
            return;
        }
        let files = resolve(&[("token", 0o444)], &[]);
        let dir = task_dir(disk.path(), "ns", "t");
        let e = write_task_files(&dir, false, &files).unwrap_err();
        assert!(matches!(e, DockerError::SecretsNotOnTmpfs { .. }), "{e}");
        assert!(!e.is_retryable());
        // Nothing was left behind.
        assert!(!dir.exists());
    }
}
