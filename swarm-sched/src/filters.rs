//! The filter chain: a task spec compiled once per group against the engine's symbols,
//! evaluated per node over the node table.
//!
//! Order (cheapest first; a node is rejected by the first that fails):
//! 1. availability: node alive, ready and `active`;
//! 2. platform: the node's OS/architecture is one the task supports;
//! 3. constraints, in the order written;
//! 4. resources: CPU, memory, then each generic resource in the order requested. As
//!    SwarmKit's resource filter: on as soon as the task reserves anything (CPU, memory or a
//!    generic resource), and then a node is refused when its free amount is below the
//!    reservation, zero included, so an over-committed node (free < 0) takes no task that
//!    reserves something; a task that reserves nothing skips the filter;
//! 5. host-mode published ports free;
//! 6. max replicas per node.
//!
//! Filters 1–3 depend only on the node and the spec ("static"); 4–6 change as tasks are
//! placed ("dynamic").

use crate::checks::{amount, count};
use crate::constraint::{ConstraintKey, IpMatch, Operator, PreferenceKey};
use crate::error::SchedError;
use crate::intern::{EMPTY_SYM, Interner, NO_SYM, Sym};
use crate::limits::{
    MAX_CONSTRAINTS_PER_TASK, MAX_GENERIC_COUNT, MAX_GENERIC_PER_TASK, MAX_HOST_PORTS_PER_TASK,
    MAX_MEMORY_BYTES, MAX_NANO_CPUS, MAX_PLATFORMS_PER_TASK, MAX_PREFERENCES,
};
use crate::node::{HostPort, normalize_arch};
use crate::node_table::Nodes;
use crate::rejection::Rejection;
use crate::task::TaskSpec;

/// Wildcard symbol in a platform requirement.
const ANY: Sym = u32::MAX - 1;

#[derive(Debug, Clone, Copy)]
enum Field {
    Role,
    Os,
    Arch,
}

/// A compiled constraint. Node IDs and hostnames are compared as text (they are unique
/// per node, so interning them would grow the symbol table with every node ever seen).
#[derive(Debug, Clone)]
enum Cc {
    Text {
        hostname: bool,
        want: String,
        eq: bool,
    },
    Field {
        field: Field,
        want: Sym,
        eq: bool,
    },
    Label {
        engine: bool,
        key: Sym,
        want: Sym,
        eq: bool,
    },
    Ip {
        m: IpMatch,
        eq: bool,
    },
}

/// A task spec resolved against the engine's symbols: the filter chain for one group (plus
/// its spread preferences, resolved alongside). Each filter takes the node table and a slot.
#[derive(Debug, Clone)]
pub(crate) struct FilterChain {
    pub(crate) svc: u32,
    pub(crate) cpu: i64,
    pub(crate) mem: i64,
    /// The task reserves something (CPU, memory or a generic resource): the resource filter
    /// is on.
    pub(crate) reserves: bool,
    /// (kind symbol, count, index in spec.generic); a count of 0 still needs one free unit
    /// of the kind (SwarmKit drops a kind from a node's free list when none is left).
    pub(crate) generic: Vec<(Sym, i64, usize)>,
    pub(crate) ports: Vec<u32>,
    pub(crate) max_per_node: u32,
    platforms: Vec<(Sym, Sym)>,
    constraints: Vec<Cc>,
    pub(crate) prefs: Vec<(bool, Sym)>,
    /// No generic resources, ports or max replicas: fit is CPU and memory only.
    pub(crate) simple: bool,
    /// No platforms and no constraints: static filtering is availability only.
    pub(crate) static_trivial: bool,
}

impl FilterChain {
    /// Resolves a spec against `strings` (the symbols of the nodes' labels and fields), after
    /// checking it against the task limits. `svc` is the service slot (`u32::MAX` for a
    /// service never seen).
    pub(crate) fn compile(
        spec: &TaskSpec,
        svc: u32,
        strings: &Interner,
    ) -> Result<Self, SchedError> {
        count(
            "task spec: constraints",
            spec.constraints.len(),
            MAX_CONSTRAINTS_PER_TASK,
        )?;
        count(
            "task spec: preferences",
            spec.preferences.len(),
            MAX_PREFERENCES,
        )?;
        count(
            "task spec: platforms",
            spec.platforms.len(),
            MAX_PLATFORMS_PER_TASK,
        )?;
        count(
            "task spec: host ports",
            spec.host_ports.len(),
            MAX_HOST_PORTS_PER_TASK,
        )?;
        count(
            "task spec: generic resources",
            spec.generic.len(),
            MAX_GENERIC_PER_TASK,
        )?;
        let cpu = amount(spec.nano_cpus, MAX_NANO_CPUS, || {
            "task spec: nano_cpus".to_owned()
        })?;
        let mem = amount(spec.memory_bytes, MAX_MEMORY_BYTES, || {
            "task spec: memory_bytes".to_owned()
        })?;
        for g in &spec.generic {
            amount(g.count, MAX_GENERIC_COUNT, || {
                format!("task spec: generic resource {:?} count", g.kind)
            })?;
        }
        let sym = |s: &str| strings.get(s).unwrap_or(NO_SYM);
        let constraints = spec
            .constraints
            .iter()
            .map(|c| {
                let eq = c.op == Operator::Eq;
                let want = sym(&c.normalized_value());
                match &c.key {
                    ConstraintKey::NodeId => Cc::Text {
                        hostname: false,
                        want: c.normalized_value(),
                        eq,
                    },
                    ConstraintKey::Hostname => Cc::Text {
                        hostname: true,
                        want: c.normalized_value(),
                        eq,
                    },
                    ConstraintKey::Role => Cc::Field {
                        field: Field::Role,
                        want,
                        eq,
                    },
                    ConstraintKey::PlatformOs => Cc::Field {
                        field: Field::Os,
                        want,
                        eq,
                    },
                    ConstraintKey::PlatformArch => Cc::Field {
                        field: Field::Arch,
                        want,
                        eq,
                    },
                    ConstraintKey::NodeLabel(k) => Cc::Label {
                        engine: false,
                        key: sym(k),
                        want,
                        eq,
                    },
                    ConstraintKey::EngineLabel(k) => Cc::Label {
                        engine: true,
                        key: sym(k),
                        want,
                        eq,
                    },
                    ConstraintKey::Ip => match c.ip {
                        Some(m) => Cc::Ip { m, eq },
                        // Constraint built by hand without the parsed block: compare nothing.
                        None => Cc::Field {
                            field: Field::Role,
                            want: NO_SYM,
                            eq,
                        },
                    },
                }
            })
            .collect::<Vec<_>>();
        let platforms = spec
            .platforms
            .iter()
            .map(|p| {
                let os = if p.os.is_empty() {
                    ANY
                } else {
                    sym(&p.os.to_lowercase())
                };
                let arch = if p.arch.is_empty() {
                    ANY
                } else {
                    sym(&normalize_arch(&p.arch))
                };
                (os, arch)
            })
            .collect::<Vec<_>>();
        let generic = spec
            .generic
            .iter()
            .enumerate()
            .map(|(i, g)| (sym(&g.kind), i64::try_from(g.count).unwrap_or(i64::MAX), i))
            .collect::<Vec<_>>();
        let mut ports: Vec<u32> = spec.host_ports.iter().map(|p| p.key()).collect();
        ports.sort_unstable();
        ports.dedup();
        let prefs = spec
            .preferences
            .iter()
            .map(|p| match &p.key {
                PreferenceKey::NodeLabel(k) => (false, sym(k)),
                PreferenceKey::EngineLabel(k) => (true, sym(k)),
            })
            .collect();
        let max_per_node = u32::try_from(spec.max_replicas_per_node).unwrap_or(u32::MAX);
        Ok(FilterChain {
            svc,
            cpu,
            mem,
            reserves: cpu > 0 || mem > 0 || !generic.is_empty(),
            simple: generic.is_empty() && ports.is_empty() && max_per_node == 0,
            static_trivial: constraints.is_empty() && platforms.is_empty(),
            generic,
            ports,
            max_per_node,
            platforms,
            constraints,
            prefs,
        })
    }

    /// First filter of the chain that rejects node `i`, given it already runs `svc_count`
    /// tasks of the group's service; `None` if one more task fits there.
    pub(crate) fn verdict(&self, nodes: &Nodes, i: usize, svc_count: u32) -> Option<Rejection> {
        self.static_reject(nodes, i)
            .or_else(|| self.dynamic_reject(nodes, i, svc_count))
    }

    /// First static filter (availability, platform, constraints) that rejects node `i`.
    pub(crate) fn static_reject(&self, nodes: &Nodes, i: usize) -> Option<Rejection> {
        let c = self;
        if !nodes.hot[i].usable {
            return Some(Rejection::NotAvailable);
        }
        if c.static_trivial {
            return None;
        }
        let s = &nodes.slots[i];
        if !c.platforms.is_empty()
            && !c
                .platforms
                .iter()
                .any(|&(os, arch)| (os == ANY || os == s.os) && (arch == ANY || arch == s.arch))
        {
            return Some(Rejection::Platform);
        }
        for (k, cc) in c.constraints.iter().enumerate() {
            let ok = match *cc {
                Cc::Text {
                    hostname,
                    ref want,
                    eq,
                } => {
                    let have = if hostname { &s.host_l } else { &s.id_l };
                    (have == want) == eq
                }
                Cc::Field { field, want, eq } => {
                    let have = match field {
                        Field::Role => s.role,
                        Field::Os => s.os,
                        Field::Arch => s.arch,
                    };
                    (have == want) == eq
                }
                Cc::Label {
                    engine,
                    key,
                    want,
                    eq,
                } => {
                    let have = if key == NO_SYM {
                        EMPTY_SYM
                    } else {
                        nodes.label(i, engine, key).map_or(EMPTY_SYM, |l| l.0)
                    };
                    (have == want) == eq
                }
                Cc::Ip { m, eq } => s.spec.ip.is_some_and(|ip| m.contains(ip)) == eq,
            };
            if !ok {
                return Some(Rejection::Constraint(k));
            }
        }
        None
    }

    /// First dynamic filter (resources, host ports, max replicas) that rejects node `i`,
    /// given it already runs `svc_count` tasks of the group's service.
    fn dynamic_reject(&self, nodes: &Nodes, i: usize, svc_count: u32) -> Option<Rejection> {
        let c = self;
        let h = &nodes.hot[i];
        if c.reserves {
            if h.free_cpu < c.cpu {
                return Some(Rejection::Cpu);
            }
            if h.free_mem < c.mem {
                return Some(Rejection::Memory);
            }
        }
        if c.simple {
            return None;
        }
        for &(kind, count, idx) in &c.generic {
            if kind == NO_SYM || nodes.generic_free(i, kind) < count.max(1) {
                return Some(Rejection::Generic(idx));
            }
        }
        for &p in &c.ports {
            if nodes.port_in_use(i, p) {
                return Some(Rejection::HostPort(HostPort::from_key(p)));
            }
        }
        if c.max_per_node > 0 && svc_count >= c.max_per_node {
            return Some(Rejection::MaxReplicas);
        }
        None
    }

    /// Whether CPU and memory free amounts `free_cpu` and `free_mem` pass the resource
    /// filter's CPU and memory checks.
    #[inline]
    pub(crate) fn cpu_mem_fit(&self, free_cpu: i64, free_mem: i64) -> bool {
        !self.reserves || (free_cpu >= self.cpu && free_mem >= self.mem)
    }

    /// Whether one more task of the group fits on node `i`.
    #[inline]
    pub(crate) fn fits(&self, nodes: &Nodes, i: usize, svc_count: u32) -> bool {
        let h = &nodes.hot[i];
        if !self.cpu_mem_fit(h.free_cpu, h.free_mem) {
            return false;
        }
        self.simple || self.dynamic_reject(nodes, i, svc_count).is_none()
    }
}
