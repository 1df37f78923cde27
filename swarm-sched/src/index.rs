//! Usable nodes bucketed by their total task count, kept up to date incrementally, so a
//! group without spread preferences finds its least loaded nodes without scanning them all.

/// Slot not in the index.
const NOT_INDEXED: u32 = u32::MAX;

/// Nodes with this many tasks or more share the last bucket (which is then not ordered by
/// total: readers take all of it at once). Bounds the bucket table.
pub(crate) const LAST_BUCKET: usize = 4096;

/// Buckets of node slots by total task count. Inside a bucket, order is the order of
/// arrival (deterministic for a given sequence of calls).
#[derive(Debug, Clone, Default)]
pub(crate) struct TotalIndex {
    buckets: Vec<Vec<u32>>,
    bucket_of: Vec<u32>,
    pos: Vec<u32>,
    /// No non-empty bucket below this one.
    low: usize,
}

impl TotalIndex {
    fn ensure(&mut self, i: usize) {
        if self.bucket_of.len() <= i {
            self.bucket_of.resize(i + 1, NOT_INDEXED);
            self.pos.resize(i + 1, 0);
        }
    }

    /// Whether slot `i` is indexed.
    pub(crate) fn contains(&self, i: u32) -> bool {
        self.bucket_of
            .get(i as usize)
            .is_some_and(|&b| b != NOT_INDEXED)
    }

    /// Adds slot `i` with `total` tasks (no-op if present: use [`TotalIndex::set`]).
    pub(crate) fn insert(&mut self, i: u32, total: u32) {
        self.ensure(i as usize);
        if self.contains(i) {
            return;
        }
        let b = (total as usize).min(LAST_BUCKET);
        if self.buckets.len() <= b {
            self.buckets.resize_with(b + 1, Vec::new);
        }
        self.bucket_of[i as usize] = b as u32;
        self.pos[i as usize] = self.buckets[b].len() as u32;
        self.buckets[b].push(i);
        self.low = self.low.min(b);
    }

    /// Removes slot `i` (no-op if absent).
    pub(crate) fn remove(&mut self, i: u32) {
        if !self.contains(i) {
            return;
        }
        let b = self.bucket_of[i as usize] as usize;
        let p = self.pos[i as usize] as usize;
        let bucket = &mut self.buckets[b];
        bucket.swap_remove(p);
        if let Some(&moved) = bucket.get(p) {
            self.pos[moved as usize] = p as u32;
        }
        self.bucket_of[i as usize] = NOT_INDEXED;
    }

    /// Moves an indexed slot to the bucket of `total` (no-op if absent or unchanged).
    pub(crate) fn set(&mut self, i: u32, total: u32) {
        if self.contains(i)
            && self.bucket_of[i as usize] as usize != (total as usize).min(LAST_BUCKET)
        {
            self.remove(i);
            self.insert(i, total);
        }
    }

    /// Skips empty buckets at the bottom; returns the first bucket worth reading.
    pub(crate) fn advance_low(&mut self) -> usize {
        while self.low < self.buckets.len() && self.buckets[self.low].is_empty() {
            self.low += 1;
        }
        self.low
    }

    /// The slot at position `p` of bucket `b`, if any.
    #[inline]
    pub(crate) fn at(&self, b: usize, p: usize) -> Option<u32> {
        self.buckets.get(b).and_then(|v| v.get(p)).copied()
    }

    /// Number of buckets.
    #[inline]
    pub(crate) fn bucket_count(&self) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(ix: &TotalIndex) -> Vec<(usize, u32)> {
        let mut v = Vec::new();
        for b in 0..ix.bucket_count() {
            let mut p = 0;
            while let Some(i) = ix.at(b, p) {
                v.push((b, i));
                p += 1;
            }
        }
        v
    }

    #[test]
    fn moves_and_removals_keep_positions_consistent() {
        let mut ix = TotalIndex::default();
        for i in 0..5 {
            ix.insert(i, 0);
        }
        ix.set(1, 2);
        ix.set(3, 1);
        ix.remove(0);
        ix.set(4, 4);
        ix.set(4, 0);
        assert_eq!(all(&ix), vec![(0, 2), (0, 4), (1, 3), (2, 1)]);
        ix.remove(2);
        ix.remove(2);
        assert!(!ix.contains(2));
        assert_eq!(ix.advance_low(), 0);
        ix.remove(4);
        assert_eq!(ix.advance_low(), 1);
        ix.insert(9, 0);
        assert_eq!(ix.advance_low(), 0);
        assert_eq!(all(&ix), vec![(0, 9), (1, 3), (2, 1)]);
    }
}
