//! Where a watch stands in the stream of changes: the point to resume it from, exactly once.

use serde::{Deserialize, Serialize};

/// A point in the stream of changes, after which a watch resumes without repeating or skipping
/// a change ([`Watch::position`](crate::Watch::position), then
/// [`Collection::watch_from`](crate::Collection::watch_from)).
///
/// The changes of one transaction share a revision, so a revision alone cannot say that a
/// watch stopped in the middle of one: a position is a revision `R` whose changes (and every
/// earlier one) were all returned, plus how many operations of the transaction at `R + 1`
/// were: a change is named by its revision and the index of the operation that made it, the
/// same on every member. A position from a listing's revision
/// ([`WatchPosition::after_revision`], or `From<u64>`) starts after that whole revision.
///
/// Resuming from a position is exact for a watch of the same collection; a watch of another
/// prefix resumes at the same point of the stream (it skips the same operations of revision
/// `R + 1`, whether they matched its own prefix or not). Positions can be stored: they
/// serialize with serde.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct WatchPosition {
    /// Every change at or below this revision was returned (or did not match).
    revision: u64,
    /// Of the transaction at `revision + 1`, the changes of operations `0..next_op` were
    /// returned (or did not match).
    next_op: u32,
}

impl WatchPosition {
    /// The position after every change up to and including `revision` (a
    /// [`Listing::revision`](crate::Listing::revision), for instance).
    pub fn after_revision(revision: u64) -> Self {
        WatchPosition {
            revision,
            next_op: 0,
        }
    }

    /// The position before the change made by operation `op_index` of the transaction at
    /// `revision`.
    pub(crate) fn before_change(revision: u64, op_index: u32) -> Self {
        WatchPosition {
            revision: revision.saturating_sub(1),
            next_op: op_index,
        }
    }

    /// The revision whose changes, and every earlier one, were all returned. Watching from it
    /// with [`Collection::watch`](crate::Collection::watch) instead of this position returns
    /// again the changes of revision `revision() + 1` that [`ops_returned`](Self::ops_returned)
    /// counts.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// How many operations of the transaction at revision [`revision`](Self::revision)` + 1`
    /// had their changes returned already (0: none of that revision).
    pub fn ops_returned(&self) -> u32 {
        self.next_op
    }

    /// Whether the change made by operation `op_index` at `revision` lies at or before this
    /// position (was returned already).
    pub(crate) fn covers(&self, revision: u64, op_index: u32) -> bool {
        revision <= self.revision
            || (Some(revision) == self.revision.checked_add(1) && op_index < self.next_op)
    }
}

impl From<u64> for WatchPosition {
    fn from(revision: u64) -> Self {
        WatchPosition::after_revision(revision)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_covers_exactly_the_changes_before_it() {
        let p = WatchPosition::before_change(5, 2);
        assert_eq!((p.revision(), p.ops_returned()), (4, 2));
        assert!(p.covers(4, 9) && p.covers(5, 0) && p.covers(5, 1));
        assert!(!p.covers(5, 2) && !p.covers(6, 0));
        let whole = WatchPosition::from(5);
        assert!(whole.covers(5, u32::MAX) && !whole.covers(6, 0));
        assert!(WatchPosition::before_change(5, 0) < p && p < whole);
        assert_eq!(WatchPosition::before_change(6, 0), whole);
    }
}
