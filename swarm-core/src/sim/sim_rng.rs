//! The simulation's own choices (workload, faults), from the run's seed.

use crate::node::rng::NodeRng;

/// Draws the simulation's choices; the nodes draw theirs from seeds derived from the same one.
#[derive(Debug)]
pub(crate) struct SimRng(NodeRng);

impl SimRng {
    pub(crate) fn new(seed: u64) -> Self {
        SimRng(NodeRng::new(Some(seed)))
    }

    /// The next raw value.
    pub(crate) fn next(&self) -> u64 {
        self.0.next()
    }

    /// A value in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    /// True with probability `percent` / 100.
    pub(crate) fn percent(&self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One element of `items` (`None` when empty).
    pub(crate) fn pick<'a, T>(&self, items: &'a [T]) -> Option<&'a T> {
        let n = u64::try_from(items.len()).unwrap_or(u64::MAX);
        items.get(usize::try_from(self.below(n)).unwrap_or(0))
    }
}

/// A seed for `what` derived from the run's `seed` (node seeds, Raft seeds per start).
pub(crate) fn derive(seed: u64, what: &str, n: u64) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325 ^ seed;
    for b in what.bytes().chain(n.to_le_bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3);
    }
    NodeRng::new(Some(h)).next()
}
