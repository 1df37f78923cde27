//! `deploy.placement`.

use crate::stack::compose::merge::over;
use crate::stack::error::StackError;
use crate::stack::syntax::node::{Node, child_path, item_path};

/// Placement rules as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ComposePlacement {
    /// Constraints such as `node.role == manager`.
    pub constraints: Vec<String>,
    /// Spread preferences: the descriptors (`node.labels.zone`).
    pub preferences: Vec<String>,
    /// At most this many tasks on one node.
    pub max_replicas_per_node: Option<u64>,
}

impl ComposePlacement {
    /// Reads `deploy.placement:`.
    pub(crate) fn parse(node: Node<'_>) -> Result<Self, StackError> {
        let mut out = ComposePlacement::default();
        for (key, value) in node.entries(true)? {
            let p = child_path(node.path, &key);
            let child = node.at(value, &p);
            match key.as_str() {
                "constraints" => out.constraints = child.string_list()?,
                "max_replicas_per_node" => out.max_replicas_per_node = Some(child.u64()?),
                "preferences" => {
                    for (i, item) in child.items()?.iter().enumerate() {
                        let ip = item_path(&p, i);
                        let pref = child.at(item, &ip);
                        for (k, v) in pref.entries(false)? {
                            let kp = child_path(&ip, &k);
                            let field = pref.at(v, &kp);
                            match k.as_str() {
                                "spread" => out.preferences.push(field.string()?),
                                _ => return Err(field.error("unknown option")),
                            }
                        }
                    }
                }
                _ => return Err(child.error("unknown option")),
            }
        }
        Ok(out)
    }

    /// Merges a later file's placement as docker: constraints and preferences are appended,
    /// `max_replicas_per_node` is replaced.
    pub(crate) fn merge_from(&mut self, later: ComposePlacement) {
        self.constraints.extend(later.constraints);
        self.preferences.extend(later.preferences);
        over(&mut self.max_replicas_per_node, later.max_replicas_per_node);
    }
}
