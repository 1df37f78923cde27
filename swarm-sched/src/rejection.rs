//! Why a task cannot go somewhere: per-node verdicts and the per-filter summary of an
//! unschedulable group.

use crate::engine::Engine;
use crate::error::SchedError;
use crate::filters::Compiled;
use crate::ids::{NodeId, ServiceId};
use crate::node::HostPort;
use crate::task::{PendingTask, TaskSpec};
use std::collections::BTreeMap;
use std::fmt;

/// The filters, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Filter {
    /// Node ready and `active`.
    Availability,
    /// Node platform among the task's.
    Platform,
    /// Placement constraints.
    Constraints,
    /// CPU, memory, generic resources.
    Resources,
    /// Host-mode published ports.
    HostPorts,
    /// Max replicas per node.
    MaxReplicas,
}

/// The first filter that rejected a node, with what exactly failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Rejection {
    /// Node down, unknown, paused or drained.
    NotAvailable,
    /// Node platform not among the task's platforms.
    Platform,
    /// The constraint at this index of the spec's `constraints` does not hold.
    Constraint(usize),
    /// Not enough free CPU.
    Cpu,
    /// Not enough free memory.
    Memory,
    /// Not enough of the generic resource at this index of the spec's `generic`.
    Generic(usize),
    /// This host port is taken on the node.
    HostPort(HostPort),
    /// The node already runs the maximum replicas per node of the service.
    MaxReplicas,
}

impl Rejection {
    /// Which filter this belongs to.
    pub fn filter(&self) -> Filter {
        match self {
            Rejection::NotAvailable => Filter::Availability,
            Rejection::Platform => Filter::Platform,
            Rejection::Constraint(_) => Filter::Constraints,
            Rejection::Cpu | Rejection::Memory | Rejection::Generic(_) => Filter::Resources,
            Rejection::HostPort(_) => Filter::HostPorts,
            Rejection::MaxReplicas => Filter::MaxReplicas,
        }
    }

    /// Human description, with the verb agreeing with `nodes` (e.g. "lack 512 MiB memory").
    pub fn describe(&self, spec: &TaskSpec, nodes: usize) -> String {
        let one = nodes == 1;
        let s = |singular: &'static str, plural: &'static str| if one { singular } else { plural };
        match self {
            Rejection::NotAvailable => "not available for new tasks".to_owned(),
            Rejection::Platform => {
                let list: Vec<String> = spec
                    .platforms
                    .iter()
                    .map(|p| {
                        let os = if p.os.is_empty() { "*" } else { &p.os };
                        let arch = if p.arch.is_empty() { "*" } else { &p.arch };
                        format!("{os}/{arch}")
                    })
                    .collect();
                format!(
                    "{} platform {}",
                    s("does not support", "do not support"),
                    list.join(" or ")
                )
            }
            Rejection::Constraint(i) => {
                let c = spec
                    .constraints
                    .get(*i)
                    .map_or_else(|| format!("#{i}"), ToString::to_string);
                format!("{} constraint {c}", s("fails", "fail"))
            }
            Rejection::Cpu => format!("{} {} CPU", s("lacks", "lack"), format_cpus(spec.nano_cpus)),
            Rejection::Memory => format!(
                "{} {} memory",
                s("lacks", "lack"),
                format_bytes(spec.memory_bytes)
            ),
            Rejection::Generic(i) => match spec.generic.get(*i) {
                Some(g) => format!("{} {} {}", s("lacks", "lack"), g.count, g.kind),
                None => format!("{} generic resource #{i}", s("lacks", "lack")),
            },
            Rejection::HostPort(p) => format!("{} host port {p} in use", s("has", "have")),
            Rejection::MaxReplicas => format!(
                "already {} the maximum of {} tasks of this service",
                s("runs", "run"),
                spec.max_replicas_per_node
            ),
        }
    }
}

/// Formats NanoCPUs as cores: `500000000` → `0.5`.
pub(crate) fn format_cpus(nanos: u64) -> String {
    let whole = nanos / 1_000_000_000;
    let frac = nanos % 1_000_000_000;
    if frac == 0 {
        return whole.to_string();
    }
    let f = format!("{frac:09}");
    format!("{whole}.{}", f.trim_end_matches('0'))
}

/// Formats bytes in the largest binary unit that divides them: `536870912` → `512 MiB`.
pub(crate) fn format_bytes(bytes: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (1 << 40, "TiB"),
        (1 << 30, "GiB"),
        (1 << 20, "MiB"),
        (1 << 10, "KiB"),
    ];
    for (size, name) in UNITS {
        if bytes >= size && bytes % size == 0 {
            return format!("{} {name}", bytes / size);
        }
    }
    format!("{bytes} bytes")
}

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
/// it, counted. The counts add up to `nodes_total` (every node is counted exactly once;
/// `nodes_passing` is the count of nodes that pass every filter, 0 after a failed placement).
///
/// Displays in SwarmKit's style, complete:
/// `no suitable node (2 nodes not available for new tasks; 3 nodes lack 512 MiB memory)`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Unschedulable {
    /// Nodes the engine holds.
    pub nodes_total: usize,
    /// Nodes that pass every filter.
    pub nodes_passing: usize,
    /// Per rejection, in filter order.
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
        let rejections = counts
            .into_iter()
            .map(|(rejection, nodes)| RejectionCount {
                rejection,
                nodes,
                description: rejection.describe(spec, nodes),
            })
            .collect();
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

/// One node's verdict for a task spec.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NodeVerdict {
    /// The node.
    pub node: NodeId,
    /// The first filter that rejects it, or `None` if the task fits there now.
    pub rejection: Option<Rejection>,
    /// Human form of the rejection (`fails constraint node.labels.zone==eu`).
    pub reason: Option<String>,
}

impl fmt::Display for NodeVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            Some(r) => write!(f, "{}: {r}", self.node),
            None => write!(f, "{}: fits", self.node),
        }
    }
}

impl Engine {
    pub(crate) fn verdict(&self, i: usize, c: &Compiled, svc_count: u32) -> Option<Rejection> {
        self.static_reject(i, c)
            .or_else(|| self.nodes.dynamic_reject(i, c, svc_count))
    }

    /// For every node (in slot order), the first filter that rejects a task of `service`
    /// with `spec`, given the current state. Pure: changes nothing.
    ///
    /// ```
    /// use swarm_sched::{Constraint, Delta, Engine, NodeSpec, TaskSpec};
    /// let mut e = Engine::default();
    /// e.apply(Delta::NodeAdded(NodeSpec::new("a", "a").with_capacity(1.0, 1 << 30).with_label("zone", "eu"))).unwrap();
    /// e.apply(Delta::NodeAdded(NodeSpec::new("b", "b").with_capacity(1.0, 1 << 30))).unwrap();
    /// let spec = TaskSpec::default().with_constraint(Constraint::parse("node.labels.zone==eu").unwrap());
    /// let v = e.explain(&"web".into(), &spec).unwrap();
    /// assert_eq!(v[0].to_string(), "a: fits");
    /// assert_eq!(v[1].to_string(), "b: fails constraint node.labels.zone==eu");
    /// ```
    pub fn explain(
        &self,
        service: &ServiceId,
        spec: &TaskSpec,
    ) -> Result<Vec<NodeVerdict>, SchedError> {
        let svc = self.service_index.get(service).copied();
        let c = self.compile(spec, svc.unwrap_or(u32::MAX))?;
        let counts = svc.map(|s| &self.svcs[s as usize].counts);
        Ok((0..self.nodes.slots.len())
            .filter(|&i| self.nodes.slots[i].alive)
            .map(|i| {
                let n = counts
                    .and_then(|m| m.get(&(i as u32)).copied())
                    .unwrap_or(0);
                let rejection = self.verdict(i, &c, n);
                NodeVerdict {
                    node: self.nodes.slots[i].spec.id.clone(),
                    rejection,
                    reason: rejection.map(|r| r.describe(spec, 1)),
                }
            })
            .collect())
    }

    /// [`Engine::explain`] for a pending task (its service and spec).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use swarm_sched::{Delta, Engine, NodeSpec, PendingTask, Rejection, TaskSpec};
    /// let mut e = Engine::default();
    /// e.apply(Delta::NodeAdded(NodeSpec::new("a", "a").with_capacity(1.0, 1 << 30))).unwrap();
    /// let task = PendingTask {
    ///     id: "web.1".into(),
    ///     service: "web".into(),
    ///     spec_version: 1,
    ///     spec: Arc::new(TaskSpec::default().with_reservation(2.0, 0)),
    /// };
    /// let v = e.explain_task(&task).unwrap();
    /// assert_eq!(v[0].rejection, Some(Rejection::Cpu));
    /// assert_eq!(v[0].to_string(), "a: lacks 2 CPU");
    /// ```
    pub fn explain_task(&self, task: &PendingTask) -> Result<Vec<NodeVerdict>, SchedError> {
        self.explain(&task.service, &task.spec)
    }

    /// The per-filter summary for a task of `service` with `spec` right now (whether or not
    /// some node would take it: see [`Unschedulable::nodes_passing`]).
    pub fn summarize(
        &self,
        service: &ServiceId,
        spec: &TaskSpec,
    ) -> Result<Unschedulable, SchedError> {
        let verdicts = self.explain(service, spec)?;
        Ok(Unschedulable::from_verdicts(
            spec,
            verdicts.into_iter().map(|v| v.rejection),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(format_cpus(500_000_000), "0.5");
        assert_eq!(format_cpus(2_000_000_000), "2");
        assert_eq!(format_cpus(1_250_000_000), "1.25");
        assert_eq!(format_bytes(512 << 20), "512 MiB");
        assert_eq!(format_bytes(1 << 30), "1 GiB");
        assert_eq!(format_bytes(1536 << 20), "1536 MiB");
        assert_eq!(format_bytes(1000), "1000 bytes");
    }
}
