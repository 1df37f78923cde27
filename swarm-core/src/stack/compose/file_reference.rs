//! A service's use of a secret or config: `- name` or `- {source, target, uid, gid, mode}`.

use crate::stack::compose::origin::Origin;
use crate::stack::error::StackError;
use crate::stack::syntax::node::{Node, child_path, item_path};
use serde_norway::Value;

/// One entry of a service's `secrets:` or `configs:`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComposeFileReference {
    /// The top-level secret or config it names (the key under `secrets:`/`configs:`).
    pub source: String,
    /// The file name or path in the task; `None` means the source's name.
    pub target: Option<String>,
    /// Owner user id; `None` means `"0"`.
    pub uid: Option<String>,
    /// Owner group id; `None` means `"0"`.
    pub gid: Option<String>,
    /// Permission bits; `None` means `0o444`.
    pub mode: Option<u32>,
    /// Where the entry was written.
    pub origin: Origin,
}

/// Reads a file mode: a number as YAML gives it (`0o440`, `292`), or a string with a leading
/// `0` read as octal, as docker's YAML reader reads the unquoted `0440`.
fn file_mode(node: Node<'_>) -> Result<u32, StackError> {
    let bad = || node.error("must be a file mode such as 0440");
    match node.value {
        Value::String(s) => {
            let s = s.trim();
            let octal = s
                .strip_prefix("0o")
                .or_else(|| s.strip_prefix('0').filter(|r| !r.is_empty()));
            match octal {
                Some(digits) => u32::from_str_radix(digits, 8).map_err(|_| bad()),
                None if s == "0" => Ok(0),
                None => s.parse().map_err(|_| bad()),
            }
        }
        _ => u32::try_from(node.u64()?).map_err(|_| bad()),
    }
}

/// Reads a service's `secrets:` or `configs:` list.
pub(crate) fn parse_file_references(
    node: Node<'_>,
) -> Result<Vec<ComposeFileReference>, StackError> {
    let mut out = Vec::new();
    for (i, item) in node.items()?.iter().enumerate() {
        let p = item_path(node.path, i);
        let child = node.at(item, &p);
        let mut r = ComposeFileReference {
            source: String::new(),
            target: None,
            uid: None,
            gid: None,
            mode: None,
            origin: Origin::new(node.file, p.clone()),
        };
        match item {
            Value::String(s) => r.source = s.clone(),
            Value::Mapping(_) => {
                for (key, value) in child.entries(false)? {
                    let kp = child_path(&p, &key);
                    let field = child.at(value, &kp);
                    match key.as_str() {
                        "source" => r.source = field.string()?,
                        "target" => r.target = Some(field.string()?),
                        "uid" => r.uid = Some(field.string()?),
                        "gid" => r.gid = Some(field.string()?),
                        "mode" => r.mode = Some(file_mode(field)?),
                        _ => return Err(field.error("unknown option")),
                    }
                }
            }
            _ => return Err(child.type_error("a name or a mapping")),
        }
        if r.source.is_empty() {
            return Err(child.error("no source given"));
        }
        out.push(r);
    }
    Ok(out)
}

/// Merges a later file's references into a service's, as docker: keyed by source (a later one
/// replaces an earlier one of the same source), sorted by source.
pub(crate) fn merge_file_references(
    base: &mut Vec<ComposeFileReference>,
    later: Vec<ComposeFileReference>,
) {
    for r in later {
        base.retain(|b| b.source != r.source);
        base.push(r);
    }
    base.sort_by(|a, b| a.source.cmp(&b.source));
}
