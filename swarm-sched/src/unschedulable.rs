//! The per-filter summary of why a group (or a task) finds no node.

use crate::rejection::{Filter, Rejection};
use crate::task::TaskSpec;
use std::collections::BTreeMap;
use std::fmt;

/// How many nodes one rejection excluded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RejectionCount {
    /// What failed.
    pub rejection: Rejection,
    /// On how many nodes it was the first filter to fail.
    pub nodes: usize,
    /// Human description (`lack 512 MiB memory`).
    pub description: String,
}

/// Why tasks of a group could not be placed: for every node, the first filter that rejects
/// it, counted, the most frequent reason first (ties in filter order). The counts add up to
/// `nodes_total` (every node is counted exactly once; `nodes_passing` is the count of nodes
/// that pass every filter, 0 after a failed placement).
///
/// Displays in SwarmKit's style (most frequent first, as SwarmKit sorts it), but complete:
/// `no suitable node (3 nodes lack 512 MiB memory; 2 nodes not available for new tasks)`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Unschedulable {
    /// Nodes the engine holds.
    pub nodes_total: usize,
    /// Nodes that pass every filter.
    pub nodes_passing: usize,
    /// Per rejection, most frequent first (ties in filter order).
    pub rejections: Vec<RejectionCount>,
}

impl Unschedulable {
    /// Nodes excluded by a filter (all its rejections summed).
    pub fn excluded_by(&self, filter: Filter) -> usize {
        self.rejections
            .iter()
            .filter(|r| r.rejection.filter() == filter)
            .map(|r| r.nodes)
            .sum()
    }

    /// Builds the summary from first-rejections per node (`None` = passes).
    pub(crate) fn from_verdicts(
        spec: &TaskSpec,
        verdicts: impl IntoIterator<Item = Option<Rejection>>,
    ) -> Self {
        let mut counts: BTreeMap<Rejection, usize> = BTreeMap::new();
        let mut total = 0;
        let mut passing = 0;
        for v in verdicts {
            total += 1;
            match v {
                Some(r) => *counts.entry(r).or_insert(0) += 1,
                None => passing += 1,
            }
        }
        let mut rejections: Vec<RejectionCount> = counts
            .into_iter()
            .map(|(rejection, nodes)| RejectionCount {
                rejection,
                nodes,
                description: rejection.describe(spec, nodes),
            })
            .collect();
        // Most frequent first, as SwarmKit sorts its explanation: users read the first
        // reason. The sort is stable, so ties keep filter order.
        rejections.sort_by_key(|r| std::cmp::Reverse(r.nodes));
        Self {
            nodes_total: total,
            nodes_passing: passing,
            rejections,
        }
    }
}

impl fmt::Display for Unschedulable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no suitable node (")?;
        if self.nodes_total == 0 {
            f.write_str("the cluster has no nodes")?;
        }
        let mut first = true;
        for r in &self.rejections {
            if !first {
                f.write_str("; ")?;
            }
            first = false;
            write!(
                f,
                "{} node{} {}",
                r.nodes,
                if r.nodes == 1 { "" } else { "s" },
                r.description
            )?;
        }
        if self.nodes_passing > 0 {
            if !first {
                f.write_str("; ")?;
            }
            write!(
                f,
                "{} node{} would fit",
                self.nodes_passing,
                if self.nodes_passing == 1 { "" } else { "s" }
            )?;
        }
        f.write_str(")")
    }
}
