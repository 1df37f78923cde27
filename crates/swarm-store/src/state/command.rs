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

/// A transaction: every operation applies, or none does.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TxnRequest {
    pub(crate) ops: Vec<TxnOp>,
}

/// The payload of one Raft entry: the transactions a proposer drained from its queue.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WriteBatch {
    pub(crate) txns: Vec<TxnRequest>,
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

/// The response of one applied Raft entry: one reply per transaction, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BatchReply {
    pub(crate) replies: Vec<TxnReply>,
}
