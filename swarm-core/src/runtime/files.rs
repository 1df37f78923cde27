//! The secret and config bytes a task may see, and the checks that keep each task to its own.
//!
//! An agent builds one [`TaskFiles`] per task holding the plaintext of *exactly* the secrets and
//! configs that task's spec references, and hands it to
//! [`Runtime::controller`](crate::runtime::Runtime::controller). Adapters call
//! [`TaskFiles::resolve`] to get the list of files to materialise: it refuses a reference without
//! data and never yields an entry the spec does not reference, so a controller built on it cannot
//! expose another task's secret even if it is handed more than it needs.

use crate::model::{ConfigId, ContainerSpec, FileTarget, MAX_CONFIG_DATA_BYTES, SecretId, TaskId};
use crate::runtime::error::RuntimeError;
use secrecy::{ExposeSecret, SecretSlice};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};

/// Most secret plus config references one task may carry.
pub const MAX_FILES_PER_TASK: usize = 1024;

/// Plaintext bytes of one secret or config, zeroized on drop and never printed by `Debug`.
///
/// ```
/// use swarm_core::runtime::FilePayload;
///
/// let p = FilePayload::new(b"hunter2".to_vec());
/// assert_eq!(format!("{p:?}"), "FilePayload([REDACTED 7 bytes])");
/// assert_eq!(p.expose(), b"hunter2");
/// ```
#[derive(Clone)]
pub struct FilePayload(SecretSlice<u8>);

impl FilePayload {
    /// Wraps plaintext bytes (the vector is moved, not copied).
    pub fn new(bytes: Vec<u8>) -> Self {
        FilePayload(SecretSlice::from(bytes))
    }

    /// The plaintext. Keep the borrow short and never log it.
    pub fn expose(&self) -> &[u8] {
        self.0.expose_secret()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.expose().len()
    }

    /// `true` when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<Vec<u8>> for FilePayload {
    fn from(bytes: Vec<u8>) -> Self {
        FilePayload::new(bytes)
    }
}

impl fmt::Debug for FilePayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FilePayload([REDACTED {} bytes])", self.len())
    }
}

/// Whether a file is a secret or a config.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// A secret (bare target names go to the secrets directory, `/run/secrets` in Docker).
    Secret,
    /// A config (bare target names go to the configs directory, `/` in Docker).
    Config,
}

impl FileKind {
    /// `"secret"` or `"config"`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Secret => "secret",
            FileKind::Config => "config",
        }
    }

    /// Largest payload of this kind a runtime accepts: the limits validation applies to specs,
    /// [`swarm_secrets::limits::MAX_SECRET_BYTES`] for a secret and
    /// [`MAX_CONFIG_DATA_BYTES`](crate::model::MAX_CONFIG_DATA_BYTES) for a config.
    pub fn max_payload_bytes(self) -> usize {
        match self {
            FileKind::Secret => swarm_secrets::limits::MAX_SECRET_BYTES,
            FileKind::Config => MAX_CONFIG_DATA_BYTES,
        }
    }
}

/// The plaintext of the secrets and configs one task references, keyed by id.
///
/// `Debug` shows ids and sizes only.
///
/// ```
/// use swarm_core::runtime::TaskFiles;
///
/// let files = TaskFiles::new()
///     .with_secret("s1", b"db-password".to_vec())
///     .with_config("c1", b"port = 80".to_vec());
/// let shown = format!("{files:?}");
/// assert!(shown.contains("s1") && !shown.contains("db-password"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct TaskFiles {
    /// Secret plaintext by secret id.
    pub secrets: BTreeMap<SecretId, FilePayload>,
    /// Config bytes by config id.
    pub configs: BTreeMap<ConfigId, FilePayload>,
}

/// One file a controller must materialise for its task, produced by [`TaskFiles::resolve`].
#[derive(Clone, Debug)]
pub struct ResolvedFile {
    /// Secret or config.
    pub kind: FileKind,
    /// The secret or config id.
    pub id: String,
    /// The user-facing name of the secret or config.
    pub name: String,
    /// Where and how the file appears (name, uid, gid, mode), validated.
    pub target: FileTarget,
    /// Parsed owner uid.
    pub uid: u32,
    /// Parsed owner gid.
    pub gid: u32,
    /// The bytes.
    pub data: FilePayload,
}

impl ResolvedFile {
    /// The target as a relative path: a bare name stays as it is (it belongs in the secrets or
    /// configs directory), an absolute path loses its leading `/` (an adapter without its own
    /// filesystem root maps it under a per-task directory).
    pub fn relative_target(&self) -> PathBuf {
        relative_path(&self.target.name)
    }

    /// `true` when the target is an absolute path.
    pub fn is_absolute(&self) -> bool {
        self.target.name.starts_with('/')
    }
}

impl TaskFiles {
    /// No files.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a secret's plaintext.
    pub fn with_secret(mut self, id: impl Into<SecretId>, data: impl Into<FilePayload>) -> Self {
        self.secrets.insert(id.into(), data.into());
        self
    }

    /// Adds a config's bytes.
    pub fn with_config(mut self, id: impl Into<ConfigId>, data: impl Into<FilePayload>) -> Self {
        self.configs.insert(id.into(), data.into());
        self
    }

    /// Keeps only the entries `spec` references (an agent calls this before handing the files
    /// to a runtime, so a controller never even holds another task's secret).
    pub fn retain_referenced(&mut self, spec: &ContainerSpec) {
        self.secrets
            .retain(|id, _| spec.secrets.iter().any(|r| &r.secret_id == id));
        self.configs
            .retain(|id, _| spec.configs.iter().any(|r| &r.config_id == id));
    }

    /// The files `spec` asks for, in spec order (secrets first), with validated targets.
    ///
    /// Errors (all permanent): [`RuntimeError::MissingSecret`]/[`RuntimeError::MissingConfig`]
    /// for a reference without data; [`RuntimeError::InvalidSpec`] naming the field for an empty
    /// name, a `.`/`..` component, a mode beyond `0o777`, a non-numeric uid/gid, a payload over
    /// [`FileKind::max_payload_bytes`], more than [`MAX_FILES_PER_TASK`] references, or two files with
    /// the same target. Entries of `self` that the spec does not reference are ignored.
    pub fn resolve(
        &self,
        task: &TaskId,
        spec: &ContainerSpec,
    ) -> Result<Vec<ResolvedFile>, RuntimeError> {
        let total = spec.secrets.len() + spec.configs.len();
        if total > MAX_FILES_PER_TASK {
            return Err(RuntimeError::invalid_spec(
                "container.secrets",
                format!(
                    "{total} secret and config references exceed the limit of {MAX_FILES_PER_TASK}"
                ),
            ));
        }
        let mut out = Vec::with_capacity(total);
        for (i, r) in spec.secrets.iter().enumerate() {
            let field = format!("container.secrets[{i}]");
            let data =
                self.secrets
                    .get(&r.secret_id)
                    .ok_or_else(|| RuntimeError::MissingSecret {
                        task: task.clone(),
                        secret: r.secret_id.clone(),
                    })?;
            out.push(resolve_one(
                &field,
                FileKind::Secret,
                r.secret_id.as_str(),
                &r.secret_name,
                &r.target,
                data,
            )?);
        }
        for (i, r) in spec.configs.iter().enumerate() {
            let field = format!("container.configs[{i}]");
            let data =
                self.configs
                    .get(&r.config_id)
                    .ok_or_else(|| RuntimeError::MissingConfig {
                        task: task.clone(),
                        config: r.config_id.clone(),
                    })?;
            out.push(resolve_one(
                &field,
                FileKind::Config,
                r.config_id.as_str(),
                &r.config_name,
                &r.target,
                data,
            )?);
        }
        for (i, a) in out.iter().enumerate() {
            for b in &out[..i] {
                if a.kind == b.kind && a.target.name == b.target.name {
                    return Err(RuntimeError::invalid_spec(
                        format!("container.{}s", a.kind.as_str()),
                        format!("{} and {} both target `{}`", b.name, a.name, a.target.name),
                    ));
                }
            }
        }
        Ok(out)
    }
}

fn resolve_one(
    field: &str,
    kind: FileKind,
    id: &str,
    name: &str,
    target: &FileTarget,
    data: &FilePayload,
) -> Result<ResolvedFile, RuntimeError> {
    validate_target_name(&format!("{field}.target.name"), &target.name)?;
    if target.mode & !0o777 != 0 {
        return Err(RuntimeError::invalid_spec(
            format!("{field}.target.mode"),
            format!("mode {:#o} has bits beyond 0o777", target.mode),
        ));
    }
    let uid = parse_id(&format!("{field}.target.uid"), &target.uid)?;
    let gid = parse_id(&format!("{field}.target.gid"), &target.gid)?;
    let limit_bytes = kind.max_payload_bytes();
    if data.len() > limit_bytes {
        return Err(RuntimeError::invalid_spec(
            field.to_owned(),
            format!(
                "{} {name} is {} bytes, over the limit of {limit_bytes}",
                kind.as_str(),
                data.len()
            ),
        ));
    }
    Ok(ResolvedFile {
        kind,
        id: id.to_owned(),
        name: name.to_owned(),
        target: target.clone(),
        uid,
        gid,
        data: data.clone(),
    })
}

fn parse_id(field: &str, value: &str) -> Result<u32, RuntimeError> {
    if value.is_empty() {
        return Ok(0);
    }
    value
        .parse::<u32>()
        .map_err(|_| RuntimeError::invalid_spec(field, format!("`{value}` is not a numeric id")))
}

/// Checks that a target file name is a usable path: not empty, no NUL, no `.` or `..`
/// components, not a directory (trailing `/`).
pub fn validate_target_name(field: &str, name: &str) -> Result<(), RuntimeError> {
    if name.is_empty() {
        return Err(RuntimeError::invalid_spec(field, "empty file name"));
    }
    if name.contains('\0') {
        return Err(RuntimeError::invalid_spec(field, "file name contains NUL"));
    }
    if name.ends_with('/') {
        return Err(RuntimeError::invalid_spec(
            field,
            format!("`{name}` names a directory, not a file"),
        ));
    }
    let rel = name.trim_start_matches('/');
    if rel.is_empty() {
        return Err(RuntimeError::invalid_spec(field, "`/` is not a file"));
    }
    for part in rel.split('/') {
        if part.is_empty() || part == "." || part == ".." {
            return Err(RuntimeError::invalid_spec(
                field,
                format!("`{name}` has an empty, `.` or `..` component"),
            ));
        }
    }
    Ok(())
}

/// `name` without its leading `/`s, as a relative path (call [`validate_target_name`] first).
fn relative_path(name: &str) -> PathBuf {
    let rel = Path::new(name.trim_start_matches('/'));
    debug_assert!(rel.components().all(|c| matches!(c, Component::Normal(_))));
    rel.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ConfigReference, SecretReference};

    fn spec_with(secret_target: &str) -> ContainerSpec {
        ContainerSpec {
            secrets: vec![SecretReference {
                secret_id: SecretId::new("s1"),
                secret_name: "db".into(),
                target: FileTarget::new(secret_target),
            }],
            configs: vec![ConfigReference {
                config_id: ConfigId::new("c1"),
                config_name: "cfg".into(),
                target: FileTarget::new("/etc/app.conf"),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn resolves_exactly_the_referenced_files() {
        let files = TaskFiles::new()
            .with_secret("s1", b"pw".to_vec())
            .with_secret("other", b"not-yours".to_vec())
            .with_config("c1", b"x".to_vec());
        let r = files.resolve(&TaskId::new("t"), &spec_with("db")).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].kind, FileKind::Secret);
        assert_eq!(r[0].data.expose(), b"pw");
        assert_eq!(r[0].relative_target(), PathBuf::from("db"));
        assert!(r[1].is_absolute());
        assert_eq!(r[1].relative_target(), PathBuf::from("etc/app.conf"));
        assert!(r.iter().all(|f| f.id != "other"));
    }

    #[test]
    fn missing_data_is_refused() {
        let files = TaskFiles::new().with_config("c1", b"x".to_vec());
        let err = files
            .resolve(&TaskId::new("t"), &spec_with("db"))
            .unwrap_err();
        assert!(matches!(err, RuntimeError::MissingSecret { .. }));
        assert!(err.is_permanent());
    }

    #[test]
    fn bad_targets_name_the_field() {
        let files = TaskFiles::new()
            .with_secret("s1", b"pw".to_vec())
            .with_config("c1", b"x".to_vec());
        for bad in ["", "../etc/passwd", "a/../../b", "/", "dir/", "a//b", "./a"] {
            let err = files
                .resolve(&TaskId::new("t"), &spec_with(bad))
                .unwrap_err();
            match err {
                RuntimeError::InvalidSpec { field, .. } => {
                    assert_eq!(field, "container.secrets[0].target.name", "{bad}")
                }
                other => panic!("{bad}: {other}"),
            }
        }
        let mut spec = spec_with("db");
        spec.secrets[0].target.mode = 0o4755;
        let err = files.resolve(&TaskId::new("t"), &spec).unwrap_err();
        assert!(err.to_string().contains("container.secrets[0].target.mode"));
        spec.secrets[0].target.mode = 0o400;
        spec.secrets[0].target.uid = "root".into();
        let err = files.resolve(&TaskId::new("t"), &spec).unwrap_err();
        assert!(err.to_string().contains("container.secrets[0].target.uid"));
    }

    #[test]
    fn payloads_are_held_to_the_spec_limits() {
        let secret_limit = swarm_secrets::limits::MAX_SECRET_BYTES;
        let at_limit = TaskFiles::new()
            .with_secret("s1", vec![1; secret_limit])
            .with_config("c1", vec![2; MAX_CONFIG_DATA_BYTES]);
        assert_eq!(
            at_limit
                .resolve(&TaskId::new("t"), &spec_with("db"))
                .unwrap()
                .len(),
            2
        );
        let big_secret = TaskFiles::new()
            .with_secret("s1", vec![1; secret_limit + 1])
            .with_config("c1", b"x".to_vec());
        let err = big_secret
            .resolve(&TaskId::new("t"), &spec_with("db"))
            .unwrap_err();
        assert!(err.to_string().contains("container.secrets[0]"), "{err}");
        let big_config = TaskFiles::new()
            .with_secret("s1", b"pw".to_vec())
            .with_config("c1", vec![2; MAX_CONFIG_DATA_BYTES + 1]);
        let err = big_config
            .resolve(&TaskId::new("t"), &spec_with("db"))
            .unwrap_err();
        assert!(err.to_string().contains("container.configs[0]"), "{err}");
    }

    #[test]
    fn retain_drops_unreferenced() {
        let mut files = TaskFiles::new()
            .with_secret("s1", b"pw".to_vec())
            .with_secret("other", b"no".to_vec());
        files.retain_referenced(&spec_with("db"));
        assert_eq!(files.secrets.len(), 1);
    }
}
