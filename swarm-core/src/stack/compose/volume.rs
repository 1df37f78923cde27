//! A top-level `volumes:` entry.

use crate::stack::compose::external::{External, parse_external, resolve_name};
use crate::stack::compose::file_parse::FileParse;
use crate::stack::compose::origin::Origin;
use crate::stack::error::StackError;
use crate::stack::syntax::node::{Node, child_path};

/// A named volume of the stack as written. Driver, driver options and labels are noted as not
/// supported (the model's mounts carry no volume options).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ComposeVolume {
    /// The volume's name on the nodes: for an external volume the one it is found by, else
    /// `name:` if given; `None` means `<stack>_<key>`.
    pub name: Option<String>,
    /// Whether the volume exists beforehand.
    pub external: bool,
    /// Where it was declared.
    pub origin: Origin,
}

impl ComposeVolume {
    /// Reads the entry `key` of `volumes:`.
    pub(crate) fn parse(
        key: &str,
        node: Node<'_>,
        cx: &mut FileParse<'_>,
    ) -> Result<Self, StackError> {
        let mut v = ComposeVolume {
            origin: Origin::new(node.file, node.path),
            ..ComposeVolume::default()
        };
        let mut external = External::default();
        let mut options = Vec::new();
        for (k, value) in node.entries(true)? {
            let p = child_path(node.path, &k);
            let child = node.at(value, &p);
            match k.as_str() {
                "name" => v.name = Some(child.string()?),
                "external" => external = parse_external(child)?,
                "driver" | "driver_opts" | "labels" | "x-cluster-spec" => options.push((k, p)),
                k if k.starts_with("x-") => {}
                _ => return Err(child.error("unknown option")),
            }
        }
        for (option, path) in options {
            if external.external && option != "x-cluster-spec" {
                return Err(node.error(format!(
                    "conflicting parameters \"external\" and {option:?} specified for volume {key:?}"
                )));
            }
            cx.not_supported(&path);
        }
        v.external = external.external;
        let name = v.name.take();
        v.name = resolve_name(node, cx, "volume", key, external, name, 4)?;
        Ok(v)
    }
}
