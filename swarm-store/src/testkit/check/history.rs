//! Recorded client operations on a key-value register.

use std::fmt::Debug;

/// What a client asked of one key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op<V> {
    /// Read the key's value (`None` when absent).
    Read,
    /// Set the key to a value.
    Write(V),
    /// Remove the key.
    Delete,
    /// Set the key to `new` (`None` removes it) if its value is `expected` (`None`: absent).
    Cas {
        /// The value the key must hold.
        expected: Option<V>,
        /// The value to set when it does.
        new: Option<V>,
    },
}

/// What an operation returned.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Output<V> {
    /// A read's result (`None`: absent).
    Read(Option<V>),
    /// A write or delete took effect.
    Done,
    /// A compare-and-swap's result: whether it matched and took effect.
    Cas(bool),
}

/// How an operation ended.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Outcome<V> {
    /// It returned at time `at` with `output`.
    Returned {
        /// When the client saw the response.
        at: u64,
        /// The response.
        output: Output<V>,
    },
    /// It never returned (timeout, crash, lost connection): it may or may not have taken
    /// effect, at any time after its invocation.
    Pending,
    /// It definitely did not take effect (refused before being proposed, for example). The
    /// checker ignores it.
    Failed,
}

/// One client operation on one key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Operation<K, V> {
    /// Who issued it (informational: a client's operations need not be sequential).
    pub client: u64,
    /// The key it touched.
    pub key: K,
    /// What it asked.
    pub op: Op<V>,
    /// When the client sent it. Times are any monotonic `u64`: a logical counter of events
    /// (exact) or clock readings (two operations whose intervals touch count as concurrent).
    pub invoked_at: u64,
    /// How it ended.
    pub outcome: Outcome<V>,
}

/// Identifies an operation within its [`History`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpId(pub usize);

/// Why an operation could not be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    /// No operation with that id.
    #[error("no operation {0:?} in the history")]
    UnknownOp(OpId),
    /// The operation already ended.
    #[error("operation {0:?} already ended")]
    AlreadyEnded(OpId),
    /// It returned before it was invoked.
    #[error("operation {id:?} returned at {returned_at}, before its invocation at {invoked_at}")]
    ReturnBeforeInvoke {
        /// The operation.
        id: OpId,
        /// Its invocation time.
        invoked_at: u64,
        /// The claimed return time.
        returned_at: u64,
    },
    /// The output does not fit the operation (a read returning a CAS result, say).
    #[error("operation {id:?}: output {output} does not fit the operation {op}")]
    OutputMismatch {
        /// The operation.
        id: OpId,
        /// The operation, formatted.
        op: String,
        /// The output, formatted.
        output: String,
    },
}

/// A history of client operations, recorded as they are invoked and as they end.
///
/// # Example
/// ```
/// use swarm_store::testkit::check::{History, Op, Output};
/// let mut h = History::new();
/// let w = h.invoke(1, "k", Op::Write(1), 0);
/// h.complete(w, Output::Done, 2).unwrap();
/// let r = h.invoke(2, "k", Op::Read, 3);
/// h.complete(r, Output::Read(Some(1)), 4).unwrap();
/// assert_eq!(h.len(), 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History<K, V> {
    ops: Vec<Operation<K, V>>,
}

impl<K: Debug, V: Debug> History<K, V> {
    /// An empty history.
    pub fn new() -> Self {
        History { ops: Vec::new() }
    }

    /// Records that `client` invoked `op` on `key` at time `at`; the operation is
    /// [`Pending`](Outcome::Pending) until [`complete`](Self::complete)d or
    /// [`fail`](Self::fail)ed.
    pub fn invoke(&mut self, client: u64, key: K, op: Op<V>, at: u64) -> OpId {
        self.ops.push(Operation {
            client,
            key,
            op,
            invoked_at: at,
            outcome: Outcome::Pending,
        });
        OpId(self.ops.len() - 1)
    }

    /// Records that operation `id` returned `output` at time `at`.
    pub fn complete(&mut self, id: OpId, output: Output<V>, at: u64) -> Result<(), HistoryError> {
        let entry = self.ops.get_mut(id.0).ok_or(HistoryError::UnknownOp(id))?;
        if !matches!(entry.outcome, Outcome::Pending) {
            return Err(HistoryError::AlreadyEnded(id));
        }
        if at < entry.invoked_at {
            return Err(HistoryError::ReturnBeforeInvoke {
                id,
                invoked_at: entry.invoked_at,
                returned_at: at,
            });
        }
        let fits = matches!(
            (&entry.op, &output),
            (Op::Read, Output::Read(_))
                | (Op::Write(_) | Op::Delete, Output::Done)
                | (Op::Cas { .. }, Output::Cas(_))
        );
        if !fits {
            return Err(HistoryError::OutputMismatch {
                id,
                op: format!("{:?}", entry.op),
                output: format!("{output:?}"),
            });
        }
        entry.outcome = Outcome::Returned { at, output };
        Ok(())
    }

    /// Records that operation `id` definitely did not take effect.
    pub fn fail(&mut self, id: OpId) -> Result<(), HistoryError> {
        let entry = self.ops.get_mut(id.0).ok_or(HistoryError::UnknownOp(id))?;
        if !matches!(entry.outcome, Outcome::Pending) {
            return Err(HistoryError::AlreadyEnded(id));
        }
        entry.outcome = Outcome::Failed;
        Ok(())
    }

    /// Adds a finished operation as is (validated like [`complete`](Self::complete)).
    pub fn push(&mut self, operation: Operation<K, V>) -> Result<OpId, HistoryError> {
        let Operation {
            client,
            key,
            op,
            invoked_at,
            outcome,
        } = operation;
        let id = self.invoke(client, key, op, invoked_at);
        let result = match outcome {
            Outcome::Pending => Ok(()),
            Outcome::Failed => self.fail(id),
            Outcome::Returned { at, output } => self.complete(id, output, at),
        };
        if let Err(e) = result {
            self.ops.pop();
            return Err(e);
        }
        Ok(id)
    }

    /// The operations, in order of invocation recording; indices are [`OpId`]s.
    pub fn ops(&self) -> &[Operation<K, V>] {
        &self.ops
    }

    /// The number of operations recorded.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}
