//! A service's `networks:`, a list of names or a mapping of names to `{aliases, …}`.

use crate::stack::compose::file_parse::FileParse;
use crate::stack::compose::origin::Origin;
use crate::stack::error::StackError;
use crate::stack::syntax::node::{Node, child_path, item_path};
use serde_norway::Value;
use std::collections::BTreeMap;

/// A service's attachment to one of the stack's networks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComposeServiceNetwork {
    /// Extra DNS names of the service on that network (the service's own name is added at
    /// conversion, as docker does).
    pub aliases: Vec<String>,
    /// Where the attachment was written.
    pub origin: Origin,
}

/// Reads a service's `networks:` into a map from the top-level network key to the attachment.
/// `ipv4_address` and `ipv6_address` are dropped, as docker's stack converter drops them;
/// `driver_opts` is noted as not supported.
pub(crate) fn parse_service_networks(
    node: Node<'_>,
    cx: &mut FileParse<'_>,
) -> Result<BTreeMap<String, ComposeServiceNetwork>, StackError> {
    let mut out = BTreeMap::new();
    match node.value {
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                let p = item_path(node.path, i);
                let name = node.at(item, &p).string()?;
                out.insert(
                    name,
                    ComposeServiceNetwork {
                        aliases: Vec::new(),
                        origin: Origin::new(node.file, p),
                    },
                );
            }
        }
        Value::Mapping(_) => {
            for (name, value) in node.entries(false)? {
                let p = child_path(node.path, &name);
                let child = node.at(value, &p);
                let mut attachment = ComposeServiceNetwork {
                    aliases: Vec::new(),
                    origin: Origin::new(node.file, p.clone()),
                };
                for (key, value) in child.entries(true)? {
                    let kp = child_path(&p, &key);
                    let field = child.at(value, &kp);
                    match key.as_str() {
                        "aliases" => attachment.aliases = field.string_list()?,
                        "driver_opts" => cx.not_supported(&kp),
                        "ipv4_address" | "ipv6_address" => {}
                        _ => return Err(field.error("unknown option")),
                    }
                }
                out.insert(name, attachment);
            }
        }
        _ => return Err(node.type_error("a list of network names or a mapping")),
    }
    Ok(out)
}

/// Merges a later file's attachments into a service's, as docker: by network; a later
/// attachment with aliases replaces the earlier aliases.
pub(crate) fn merge_service_networks(
    base: &mut BTreeMap<String, ComposeServiceNetwork>,
    later: BTreeMap<String, ComposeServiceNetwork>,
) {
    for (name, attachment) in later {
        let keep_earlier = attachment.aliases.is_empty() && base.contains_key(&name);
        if !keep_earlier {
            base.insert(name, attachment);
        }
    }
}
