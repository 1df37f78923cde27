//! Work counters for the crate's complexity tests: how many trees were built, task records
//! visited, nodes examined. In other builds every call is empty and compiles to nothing.

/// What is counted.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Probe {
    /// Preference trees built from the whole node table.
    TreeBuilds,
    /// Task records read while removing a node.
    NodeRemovalVisits,
    /// Nodes examined by the rebalance planner while choosing moves (after its setup).
    PlannerNodeVisits,
}

#[cfg(test)]
thread_local! {
    static COUNTS: std::cell::Cell<[u64; 3]> = const { std::cell::Cell::new([0; 3]) };
}

/// Counts `n` units of work of kind `p` (tests only).
#[inline(always)]
pub(crate) fn hit(p: Probe, n: u64) {
    #[cfg(test)]
    COUNTS.with(|c| {
        let mut v = c.get();
        v[p as usize] += n;
        c.set(v);
    });
    #[cfg(not(test))]
    let _ = (p, n);
}

/// The count of `p` on this thread since the last call, reset to zero.
#[cfg(test)]
pub(crate) fn take(p: Probe) -> u64 {
    COUNTS.with(|c| {
        let mut v = c.get();
        let n = v[p as usize];
        v[p as usize] = 0;
        c.set(v);
        n
    })
}
