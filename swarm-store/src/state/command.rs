//! What a committed log entry asks the state machine to do, and what it answers.

use crate::blob::Blob;
use crate::txn::Precondition;
use serde::{Deserialize, Serialize};

/// The change one operation makes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum OpKind {
    /// Store this value (create or replace).
    Put(Blob),
    /// Remove the document.
    Delete,
    /// Change nothing; only check the precondition.
    Check,
}

/// One operation of a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TxnOp {
    pub(crate) collection: String,
    pub(crate) key: String,
    pub(crate) precondition: Precondition,
    pub(crate) kind: OpKind,
}

/// Where a transaction was proposed: one [`Store`](crate::Store) instance.
///
/// `member` is the store's member id; `incarnation` is 64 random bits drawn when the store opens,
/// so two incarnations of one member (a restart) never share an origin (barring a 2^-64 chance).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct TxnOrigin {
    pub(crate) member: u64,
    pub(crate) incarnation: u64,
}

impl std::fmt::Display for TxnOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{:016x}", self.member, self.incarnation)
    }
}

/// A transaction's unique id, assigned once when the client call starts: every retry and every
/// forwarded copy carries the same id, and the state machine applies each id at most once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct RequestId {
    pub(crate) origin: TxnOrigin,
    /// 1, 2, ... per origin, in the order the origin's client calls started.
    pub(crate) seq: u64,
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{}", self.origin, self.seq)
    }
}

/// A transaction: every operation applies, or none does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TxnRequest {
    /// Identifies the client call, for deduplication.
    pub(crate) id: RequestId,
    pub(crate) ops: Vec<TxnOp>,
}

/// The payload of one Raft entry: the transactions a proposer drained from its queue.
///
/// Shared (`Arc`), so a copy of an entry (the log adapter's cache of decoded entries hands one
/// to each replication stream and to the state machine) costs no allocation. Encoded as the
/// sequence of transactions, as when it was a `Vec`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WriteBatch {
    pub(crate) txns: std::sync::Arc<[TxnRequest]>,
}

impl std::fmt::Display for WriteBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WriteBatch({} txns)", self.txns.len())
    }
}

/// A transaction that applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TxnApplied {
    /// The store revision after the transaction (unchanged when it changed nothing).
    pub(crate) revision: u64,
    /// Per operation: the document's version after it (`None` when absent).
    pub(crate) versions: Vec<Option<u64>>,
}

/// A transaction refused because a precondition did not hold; nothing was applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TxnRejected {
    pub(crate) op_index: usize,
    pub(crate) collection: String,
    pub(crate) key: String,
    pub(crate) expected: Precondition,
    /// The version found (`None`: the document does not exist).
    pub(crate) actual: Option<u64>,
}

/// The outcome of one transaction of a batch.
pub(crate) type TxnReply = Result<TxnApplied, TxnRejected>;

/// The state machine's answer to one transaction of a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum TxnAnswer {
    /// The transaction's reply: from applying it now, or the reply recorded when the same
    /// request id applied before (then nothing was applied again).
    Reply(TxnReply),
    /// The dedup table no longer knows this request id's outcome (it is below its origin's
    /// window, or it applied and its reply was evicted), so it was not applied now; whether
    /// it applied earlier, and how, is unknown to the caller.
    Expired(RequestId),
}

/// The response of one applied Raft entry: one answer per transaction, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BatchReply {
    pub(crate) replies: Vec<TxnAnswer>,
}
