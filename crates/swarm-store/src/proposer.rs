//! The proposer: drains queued client transactions into one Raft entry while earlier entries are
//! in flight, so many writes share one log append, one fsync and one replication round.

use crate::raft::types::Raft;
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
        // Fast path: the proposer is idle (nothing queued, no entry in flight besides the slot
        // its loop holds while waiting), so there is nothing to batch with: propose from the
        // caller's task and skip the queue's hops. Under load writes take the queue and batch.
        if self.tx.capacity() == self.tx.max_capacity()
            && self.inflight.available_permits() + 1 >= self.max_inflight
        {
            if let Ok(_permit) = self.inflight.clone().try_acquire_owned() {
                let resp = self
                    .raft
                    .client_write(WriteBatch { txns: vec![txn] })
                    .await
                    .map_err(write_error)?;
                return resp.data.replies.into_iter().next().map_or_else(
                    || {
                        Err(WireError::Fatal(
                            "the state machine answered no transaction".into(),
                        ))
                    },
                    answer_result,
                );
            }
        }
        let bytes = txn_bytes(&txn);
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Proposal { txn, bytes, reply })
            .await
            .map_err(|_| WireError::Fatal("the proposer stopped".into()))?;
        rx.await
            .map_err(|_| WireError::Indeterminate("the proposer stopped before answering".into()))?
    }
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

/// Approximate encoded size of a transaction.
pub(crate) fn txn_bytes(txn: &TxnRequest) -> usize {
    txn.ops
        .iter()
        .map(|op| {
            let value = match &op.kind {
                crate::state::command::OpKind::Put(v) => v.0.len(),
                _ => 0,
            };
            op.collection.len() + op.key.len() + value + 16
        })
        .sum()
}

async fn run(
    raft: Raft,
    limits: ProposerLimits,
    inflight: Arc<Semaphore>,
    mut rx: mpsc::Receiver<Proposal>,
) {
    loop {
        // Wait for room first: while every slot is busy, proposals pile up in the queue and the
        // next entry takes them all.
        let Ok(permit) = inflight.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = rx.recv().await else {
            return;
        };
        let mut bytes = first.bytes;
        let mut batch = vec![first];
        while batch.len() < limits.max_batch_txns && bytes < limits.max_batch_bytes {
            match rx.try_recv() {
                Ok(p) => {
                    bytes += p.bytes;
                    batch.push(p);
                }
                Err(_) => break,
            }
        }
        let raft = raft.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let mut replies = Vec::with_capacity(batch.len());
            let mut txns = Vec::with_capacity(batch.len());
            for p in batch {
                replies.push(p.reply);
                txns.push(p.txn);
            }
            match raft.client_write(WriteBatch { txns }).await {
                Ok(resp) => {
                    let mut outcomes = resp.data.replies.into_iter();
                    for reply in replies {
                        let outcome = match outcomes.next() {
                            Some(a) => answer_result(a),
                            None => Err(WireError::Fatal(
                                "the state machine answered fewer transactions than proposed"
                                    .into(),
                            )),
                        };
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
        RaftError::Fatal(f) => WireError::Fatal(f.to_string()),
    }
}
