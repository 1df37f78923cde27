//! The proposer: drains queued client transactions into one Raft entry while earlier entries are
//! in flight, so many writes share one log append, one fsync and one replication round.

use crate::raft::handle::Raft;
use crate::raft::wire::WireError;
use crate::state::command::{TxnAnswer, TxnApplied, TxnRequest, WriteBatch};
use openraft::errors::{ClientWriteError, RaftError};
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc, oneshot};

/// The limits the proposer works within.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ProposerLimits {
    pub(crate) max_batch_txns: usize,
    pub(crate) max_batch_bytes: usize,
    pub(crate) max_inflight_batches: usize,
    pub(crate) queue_txns: usize,
}

/// One queued transaction and where its outcome goes.
struct Proposal {
    txn: TxnRequest,
    bytes: usize,
    reply: oneshot::Sender<Result<TxnApplied, WireError>>,
}

/// A handle to the proposer task. Dropping every handle stops the task.
#[derive(Clone)]
pub(crate) struct Proposer {
    tx: mpsc::Sender<Proposal>,
    raft: Raft,
    inflight: Arc<Semaphore>,
    max_inflight: usize,
}

impl Proposer {
    /// Starts the proposer task for `raft`.
    pub(crate) fn spawn(raft: Raft, limits: ProposerLimits) -> Self {
        let (tx, rx) = mpsc::channel(limits.queue_txns.max(1));
        let inflight = Arc::new(Semaphore::new(limits.max_inflight_batches.max(1)));
        tokio::spawn(run(raft.clone(), limits, inflight.clone(), rx));
        Proposer {
            tx,
            raft,
            inflight,
            max_inflight: limits.max_inflight_batches.max(1),
        }
    }

    /// Queues `txn` and waits for its outcome (the caller applies its own deadline).
    pub(crate) async fn propose(&self, txn: TxnRequest) -> Result<TxnApplied, WireError> {
        // Fast path: the proposer is idle (nothing queued, no entry in flight), so there is
        // nothing to batch with: propose from the caller's task and skip the queue's hops.
        // Under load writes take the queue and batch.
        if self.tx.capacity() == self.tx.max_capacity()
            && self.inflight.available_permits() >= self.max_inflight
        {
            if let Ok(_permit) = self.inflight.clone().try_acquire_owned() {
                let resp = self
                    .raft
                    .client_write(WriteBatch {
                        txns: vec![txn].into(),
                    })
                    .await
                    .map_err(write_error)?;
                return outcomes(resp.data.replies, 1)
                    .pop()
                    .expect("outcomes() returns one outcome per proposed transaction (1)");
            }
        }
        let bytes = txn_bytes(&txn);
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Proposal { txn, bytes, reply })
            .await
            // Not queued: nothing was proposed.
            .map_err(|_| WireError::Fatal("the proposer stopped".into()))?;
        rx.await
            .map_err(|_| WireError::Indeterminate("the proposer stopped before answering".into()))?
    }
}

/// The outcome of each of the `proposed` transactions of one committed entry, in order.
///
/// The entry was applied, so a transaction the state machine did not answer (it answered fewer
/// than proposed: a bug) may well have applied: its outcome is
/// [`WireError::Indeterminate`], never an error that reads as "nothing applied".
fn outcomes(answers: Vec<TxnAnswer>, proposed: usize) -> Vec<Result<TxnApplied, WireError>> {
    let answered = answers.len();
    let mut out: Vec<_> = answers
        .into_iter()
        .take(proposed)
        .map(answer_result)
        .collect();
    while out.len() < proposed {
        out.push(Err(WireError::Indeterminate(format!(
            "the state machine answered {answered} of {proposed} transactions of a committed \
             entry; this one's outcome is unknown"
        ))));
    }
    out
}

/// The caller's result of one transaction's answer.
fn answer_result(answer: TxnAnswer) -> Result<TxnApplied, WireError> {
    match answer {
        TxnAnswer::Reply(r) => r.map_err(WireError::Rejected),
        TxnAnswer::Expired(id) => Err(WireError::Indeterminate(format!(
            "request {id} is older than the replies kept for its origin (it may have applied \
             already); it was not applied again"
        ))),
    }
}

/// The encoded size of a transaction, in bytes (what it adds to an entry's payload).
pub(crate) fn txn_bytes(txn: &TxnRequest) -> usize {
    // Sizing plain structs of strings, bytes and integers cannot fail; were it to, the
    // transaction is counted as filling a whole batch so it goes alone.
    crate::txn::encoded_txn_bytes(txn).unwrap_or(usize::MAX)
}

/// Drains queued proposals after `first` into one batch of at most `limits.max_batch_txns`
/// transactions and `limits.max_batch_bytes` bytes, stopping BEFORE a proposal that would pass
/// the byte limit: that one is returned to start the next batch. `first` always goes, alone if
/// need be (it is at most [`MAX_TXN_BYTES`](crate::MAX_TXN_BYTES), itself at most
/// [`MAX_BATCH_BYTES_LIMIT`](crate::MAX_BATCH_BYTES_LIMIT)).
fn fill_batch(
    first: Proposal,
    rx: &mut mpsc::Receiver<Proposal>,
    limits: &ProposerLimits,
) -> (Vec<Proposal>, Option<Proposal>) {
    let mut bytes = first.bytes;
    let mut batch = vec![first];
    while batch.len() < limits.max_batch_txns {
        let Ok(p) = rx.try_recv() else {
            break;
        };
        let with = bytes.saturating_add(p.bytes);
        if with > limits.max_batch_bytes {
            return (batch, Some(p));
        }
        bytes = with;
        batch.push(p);
    }
    (batch, None)
}

async fn run(
    raft: Raft,
    limits: ProposerLimits,
    inflight: Arc<Semaphore>,
    mut rx: mpsc::Receiver<Proposal>,
) {
    // A proposal that did not fit the previous batch; it opens the next one.
    let mut carried: Option<Proposal> = None;
    loop {
        let first = match carried.take() {
            Some(p) => p,
            None => match rx.recv().await {
                Some(p) => p,
                None => return,
            },
        };
        // Then wait for room: while every slot is busy, proposals pile up in the queue and the
        // next entry takes them all. (Waiting for a proposal first leaves every slot free
        // while idle, which is what lets an idle proposer's caller take the fast path.)
        let Ok(permit) = inflight.clone().acquire_owned().await else {
            return;
        };
        let (batch, rest) = fill_batch(first, &mut rx, &limits);
        carried = rest;
        let raft = raft.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let mut replies = Vec::with_capacity(batch.len());
            let mut txns = Vec::with_capacity(batch.len());
            for p in batch {
                replies.push(p.reply);
                txns.push(p.txn);
            }
            match raft.client_write(WriteBatch { txns: txns.into() }).await {
                Ok(resp) => {
                    let outcomes = outcomes(resp.data.replies, replies.len());
                    for (reply, outcome) in replies.into_iter().zip(outcomes) {
                        let _ = reply.send(outcome);
                    }
                }
                Err(e) => {
                    let err = write_error(e);
                    for reply in replies {
                        let _ = reply.send(Err(err.clone()));
                    }
                }
            }
        });
    }
}

/// Maps openraft's write error.
///
/// `ForwardToLeader`, a membership error and an unmet precondition come before the entry is
/// appended (nothing proposed). A discarded entry and a fatal error may come after it was
/// appended, and the entry may still commit under a new leader: both are
/// [`WireError::Indeterminate`].
pub(crate) fn write_error(
    e: RaftError<crate::raft::types::C, ClientWriteError<crate::raft::types::C>>,
) -> WireError {
    match e {
        RaftError::APIError(ClientWriteError::ForwardToLeader(f)) => WireError::NotLeader {
            leader: f.leader_id,
        },
        RaftError::APIError(ClientWriteError::LogEntryDiscarded(f)) => {
            WireError::Indeterminate(format!(
                "the entry was discarded on a leader change (new leader: {:?})",
                f.leader_id
            ))
        }
        RaftError::APIError(ClientWriteError::ChangeMembershipError(m)) => {
            WireError::Membership(m.to_string())
        }
        RaftError::APIError(other) => WireError::Membership(other.to_string()),
        RaftError::Fatal(f) => WireError::Indeterminate(format!(
            "the leader stopped ({f}) after the write was submitted; it may have been appended \
             and may still commit under a new leader"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::command::{RequestId, TxnOrigin};

    fn proposal(seq: u64, bytes: usize) -> Proposal {
        let (reply, _rx) = oneshot::channel();
        Proposal {
            txn: TxnRequest {
                id: RequestId {
                    origin: TxnOrigin {
                        member: 1,
                        incarnation: 1,
                    },
                    seq,
                },
                ops: Vec::new(),
            },
            bytes,
            reply,
        }
    }

    fn seqs(batch: &[Proposal]) -> Vec<u64> {
        batch.iter().map(|p| p.txn.id.seq).collect()
    }

    #[test]
    fn a_batch_stops_before_the_transaction_that_would_pass_the_byte_limit() {
        let limits = ProposerLimits {
            max_batch_txns: 100,
            max_batch_bytes: 1000,
            max_inflight_batches: 1,
            queue_txns: 100,
        };
        let (tx, mut rx) = mpsc::channel(100);
        for (seq, bytes) in [(2, 400), (3, 200), (4, 300), (5, 900), (6, 50)] {
            tx.try_send(proposal(seq, bytes)).unwrap();
        }
        // 400 + 400 + 200 = 1000 fits exactly; 300 more would pass it.
        let (batch, rest) = fill_batch(proposal(1, 400), &mut rx, &limits);
        assert_eq!(seqs(&batch), [1, 2, 3]);
        let rest = rest.expect("the proposal that did not fit is kept");
        assert_eq!(rest.txn.id.seq, 4);
        // It opens the next batch; 900 would pass the limit again.
        let (batch, rest) = fill_batch(rest, &mut rx, &limits);
        assert_eq!(seqs(&batch), [4]);
        let rest = rest.expect("kept");
        // A proposal as large as the limit goes alone, then the rest follows.
        let (batch, rest) = fill_batch(rest, &mut rx, &limits);
        assert_eq!(seqs(&batch), [5, 6]);
        assert!(rest.is_none());
        // A single proposal over the configured limit still goes (alone).
        let (batch, rest) = fill_batch(proposal(7, 5000), &mut rx, &limits);
        assert_eq!(seqs(&batch), [7]);
        assert!(rest.is_none());
    }

    #[test]
    fn a_batch_respects_the_transaction_count_limit() {
        let limits = ProposerLimits {
            max_batch_txns: 2,
            max_batch_bytes: 1000,
            max_inflight_batches: 1,
            queue_txns: 100,
        };
        let (tx, mut rx) = mpsc::channel(100);
        for seq in 2..=4 {
            tx.try_send(proposal(seq, 1)).unwrap();
        }
        let (batch, rest) = fill_batch(proposal(1, 1), &mut rx, &limits);
        assert_eq!(seqs(&batch), [1, 2]);
        assert!(rest.is_none());
        let (batch, _) = fill_batch(rx.try_recv().unwrap(), &mut rx, &limits);
        assert_eq!(seqs(&batch), [3, 4]);
    }

    /// Before, a Raft fatal error during `client_write` (possibly after the entry was appended
    /// and replicated) travelled as `Fatal`, which the forwarding member reported as "nothing
    /// applied".
    #[test]
    fn a_fatal_raft_error_during_a_write_is_indeterminate() {
        let e = write_error(RaftError::Fatal(openraft::errors::Fatal::Stopped));
        assert!(matches!(e, WireError::Indeterminate(_)), "{e:?}");
        let e = write_error(RaftError::Fatal(openraft::errors::Fatal::Panicked));
        assert!(matches!(e, WireError::Indeterminate(_)), "{e:?}");
    }

    /// Before, a transaction of an applied entry that the state machine did not answer got
    /// `Fatal` (read as "nothing applied").
    #[test]
    fn an_unanswered_transaction_of_an_applied_entry_is_indeterminate() {
        let out = outcomes(Vec::new(), 2);
        assert_eq!(out.len(), 2);
        for o in out {
            assert!(matches!(o, Err(WireError::Indeterminate(_))), "{o:?}");
        }
    }

    #[test]
    fn txn_bytes_is_the_encoded_size() {
        let txn = crate::Txn::new()
            .put_named("c", "k", &"v".repeat(1000), crate::Precondition::Any)
            .into_request(proposal(1, 0).txn.id)
            .unwrap();
        assert_eq!(txn_bytes(&txn), postcard::to_allocvec(&txn).unwrap().len());
    }
}
