//! The durable Raft log contract.

use super::error::StorageError;
use super::record::{LogPosition, LogRecord, LogState};
use std::future::Future;
use std::ops::RangeInclusive;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::oneshot;

/// Resolves when the records of one [`LogStorage::append`] call are durable.
///
/// The ticket owns nothing of the storage, so the caller may hand it to another task: this is how
/// many appends share one `fdatasync` (group commit) while the Raft core goes on.
pub struct AppendTicket {
    inner: TicketInner,
}

enum TicketInner {
    Ready(Option<Result<(), StorageError>>),
    Waiting(oneshot::Receiver<Result<(), StorageError>>),
}

impl AppendTicket {
    /// A ticket that is already resolved (the records were made durable inside `append`).
    pub fn ready(result: Result<(), StorageError>) -> Self {
        AppendTicket {
            inner: TicketInner::Ready(Some(result)),
        }
    }

    /// A ticket resolved later through the returned sender, e.g. by a writer thread after it
    /// synced the file. Dropping the sender resolves the ticket with [`StorageError::Closed`].
    pub fn pending() -> (oneshot::Sender<Result<(), StorageError>>, Self) {
        let (tx, rx) = oneshot::channel();
        (
            tx,
            AppendTicket {
                inner: TicketInner::Waiting(rx),
            },
        )
    }
}

impl Future for AppendTicket {
    type Output = Result<(), StorageError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.inner {
            TicketInner::Ready(result) => Poll::Ready(result.take().unwrap_or_else(|| {
                Err(StorageError::Closed(
                    "append ticket polled after completion".into(),
                ))
            })),
            TicketInner::Waiting(rx) => match Pin::new(rx).poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Ok(result)) => Poll::Ready(result),
                Poll::Ready(Err(_)) => Poll::Ready(Err(StorageError::Closed(
                    "log writer stopped before the append was durable".into(),
                ))),
            },
        }
    }
}

impl std::fmt::Debug for AppendTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppendTicket")
    }
}

/// A durable Raft log plus the node's vote.
///
/// # Contract
///
/// Every implementation keeps these rules; `storage::conformance` checks them.
///
/// 1. **Order.** `append` takes records whose indices are contiguous and follow the last record
///    (or the last purged position when the log is empty). Anything else is
///    [`StorageError::Contract`] and changes nothing. Index `u64::MAX` is never stored (so
///    "the next index" always exists): appending it is a contract error too.
/// 2. **Visibility.** Appended records are readable by [`read`](Self::read) and reflected by
///    [`state`](Self::state) as soon as `append` returns, before they are durable (the leader
///    replicates entries while its own write is in flight).
/// 3. **Durability.** An [`AppendTicket`] resolves `Ok` only once its records, and every record
///    appended before them, survive a crash (`fdatasync` for disk storage). Tickets resolve in
///    call order. After a crash, the log holds a prefix of what was appended that includes every
///    record whose ticket resolved `Ok`; it never holds a corrupt or partially written record.
/// 4. **Truncate.** `truncate(index)` removes every record with index ≥ `index`; when it returns
///    the removal is durable (a restart never brings those records back).
/// 5. **Purge.** `purge(position)` records that everything up to and including
///    `position.index` may be discarded; when it returns the purge point is durable, and
///    [`state`](Self::state) reports it as `last_purged`. Records above it are untouched. Purging
///    beyond the last record leaves an empty log whose `last` is the purge point.
/// 6. **Vote.** `save_vote` is durable when it returns; `read_vote` returns the last saved vote.
/// 7. **Committed.** `save_committed` need not be durable on return (a lost value is recomputed
///    by Raft), but a value read back was saved earlier.
/// 8. **Errors are fatal.** After any error the caller stops using the storage; the next open
///    recovers from what is durable.
pub trait LogStorage: Send + Sync + 'static {
    /// Appends records (see the contract, rules 1–3). Returns once they are visible; the ticket
    /// resolves once they are durable.
    fn append(
        &self,
        records: Vec<LogRecord>,
    ) -> impl Future<Output = Result<AppendTicket, StorageError>> + Send;

    /// Removes every record with index ≥ `index`, durably (rule 4).
    fn truncate(&self, index: u64) -> impl Future<Output = Result<(), StorageError>> + Send;

    /// Discards every record up to and including `upto.index`, durably recording the purge
    /// point (rule 5).
    fn purge(&self, upto: LogPosition) -> impl Future<Output = Result<(), StorageError>> + Send;

    /// Reads the records with indices in `range` that are present, in order. Indices that are
    /// purged or beyond the last record are skipped, so the result may be shorter.
    fn read(
        &self,
        range: RangeInclusive<u64>,
    ) -> impl Future<Output = Result<Vec<LogRecord>, StorageError>> + Send;

    /// The purge point and the last record.
    fn state(&self) -> impl Future<Output = Result<LogState, StorageError>> + Send;

    /// Durably stores the vote (rule 6); opaque bytes encoded by the Raft layer.
    fn save_vote(&self, vote: &[u8]) -> impl Future<Output = Result<(), StorageError>> + Send;

    /// The last saved vote, if any.
    fn read_vote(&self) -> impl Future<Output = Result<Option<Vec<u8>>, StorageError>> + Send;

    /// Stores the last known committed position (rule 7).
    fn save_committed(
        &self,
        committed: Option<LogPosition>,
    ) -> impl Future<Output = Result<(), StorageError>> + Send;

    /// The last stored committed position.
    fn read_committed(
        &self,
    ) -> impl Future<Output = Result<Option<LogPosition>, StorageError>> + Send;
}
