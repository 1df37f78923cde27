//! The in-memory index of the log: where each record lives and a cache of recent payloads.

use crate::storage::record::{LogPosition, LogRecord};
use bytes::Bytes;
use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::sync::Arc;

/// Where a record's frame lives on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Location {
    /// The segment's sequence number.
    pub(crate) segment: u64,
    /// The frame's offset in the segment file.
    pub(crate) offset: u64,
    /// The frame's length in bytes.
    pub(crate) bytes: u32,
}

/// One record of the log as the index knows it.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) term: u64,
    /// The append call that wrote it (tells a stale location report from a current one).
    pub(crate) batch: u64,
    /// The plaintext payload while cached; always present until the record is on disk.
    pub(crate) payload: Option<Bytes>,
    /// Set once the writer has written the record.
    pub(crate) location: Option<Location>,
}

/// What a read must fetch for one index.
pub(crate) enum ReadPlan {
    /// The record is cached.
    Cached(LogRecord),
    /// The record must be read from its segment file.
    OnDisk {
        index: u64,
        term: u64,
        location: Location,
        file: Arc<File>,
    },
}

/// The index and the small durable state, guarded by one mutex.
#[derive(Debug, Default)]
pub(crate) struct LogIndex {
    /// The index of `slots[0]`.
    pub(crate) first: u64,
    pub(crate) slots: VecDeque<Slot>,
    pub(crate) last_purged: Option<LogPosition>,
    pub(crate) vote: Option<Vec<u8>>,
    pub(crate) committed: Option<LogPosition>,
    /// Set when the writer failed; every later call fails with it.
    pub(crate) failed: Option<String>,
    /// Read handles of the live segments.
    pub(crate) files: BTreeMap<u64, Arc<File>>,
    pub(crate) cached_bytes: usize,
    pub(crate) cache_limit_bytes: usize,
    /// Eviction resumes here: records below were already considered.
    evict_from: u64,
    pub(crate) next_batch: u64,
}

impl LogIndex {
    /// An empty index with a payload cache of `cache_limit_bytes`.
    pub(crate) fn new(cache_limit_bytes: usize) -> Self {
        LogIndex {
            cache_limit_bytes,
            ..LogIndex::default()
        }
    }

    /// The last record, or the purge point when the log is empty.
    pub(crate) fn last(&self) -> Option<LogPosition> {
        self.slots
            .back()
            .map(|s| LogPosition {
                term: s.term,
                index: self.first + self.slots.len() as u64 - 1,
            })
            .or(self.last_purged)
    }

    /// The index the next append must start at, or `None` when any index may start the log.
    pub(crate) fn next_index(&self) -> Option<u64> {
        self.last().map(|p| p.index.saturating_add(1))
    }

    /// Adds a record at the end. The caller checked that `index` follows the last record.
    pub(crate) fn push(&mut self, index: u64, slot: Slot) {
        if self.slots.is_empty() {
            self.first = index;
        }
        if let Some(payload) = &slot.payload {
            self.cached_bytes += payload.len();
        }
        self.slots.push_back(slot);
    }

    /// Removes every record with index ≥ `index`; returns how many were removed.
    pub(crate) fn truncate(&mut self, index: u64) -> usize {
        let keep = index.saturating_sub(self.first);
        let keep = usize::try_from(keep)
            .unwrap_or(usize::MAX)
            .min(self.slots.len());
        let removed = self.slots.len() - keep;
        for slot in self.slots.drain(keep..) {
            if let Some(payload) = slot.payload {
                self.cached_bytes -= payload.len();
            }
        }
        self.evict_from = self.evict_from.min(index);
        removed
    }

    /// Drops every record with index ≤ `upto.index` and raises the purge point to `upto`
    /// (it never moves back). Returns the cached payloads it removed, for the caller to free
    /// after releasing the lock: a purge after a snapshot removes thousands of records, and
    /// freeing them took milliseconds during which no append or read could take the lock.
    pub(crate) fn purge(&mut self, upto: LogPosition) -> Vec<Bytes> {
        let mut removed = Vec::new();
        while !self.slots.is_empty() && self.first <= upto.index {
            if let Some(slot) = self.slots.pop_front()
                && let Some(payload) = slot.payload
            {
                self.cached_bytes -= payload.len();
                removed.push(payload);
            }
            self.first += 1;
        }
        if self.last_purged.is_none_or(|p| p.index < upto.index) {
            self.last_purged = Some(upto);
        }
        removed
    }

    /// Records where the writer put the frames of append `batch`, then evicts cached payloads
    /// beyond the cache limit (only records already on disk are evicted).
    pub(crate) fn set_locations(&mut self, batch: u64, first_index: u64, locations: &[Location]) {
        for (k, location) in locations.iter().enumerate() {
            let Some(slot) = (first_index + k as u64)
                .checked_sub(self.first)
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| self.slots.get_mut(i))
            else {
                continue;
            };
            if slot.batch == batch {
                slot.location = Some(*location);
            }
        }
        self.evict();
    }

    fn evict(&mut self) {
        let mut index = self.evict_from.max(self.first);
        while self.cached_bytes > self.cache_limit_bytes {
            let Some(slot) = usize::try_from(index - self.first)
                .ok()
                .and_then(|i| self.slots.get_mut(i))
            else {
                break;
            };
            if slot.location.is_none() {
                break;
            }
            if let Some(payload) = slot.payload.take() {
                self.cached_bytes -= payload.len();
            }
            index += 1;
        }
        self.evict_from = index;
    }

    /// How to serve a read of `start..=end`: present records only, in order, contiguous. Fails
    /// when the log does not start right after its purge point, or a record is neither cached
    /// nor located (broken invariants, never expected: recovery and `purge` keep them).
    pub(crate) fn plan_read(&self, start: u64, end: u64) -> Result<Vec<ReadPlan>, String> {
        if self.slots.is_empty() || start > end {
            return Ok(Vec::new());
        }
        if let Some(p) = self.last_purged
            && Some(self.first) != p.index.checked_add(1)
        {
            return Err(format!(
                "the log starts at entry {} but its purge point is entry {}: entries are missing",
                self.first, p.index
            ));
        }
        let last = self.first + self.slots.len() as u64 - 1;
        let from = start.max(self.first);
        let to = end.min(last);
        let mut plan = Vec::new();
        if from > to {
            return Ok(plan);
        }
        for (index, slot) in (from..=to).zip(
            self.slots
                .range(usize::try_from(from - self.first).map_err(|e| e.to_string())?..),
        ) {
            match (&slot.payload, slot.location) {
                (Some(payload), _) => plan.push(ReadPlan::Cached(LogRecord {
                    index,
                    term: slot.term,
                    payload: payload.clone(),
                })),
                (None, Some(location)) => {
                    let file = self.files.get(&location.segment).ok_or_else(|| {
                        format!(
                            "record {index} lives in segment {} which is not open",
                            location.segment
                        )
                    })?;
                    plan.push(ReadPlan::OnDisk {
                        index,
                        term: slot.term,
                        location,
                        file: file.clone(),
                    });
                }
                (None, None) => {
                    return Err(format!("record {index} is neither cached nor written"));
                }
            }
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(term: u64, batch: u64, bytes: usize) -> Slot {
        Slot {
            term,
            batch,
            payload: Some(vec![0; bytes].into()),
            location: None,
        }
    }

    fn located(index: &mut LogIndex, batch: u64, first: u64, n: u64) {
        let locations: Vec<Location> = (0..n)
            .map(|i| Location {
                segment: 0,
                offset: 100 * (first + i),
                bytes: 10,
            })
            .collect();
        index.set_locations(batch, first, &locations);
    }

    #[test]
    fn evicts_only_written_records_oldest_first() {
        let mut index = LogIndex::new(250);
        for i in 1..=5 {
            index.push(i, slot(1, i, 100));
        }
        assert_eq!(index.cached_bytes, 500);
        // Nothing is written yet: nothing may be evicted, whatever the limit.
        located(&mut index, 99, 1, 5);
        assert_eq!(index.cached_bytes, 500);
        for i in 1..=3 {
            located(&mut index, i, i, 1);
        }
        // Each of 1..=3 is evicted once written, while the cache is over its limit; 4 and 5
        // stay pinned until they are written.
        assert_eq!(index.cached_bytes, 200);
        assert!(index.slots[0].payload.is_none() && index.slots[2].payload.is_none());
        assert!(index.slots[3].payload.is_some());
        assert!(
            index.plan_read(1, 5).is_err(),
            "no file is open for segment 0"
        );
    }

    #[test]
    fn truncate_and_purge_keep_the_accounting() {
        let mut index = LogIndex::new(1 << 20);
        for i in 10..=19 {
            index.push(i, slot(2, 1, 10));
        }
        assert_eq!(index.truncate(15), 5);
        assert_eq!(index.cached_bytes, 50);
        assert_eq!(index.last(), Some(LogPosition { term: 2, index: 14 }));
        assert_eq!(index.truncate(100), 0);
        index.purge(LogPosition { term: 2, index: 11 });
        assert_eq!(
            (index.first, index.slots.len(), index.cached_bytes),
            (12, 3, 30)
        );
        index.purge(LogPosition { term: 2, index: 5 });
        assert_eq!(index.last_purged, Some(LogPosition { term: 2, index: 11 }));
        index.purge(LogPosition { term: 3, index: 30 });
        assert!(index.slots.is_empty());
        assert_eq!(index.cached_bytes, 0);
        assert_eq!(index.last(), Some(LogPosition { term: 3, index: 30 }));
        assert_eq!(index.next_index(), Some(31));
        let plan = index.plan_read(0, u64::MAX).expect("plan");
        assert!(plan.is_empty());
    }

    #[test]
    fn a_stale_location_report_is_ignored() {
        let mut index = LogIndex::new(0);
        index.push(1, slot(1, 7, 10));
        index.truncate(1);
        index.push(1, slot(2, 8, 10));
        located(&mut index, 7, 1, 1); // the old batch's report arrives late
        assert!(index.slots[0].location.is_none());
        assert!(
            index.slots[0].payload.is_some(),
            "the new record stays cached"
        );
        let plan = index.plan_read(1, 1).expect("plan");
        assert!(matches!(&plan[..], [ReadPlan::Cached(r)] if r.term == 2));
    }
}
