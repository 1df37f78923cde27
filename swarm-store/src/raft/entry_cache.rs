//! The decoded form of the most recently appended log entries, so reading them back (each
//! replication stream of a leader, and the state machine on every member) does not decode the
//! same record again.

use super::types::Entry;
use crate::storage::LogRecord;
use bytes::Bytes;
use openraft::EntryPayload;
use std::collections::VecDeque;

/// The most entries the cache holds. The state machine and the replication streams read entries
/// within a few round trips of their append; older reads decode the record as before.
pub(crate) const MAX_CACHED_ENTRIES: usize = 1024;

/// The most encoded bytes of the entries held (the sum of their record payloads). Worst case
/// about twice this in memory (the payload, shared with the storage's own cache, and the
/// decoded entry).
pub(crate) const MAX_CACHED_ENTRY_BYTES: usize = 16 * 1024 * 1024;

/// The most entries received from a leader and kept, with the bytes they were decoded from,
/// until the log appends them. A follower appends an AppendEntries' entries right after
/// receiving them, so only the requests in flight are kept; entries never appended (a request
/// refused, or already in the log) are dropped by later ones past this limit.
pub(crate) const MAX_RECEIVED_ENTRIES: usize = 1024;

/// The most bytes of received entries kept (the sum of their encoded sizes). Worst case: each
/// kept entry holds on to the whole frame it arrived in, so about
/// [`MAX_FRAME_BYTES`](crate::transport::MAX_FRAME_BYTES) more.
pub(crate) const MAX_RECEIVED_ENTRY_BYTES: usize = 16 * 1024 * 1024;

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
    /// Entries received from a leader, each with the bytes it was decoded from, oldest first,
    /// not yet appended.
    received: VecDeque<Cached>,
    received_bytes: usize,
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

    /// The encoded bytes of `entry` (its record's payload), if the cache holds this very
    /// entry: the same log id and, for a batch of writes, the same shared batch (so the same
    /// bytes by construction, compared in O(1)). Other payloads (membership, blank) are not
    /// answered; the caller encodes them.
    pub(crate) fn encoded(&self, entry: &Entry) -> Option<Bytes> {
        let offset = entry.log_id.index.checked_sub(self.first_index()?)?;
        let cached = self.entries.get(usize::try_from(offset).ok()?)?;
        let same = cached.entry.log_id == entry.log_id
            && match (&cached.entry.payload, &entry.payload) {
                (EntryPayload::Normal(a), EntryPayload::Normal(b)) => {
                    std::sync::Arc::ptr_eq(&a.txns, &b.txns)
                }
                _ => false,
            };
        same.then(|| cached.payload.clone())
    }

    /// Remembers that `entry`, a batch of writes, was decoded from exactly `encoded` (a slice
    /// of a leader's AppendEntries message), so appending it can write those bytes as its
    /// record instead of encoding it again. Other payloads are not kept.
    pub(crate) fn offer_received(&mut self, encoded: Bytes, entry: &Entry) {
        if !matches!(entry.payload, EntryPayload::Normal(_)) {
            return;
        }
        self.received_bytes += encoded.len();
        self.received.push_back(Cached {
            payload: encoded,
            entry: entry.clone(),
        });
        while self.received.len() > MAX_RECEIVED_ENTRIES
            || self.received_bytes > MAX_RECEIVED_ENTRY_BYTES
        {
            match self.received.pop_front() {
                Some(c) => self.received_bytes -= c.payload.len(),
                None => break,
            }
        }
    }

    /// The bytes `entry` was decoded from, if [`offer_received`](Self::offer_received) kept
    /// this very entry (the same log id and the same shared batch). The oldest received
    /// entries at or below its index are dropped too (copies of entries already appended).
    pub(crate) fn take_received(&mut self, entry: &Entry) -> Option<Bytes> {
        let EntryPayload::Normal(batch) = &entry.payload else {
            return None;
        };
        let pos = self.received.iter().position(|c| {
            c.entry.log_id == entry.log_id
                && matches!(&c.entry.payload,
                    EntryPayload::Normal(b) if std::sync::Arc::ptr_eq(&b.txns, &batch.txns))
        })?;
        let taken = self.received.remove(pos)?;
        self.received_bytes -= taken.payload.len();
        while self
            .received
            .front()
            .is_some_and(|c| c.entry.log_id.index <= entry.log_id.index)
        {
            if let Some(c) = self.received.pop_front() {
                self.received_bytes -= c.payload.len();
            }
        }
        Some(taken.payload)
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
    use crate::raft::test_entries::batch_entry;
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
    fn a_cached_batch_answers_its_encoding_only_for_the_same_shared_batch() {
        let mut cache = EntryCache::default();
        let e = batch_entry(1, 1);
        let record = encode_entry(&e).expect("encode");
        cache.insert(record.payload.clone(), e.clone());
        let bytes = cache.encoded(&e).expect("cached");
        assert_eq!(
            bytes.as_ptr(),
            record.payload.as_ptr(),
            "the record's own bytes"
        );
        // An equal batch built apart (another allocation) is not taken on trust.
        assert!(cache.encoded(&batch_entry(1, 1)).is_none());
        // The same batch at another position neither.
        let moved = openraft::Entry {
            log_id: log_id(2, 1),
            payload: e.payload.clone(),
        };
        assert!(cache.encoded(&moved).is_none());
        assert!(
            cache.encoded(&entry(1, 1)).is_none(),
            "blank entries are encoded"
        );
    }

    #[test]
    fn received_bytes_are_taken_once_for_the_entry_decoded_from_them() {
        let mut cache = EntryCache::default();
        let entries: Vec<_> = (1..=3).map(|i| batch_entry(1, i)).collect();
        let bytes: Vec<_> = entries
            .iter()
            .map(|e| encode_entry(e).expect("encode").payload)
            .collect();
        for (b, e) in bytes.iter().zip(&entries) {
            cache.offer_received(b.clone(), e);
        }
        // Blank entries are not kept.
        cache.offer_received(Bytes::from_static(b"x"), &entry(1, 4));
        assert_eq!(cache.received.len(), 3);
        // An equal entry decoded apart does not get these bytes.
        assert!(cache.take_received(&batch_entry(1, 2)).is_none());
        let taken = cache.take_received(&entries[1]).expect("kept");
        assert_eq!(taken.as_ptr(), bytes[1].as_ptr());
        // Taken once; the older entry 1 (below it, never appended) went with it.
        assert!(cache.take_received(&entries[1]).is_none());
        assert!(cache.take_received(&entries[0]).is_none());
        assert!(cache.take_received(&entries[2]).is_some());
        assert_eq!((cache.received.len(), cache.received_bytes), (0, 0));
    }

    #[test]
    fn received_bytes_are_bounded() {
        let mut cache = EntryCache::default();
        let e = batch_entry(1, 1);
        let count = MAX_RECEIVED_ENTRIES + 10;
        for _ in 0..count {
            cache.offer_received(Bytes::from_static(b"x"), &e);
        }
        assert_eq!(cache.received.len(), MAX_RECEIVED_ENTRIES);
        let big = MAX_RECEIVED_ENTRY_BYTES / 2 + 1;
        cache.offer_received(Bytes::from(vec![0u8; big]), &e);
        cache.offer_received(Bytes::from(vec![0u8; big]), &e);
        assert!(cache.received_bytes <= MAX_RECEIVED_ENTRY_BYTES);
        assert_eq!(cache.received.len(), 1);
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
