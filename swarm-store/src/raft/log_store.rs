//! openraft's log storage traits over a byte-level [`LogStorage`].

use super::entry_cache::EntryCache;
use super::types::{C, Entry, LogId, Vote, log_id};
use crate::storage::{
    AppendTicket, DurableCallback, LogPosition, LogRecord, LogStorage, StorageError,
};
use bytes::Bytes;
use openraft::storage::{IOFlushed, RaftLogStorage};
use openraft::{LogState, OptionalSend, RaftLogReader};
use std::fmt::Debug;
use std::io;
use std::ops::{Bound, RangeBounds};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::mpsc;

/// Appends whose durability is awaited by the reporting task but not yet reported to openraft.
/// When full, `append` waits: the Raft core cannot run further ahead of the disk than this.
pub(crate) const MAX_PENDING_FLUSH_REPORTS: usize = 4096;

/// What the reporting task awaits: a ticket and what to do once it resolves.
type FlushReport = (AppendTicket, DurableCallback);

/// Adapts a [`LogStorage`] to openraft. Entries are postcard-encoded whole (log id included) in
/// each record's payload; the vote is postcard-encoded in the vote blob.
///
/// # Reporting durability
///
/// openraft must see its flush notifications in I/O order (its flushed marker only moves
/// forward) and the Raft core must never block on `fdatasync`. The adapter registers openraft's
/// callback on the storage's ticket ([`AppendTicket::try_on_durable`]): a storage that
/// resolves tickets on its own thread (the disk log's writer) then reports durability to
/// openraft straight from that thread, in call order (LogStorage contract, rule 3), with no
/// task in between. A ticket that cannot take a callback (made by [`AppendTicket::pending`],
/// e.g. by a wrapping storage) goes to one reporting task per adapter that awaits the tickets
/// in order; while any report is queued there, every later one is queued behind it too, so
/// the order holds whichever way each ticket is reported.
///
/// # Appending inline on a follower
///
/// A member whose vote names another member follows that leader: it answers the leader only
/// once its records are durable, and has nothing to overlap with the sync, so it appends with
/// [`LogStorage::append_inline`] (the disk log then writes and syncs on the Raft core's thread
/// when its writer is idle, one hand-off fewer each way). A leader or candidate appends with
/// [`LogStorage::append`]: a leader replicates its entries while its own sync is in flight.
///
/// # Decoding once
///
/// Each entry appended is remembered decoded ([`EntryCache`], shared by every clone): a read
/// answers a record the cache holds with the same position and payload bytes from the cache,
/// so a leader's entry is encoded once and never decoded (its replication streams and its state
/// machine read it back), and a follower's is decoded once, from the leader's message.
pub(crate) struct LogStoreAdapter<L: LogStorage> {
    inner: Arc<L>,
    /// This member's id, to tell from the vote whether it follows another member.
    me: u64,
    /// Whether the last vote saved or read names another member.
    following: Arc<AtomicBool>,
    flush_reports: mpsc::Sender<FlushReport>,
    /// Reports queued to the reporting task and not yet delivered.
    queued_reports: Arc<AtomicUsize>,
    /// The most recently appended entries, decoded.
    cache: Arc<Mutex<EntryCache>>,
}

impl<L: LogStorage> Clone for LogStoreAdapter<L> {
    fn clone(&self) -> Self {
        LogStoreAdapter {
            inner: self.inner.clone(),
            me: self.me,
            following: self.following.clone(),
            flush_reports: self.flush_reports.clone(),
            queued_reports: self.queued_reports.clone(),
            cache: self.cache.clone(),
        }
    }
}

impl<L: LogStorage> LogStoreAdapter<L> {
    /// Wraps `inner`, the log of member `me`. Must be called inside a tokio runtime: it spawns
    /// the task that reports durability of tickets that take no callback, which ends when
    /// every clone of the adapter is dropped.
    pub(crate) fn new(inner: Arc<L>, me: u64) -> Self {
        let (flush_reports, mut pending) = mpsc::channel::<FlushReport>(MAX_PENDING_FLUSH_REPORTS);
        let queued_reports = Arc::new(AtomicUsize::new(0));
        let queued = queued_reports.clone();
        tokio::spawn(async move {
            // Tickets resolve in call order (LogStorage contract, rule 3); awaiting them one by
            // one here keeps the reports in that order too.
            while let Some((ticket, callback)) = pending.recv().await {
                callback(ticket.await);
                queued.fetch_sub(1, Ordering::AcqRel);
            }
        });
        LogStoreAdapter {
            inner,
            me,
            following: Arc::new(AtomicBool::new(false)),
            flush_reports,
            queued_reports,
            cache: Arc::default(),
        }
    }

    /// The cache of appended entries, shared with every clone.
    pub(crate) fn entry_cache(&self) -> Arc<Mutex<EntryCache>> {
        self.cache.clone()
    }

    fn cache(&self) -> MutexGuard<'_, EntryCache> {
        // Every update under the lock leaves a consistent cache: a poisoned lock is still good.
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Notes whether `vote` names another member as (would-be) leader.
    fn note_vote(&self, vote: &Vote) {
        self.following
            .store(vote.leader_id.voted_for != self.me, Ordering::Release);
    }
}

pub(crate) fn io_err(e: StorageError) -> io::Error {
    io::Error::other(e)
}

fn decode_err(what: &str, e: postcard::Error) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("cannot decode {what}: {e}"),
    )
}

pub(crate) fn to_log_id(p: LogPosition) -> LogId {
    log_id(p.term, p.index)
}

pub(crate) fn to_position(id: &LogId) -> LogPosition {
    LogPosition {
        term: id.leader_id.term,
        index: id.index,
    }
}

/// Encodes an entry as a storage record.
pub(crate) fn encode_entry(entry: &Entry) -> io::Result<LogRecord> {
    let invalid = |e: postcard::Error| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cannot encode entry: {e}"),
        )
    };
    // Sized first, so the payload is allocated once rather than grown (and copied) by doubling.
    let bytes = postcard::experimental::serialized_size(entry).map_err(invalid)?;
    let payload = postcard::to_extend(entry, Vec::with_capacity(bytes)).map_err(invalid)?;
    Ok(LogRecord {
        index: entry.log_id.index,
        term: entry.log_id.leader_id.term,
        payload: Bytes::from(payload),
    })
}

/// Decodes a storage record, checking that its position matches the entry inside.
pub(crate) fn decode_entry(record: &LogRecord) -> io::Result<Entry> {
    let entry: Entry =
        postcard::from_bytes(&record.payload).map_err(|e| decode_err("log entry", e))?;
    if entry.log_id.index != record.index || entry.log_id.leader_id.term != record.term {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "record at {}:{} holds entry {}",
                record.term, record.index, entry.log_id
            ),
        ));
    }
    Ok(entry)
}

/// Checks that `records` answer a read of `start..=end`: within the range, in order, without a
/// hole (openraft treats a hole as fatal, and it would apply entries out of order).
fn check_read(records: &[LogRecord], start: u64, end: u64) -> io::Result<()> {
    let mut expected: Option<u64> = None;
    for record in records {
        let in_range = (start..=end).contains(&record.index);
        if !in_range || expected.is_some_and(|e| e != record.index) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "reading entries {start}..={end}: the log returned entry {} where {} was \
                     expected",
                    record.index,
                    expected
                        .map_or_else(|| format!("an index in {start}..={end}"), |e| e.to_string())
                ),
            ));
        }
        expected = record.index.checked_add(1);
    }
    Ok(())
}

fn inclusive_range(range: &impl RangeBounds<u64>) -> Option<(u64, u64)> {
    let start = match range.start_bound() {
        Bound::Included(s) => *s,
        Bound::Excluded(s) => s.checked_add(1)?,
        Bound::Unbounded => 0,
    };
    let end = match range.end_bound() {
        Bound::Included(e) => *e,
        Bound::Excluded(e) => e.checked_sub(1)?,
        Bound::Unbounded => u64::MAX,
    };
    (start <= end).then_some((start, end))
}

impl<L: LogStorage> RaftLogReader<C> for LogStoreAdapter<L> {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, io::Error> {
        let Some((start, end)) = inclusive_range(&range) else {
            return Ok(Vec::new());
        };
        let records = self.inner.read(start..=end).await.map_err(io_err)?;
        check_read(&records, start, end)?;
        if let Some(first) = records.first()
            && first.index > start
        {
            // Only purged entries may be missing at the start of the range. The purge point
            // only moves forward, so checking it after the read is sound.
            let purged = self.inner.state().await.map_err(io_err)?.last_purged;
            if purged.is_none_or(|p| p.index.saturating_add(1) < first.index) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "reading entries {start}..={end}: the log returned entries from {} but \
                         only entries up to {:?} are purged: entries are missing",
                        first.index,
                        purged.map(|p| p.index)
                    ),
                ));
            }
        }
        let mut entries = Vec::with_capacity(records.len());
        let cache = self.cache();
        for record in &records {
            entries.push(match cache.get(record) {
                Some(entry) => entry,
                None => decode_entry(record)?,
            });
        }
        Ok(entries)
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, io::Error> {
        match self.inner.read_vote().await.map_err(io_err)? {
            None => Ok(None),
            Some(bytes) => {
                let vote: Vote = postcard::from_bytes(&bytes).map_err(|e| decode_err("vote", e))?;
                self.note_vote(&vote);
                Ok(Some(vote))
            }
        }
    }
}

impl<L: LogStorage> RaftLogStorage<C> for LogStoreAdapter<L> {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<C>, io::Error> {
        let state = self.inner.state().await.map_err(io_err)?;
        Ok(LogState {
            last_purged_log_id: state.last_purged.map(to_log_id),
            last_log_id: state.last.map(to_log_id),
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), io::Error> {
        let bytes = postcard::to_allocvec(vote)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        self.inner.save_vote(&bytes).await.map_err(io_err)?;
        self.note_vote(vote);
        Ok(())
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), io::Error> {
        self.inner
            .save_committed(committed.as_ref().map(to_position))
            .await
            .map_err(io_err)
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, io::Error> {
        Ok(self
            .inner
            .read_committed()
            .await
            .map_err(io_err)?
            .map(to_log_id))
    }

    async fn append<I>(&mut self, entries: I, callback: IOFlushed<C>) -> Result<(), io::Error>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries = entries.into_iter();
        let mut records = Vec::with_capacity(entries.size_hint().0);
        let mut decoded = Vec::with_capacity(entries.size_hint().0);
        {
            let mut cache = self.cache();
            for entry in entries {
                // A follower writes the bytes it decoded the entry from, when they were kept.
                let record = match cache.take_received(&entry) {
                    Some(payload) => LogRecord {
                        index: entry.log_id.index,
                        term: entry.log_id.leader_id.term,
                        payload,
                    },
                    None => encode_entry(&entry)?,
                };
                decoded.push((record.payload.clone(), entry));
                records.push(record);
            }
        }
        if records.is_empty() {
            callback.io_completed(Ok(()));
            return Ok(());
        }
        let ticket = if self.following.load(Ordering::Acquire) {
            self.inner.append_inline(records).await
        } else {
            self.inner.append(records).await
        }
        .map_err(io_err)?;
        {
            let mut cache = self.cache();
            for (payload, entry) in decoded {
                cache.insert(payload, entry);
            }
        }
        // The records are readable now; durability is reported, in append order, when the
        // storage's group commit covers them, without holding up the Raft core.
        let report = move |result: Result<(), StorageError>| {
            callback.io_completed(result.map_err(io_err));
        };
        let (ticket, report) = if self.queued_reports.load(Ordering::Acquire) == 0 {
            match ticket.try_on_durable(report) {
                Ok(()) => return Ok(()),
                Err(back) => back,
            }
        } else {
            (ticket, report)
        };
        self.queued_reports.fetch_add(1, Ordering::AcqRel);
        if self
            .flush_reports
            .send((ticket, Box::new(report)))
            .await
            .is_err()
        {
            self.queued_reports.fetch_sub(1, Ordering::AcqRel);
            return Err(io::Error::other("the flush reporting task has stopped"));
        }
        Ok(())
    }

    async fn truncate_after(&mut self, last_log_id: Option<LogId>) -> Result<(), io::Error> {
        let from = last_log_id.map_or(0, |l| l.index + 1);
        self.cache().truncate(from);
        self.inner.truncate(from).await.map_err(io_err)
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), io::Error> {
        self.cache().purge(log_id.index);
        self.inner.purge(to_position(&log_id)).await.map_err(io_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{LogState, MemLogStorage};
    use std::ops::RangeInclusive;

    fn rec(index: u64) -> LogRecord {
        LogRecord {
            index,
            term: 1,
            payload: Bytes::new(),
        }
    }

    #[test]
    fn a_read_must_be_in_range_ordered_and_without_holes() {
        let recs = |r: &[u64]| r.iter().copied().map(rec).collect::<Vec<_>>();
        assert!(check_read(&recs(&[3, 4, 5]), 3, 5).is_ok());
        assert!(
            check_read(&recs(&[4, 5]), 3, 9).is_ok(),
            "short at both ends"
        );
        assert!(check_read(&[], 3, 5).is_ok());
        for bad in [&[3, 5][..], &[2, 3], &[3, 4, 6], &[4, 3], &[3, 3]] {
            let e = check_read(&recs(bad), 3, 5).expect_err("must be refused");
            assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{bad:?}: {e}");
        }
    }

    /// A storage that loses entry `hole` from every read.
    struct Holey {
        inner: MemLogStorage,
        hole: u64,
    }

    impl LogStorage for Holey {
        async fn append(&self, records: Vec<LogRecord>) -> Result<AppendTicket, StorageError> {
            self.inner.append(records).await
        }
        async fn truncate(&self, index: u64) -> Result<(), StorageError> {
            self.inner.truncate(index).await
        }
        async fn purge(&self, upto: LogPosition) -> Result<(), StorageError> {
            self.inner.purge(upto).await
        }
        async fn read(&self, range: RangeInclusive<u64>) -> Result<Vec<LogRecord>, StorageError> {
            let mut records = self.inner.read(range).await?;
            records.retain(|r| r.index != self.hole);
            Ok(records)
        }
        async fn state(&self) -> Result<LogState, StorageError> {
            self.inner.state().await
        }
        async fn save_vote(&self, vote: &[u8]) -> Result<(), StorageError> {
            self.inner.save_vote(vote).await
        }
        async fn read_vote(&self) -> Result<Option<Vec<u8>>, StorageError> {
            self.inner.read_vote().await
        }
        async fn save_committed(&self, c: Option<LogPosition>) -> Result<(), StorageError> {
            self.inner.save_committed(c).await
        }
        async fn read_committed(&self) -> Result<Option<LogPosition>, StorageError> {
            self.inner.read_committed().await
        }
    }

    async fn holey_log(hole: u64) -> LogStoreAdapter<Holey> {
        let inner = MemLogStorage::new();
        for i in 1..=5 {
            let entry: Entry = openraft::Entry {
                log_id: log_id(1, i),
                payload: openraft::EntryPayload::Blank,
            };
            let ticket = inner
                .append(vec![encode_entry(&entry).expect("encode")])
                .await
                .expect("append");
            ticket.await.expect("durable");
        }
        LogStoreAdapter::new(Arc::new(Holey { inner, hole }), 1)
    }

    #[tokio::test]
    async fn reads_with_a_hole_or_a_missing_start_are_errors() {
        let mut log = holey_log(3).await;
        let e = log.try_get_log_entries(1..=5).await.expect_err("hole");
        assert!(
            e.to_string().contains("entry 4 where 3 was expected"),
            "{e}"
        );
        assert_eq!(log.try_get_log_entries(4..=5).await.expect("read").len(), 2);

        // Entry 1 is missing but was never purged.
        let mut log = holey_log(1).await;
        let e = log
            .try_get_log_entries(1..=5)
            .await
            .expect_err("missing start");
        assert!(e.to_string().contains("entries are missing"), "{e}");
        // Once it is purged, starting later is what the range allows.
        log.inner
            .purge(LogPosition { term: 1, index: 1 })
            .await
            .expect("purge");
        assert_eq!(log.try_get_log_entries(1..=5).await.expect("read").len(), 4);
    }

    #[tokio::test]
    async fn a_follower_appends_the_bytes_it_received() {
        let inner = Arc::new(MemLogStorage::new());
        let mut log = LogStoreAdapter::new(inner.clone(), 1);
        let entries: Vec<Entry> = (1..=2)
            .map(|i| crate::raft::test_entries::batch_entry(1, i))
            .collect();
        // Entry 1 arrives with the bytes it was decoded from (a buffer of its own here).
        let received = Bytes::copy_from_slice(&encode_entry(&entries[0]).expect("encode").payload);
        log.cache().offer_received(received.clone(), &entries[0]);
        log.append(entries.clone(), IOFlushed::<C>::noop())
            .await
            .expect("append");
        let records = inner.read(1..=2).await.expect("read");
        assert_eq!(
            records[0].payload.as_ptr(),
            received.as_ptr(),
            "written as received"
        );
        assert_eq!(
            records[1].payload,
            encode_entry(&entries[1]).expect("encode").payload
        );
        assert_eq!(log.try_get_log_entries(1..=2).await.expect("read"), entries);
    }

    #[tokio::test]
    async fn appends_through_a_disk_log_become_durable() {
        let dir = tempfile::tempdir().expect("tmp");
        let disk =
            crate::storage::DiskLogStorage::open(dir.path(), Default::default()).expect("open");
        let mut log = LogStoreAdapter::new(Arc::new(disk.clone()), 1);
        for i in 0..50u64 {
            let entry: Entry = openraft::Entry {
                log_id: log_id(1, i),
                payload: openraft::EntryPayload::Blank,
            };
            log.append([entry], IOFlushed::<C>::noop())
                .await
                .expect("append");
        }
        // The reports went straight through the writer thread: none was queued to the task.
        assert_eq!(log.queued_reports.load(Ordering::Acquire), 0);
        let last = log.get_log_state().await.expect("state").last_log_id;
        assert_eq!(last.map(|l| l.index), Some(49));
        assert_eq!(
            log.try_get_log_entries(0..50).await.expect("read").len(),
            50
        );
    }
}
