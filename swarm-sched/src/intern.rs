//! String interning: label keys and values become small integers at node-insert time.

use crate::hash::FxHashMap;
use std::sync::Arc;

/// A symbol: the index of an interned string.
pub(crate) type Sym = u32;

/// Symbol that no interned string has (a key or value the engine has never seen).
pub(crate) const NO_SYM: Sym = u32::MAX;

/// Symbol of the empty string, interned first by every [`Interner`] (a missing label
/// compares as the empty string).
pub(crate) const EMPTY_SYM: Sym = 0;

/// Maps strings to dense [`Sym`]s and back. Symbols are never freed, so only strings drawn
/// from a small vocabulary are interned: label keys and values, platform names, roles,
/// generic resource kinds and item names. Per-node unique strings (node IDs, hostnames) are
/// not interned, so nodes joining and leaving do not grow the table.
#[derive(Debug, Clone)]
pub(crate) struct Interner {
    map: FxHashMap<Arc<str>, Sym>,
    strings: Vec<Arc<str>>,
}

impl Default for Interner {
    /// A table holding only the empty string, as [`EMPTY_SYM`].
    fn default() -> Self {
        let mut table = Self {
            map: FxHashMap::default(),
            strings: Vec::new(),
        };
        table.intern("");
        table
    }
}

impl Interner {
    /// Interns `s`, returning its symbol.
    pub(crate) fn intern(&mut self, s: &str) -> Sym {
        if let Some(&sym) = self.map.get(s) {
            return sym;
        }
        let sym = Sym::try_from(self.strings.len())
            .expect("fewer than 2^32 distinct strings: bounded by node label limits");
        let arc: Arc<str> = Arc::from(s);
        self.strings.push(arc.clone());
        self.map.insert(arc, sym);
        sym
    }

    /// The symbol of `s` if it was interned.
    pub(crate) fn get(&self, s: &str) -> Option<Sym> {
        self.map.get(s).copied()
    }

    /// The string of a symbol.
    pub(crate) fn resolve(&self, sym: Sym) -> &str {
        self.strings.get(sym as usize).map_or("", |s| s)
    }
}
