//! A bounded history of recent changes, from which watches are served and resumed.

use crate::blob::Blob;
use std::collections::VecDeque;

/// One change to one document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Change {
    /// The store revision the change was made at (a transaction's changes share it).
    pub(crate) revision: u64,
    pub(crate) collection: String,
    pub(crate) key: String,
    /// The new value, or `None` when the document was deleted.
    pub(crate) value: Option<Blob>,
    /// The document's version after a put, or the version it had when deleted.
    pub(crate) version: u64,
    /// The index of the operation that made it within its transaction: with the revision, it
    /// names the change exactly (a watch resumes after it, see `WatchPosition`).
    pub(crate) op_index: u32,
}

/// Changes with revisions above `floor`, oldest first, at most `cap_changes` of them.
#[derive(Debug)]
pub(crate) struct History {
    changes: VecDeque<Change>,
    cap_changes: usize,
    /// Every change with a revision `<= floor` has been evicted (or was never recorded, after a
    /// snapshot install): a watcher must have seen at least `floor` to resume.
    floor: u64,
}

/// A watcher asked for changes the history no longer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CompactedBelow(pub(crate) u64);

impl History {
    /// An empty history whose oldest resumable revision is `floor`.
    pub(crate) fn new(cap_changes: usize, floor: u64) -> Self {
        History {
            changes: VecDeque::new(),
            cap_changes: cap_changes.max(1),
            floor,
        }
    }

    /// The lowest revision a watcher may resume from.
    #[cfg(test)]
    pub(crate) fn floor(&self) -> u64 {
        self.floor
    }

    /// Records a change. Evicts whole revisions from the front while over the cap (never the
    /// revision being recorded).
    pub(crate) fn push(&mut self, change: Change) {
        let newest = change.revision;
        self.changes.push_back(change);
        while self.changes.len() > self.cap_changes {
            let Some(oldest) = self.changes.front().map(|c| c.revision) else {
                break;
            };
            if oldest >= newest {
                break;
            }
            while self.changes.front().is_some_and(|c| c.revision == oldest) {
                self.changes.pop_front();
            }
            self.floor = oldest;
        }
    }

    /// Changes with revision `> after` that pass `filter`, scanning at most whole revisions
    /// until `max_changes` matching changes are collected. Returns them and the revision the
    /// caller has now seen through (`current_revision` when everything was scanned).
    pub(crate) fn since(
        &self,
        after: u64,
        current_revision: u64,
        max_changes: usize,
        mut filter: impl FnMut(&Change) -> bool,
    ) -> Result<(Vec<Change>, u64), CompactedBelow> {
        if after < self.floor {
            return Err(CompactedBelow(self.floor));
        }
        let start = self.changes.partition_point(|c| c.revision <= after);
        let mut out = Vec::new();
        let mut seen = current_revision.max(after);
        for c in self.changes.iter().skip(start) {
            if out.len() >= max_changes.max(1) && c.revision > seen_rev(&out) {
                seen = seen_rev(&out);
                break;
            }
            if filter(c) {
                out.push(c.clone());
            }
        }
        Ok((out, seen))
    }
}

fn seen_rev(out: &[Change]) -> u64 {
    out.last().map_or(0, |c| c.revision)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn change(rev: u64, key: &str) -> Change {
        Change {
            revision: rev,
            collection: "c".into(),
            key: key.into(),
            value: Some(Blob(Bytes::from_static(b"v"))),
            version: 1,
            op_index: 0,
        }
    }

    #[test]
    fn evicts_whole_revisions_and_raises_floor() {
        let mut h = History::new(3, 0);
        h.push(change(1, "a"));
        h.push(change(1, "b"));
        h.push(change(2, "a"));
        h.push(change(3, "a"));
        // Revision 1 (two changes) went out at once.
        assert_eq!(h.floor(), 1);
        assert_eq!(h.since(0, 3, 100, |_| true), Err(CompactedBelow(1)));
        let (got, seen) = h.since(1, 3, 100, |_| true).expect("resumable");
        assert_eq!(
            got.iter().map(|c| c.revision).collect::<Vec<_>>(),
            vec![2, 3]
        );
        assert_eq!(seen, 3);
    }

    #[test]
    fn since_stops_at_revision_boundary_and_filters() {
        let mut h = History::new(100, 0);
        for rev in 1..=5 {
            h.push(change(rev, "x"));
            h.push(change(rev, "y"));
        }
        let (got, seen) = h.since(0, 5, 3, |_| true).expect("ok");
        // Three requested, but revision 2 is kept whole.
        assert_eq!(got.len(), 4);
        assert_eq!(seen, 2);
        let (got, seen) = h.since(seen, 5, 100, |c| c.key == "y").expect("ok");
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(|c| c.key == "y"));
        assert_eq!(seen, 5);
    }
}
