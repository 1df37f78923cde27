//! The durable Raft log contract.

use super::error::StorageError;
use super::record::{LogPosition, LogRecord, LogState};
use std::future::Future;
use std::ops::RangeInclusive;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use tokio::sync::oneshot;

/// Resolves when the records of one [`LogStorage::append`] call are durable.
///
/// The ticket owns nothing of the storage, so the caller may hand it to another task: this is how
/// many appends share one `fdatasync` (group commit) while the Raft core goes on.
///
/// Instead of awaiting it, a caller may register a callback with
/// [`try_on_durable`](Self::try_on_durable): the storage then runs it on the thread that made
/// the records durable (for [`DiskLogStorage`](crate::storage::DiskLogStorage), its writer
/// thread, right after the `fdatasync`), which saves a task wake-up per append.
///
/// ```
/// use swarm_store::storage::{AppendTicket, StorageError};
///
/// let (completer, ticket) = AppendTicket::completer();
/// let (tx, rx) = std::sync::mpsc::channel();
/// assert!(ticket.try_on_durable(move |r| tx.send(r.is_ok()).unwrap()).is_ok());
/// completer.complete(Ok(())); // the callback runs here, on this thread
/// assert_eq!(rx.recv().unwrap(), true);
/// ```
pub struct AppendTicket {
    inner: TicketInner,
}

/// A callback run once an append's records are durable (or failed).
pub type DurableCallback = Box<dyn FnOnce(Result<(), StorageError>) + Send>;

enum TicketInner {
    Ready(Option<Result<(), StorageError>>),
    Waiting(oneshot::Receiver<Result<(), StorageError>>),
    Shared(Arc<Completion>),
}

/// The state shared by an [`AppendTicket`] made by [`AppendTicket::completer`] and its
/// [`AppendCompleter`].
struct Completion {
    state: Mutex<CompletionState>,
}

enum CompletionState {
    Pending {
        waker: Option<Waker>,
        callback: Option<DurableCallback>,
    },
    Done(Option<Result<(), StorageError>>),
}

impl Completion {
    fn lock(&self) -> MutexGuard<'_, CompletionState> {
        // Every update under the lock leaves a consistent state: a poisoned lock is still good.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Resolves the [`AppendTicket`] it was made with (see [`AppendTicket::completer`]): runs the
/// ticket's callback, if one was registered, on the calling thread, or wakes the task awaiting
/// it. Dropping it unresolved resolves the ticket with [`StorageError::Closed`].
pub struct AppendCompleter {
    completion: Option<Arc<Completion>>,
}

impl AppendCompleter {
    /// Resolves the ticket with `result`. The callback, if any, runs here before this returns,
    /// so a storage that completes tickets in call order runs their callbacks in call order.
    pub fn complete(mut self, result: Result<(), StorageError>) {
        if let Some(completion) = self.completion.take() {
            Self::resolve(&completion, result);
        }
    }

    fn resolve(completion: &Completion, result: Result<(), StorageError>) {
        let mut state = completion.lock();
        match &mut *state {
            CompletionState::Pending { waker, callback } => {
                let waker = waker.take();
                match callback.take() {
                    Some(callback) => {
                        *state = CompletionState::Done(None);
                        drop(state);
                        callback(result);
                    }
                    None => {
                        *state = CompletionState::Done(Some(result));
                        drop(state);
                    }
                }
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
            CompletionState::Done(_) => {}
        }
    }
}

impl Drop for AppendCompleter {
    fn drop(&mut self) {
        if let Some(completion) = self.completion.take() {
            Self::resolve(
                &completion,
                Err(StorageError::Closed(
                    "log writer stopped before the append was durable".into(),
                )),
            );
        }
    }
}

impl std::fmt::Debug for AppendCompleter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppendCompleter")
    }
}

impl AppendTicket {
    /// A ticket that is already resolved (the records were made durable inside `append`).
    pub fn ready(result: Result<(), StorageError>) -> Self {
        AppendTicket {
            inner: TicketInner::Ready(Some(result)),
        }
    }

    /// A ticket resolved later through the returned sender, e.g. by a task that awaits another
    /// ticket. Dropping the sender resolves the ticket with [`StorageError::Closed`]. Such a
    /// ticket cannot take a callback ([`try_on_durable`](Self::try_on_durable) hands it back):
    /// storages that resolve tickets on their own thread should use
    /// [`completer`](Self::completer).
    pub fn pending() -> (oneshot::Sender<Result<(), StorageError>>, Self) {
        let (tx, rx) = oneshot::channel();
        (
            tx,
            AppendTicket {
                inner: TicketInner::Waiting(rx),
            },
        )
    }

    /// A ticket resolved later by the returned [`AppendCompleter`], which also runs the
    /// ticket's callback when one was registered.
    pub fn completer() -> (AppendCompleter, Self) {
        let completion = Arc::new(Completion {
            state: Mutex::new(CompletionState::Pending {
                waker: None,
                callback: None,
            }),
        });
        (
            AppendCompleter {
                completion: Some(completion.clone()),
            },
            AppendTicket {
                inner: TicketInner::Shared(completion),
            },
        )
    }

    /// Registers `callback` to run once the ticket resolves, instead of awaiting it.
    ///
    /// - A resolved ticket runs `callback` right here, before this returns.
    /// - A ticket made by [`completer`](Self::completer) runs it on the thread that resolves
    ///   it, right after its records became durable. `callback` must be quick and must not
    ///   block (it holds up that thread: for disk storage, the next write group).
    /// - A ticket made by [`pending`](Self::pending) cannot: the ticket and the callback are
    ///   handed back in `Err`, and the caller awaits the ticket instead.
    ///
    /// Ordering: the storage resolves tickets in call order (contract rule 3), so callbacks
    /// registered before the next `append` call run in call order.
    pub fn try_on_durable<F>(self, callback: F) -> Result<(), (Self, F)>
    where
        F: FnOnce(Result<(), StorageError>) + Send + 'static,
    {
        match self.inner {
            TicketInner::Ready(mut result) => {
                callback(result.take().unwrap_or_else(|| {
                    Err(StorageError::Closed(
                        "append ticket polled after completion".into(),
                    ))
                }));
                Ok(())
            }
            TicketInner::Shared(completion) => {
                let mut state = completion.lock();
                match &mut *state {
                    CompletionState::Pending { callback: slot, .. } => {
                        *slot = Some(Box::new(callback));
                    }
                    CompletionState::Done(result) => {
                        let result = result.take().unwrap_or_else(|| {
                            Err(StorageError::Closed(
                                "append ticket polled after completion".into(),
                            ))
                        });
                        drop(state);
                        callback(result);
                    }
                }
                Ok(())
            }
            inner @ TicketInner::Waiting(_) => Err((AppendTicket { inner }, callback)),
        }
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
            TicketInner::Shared(completion) => {
                let mut state = completion.lock();
                match &mut *state {
                    CompletionState::Pending { waker, .. } => {
                        *waker = Some(cx.waker().clone());
                        Poll::Pending
                    }
                    CompletionState::Done(result) => {
                        Poll::Ready(result.take().unwrap_or_else(|| {
                            Err(StorageError::Closed(
                                "append ticket polled after completion".into(),
                            ))
                        }))
                    }
                }
            }
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
/// Every implementation keeps these rules; `testkit::storage_conformance` (cargo feature
/// `testkit`) checks them.
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
///    call order, and so do the callbacks registered on them with
///    [`AppendTicket::try_on_durable`] before the next `append` call (a storage that resolves
///    tickets on its own thread runs them there, one after the other). After a crash, the log holds a prefix of what was appended that includes every
///    record whose ticket resolved `Ok`; it never holds a corrupt or partially written record.
/// 4. **Truncate.** `truncate(index)` removes every record with index ≥ `index`; when it returns
///    the removal is durable (a restart never brings those records back).
/// 5. **Purge.** `purge(position)` records that everything up to and including
///    `position.index` may be discarded; when it returns the purge point is durable, and
///    [`state`](Self::state) reports it as `last_purged`. Records above it are untouched. Purging
///    beyond the last record leaves an empty log whose `last` is the purge point. A log always
///    starts right after its purge point: raising the purge point to below the first record
///    minus one (which would leave a hole between them) is a [`StorageError::Contract`] error
///    and changes nothing.
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

    /// Appends like [`append`](Self::append), under the same rules, but the storage may make
    /// the records durable on the calling thread first, blocking it for one write and sync,
    /// when that waits for nothing else (for [`DiskLogStorage`](crate::storage::DiskLogStorage):
    /// when its writer thread is idle); the ticket is then already resolved. When the storage
    /// is busy the records are queued as by `append`, so they share its next group commit. A
    /// Raft follower calls this: it cannot answer its leader before the records are durable
    /// anyway. The default is `append`.
    fn append_inline(
        &self,
        records: Vec<LogRecord>,
    ) -> impl Future<Output = Result<AppendTicket, StorageError>> + Send {
        self.append(records)
    }

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
