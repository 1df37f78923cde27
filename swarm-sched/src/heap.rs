//! A binary min-heap of packed `u64` entries (ranking key in the high bits, node slot in the
//! low [`SLOT_BITS`]), with a bottom-up "replace the top" for the placement loop: the node
//! just charged usually sinks to the bottom, so it follows the smaller child down to a leaf
//! (one comparison per level) and sifts up from there (usually not at all).

/// Bits of an entry that hold the node slot.
pub(crate) const SLOT_BITS: u32 = 20;
/// Mask of the slot bits.
pub(crate) const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
/// Largest task count a spread key holds (20 bits): counts saturate there.
pub(crate) const COUNT_KEY_MAX: u32 = 0xf_ffff;

/// Min-heap of packed entries.
#[derive(Debug, Clone, Default)]
pub(crate) struct MinHeap {
    v: Vec<u64>,
}

impl MinHeap {
    /// Builds a heap from entries in O(n).
    pub(crate) fn from_vec(v: Vec<u64>) -> Self {
        let mut h = Self { v };
        let n = h.v.len();
        for pos in (0..n / 2).rev() {
            h.sift_down(pos);
        }
        h
    }

    /// The smallest entry.
    #[inline]
    pub(crate) fn peek(&self) -> Option<u64> {
        self.v.first().copied()
    }

    /// Adds an entry.
    pub(crate) fn push(&mut self, x: u64) {
        self.v.push(x);
        self.sift_up(self.v.len() - 1);
    }

    /// Replaces the smallest entry with `x`.
    #[inline]
    pub(crate) fn replace_top(&mut self, x: u64) {
        let n = self.v.len();
        if n == 0 {
            return;
        }
        let mut pos = 0;
        loop {
            let mut c = 2 * pos + 1;
            if c >= n {
                break;
            }
            if c + 1 < n && self.v[c + 1] < self.v[c] {
                c += 1;
            }
            self.v[pos] = self.v[c];
            pos = c;
        }
        self.v[pos] = x;
        self.sift_up(pos);
    }

    /// Removes the smallest entry.
    #[inline]
    pub(crate) fn pop_top(&mut self) {
        match self.v.pop() {
            Some(last) if !self.v.is_empty() => self.replace_top(last),
            _ => {}
        }
    }

    #[inline]
    fn sift_up(&mut self, mut pos: usize) {
        let x = self.v[pos];
        while pos > 0 {
            let parent = (pos - 1) / 2;
            if self.v[parent] <= x {
                break;
            }
            self.v[pos] = self.v[parent];
            pos = parent;
        }
        self.v[pos] = x;
    }

    fn sift_down(&mut self, mut pos: usize) {
        let n = self.v.len();
        let x = self.v[pos];
        loop {
            let mut c = 2 * pos + 1;
            if c >= n {
                break;
            }
            if c + 1 < n && self.v[c + 1] < self.v[c] {
                c += 1;
            }
            if self.v[c] >= x {
                break;
            }
            self.v[pos] = self.v[c];
            pos = c;
        }
        self.v[pos] = x;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn behaves_like_a_sorted_multiset(init in proptest::collection::vec(0u64..50, 0..40), ops in proptest::collection::vec((0u8..3, 0u64..50), 0..80)) {
            let mut h = MinHeap::from_vec(init.clone());
            let mut model = init;
            for (op, x) in ops {
                model.sort_unstable();
                prop_assert_eq!(h.peek(), model.first().copied());
                match op {
                    0 => { h.push(x); model.push(x); }
                    1 => { if !model.is_empty() { h.replace_top(x); model[0] = x; } }
                    _ => { if !model.is_empty() { h.pop_top(); model.remove(0); } }
                }
            }
            model.sort_unstable();
            let mut drained = Vec::new();
            while let Some(t) = h.peek() { drained.push(t); h.pop_top(); }
            prop_assert_eq!(drained, model);
        }
    }
}
