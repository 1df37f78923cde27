//! Why a node operation failed.

use crate::manager::control::ControlError;
use crate::manager::logbroker::LogBrokerError;
use crate::manager::state::{DataDirError, StateError};
use crate::node::wire::{RefusalKind, RemoteRefusal};
use std::path::PathBuf;
use swarm_secrets::SecretsError;
use swarm_store::StoreError;
use swarm_store::transport::TransportError;

/// A failed node operation. Each variant names what failed; [`NodeError::is_retryable`] says
/// whether trying again later can help.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The configuration is unusable; `field` names the setting.
    #[error("invalid node configuration: {field}: {reason}")]
    Config {
        /// The setting.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The data directory already holds a node (use [`Node::start`](crate::node::Node::start)).
    #[error("{path} already holds a node's state; start it instead of init or join")]
    AlreadyInitialized {
        /// The state file found.
        path: PathBuf,
    },
    /// The data directory holds no node (use init or join first).
    #[error("{path} holds no node's state; init or join first")]
    NotInitialized {
        /// The state file looked for.
        path: PathBuf,
    },
    /// Reading or writing the node's files failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The node's state file is damaged.
    #[error("{path} is damaged: {detail}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The manager is autolocked: start it with the unlock key.
    #[error("this manager is locked: start it with the cluster's unlock key")]
    Locked,
    /// The unlock key given is not the key this manager's data is locked with; nothing was
    /// changed.
    #[error("the unlock key is wrong: this manager's data is locked with another key")]
    WrongUnlockKey,
    /// The manager's data directory refused.
    #[error("manager data directory: {0}")]
    DataDir(#[source] DataDirError),
    /// Certificates, keys or tokens.
    #[error("{what}: {source}")]
    Secrets {
        /// What was being done.
        what: String,
        /// The error.
        source: SecretsError,
    },
    /// The join was refused.
    #[error("joining through {addr} refused: {reason}")]
    JoinRefused {
        /// The manager asked.
        addr: String,
        /// Why (wrong, rotated or other-cluster token, CA mismatch...).
        reason: String,
    },
    /// A manager could not be reached.
    #[error("manager {peer}: {source}")]
    Transport {
        /// The manager (address or node id).
        peer: String,
        /// The transport's error.
        source: TransportError,
    },
    /// A manager answered with a refusal.
    #[error("refused by the cluster: {0}")]
    Remote(#[source] RemoteRefusal),
    /// A control rule refused the request (on this manager, the leader).
    #[error(transparent)]
    Control(ControlError),
    /// The managers' state could not be read or written.
    #[error(transparent)]
    State(StateError),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[source] StoreError),
    /// A root CA rotation step refused.
    #[error(transparent)]
    RootRotation(crate::manager::root_rotation::RotationError),
    /// The call needs a manager, and this node is a worker.
    #[error("this node is not a swarm manager: run the command on a manager")]
    NotAManager,
    /// A peer sent something that does not decode.
    #[error("{peer} sent an undecodable answer: {detail}")]
    Protocol {
        /// The peer.
        peer: String,
        /// What failed.
        detail: String,
    },
    /// The log broker refused (an unknown or ended subscription, a selector without ids, too
    /// many subscriptions...).
    #[error(transparent)]
    Logs(LogBrokerError),
    /// A logs stream ended without every node's part: the reasons name the nodes (down,
    /// silent) and the tasks not scheduled. The messages before it were delivered.
    #[error(
        "incomplete log stream: some logs could not be retrieved: {}",
        reasons.join("; ")
    )]
    IncompleteLogs {
        /// Why, one reason per node or task.
        reasons: Vec<String>,
    },
    /// The node has stopped.
    #[error("the node has stopped")]
    Stopped,
}

impl NodeError {
    /// Whether trying again later can help (no leader right now, a manager unreachable, a
    /// version conflict).
    pub fn is_retryable(&self) -> bool {
        match self {
            NodeError::Transport { .. } => true,
            NodeError::Remote(r) => {
                matches!(r.kind, RefusalKind::Unavailable | RefusalKind::Conflict)
            }
            NodeError::Control(e) => e.is_retryable(),
            NodeError::RootRotation(e) => e.is_retryable(),
            NodeError::State(e) => e.is_retryable() || e.is_conflict(),
            NodeError::Store(e) => e.is_retryable(),
            NodeError::Logs(e) => e.is_retryable(),
            _ => false,
        }
    }

    /// The refusal kind, when the cluster refused the request.
    pub fn refusal_kind(&self) -> Option<RefusalKind> {
        match self {
            NodeError::Remote(r) => Some(r.kind.clone()),
            _ => None,
        }
    }
}

impl From<StateError> for NodeError {
    fn from(e: StateError) -> Self {
        NodeError::State(e)
    }
}

impl From<StoreError> for NodeError {
    fn from(e: StoreError) -> Self {
        NodeError::Store(e)
    }
}

impl From<crate::manager::root_rotation::RotationError> for NodeError {
    fn from(e: crate::manager::root_rotation::RotationError) -> Self {
        NodeError::RootRotation(e)
    }
}

impl From<LogBrokerError> for NodeError {
    fn from(e: LogBrokerError) -> Self {
        NodeError::Logs(e)
    }
}

impl From<ControlError> for NodeError {
    fn from(e: ControlError) -> Self {
        NodeError::Control(e)
    }
}

impl From<DataDirError> for NodeError {
    fn from(e: DataDirError) -> Self {
        if e.is_wrong_unlock_key() {
            NodeError::WrongUnlockKey
        } else if e.is_locked() {
            NodeError::Locked
        } else {
            NodeError::DataDir(e)
        }
    }
}

pub(crate) fn secrets(what: impl Into<String>) -> impl FnOnce(SecretsError) -> NodeError {
    let what = what.into();
    move |source| NodeError::Secrets { what, source }
}
