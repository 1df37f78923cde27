//! Why a node is refused: the filters in the order they run, and the structured reason the
//! first failing one gives, with its human description.

use crate::node::HostPort;
use crate::task::TaskSpec;

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
    /// Not enough free CPU (for a task that reserves no CPU but something else: the node's
    /// CPU is over-committed).
    Cpu,
    /// Not enough free memory (for a task that reserves no memory but something else: the
    /// node's memory is over-committed).
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
            // A task reserving none of it is refused only where it is over-committed.
            Rejection::Cpu if spec.nano_cpus == 0 => {
                format!("{} CPU over-committed", s("has", "have"))
            }
            Rejection::Cpu => format!("{} {} CPU", s("lacks", "lack"), format_cpus(spec.nano_cpus)),
            Rejection::Memory if spec.memory_bytes == 0 => {
                format!("{} memory over-committed", s("has", "have"))
            }
            Rejection::Memory => format!(
                "{} {} memory",
                s("lacks", "lack"),
                format_bytes(spec.memory_bytes)
            ),
            Rejection::Generic(i) => match spec.generic.get(*i) {
                Some(g) if g.count == 0 => format!("{} no free {}", s("has", "have"), g.kind),
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
fn format_cpus(nanos: u64) -> String {
    let whole = nanos / 1_000_000_000;
    let frac = nanos % 1_000_000_000;
    if frac == 0 {
        return whole.to_string();
    }
    let f = format!("{frac:09}");
    format!("{whole}.{}", f.trim_end_matches('0'))
}

/// Formats bytes in the largest binary unit that divides them: `536870912` → `512 MiB`.
fn format_bytes(bytes: u64) -> String {
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
