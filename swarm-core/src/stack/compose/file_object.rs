//! A top-level `secrets:` or `configs:` entry, with the contents of its `file:`.

use crate::model::SecretData;
use crate::stack::compose::external::{External, parse_external, resolve_name};
use crate::stack::compose::file_parse::FileParse;
use crate::stack::compose::origin::Origin;
use crate::stack::error::StackError;
use crate::stack::syntax::node::{Node, child_path};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Whether a file object is a secret or a config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileObjectKind {
    /// A `secrets:` entry.
    Secret,
    /// A `configs:` entry.
    Config,
}

impl FileObjectKind {
    /// `"secret"` or `"config"`, as docker's messages say.
    pub fn as_str(self) -> &'static str {
        match self {
            FileObjectKind::Secret => "secret",
            FileObjectKind::Config => "config",
        }
    }

    /// The most bytes its data may have (swarm-secrets' secret limit, the model's config limit).
    pub fn max_data_bytes(self) -> usize {
        match self {
            FileObjectKind::Secret => swarm_secrets::limits::MAX_SECRET_BYTES,
            FileObjectKind::Config => crate::model::MAX_CONFIG_DATA_BYTES,
        }
    }
}

/// A secret or config of the stack as written, with its data read when it is not external.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComposeFileObject {
    /// Secret or config.
    pub kind: FileObjectKind,
    /// The name in the cluster: for an external object the one it is found by, else `name:` if
    /// given; `None` means `<stack>_<key>`.
    pub name: Option<String>,
    /// Whether it exists beforehand.
    pub external: bool,
    /// The file its data came from (resolved against the project directory).
    pub file: Option<PathBuf>,
    /// The file's bytes (zeroized on drop, never printed); `None` for an external object.
    pub data: Option<SecretData>,
    /// Labels (the namespace label is added at conversion).
    pub labels: BTreeMap<String, String>,
    /// Where it was declared.
    pub origin: Origin,
}

impl ComposeFileObject {
    /// Reads the entry `key` of `secrets:` or `configs:` and, unless external, its file.
    pub(crate) fn parse(
        kind: FileObjectKind,
        key: &str,
        node: Node<'_>,
        cx: &mut FileParse<'_>,
    ) -> Result<Self, StackError> {
        let mut o = ComposeFileObject {
            kind,
            name: None,
            external: false,
            file: None,
            data: None,
            labels: BTreeMap::new(),
            origin: Origin::new(node.file, node.path),
        };
        let mut external = External::default();
        let mut file = None;
        for (k, value) in node.entries(true)? {
            let p = child_path(node.path, &k);
            let child = node.at(value, &p);
            match k.as_str() {
                "name" => o.name = Some(child.string()?),
                "external" => external = parse_external(child)?,
                "file" => file = Some((child.string()?, p)),
                "labels" => o.labels = child.labels()?,
                "template_driver" => cx.not_supported(&p),
                "driver" | "driver_opts" if kind == FileObjectKind::Secret => {
                    return Err(child.error(
                        "secrets from a driver are not supported by this library (give a file or external: true)",
                    ));
                }
                k if k.starts_with("x-") => {}
                _ => return Err(child.error("unknown option")),
            }
        }
        o.external = external.external;
        let name = o.name.take();
        o.name = resolve_name(node, cx, kind.as_str(), key, external, name, 5)?;
        if !o.external {
            let (path, field) = file.ok_or_else(|| {
                node.error(format!(
                    "{} {key} needs a file (or external: true)",
                    kind.as_str()
                ))
            })?;
            o.data = Some(SecretData::new(cx.read(
                &field,
                &path,
                kind.max_data_bytes(),
            )?));
            o.file = Some(cx.resolve(&path));
        }
        Ok(o)
    }
}
