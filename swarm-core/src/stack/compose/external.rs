//! `external:` of a top-level network, volume, secret or config: `true`, or the deprecated
//! `{name: x}`; and the name the object then has.

use crate::stack::compose::file_parse::FileParse;
use crate::stack::error::StackError;
use crate::stack::syntax::node::{Node, child_path};
use serde_norway::Value;

/// What `external:` says.
#[derive(Default)]
pub(crate) struct External {
    /// Whether the object is external.
    pub(crate) external: bool,
    /// The name `external.name` gives.
    pub(crate) name: Option<String>,
}

/// Reads `external:`.
pub(crate) fn parse_external(node: Node<'_>) -> Result<External, StackError> {
    match node.value {
        Value::Mapping(_) => {
            let mut name = None;
            for (key, value) in node.entries(false)? {
                let p = child_path(node.path, &key);
                let child = node.at(value, &p);
                match key.as_str() {
                    "name" => name = Some(child.string()?),
                    _ => return Err(child.error("unknown option")),
                }
            }
            Ok(External {
                external: true,
                name,
            })
        }
        _ => Ok(External {
            external: node.bool()?,
            name: None,
        }),
    }
}

/// The name an object `key` of `kind` (`network`, `volume`, `secret`, `config`) has, as docker's
/// loader decides: for an external one `external.name` (deprecated from `3.<deprecated_from>`
/// on, with docker's warning; an error next to `name:`), else `name:`, else the key. `None` for
/// a non-external object without `name:` (it is named `<stack>_<key>`).
pub(crate) fn resolve_name(
    node: Node<'_>,
    cx: &mut FileParse<'_>,
    kind: &str,
    key: &str,
    external: External,
    name: Option<String>,
    deprecated_from: u32,
) -> Result<Option<String>, StackError> {
    if !external.external {
        return Ok(name);
    }
    match external.name {
        Some(ext) => {
            if name.is_some() {
                return Err(node.error(format!(
                    "{kind} {key}: {kind}.external.name and {kind}.name conflict; only use {kind}.name"
                )));
            }
            if cx.version_at_least(deprecated_from) {
                cx.notes.warnings.push(format!(
                    "{kind} {key}: {kind}.external.name is deprecated in favor of {kind}.name"
                ));
            }
            Ok(Some(ext))
        }
        None => Ok(Some(name.unwrap_or_else(|| key.to_owned()))),
    }
}
