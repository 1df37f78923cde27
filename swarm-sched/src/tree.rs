//! The preference tree (SwarmKit's decision tree): every live node, grouped level by level by
//! the values of a spec's spread preference labels. As in SwarmKit, the tree holds every
//! node, whether or not it passes a group's filters, so a branch's task count is every task
//! of the service on every node under it; only the nodes a group may use are placed on.
//!
//! The tree is built once per list of preferences and then kept up to date by the engine's
//! deltas (a node added, changed or removed; a node's task count changed), so placing a group
//! does not rebuild it. Each leaf keeps its usable nodes ordered by (total tasks, slot): the
//! order in which a spread ranks the nodes that run nothing of the group's service, so a
//! placement reads them lazily, fewest tasks first, instead of scanning the leaf.

use crate::heap::COUNT_KEY_MAX;
use crate::intern::{EMPTY_SYM, Interner, NO_SYM, Sym};
use crate::node_table::Nodes;
use std::collections::BTreeSet;

/// No branch (a slot not in the tree, or the root's parent).
pub(crate) const NONE: u32 = u32::MAX;

/// One branch of the tree. A leaf (at the depth of the last preference) holds nodes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Branch {
    /// The parent branch, [`NONE`] for the root.
    pub(crate) parent: u32,
    /// The label value (raw, as written on the node) this branch stands for; the empty
    /// symbol for nodes missing the label, and for the root.
    value: Sym,
    /// Depth: 0 for the root, the number of preferences for a leaf.
    depth: u32,
    /// Children ordered by label value, the group of nodes missing the label last.
    pub(crate) children: Vec<u32>,
    /// Live nodes under this branch; a branch left with none is removed.
    nodes: u32,
    /// Leaf only: its usable nodes as (total tasks, slot), in ranking order.
    pub(crate) ready: BTreeSet<(u32, u32)>,
}

/// The preference tree of one list of preferences. Branch 0 is the root; branch numbers of
/// removed branches are reused.
#[derive(Debug, Clone)]
pub(crate) struct PrefTree {
    prefs: Vec<(bool, Sym)>,
    pub(crate) branches: Vec<Branch>,
    /// Removed branches, reused first.
    free: Vec<u32>,
    /// Per node slot: its leaf, or [`NONE`].
    leaf_of: Vec<u32>,
    /// Per node slot: the total it is filed under in its leaf's `ready`, or [`NONE`] when
    /// it is not there (not usable).
    filed: Vec<u32>,
}

/// Label value of node `i` for preference `(engine, key)`; the empty symbol if missing.
fn pref_value(nodes: &Nodes, i: usize, pref: (bool, Sym)) -> Sym {
    if pref.1 == NO_SYM {
        return EMPTY_SYM;
    }
    nodes.label(i, pref.0, pref.1).map_or(EMPTY_SYM, |l| l.1)
}

impl PrefTree {
    /// The tree of `prefs` (label symbols of `strings`, which orders the values) over every
    /// live node of the table.
    pub(crate) fn build(nodes: &Nodes, strings: &Interner, prefs: &[(bool, Sym)]) -> Self {
        crate::probe::hit(crate::probe::Probe::TreeBuilds, 1);
        let mut tree = PrefTree {
            prefs: prefs.to_vec(),
            branches: vec![Branch {
                parent: NONE,
                ..Branch::default()
            }],
            free: Vec::new(),
            leaf_of: Vec::new(),
            filed: Vec::new(),
        };
        for i in 0..nodes.slots.len() {
            if nodes.slots[i].alive {
                tree.insert(nodes, strings, i as u32);
            }
        }
        tree
    }

    /// The preferences this tree groups by.
    pub(crate) fn prefs(&self) -> &[(bool, Sym)] {
        &self.prefs
    }

    /// Whether branch `b` is a leaf.
    #[inline]
    pub(crate) fn is_leaf(&self, b: u32) -> bool {
        self.branches[b as usize].depth as usize == self.prefs.len()
    }

    /// The leaf of node slot `i`, or [`NONE`].
    #[inline]
    pub(crate) fn leaf_of(&self, i: u32) -> u32 {
        self.leaf_of.get(i as usize).copied().unwrap_or(NONE)
    }

    /// Adds live node `i` (not in the tree yet) under the branches of its label values,
    /// creating the branches it is the first node of.
    pub(crate) fn insert(&mut self, nodes: &Nodes, strings: &Interner, i: u32) {
        let mut b = 0u32;
        self.branches[0].nodes += 1;
        for level in 0..self.prefs.len() {
            let value = pref_value(nodes, i as usize, self.prefs[level]);
            b = self.child(strings, b, value);
            self.branches[b as usize].nodes += 1;
        }
        let slot = i as usize;
        if self.leaf_of.len() <= slot {
            self.leaf_of.resize(slot + 1, NONE);
            self.filed.resize(slot + 1, NONE);
        }
        self.leaf_of[slot] = b;
        self.filed[slot] = NONE;
        self.sync(nodes, i);
    }

    /// Removes node `i` from the tree (no-op if absent), and the branches it leaves empty.
    pub(crate) fn remove(&mut self, i: u32) {
        let leaf = self.leaf_of(i);
        if leaf == NONE {
            return;
        }
        let slot = i as usize;
        if self.filed[slot] != NONE {
            self.branches[leaf as usize]
                .ready
                .remove(&(self.filed[slot], i));
            self.filed[slot] = NONE;
        }
        self.leaf_of[slot] = NONE;
        let mut b = leaf;
        while b != NONE {
            let br = &mut self.branches[b as usize];
            br.nodes -= 1;
            let parent = br.parent;
            if br.nodes == 0 && parent != NONE {
                *br = Branch::default();
                let siblings = &mut self.branches[parent as usize].children;
                if let Some(p) = siblings.iter().position(|&c| c == b) {
                    siblings.remove(p);
                }
                self.free.push(b);
            }
            b = parent;
        }
    }

    /// Files node `i` again after its task count or usability changed (no-op if absent).
    pub(crate) fn sync(&mut self, nodes: &Nodes, i: u32) {
        let leaf = self.leaf_of(i);
        if leaf == NONE {
            return;
        }
        let slot = i as usize;
        let h = &nodes.hot[slot];
        let want = if h.usable {
            h.total.min(COUNT_KEY_MAX)
        } else {
            NONE
        };
        let had = self.filed[slot];
        if had == want {
            return;
        }
        let ready = &mut self.branches[leaf as usize].ready;
        if had != NONE {
            ready.remove(&(had, i));
        }
        if want != NONE {
            ready.insert((want, i));
        }
        self.filed[slot] = want;
    }

    /// The child of `b` for label value `value`, created in its ordered place if new.
    fn child(&mut self, strings: &Interner, b: u32, value: Sym) -> u32 {
        let order = |v: Sym| (v == EMPTY_SYM, strings.resolve(v));
        let branches = &self.branches;
        let found = branches[b as usize]
            .children
            .binary_search_by(|&c| order(branches[c as usize].value).cmp(&order(value)));
        match found {
            Ok(p) => self.branches[b as usize].children[p],
            Err(p) => {
                let fresh = Branch {
                    parent: b,
                    value,
                    depth: self.branches[b as usize].depth + 1,
                    ..Branch::default()
                };
                let c = match self.free.pop() {
                    Some(c) => {
                        self.branches[c as usize] = fresh;
                        c
                    }
                    None => {
                        self.branches.push(fresh);
                        (self.branches.len() - 1) as u32
                    }
                };
                self.branches[b as usize].children.insert(p, c);
                c
            }
        }
    }

    /// Per branch, the tasks under it, from the per-node counts `counts` (node slot, tasks):
    /// every node of the tree counts, whether or not it passes a group's filters.
    pub(crate) fn branch_tasks(&self, counts: impl IntoIterator<Item = (u32, u32)>) -> Vec<u64> {
        let mut tasks = vec![0u64; self.branches.len()];
        for (i, n) in counts {
            let mut b = self.leaf_of(i);
            while b != NONE {
                tasks[b as usize] += u64::from(n);
                b = self.branches[b as usize].parent;
            }
        }
        tasks
    }
}

#[cfg(test)]
impl PrefTree {
    /// The tree as plain values, branch numbers left out: per branch its label value, live
    /// node count and (for a leaf) its ready set, children in order.
    pub(crate) fn canonical(&self, strings: &Interner) -> String {
        let mut out = String::new();
        self.canonical_at(strings, 0, &mut out);
        out
    }

    fn canonical_at(&self, strings: &Interner, b: u32, out: &mut String) {
        use std::fmt::Write;
        let br = &self.branches[b as usize];
        let _ = write!(
            out,
            "({:?} n={} ready={:?}",
            strings.resolve(br.value),
            br.nodes,
            br.ready
        );
        for &c in &br.children {
            assert_eq!(self.branches[c as usize].parent, b);
            self.canonical_at(strings, c, out);
        }
        out.push(')');
    }
}
