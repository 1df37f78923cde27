//! Reading compose files into one [`ComposeProject`].

use crate::stack::compose::file_parse::{FileParse, Notes};
use crate::stack::compose::project::ComposeProject;
use crate::stack::compose::service_options::FORBIDDEN_SERVICE_OPTIONS;
use crate::stack::compose_file::ComposeFile;
use crate::stack::error::StackError;
use crate::stack::limits::{MAX_COMPOSE_FILE_BYTES, MAX_COMPOSE_FILES};
use crate::stack::syntax::interpolation::interpolate_value;
use crate::stack::syntax::node::{Node, key_text};
use serde_norway::Value;
use std::collections::BTreeMap;
use std::io;
use std::path::Path;

/// The version a file without `version:` (or with `"3"`) has, as docker.
const DEFAULT_VERSION: &str = "3.13";

/// The highest `3.x` docker's stack loader has a schema for.
const MAX_MINOR_VERSION: u32 = 13;

fn version_of(root: &Value, file: &str) -> Result<String, StackError> {
    let version = match root.get("version") {
        None | Some(Value::Null) => return Ok(DEFAULT_VERSION.to_owned()),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => key_text(other).unwrap_or_default(),
    };
    if version.is_empty() || version == "3" {
        return Ok(DEFAULT_VERSION.to_owned());
    }
    let supported = version
        .strip_prefix("3.")
        .and_then(|minor| {
            minor
                .parse::<u32>()
                .ok()
                .filter(|_| !minor.starts_with('+'))
        })
        .is_some_and(|minor| minor <= MAX_MINOR_VERSION);
    if supported {
        Ok(version)
    } else {
        Err(StackError::UnsupportedVersion {
            file: file.to_owned(),
            version,
        })
    }
}

/// Docker refuses files whose services use options like `extends` or `mem_limit`.
fn check_forbidden(root: &Value, file: &str) -> Result<(), StackError> {
    let Some(Value::Mapping(services)) = root.get("services") else {
        return Ok(());
    };
    let mut found = std::collections::BTreeSet::new();
    for service in services.values() {
        if let Value::Mapping(options) = service {
            for (name, why) in FORBIDDEN_SERVICE_OPTIONS {
                if options.contains_key(*name) {
                    found.insert(format!("{name}: {why}"));
                }
            }
        }
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(StackError::Forbidden {
            file: file.to_owned(),
            properties: found.into_iter().collect(),
        })
    }
}

/// Reads compose files as `docker stack deploy -c a.yml -c b.yml` does and merges them, later
/// files overriding and extending earlier ones.
///
/// Each file is parsed as YAML (anchors, aliases and `<<` merge keys resolved), its version
/// checked (3.x; all files the same, as docker), refused if a service uses an option docker
/// forbids, interpolated with `env` (`${VAR}`, `${VAR:-default}`, `${VAR-default}`,
/// `${VAR:?error}`, `${VAR?error}`, `$$`), then read section by section. `read_file` reads the
/// files the compose files name (`env_file`s and the `file:` of secrets and configs), relative
/// paths taken from the first file's directory as docker does; pass `&|p: &Path| std::fs::read(p)`
/// to read from disk. See the [module documentation](crate::stack) for what each option
/// becomes.
///
/// ```
/// use std::collections::BTreeMap;
/// use std::path::Path;
/// use swarm_core::stack::{ComposeFile, load};
///
/// let base = ComposeFile::new("docker-compose.yml", "services:\n  web:\n    image: nginx:${TAG:-1.27}\n");
/// let over = ComposeFile::new("prod.yml", "services:\n  web:\n    deploy:\n      replicas: 3\n");
/// let env = BTreeMap::new();
/// let project = load(&[base, over], &env, &|p: &Path| std::fs::read(p))?;
/// let web = &project.services["web"];
/// assert_eq!(web.image.as_deref(), Some("nginx:1.27"));
/// assert_eq!(web.deploy.replicas, Some(3));
/// # Ok::<(), swarm_core::stack::StackError>(())
/// ```
pub fn load(
    files: &[ComposeFile],
    env: &BTreeMap<String, String>,
    read_file: &dyn Fn(&Path) -> io::Result<Vec<u8>>,
) -> Result<ComposeProject, StackError> {
    let first = files.first().ok_or(StackError::NoFiles)?;
    if files.len() > MAX_COMPOSE_FILES {
        return Err(StackError::TooManyFiles {
            count: files.len(),
            limit: MAX_COMPOSE_FILES,
        });
    }
    let working_dir = first.path.parent().unwrap_or(Path::new(""));
    let mut project: Option<ComposeProject> = None;
    for f in files {
        let name = f.path.display().to_string();
        if f.contents.len() > MAX_COMPOSE_FILE_BYTES {
            return Err(StackError::TooLarge {
                file: name,
                field: "(the compose file)".to_owned(),
                size_bytes: f.contents.len(),
                limit_bytes: MAX_COMPOSE_FILE_BYTES,
            });
        }
        let yaml_error = |e: serde_norway::Error| StackError::Yaml {
            file: name.clone(),
            message: e.to_string(),
        };
        let mut root: Value = serde_norway::from_slice(&f.contents).map_err(yaml_error)?;
        if !root.is_mapping() {
            return Err(StackError::Invalid {
                file: name,
                field: "(top level)".to_owned(),
                message: "top-level object must be a mapping".to_owned(),
            });
        }
        root.apply_merge().map_err(yaml_error)?;
        let version = version_of(&root, &name)?;
        if let Some(p) = &project {
            if p.version != version {
                return Err(StackError::VersionMismatch {
                    file: name,
                    first: p.version.clone(),
                    second: version,
                });
            }
        }
        check_forbidden(&root, &name)?;
        interpolate_value(&mut root, env, &name, "")?;
        let mut cx = FileParse {
            file: &name,
            version,
            working_dir,
            env,
            read_file,
            notes: Notes::default(),
        };
        let part = ComposeProject::parse_file(Node::root(&root, &name), &mut cx)?;
        match project.as_mut() {
            Some(p) => p.merge_from(part),
            None => project = Some(part),
        }
    }
    project.ok_or(StackError::NoFiles)
}
