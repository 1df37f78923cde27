//! openraft's log storage traits over a byte-level [`LogStorage`].

use super::types::{C, Entry, LogId, Vote, log_id};
use crate::storage::{AppendTicket, LogPosition, LogRecord, LogStorage, StorageError};
use bytes::Bytes;
use openraft::storage::{IOFlushed, RaftLogStorage};
use openraft::{LogState, OptionalSend, RaftLogReader};
use std::fmt::Debug;
use std::io;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Appends whose durability is awaited but not yet reported to openraft. When full, `append`
/// waits: the Raft core cannot run further ahead of the disk than this.
pub(crate) const MAX_PENDING_FLUSH_REPORTS: usize = 4096;

/// Adapts a [`LogStorage`] to openraft. Entries are postcard-encoded whole (log id included) in
/// each record's payload; the vote is postcard-encoded in the vote blob.
///
/// Durability is reported to openraft by one task per adapter that awaits the storage's tickets
/// in the order the appends were made, so openraft sees its flush notifications in I/O order
/// (its flushed marker only moves forward) while the Raft core is never blocked by `fdatasync`.
pub(crate) struct LogStoreAdapter<L: LogStorage> {
    inner: Arc<L>,
    flush_reports: mpsc::Sender<(AppendTicket, IOFlushed<C>)>,
}

impl<L: LogStorage> Clone for LogStoreAdapter<L> {
    fn clone(&self) -> Self {
        LogStoreAdapter {
            inner: self.inner.clone(),
            flush_reports: self.flush_reports.clone(),
        }
    }
}

impl<L: LogStorage> LogStoreAdapter<L> {
    /// Wraps `inner`. Must be called inside a tokio runtime: it spawns the task that reports
    /// durability to openraft, which ends when every clone of the adapter is dropped.
    pub(crate) fn new(inner: Arc<L>) -> Self {
        let (flush_reports, mut pending) =
            mpsc::channel::<(AppendTicket, IOFlushed<C>)>(MAX_PENDING_FLUSH_REPORTS);
        tokio::spawn(async move {
            // Tickets resolve in call order (LogStorage contract, rule 3); awaiting them one by
            // one here keeps the reports in that order too.
            while let Some((ticket, callback)) = pending.recv().await {
                callback.io_completed(ticket.await.map_err(io_err));
            }
        });
        LogStoreAdapter {
            inner,
            flush_reports,
        }
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
    let payload = postcard::to_allocvec(entry).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cannot encode entry: {e}"),
        )
    })?;
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
        records.iter().map(decode_entry).collect()
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, io::Error> {
        match self.inner.read_vote().await.map_err(io_err)? {
            None => Ok(None),
            Some(bytes) => postcard::from_bytes(&bytes)
                .map(Some)
                .map_err(|e| decode_err("vote", e)),
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
        self.inner.save_vote(&bytes).await.map_err(io_err)
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
        let records = entries
            .into_iter()
            .map(|e| encode_entry(&e))
            .collect::<io::Result<Vec<_>>>()?;
        if records.is_empty() {
            callback.io_completed(Ok(()));
            return Ok(());
        }
        let ticket = self.inner.append(records).await.map_err(io_err)?;
        // The records are readable now; durability is reported, in append order, when the
        // storage's group commit covers them, without holding up the Raft core.
        self.flush_reports
            .send((ticket, callback))
            .await
            .map_err(|_| io::Error::other("the flush reporting task has stopped"))?;
        Ok(())
    }

    async fn truncate_after(&mut self, last_log_id: Option<LogId>) -> Result<(), io::Error> {
        let from = last_log_id.map_or(0, |l| l.index + 1);
        self.inner.truncate(from).await.map_err(io_err)
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), io::Error> {
        self.inner.purge(to_position(&log_id)).await.map_err(io_err)
    }
}
