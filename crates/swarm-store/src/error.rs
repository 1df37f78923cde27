//! Errors of the store API.

use crate::transport::{MemberId, TransportError};

/// An error from a [`Store`](crate::Store) operation.
///
/// [`StoreError::is_retryable`] separates what may succeed when tried again (no leader yet, a
/// lost connection) from answers (a conflict) and fatal failures (storage).
#[derive(Debug, thiserror::Error)]
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
    /// quorum of the new configuration. Pass `force` to do it anyway.
    #[error(
        "membership change refused: {reachable} reachable voter(s) after the change, quorum needs {quorum}; use force to override"
    )]
    QuorumRisk {
        /// Voters of the new configuration that are reachable.
        reachable: usize,
        /// Voters a quorum of the new configuration needs.
        quorum: usize,
    },
    /// A membership change could not be made (unknown member, change in progress, ...).
    #[error("membership change failed: {0}")]
    Membership(String),
    /// The write was proposed but the leader changed before it was confirmed: it may or may not
    /// have been committed. Read back before retrying a non-idempotent write.
    #[error("commit status unknown: {0}")]
    Indeterminate(String),
    /// No answer within the request deadline.
    #[error("request timed out after {timeout_ms} ms")]
    Timeout {
        /// The deadline that passed.
        timeout_ms: u64,
    },
    /// Talking to another member failed. Retryable.
    #[error("transport: {0}")]
    Transport(#[from] TransportError),
    /// The log, snapshot or state machine failed; the member stopped. Fatal.
    #[error("storage failure (member stopped): {0}")]
    Storage(String),
    /// Another member sent something this member could not understand.
    #[error("protocol error with {peer}: {detail}")]
    Protocol {
        /// The peer.
        peer: MemberId,
        /// What was wrong.
        detail: String,
    },
    /// The store was shut down.
    #[error("the store is shut down")]
    Shutdown,
}

impl StoreError {
    /// Whether the same call may succeed later (after an election, a reconnect, ...).
    ///
    /// ```
    /// use swarm_store::StoreError;
    /// assert!(StoreError::NoLeader.is_retryable());
    /// assert!(!StoreError::Storage("disk gone".into()).is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::NotLeader { .. }
            | StoreError::NoLeader
            | StoreError::Timeout { .. }
            | StoreError::Indeterminate(_) => true,
            StoreError::Transport(e) => e.is_retryable(),
            _ => false,
        }
    }

    /// Whether the member that returned this error has stopped (storage failure or shutdown).
    pub fn is_fatal(&self) -> bool {
        matches!(self, StoreError::Storage(_) | StoreError::Shutdown)
    }
}
