//! `node ls` filters and `node inspect` lookup (SwarmKit's controlapi `ListNodes` and the
//! docker CLI's id / name / id-prefix resolution).

use crate::manager::control::error::{ControlError, NodeRef};
use crate::model::{Node, NodeAvailability, NodeMembership, NodeRole};
use std::collections::BTreeMap;

/// Most candidates an ambiguous lookup names; the rest are counted.
pub const MAX_NAMED_CANDIDATES: usize = 8;

/// Filters of `node ls`. Within one field the values are alternatives (any may match); across
/// fields all must match; an empty field matches every node.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NodeFilter {
    /// Id prefixes.
    pub id_prefixes: Vec<String>,
    /// Exact names: the spec's name or the reported hostname.
    pub names: Vec<String>,
    /// Desired roles.
    pub roles: Vec<NodeRole>,
    /// Memberships.
    pub memberships: Vec<NodeMembership>,
    /// Availabilities.
    pub availabilities: Vec<NodeAvailability>,
    /// Node labels that must all be present: a key with `None` matches any value, with
    /// `Some(v)` only `v`.
    pub labels: BTreeMap<String, Option<String>>,
}

impl NodeFilter {
    /// Whether `node` passes every filter.
    pub fn matches(&self, node: &Node) -> bool {
        let any = |empty: bool, hit: bool| empty || hit;
        any(
            self.id_prefixes.is_empty(),
            self.id_prefixes
                .iter()
                .any(|p| node.id.as_str().starts_with(p.as_str())),
        ) && any(
            self.names.is_empty(),
            self.names.iter().any(|n| has_name(node, n)),
        ) && any(self.roles.is_empty(), self.roles.contains(&node.spec.role))
            && any(
                self.memberships.is_empty(),
                self.memberships.contains(&node.spec.membership),
            )
            && any(
                self.availabilities.is_empty(),
                self.availabilities.contains(&node.spec.availability),
            )
            && self
                .labels
                .iter()
                .all(|(key, want)| match (node.spec.labels.get(key), want) {
                    (None, _) => false,
                    (Some(_), None) => true,
                    (Some(have), Some(want)) => have == want,
                })
    }
}

fn has_name(node: &Node, name: &str) -> bool {
    (!node.spec.name.is_empty() && node.spec.name == name)
        || node
            .description
            .as_ref()
            .is_some_and(|d| !d.hostname.is_empty() && d.hostname == name)
}

/// `node ls`: the nodes that pass `filter`, ordered by id.
///
/// Contract: returns exactly the nodes for which [`NodeFilter::matches`] holds, each once,
/// sorted by id; pure.
pub fn list_nodes<'a>(nodes: &'a [Node], filter: &NodeFilter) -> Vec<&'a Node> {
    let mut out: Vec<&Node> = nodes.iter().filter(|n| filter.matches(n)).collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// `node inspect`: the one node `query` names, tried as an exact id, then an exact name (the
/// spec's name or the reported hostname), then an id prefix.
///
/// Contract: an exact id wins over everything; otherwise a name or a prefix that matches
/// several nodes is refused with [`ControlError::AmbiguousNode`] naming (up to
/// [`MAX_NAMED_CANDIDATES`], by id order) the candidates; no match is
/// [`ControlError::NodeNotFound`]; an empty query matches nothing.
pub fn find_node<'a>(nodes: &'a [Node], query: &str) -> Result<&'a Node, ControlError> {
    if query.is_empty() {
        return Err(ControlError::NodeNotFound {
            query: String::new(),
        });
    }
    if let Some(node) = nodes.iter().find(|n| n.id.as_str() == query) {
        return Ok(node);
    }
    let by_name = |n: &Node| has_name(n, query);
    let by_prefix = |n: &Node| n.id.as_str().starts_with(query);
    let tries: [&dyn Fn(&Node) -> bool; 2] = [&by_name, &by_prefix];
    for hit in tries {
        let mut found: Vec<&Node> = nodes.iter().filter(|n| hit(n)).collect();
        match found.len() {
            0 => continue,
            1 => return Ok(found[0]),
            total => {
                found.sort_by(|a, b| a.id.cmp(&b.id));
                return Err(ControlError::AmbiguousNode {
                    query: query.to_owned(),
                    candidates: found
                        .iter()
                        .take(MAX_NAMED_CANDIDATES)
                        .map(|n| NodeRef::of(n))
                        .collect(),
                    more: total.saturating_sub(MAX_NAMED_CANDIDATES),
                });
            }
        }
    }
    Err(ControlError::NodeNotFound {
        query: query.to_owned(),
    })
}
