//! The preference tree: eligible nodes grouped level by level by the values of the spread
//! preference labels (SwarmKit's decision tree).

use crate::intern::{EMPTY_SYM, Interner, NO_SYM, Sym};
use crate::node_table::Nodes;

/// One branch of the tree; a leaf holds nodes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Branch {
    pub(crate) children: Vec<u32>,
    pub(crate) leaf: Option<u32>,
    /// Tasks of the service on the nodes under this branch.
    pub(crate) tasks: u64,
}

/// Branch 0 is the root.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tree {
    pub(crate) branches: Vec<Branch>,
    pub(crate) leaves: Vec<Vec<u32>>,
}

/// Label value of node `i` for preference `(engine, key)`; the empty symbol if missing.
fn pref_value(nodes: &Nodes, i: usize, pref: (bool, Sym)) -> Sym {
    if pref.1 == NO_SYM {
        return EMPTY_SYM;
    }
    nodes.label(i, pref.0, pref.1).map_or(EMPTY_SYM, |l| l.1)
}

impl Tree {
    /// Builds the tree over `eligible` nodes of the table, grouped by the values of the
    /// preference labels `prefs` (symbols of `strings`, which orders them); `count` gives a
    /// node's tasks of the service. Children are ordered by label value; the group of nodes
    /// missing the label (or with an empty value) comes last. Inside a leaf, nodes keep slot
    /// order.
    pub(crate) fn build(
        nodes: &Nodes,
        strings: &Interner,
        prefs: &[(bool, Sym)],
        eligible: &[u32],
        count: impl Fn(u32) -> u64,
    ) -> Tree {
        let levels = prefs.len();
        let mut keys: Vec<Sym> = Vec::with_capacity(eligible.len() * levels);
        for &i in eligible {
            for &p in prefs {
                keys.push(pref_value(nodes, i as usize, p));
            }
        }
        let mut perm: Vec<u32> = (0..eligible.len() as u32).collect();
        perm.sort_unstable_by(|&a, &b| {
            let (a, b) = (a as usize, b as usize);
            keys[a * levels..(a + 1) * levels]
                .cmp(&keys[b * levels..(b + 1) * levels])
                .then(a.cmp(&b))
        });
        let mut tree = Tree::default();
        let ctx = BuildCtx {
            keys: &keys,
            levels,
            eligible,
            count: &count,
            strings,
        };
        tree.build_range(&ctx, &perm, 0);
        tree
    }

    fn build_range(&mut self, ctx: &BuildCtx<'_>, perm: &[u32], level: usize) -> u32 {
        let tree = self;
        let b = tree.branches.len() as u32;
        tree.branches.push(Branch::default());
        if level == ctx.levels {
            let nodes: Vec<u32> = perm.iter().map(|&p| ctx.eligible[p as usize]).collect();
            let tasks = nodes.iter().map(|&n| (ctx.count)(n)).sum();
            let leaf = tree.leaves.len() as u32;
            tree.leaves.push(nodes);
            let br = &mut tree.branches[b as usize];
            br.leaf = Some(leaf);
            br.tasks = tasks;
            return b;
        }
        let key = |p: u32| ctx.keys[p as usize * ctx.levels + level];
        let mut runs: Vec<(Sym, usize, usize)> = Vec::new();
        let mut start = 0;
        for j in 1..=perm.len() {
            if j == perm.len() || key(perm[j]) != key(perm[start]) {
                runs.push((key(perm[start]), start, j));
                start = j;
            }
        }
        let strings = ctx.strings;
        runs.sort_by(|a, b| {
            (a.0 == EMPTY_SYM, strings.resolve(a.0)).cmp(&(b.0 == EMPTY_SYM, strings.resolve(b.0)))
        });
        let mut children = Vec::with_capacity(runs.len());
        let mut tasks = 0;
        for (_, s, e) in runs {
            let c = tree.build_range(ctx, &perm[s..e], level + 1);
            tasks += tree.branches[c as usize].tasks;
            children.push(c);
        }
        let br = &mut tree.branches[b as usize];
        br.children = children;
        br.tasks = tasks;
        b
    }
}

struct BuildCtx<'a> {
    keys: &'a [Sym],
    levels: usize,
    eligible: &'a [u32],
    count: &'a dyn Fn(u32) -> u64,
    strings: &'a Interner,
}
