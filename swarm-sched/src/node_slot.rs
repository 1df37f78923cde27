//! One node's entry in the node table, beyond the fields read on every placement: its spec,
//! its labels and platform as symbols, its generic resources, host ports and recent failures.

use crate::checks::to_i64;
use crate::intern::{Interner, Sym};
use crate::node::{GenericResource, NodeSpec, normalize_arch};
use std::collections::{BTreeMap, VecDeque};

/// A label as stored: key, lower-cased value, raw value.
pub(crate) type LabelSyms = (Sym, Sym, Sym);

/// Named items of one kind: (item symbol), sorted by item string.
#[derive(Debug, Clone, Default)]
pub(crate) struct NamedKind {
    pub(crate) kind: Sym,
    pub(crate) items: Vec<Sym>,
}

/// Per-node fields read by filters and deltas.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub(crate) alive: bool,
    pub(crate) spec: NodeSpec,
    /// Lower-cased ID and hostname (compared as text, not interned: unique per node).
    pub(crate) id_l: String,
    pub(crate) host_l: String,
    pub(crate) role: Sym,
    pub(crate) os: Sym,
    pub(crate) arch: Sym,
    pub(crate) labels: Vec<LabelSyms>,
    pub(crate) engine_labels: Vec<LabelSyms>,
    pub(crate) discrete_cap: Vec<(Sym, i64)>,
    pub(crate) named_cap: Vec<NamedKind>,
    pub(crate) discrete_used: Vec<(Sym, i64)>,
    pub(crate) named_claimed: Vec<(Sym, Sym)>,
    pub(crate) static_ports: Vec<u32>,
    pub(crate) task_ports: Vec<(u32, u32)>,
    /// Recent failures: (service slot, spec version, time in ms), oldest first.
    pub(crate) failures: VecDeque<(u32, u64, u64)>,
}

impl Slot {
    /// A live slot for `spec` (already checked against the node limits), with nothing
    /// reserved; its label keys and values, platform, role and generic kinds are interned in
    /// `strings`.
    pub(crate) fn new(spec: NodeSpec, strings: &mut Interner) -> Self {
        let s = strings;
        let mut labels_of = |m: &BTreeMap<String, String>| {
            let mut v: Vec<LabelSyms> = m
                .iter()
                .map(|(k, val)| (s.intern(k), s.intern(&val.to_lowercase()), s.intern(val)))
                .collect();
            v.sort_unstable_by_key(|l| l.0);
            v
        };
        let labels = labels_of(&spec.labels);
        let engine_labels = labels_of(&spec.engine_labels);
        let mut discrete_cap: Vec<(Sym, i64)> = Vec::new();
        let mut named: Vec<(String, String)> = Vec::new();
        for g in &spec.resources.generic {
            match g {
                GenericResource::Discrete { kind, count } => {
                    let k = s.intern(kind);
                    match discrete_cap.iter_mut().find(|d| d.0 == k) {
                        Some(d) => d.1 = d.1.saturating_add(to_i64(*count)),
                        None => discrete_cap.push((k, to_i64(*count))),
                    }
                }
                GenericResource::Named { kind, value } => named.push((kind.clone(), value.clone())),
            }
        }
        named.sort();
        named.dedup();
        let mut named_cap: Vec<NamedKind> = Vec::new();
        for (kind, value) in &named {
            let k = s.intern(kind);
            let item = s.intern(value);
            match named_cap.iter_mut().find(|n| n.kind == k) {
                Some(n) => n.items.push(item),
                None => named_cap.push(NamedKind {
                    kind: k,
                    items: vec![item],
                }),
            }
        }
        let mut static_ports: Vec<u32> = spec.host_ports_in_use.iter().map(|p| p.key()).collect();
        static_ports.sort_unstable();
        static_ports.dedup();
        Slot {
            alive: true,
            id_l: spec.id.as_str().to_lowercase(),
            host_l: spec.hostname.to_lowercase(),
            role: s.intern(spec.role.as_str()),
            os: s.intern(&spec.platform.os.to_lowercase()),
            arch: s.intern(&normalize_arch(&spec.platform.arch)),
            labels,
            engine_labels,
            discrete_cap,
            named_cap,
            discrete_used: Vec::new(),
            named_claimed: Vec::new(),
            static_ports,
            task_ports: Vec::new(),
            failures: VecDeque::new(),
            spec,
        }
    }
}
