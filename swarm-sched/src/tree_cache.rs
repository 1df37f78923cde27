//! The preference trees kept between groups, one per list of spread preferences in use (at
//! most [`MAX_CACHED_TREES`], the least recently used dropped first), kept up to date by
//! the engine's deltas.

use crate::intern::{Interner, Sym};
use crate::limits::MAX_CACHED_TREES;
use crate::node_table::Nodes;
use crate::tree::PrefTree;

/// Preference trees by list of preferences, with the tick of their last use.
#[derive(Debug, Clone, Default)]
pub(crate) struct Trees {
    entries: Vec<(PrefTree, u64)>,
    tick: u64,
}

impl Trees {
    /// The index of the tree of `prefs`, built now if it is not kept (dropping the least
    /// recently used tree when [`MAX_CACHED_TREES`] are kept).
    pub(crate) fn find_or_build(
        &mut self,
        nodes: &Nodes,
        strings: &Interner,
        prefs: &[(bool, Sym)],
    ) -> usize {
        self.tick += 1;
        if let Some(k) = self.entries.iter().position(|e| e.0.prefs() == prefs) {
            self.entries[k].1 = self.tick;
            return k;
        }
        let tree = PrefTree::build(nodes, strings, prefs);
        if self.entries.len() < MAX_CACHED_TREES {
            self.entries.push((tree, self.tick));
            return self.entries.len() - 1;
        }
        let oldest = (0..self.entries.len())
            .min_by_key(|&k| self.entries[k].1)
            .unwrap_or(0);
        self.entries[oldest] = (tree, self.tick);
        oldest
    }

    /// The tree at `k` (from [`Trees::find_or_build`]).
    pub(crate) fn get(&self, k: usize) -> &PrefTree {
        &self.entries[k].0
    }

    /// Node `i` was added.
    pub(crate) fn node_added(&mut self, nodes: &Nodes, strings: &Interner, i: u32) {
        for (t, _) in &mut self.entries {
            t.insert(nodes, strings, i);
        }
    }

    /// Node `i`'s spec changed (its labels may have).
    pub(crate) fn node_updated(&mut self, nodes: &Nodes, strings: &Interner, i: u32) {
        for (t, _) in &mut self.entries {
            t.remove(i);
            t.insert(nodes, strings, i);
        }
    }

    /// Node `i` is about to be removed.
    pub(crate) fn node_removed(&mut self, i: u32) {
        for (t, _) in &mut self.entries {
            t.remove(i);
        }
    }

    /// Node `i`'s task count or usability changed.
    #[inline]
    pub(crate) fn sync(&mut self, nodes: &Nodes, i: u32) {
        for (t, _) in &mut self.entries {
            t.sync(nodes, i);
        }
    }
}

#[cfg(test)]
impl Trees {
    /// Every kept tree beside a tree built afresh from the same nodes, in canonical form.
    pub(crate) fn check_against_fresh(
        &self,
        nodes: &Nodes,
        strings: &Interner,
    ) -> Vec<(String, String)> {
        self.entries
            .iter()
            .map(|(t, _)| {
                let fresh = PrefTree::build(nodes, strings, t.prefs());
                (t.canonical(strings), fresh.canonical(strings))
            })
            .collect()
    }
}
