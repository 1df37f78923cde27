//! Errors of the store API.

use crate::storage::StorageError;
use crate::transport::{MemberId, TransportError};
use std::fmt::Display;

/// An error from a [`Store`](crate::Store) operation.
///
/// Every error is in exactly one of four classes:
///
/// | class | variants | what the caller does |
/// |---|---|---|
/// | **not applied, retry** ([`is_retryable`](Self::is_retryable)) | `NotLeader`, `NoLeader`, `Timeout`, retryable `Transport` | call again, even as a new request: a write returns these only when the transaction certainly did not take effect (it never left this member); a read or watch has no effect |
/// | **outcome unknown** ([`is_indeterminate`](Self::is_indeterminate)) | `Indeterminate` | the write may or may not have applied (it may still apply): re-read, or retry the **same** transaction with [`Store::submit`](crate::Store::submit), whose request id makes the store apply it at most once. Retrying as a new request (a new [`Store::txn`](crate::Store::txn) call or a fresh [`Txn`](crate::Txn)) may apply it twice |
/// | **answer** | `Conflict`, `NotFound`, `AlreadyExists`, `Compacted`, `Invalid`, `Codec`, `QuorumRisk`, `NotAuthorized`, `Membership`, `Protocol`, non-retryable `Transport` | nothing was applied; the same call gets the same answer until something changes |
/// | **fatal** ([`is_fatal`](Self::is_fatal)) | `Storage`, `Shutdown` | this member stopped |
///
/// A write or membership operation that left this member (handed to the leader's proposer here,
/// or forwarded to the leader) can fail only with `Indeterminate` or a definite answer: the
/// state machine's refusal of a precondition (`Conflict`, `NotFound`, `AlreadyExists`: the
/// answer recorded for its request id, whichever copy reached the log), or a refusal the leader
/// made before proposing it (`NotLeader`, `Invalid`, `QuorumRisk`, `NotAuthorized`,
/// `Membership`) while no earlier attempt's outcome is unknown. Everything else after that
/// point (a leader that failed or stopped after proposing, a broken or refused connection, a
/// `Protocol` error, a timeout) is `Indeterminate`: so `Protocol`, `Transport`, `Timeout`,
/// `Storage` and `Shutdown` from a write always mean it never left this member.
///
/// ```
/// use swarm_store::StoreError;
/// let unknown = StoreError::Indeterminate("leader changed".into());
/// assert!(unknown.is_indeterminate() && !unknown.is_retryable());
/// assert!(StoreError::NoLeader.is_retryable() && !StoreError::NoLeader.is_indeterminate());
/// ```
///
/// A [`StorageError`] converts into [`StoreError::Storage`] (`?` works on the storage
/// constructors), and the storage error stays its [`source`](std::error::Error::source).
///
/// New variants may be added: a `match` needs a `_` arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// This member is not the leader; `leader` is the one it knows of, if any.
    #[error("this member is not the leader (leader: {})", leader.map_or_else(|| "unknown".to_string(), |l| l.to_string()))]
    NotLeader {
        /// The current leader as far as this member knows.
        leader: Option<MemberId>,
    },
    /// No leader is elected (an election is in progress or quorum is lost).
    #[error("the cluster has no leader")]
    NoLeader,
    /// A compare-and-swap precondition failed: the document's version is not the expected one.
    #[error("version conflict on {collection}/{key}: expected version {expected}, found {}", actual.map_or_else(|| "none (absent)".to_string(), |v| v.to_string()))]
    Conflict {
        /// The collection.
        collection: String,
        /// The document key.
        key: String,
        /// The version the caller expected.
        expected: u64,
        /// The version found (`None`: the document does not exist).
        actual: Option<u64>,
    },
    /// The document does not exist.
    #[error("{collection}/{key} not found")]
    NotFound {
        /// The collection.
        collection: String,
        /// The document key.
        key: String,
    },
    /// The document already exists (a create was refused).
    #[error("{collection}/{key} already exists (version {version})")]
    AlreadyExists {
        /// The collection.
        collection: String,
        /// The document key.
        key: String,
        /// Its current version.
        version: u64,
    },
    /// A watch asked for changes older than the retained history: list again and watch from the
    /// listing's revision.
    #[error(
        "revision {requested} is compacted (history starts after revision {compacted}); re-list and watch from the new revision"
    )]
    Compacted {
        /// The revision the watch wanted to resume after.
        requested: u64,
        /// The oldest revision a watch may resume from now.
        compacted: u64,
    },
    /// The argument named by `field` is invalid.
    #[error("invalid {field}: {detail}")]
    Invalid {
        /// The offending field or argument.
        field: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// A document could not be encoded or decoded with serde.
    #[error("cannot {action} document {collection}/{key}: {detail}")]
    Codec {
        /// "encode" or "decode".
        action: &'static str,
        /// The collection.
        collection: String,
        /// The document key.
        key: String,
        /// The serde error.
        detail: String,
    },
    /// A membership change was refused because it would leave fewer reachable voters than a
    /// quorum of the new configuration. Pass `force` to do it anyway. `unreachable` names each
    /// voter of the new configuration that did not acknowledge the leader recently, with the
    /// last failure of the leader's calls to it (a refused certificate, a wrong address, ...).
    #[error(
        "membership change refused: {reachable} reachable voter(s) after the change, quorum needs {quorum}; unreachable: {}; use force to override",
        list_unreachable(unreachable)
    )]
    QuorumRisk {
        /// Voters of the new configuration that are reachable.
        reachable: usize,
        /// Voters a quorum of the new configuration needs.
        quorum: usize,
        /// Each unreachable voter of the new configuration, with why (its last call error).
        unreachable: Vec<(MemberId, String)>,
    },
    /// A request was refused because the member asking for it may not make it: a membership
    /// change from a member that is not a voter, or a forced one from another member than the
    /// leader without the leader's operator allowing it; or a forwarded write or read from a
    /// member outside the leader's membership.
    #[error("request by {peer} not authorized: {reason}")]
    NotAuthorized {
        /// The member that asked.
        peer: MemberId,
        /// Why it may not.
        reason: String,
    },
    /// A membership change could not be made (unknown member, change in progress, ...).
    #[error("membership change failed: {0}")]
    Membership(String),
    /// The write left this member (it was proposed, or forwarded to a leader) but no outcome
    /// came back: it may or may not have been committed, and may still commit. Read back, or
    /// retry the same transaction with [`Store::submit`](crate::Store::submit) (same request
    /// id: applied at most once). Never retry it as a new request.
    #[error("commit status unknown: {0}")]
    Indeterminate(String),
    /// No answer within the request deadline, for a request that had no effect (a read, or a
    /// write that never left this member; a write whose deadline passes after it was proposed
    /// or forwarded is [`StoreError::Indeterminate`], never `Timeout`). Retrying a write is
    /// always safe with [`Store::submit`](crate::Store::submit) of the same `Txn`.
    #[error("request timed out after {timeout_ms} ms")]
    Timeout {
        /// The deadline that passed.
        timeout_ms: u64,
    },
    /// Talking to another member failed ([`TransportError::is_retryable`] tells whether trying
    /// again may help). A write whose request may have reached the leader is reported as
    /// [`StoreError::Indeterminate`] instead.
    #[error("transport: {0}")]
    Transport(#[from] TransportError),
    /// The log, snapshot or state machine failed; the member stopped. Fatal. The storage
    /// error is kept as it was ([`StorageError::is_retryable`] tells whether restarting the
    /// member on the same storage may help); a failure inside the Raft core shows as
    /// [`StorageError::Closed`].
    #[error("storage failure (member stopped): {0}")]
    Storage(#[from] StorageError),
    /// Another member sent something this member could not understand (a write that was sent
    /// to it is [`StoreError::Indeterminate`] instead).
    #[error("protocol error with {peer}: {detail}")]
    Protocol {
        /// The peer.
        peer: MemberId,
        /// What was wrong.
        detail: String,
    },
    /// This member was shut down ([`Store::shutdown`](crate::Store::shutdown)) before the
    /// operation left it; a watch of the member ends with it once it returned every change
    /// applied.
    #[error("the store is shut down")]
    Shutdown,
}

/// `member-2: <why>, member-3: <why>`, or `none`.
fn list_unreachable(unreachable: &[(MemberId, String)]) -> String {
    if unreachable.is_empty() {
        return "none".to_owned();
    }
    unreachable
        .iter()
        .map(|(member, why)| format!("{member}: {why}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl StoreError {
    /// Whether the operation certainly did not take effect and the same call may succeed later
    /// (after an election, a reconnect, ...): safe to retry, even as a new request.
    ///
    /// [`StoreError::Indeterminate`] is not retryable in this sense: see
    /// [`is_indeterminate`](Self::is_indeterminate).
    ///
    /// ```
    /// use swarm_store::StoreError;
    /// assert!(StoreError::NoLeader.is_retryable());
    /// assert!(!StoreError::Indeterminate("leader lost".into()).is_retryable());
    /// use swarm_store::storage::StorageError;
    /// assert!(!StoreError::Storage(StorageError::Closed("disk gone".into())).is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::NotLeader { .. } | StoreError::NoLeader | StoreError::Timeout { .. } => {
                true
            }
            StoreError::Transport(e) => e.is_retryable(),
            _ => false,
        }
    }

    /// Whether a write may or may not have applied (and may still apply): the caller must read
    /// back, or retry the same transaction with [`Store::submit`](crate::Store::submit) so it is
    /// applied at most once.
    pub fn is_indeterminate(&self) -> bool {
        matches!(self, StoreError::Indeterminate(_))
    }

    /// Whether the member that returned this error has stopped (storage failure or shutdown).
    pub fn is_fatal(&self) -> bool {
        matches!(self, StoreError::Storage(_) | StoreError::Shutdown)
    }

    /// The Raft core failed or stopped (a storage failure it met, a panic, or a shutdown under
    /// way): fatal, as [`StoreError::Storage`] of a closed storage.
    pub(crate) fn raft_stopped(detail: impl Display) -> StoreError {
        StoreError::Storage(StorageError::Closed(format!(
            "the Raft core stopped: {detail}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_is_in_one_class() {
        let errors = [
            StoreError::NotLeader { leader: None },
            StoreError::NoLeader,
            StoreError::Timeout { timeout_ms: 1 },
            StoreError::Transport(TransportError::Timeout(MemberId(2))),
            StoreError::Indeterminate("x".into()),
            StoreError::Storage(StorageError::Closed("x".into())),
            StoreError::Shutdown,
            StoreError::Membership("x".into()),
            StoreError::Transport(TransportError::Shutdown),
        ];
        for e in &errors {
            let classes = [e.is_retryable(), e.is_indeterminate(), e.is_fatal()];
            assert!(
                classes.iter().filter(|c| **c).count() <= 1,
                "{e}: {classes:?}"
            );
        }
        assert!(!StoreError::Indeterminate("x".into()).is_retryable());
        assert!(StoreError::Timeout { timeout_ms: 1 }.is_retryable());
    }

    #[test]
    fn a_storage_error_keeps_its_type_across_the_store_boundary() {
        use std::error::Error as _;
        let e: StoreError = StorageError::Contract("index 7 after 5".into()).into();
        assert!(e.is_fatal());
        let source = e.source().expect("the storage error is the source");
        assert!(matches!(
            source.downcast_ref::<StorageError>(),
            Some(StorageError::Contract(_))
        ));
        assert!(StoreError::raft_stopped("panicked").is_fatal());
    }
}
