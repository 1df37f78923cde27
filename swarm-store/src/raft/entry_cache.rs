//! The decoded form of the most recently appended log entries, so reading them back (each
//! replication stream of a leader, and the state machine on every member) does not decode the
//! same record again.

use super::types::Entry;
use crate::storage::LogRecord;
use bytes::Bytes;
use std::collections::VecDeque;

/// The most entries the cache holds. The state machine and the replication streams read entries
/// within a few round trips of their append; older reads decode the record as before.
pub(crate) const MAX_CACHED_ENTRIES: usize = 1024;

/// The most encoded bytes of the entries held (the sum of their record payloads). Worst case
/// about twice this in memory (the payload, shared with the storage's own cache, and the
/// decoded entry).
pub(crate) const MAX_CACHED_ENTRY_BYTES: usize = 16 * 1024 * 1024;

/// One appended entry: its record's payload and the entry it encodes.
struct Cached {
    payload: Bytes,
    entry: Entry,
}

/// Recently appended entries at contiguous indices, oldest first.
///
/// A lookup hands out the cached entry only for a record whose index, term and payload bytes
/// are those the entry was encoded into, so whatever the storage returns (a record re-read from
/// disk, a rewritten index after a truncation), the answer is the one decoding the record
/// would give.
#[derive(Default)]
pub(crate) struct EntryCache {
    entries: VecDeque<Cached>,
    payload_bytes: usize,
}

impl EntryCache {
    /// The index of the oldest cached entry.
    fn first_index(&self) -> Option<u64> {
        self.entries.front().map(|c| c.entry.log_id.index)
    }

    /// Remembers `entry`, just appended as a record with `payload`. An index at or below a
    /// cached one replaces it and everything after it (the log was truncated there); a gap
    /// after the cached entries empties the cache first.
    pub(crate) fn insert(&mut self, payload: Bytes, entry: Entry) {
        let index = entry.log_id.index;
        self.truncate(index);
        if let Some(last) = self.entries.back()
            && last.entry.log_id.index.checked_add(1) != Some(index)
        {
            self.clear();
        }
        self.payload_bytes += payload.len();
        self.entries.push_back(Cached { payload, entry });
        while self.entries.len() > MAX_CACHED_ENTRIES
            || (self.payload_bytes > MAX_CACHED_ENTRY_BYTES && self.entries.len() > 1)
        {
            self.pop_front();
        }
    }

    /// The entry `record` encodes, if it is cached with exactly that position and payload.
    pub(crate) fn get(&self, record: &LogRecord) -> Option<Entry> {
        let offset = record.index.checked_sub(self.first_index()?)?;
        let cached = self.entries.get(usize::try_from(offset).ok()?)?;
        let same_payload = (cached.payload.as_ptr() == record.payload.as_ptr()
            && cached.payload.len() == record.payload.len())
            || cached.payload == record.payload;
        (cached.entry.log_id.index == record.index
            && cached.entry.log_id.leader_id.term == record.term
            && same_payload)
            .then(|| cached.entry.clone())
    }

    /// Forgets every entry at `index` or after it.
    pub(crate) fn truncate(&mut self, index: u64) {
        while let Some(last) = self.entries.back()
            && last.entry.log_id.index >= index
        {
            if let Some(c) = self.entries.pop_back() {
                self.payload_bytes -= c.payload.len();
            }
        }
    }

    /// Forgets every entry up to and including `index`.
    pub(crate) fn purge(&mut self, index: u64) {
        while self.first_index().is_some_and(|first| first <= index) {
            self.pop_front();
        }
    }

    fn pop_front(&mut self) {
        if let Some(c) = self.entries.pop_front() {
            self.payload_bytes -= c.payload.len();
        }
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.payload_bytes = 0;
    }

    /// How many entries are cached.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::log_store::encode_entry;
    use crate::raft::types::log_id;

    fn entry(term: u64, index: u64) -> Entry {
        openraft::Entry {
            log_id: log_id(term, index),
            payload: openraft::EntryPayload::Blank,
        }
    }

    fn cached(cache: &mut EntryCache, term: u64, index: u64) -> LogRecord {
        let e = entry(term, index);
        let record = encode_entry(&e).expect("encode");
        cache.insert(record.payload.clone(), e);
        record
    }

    #[test]
    fn a_record_is_answered_only_with_its_own_position_and_payload() {
        let mut cache = EntryCache::default();
        let r1 = cached(&mut cache, 1, 1);
        let r2 = cached(&mut cache, 1, 2);
        assert_eq!(cache.get(&r1).map(|e| e.log_id), Some(log_id(1, 1)));
        assert_eq!(cache.get(&r2).map(|e| e.log_id), Some(log_id(1, 2)));
        // The same bytes read back from elsewhere (another buffer) still match.
        let copy = LogRecord {
            payload: Bytes::copy_from_slice(&r2.payload),
            ..r2.clone()
        };
        assert_eq!(cache.get(&copy).map(|e| e.log_id), Some(log_id(1, 2)));
        // Another term at the same index, or other bytes, are not the cached entry.
        let other_term = encode_entry(&entry(2, 2)).expect("encode");
        assert!(cache.get(&other_term).is_none());
        let other_bytes = LogRecord {
            payload: Bytes::from_static(b"x"),
            ..r2.clone()
        };
        assert!(cache.get(&other_bytes).is_none());
        assert!(
            cache
                .get(&encode_entry(&entry(1, 3)).expect("encode"))
                .is_none()
        );
    }

    #[test]
    fn truncation_purge_and_gaps_forget_entries() {
        let mut cache = EntryCache::default();
        let records: Vec<_> = (1..=5).map(|i| cached(&mut cache, 1, i)).collect();
        // A new entry at index 3 (a new leader's) replaces 3, 4 and 5.
        let r3 = cached(&mut cache, 2, 3);
        assert_eq!(cache.len(), 3);
        assert!(cache.get(&records[2]).is_none());
        assert!(cache.get(&records[3]).is_none());
        assert_eq!(cache.get(&r3).map(|e| e.log_id), Some(log_id(2, 3)));
        cache.purge(1);
        assert!(cache.get(&records[0]).is_none());
        assert!(cache.get(&records[1]).is_some());
        cache.truncate(3);
        assert!(cache.get(&r3).is_none());
        // A gap (entries appended after a snapshot install) starts over.
        let r9 = cached(&mut cache, 2, 9);
        assert_eq!(cache.len(), 1);
        assert!(cache.get(&records[1]).is_none());
        assert!(cache.get(&r9).is_some());
    }

    #[test]
    fn the_cache_keeps_at_most_its_entry_limit() {
        let mut cache = EntryCache::default();
        let first = cached(&mut cache, 1, 1);
        let count = u64::try_from(MAX_CACHED_ENTRIES).expect("fits") + 10;
        let mut last = first.clone();
        for i in 2..=count {
            last = cached(&mut cache, 1, i);
        }
        assert_eq!(cache.len(), MAX_CACHED_ENTRIES);
        assert!(cache.get(&first).is_none());
        assert!(cache.get(&last).is_some());
    }

    #[test]
    fn the_cache_keeps_at_most_its_byte_limit() {
        let mut cache = EntryCache::default();
        let big = MAX_CACHED_ENTRY_BYTES / 3 + 1;
        for i in 1..=4u64 {
            cache.insert(Bytes::from(vec![0u8; big]), entry(1, i));
        }
        assert_eq!(cache.len(), 2, "three would pass the byte limit");
        // One entry larger than the whole limit is still kept, alone.
        cache.insert(
            Bytes::from(vec![0u8; MAX_CACHED_ENTRY_BYTES + 1]),
            entry(1, 5),
        );
        assert_eq!(cache.len(), 1);
    }
}
