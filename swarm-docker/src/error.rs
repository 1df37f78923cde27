//! The adapter's typed errors, split into retryable (temporary) and permanent ones.

use std::path::PathBuf;

/// Everything that can go wrong between the adapter and the Docker engine.
///
/// [`DockerError::is_retryable`] separates temporary failures (the engine is restarting, the
/// registry is unreachable, the tmpfs is full) from permanent ones (the image does not exist, the
/// spec is invalid, the adapter lacks the permission to give a file its owner): an orchestrator
/// retries the first kind and fails or rejects the task on the second.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DockerError {
    /// The engine's socket could not be opened or did not answer.
    #[error("docker engine at {socket} is unreachable: {message}")]
    EngineUnreachable {
        /// The socket path that was tried.
        socket: String,
        /// What the client library said.
        message: String,
    },
    /// The engine answered an API call with an error status.
    #[error("docker engine refused {operation} (HTTP {status}): {message}")]
    Engine {
        /// The API operation, e.g. `"create container swarm-abc"`.
        operation: String,
        /// The HTTP status code.
        status: u16,
        /// The engine's message.
        message: String,
    },
    /// An API call failed below HTTP (connection reset, timeout, malformed answer).
    #[error("docker API call {operation} failed: {message}")]
    Transport {
        /// The API operation.
        operation: String,
        /// What the client library said.
        message: String,
    },
    /// The task's image is not on the node and the adapter is not configured to pull.
    #[error(
        "image {image:?} is not present on this node and pulling is disabled \
         (set DockerConfig::pull_missing_images to pull it)"
    )]
    ImageNotFound {
        /// The image reference from the task's spec.
        image: String,
    },
    /// The registry answered the pull with "not found": the image, tag or repository does not
    /// exist there, or access to it is denied. Permanent: pulling again will not change that.
    #[error("image {image:?} was not found in its registry (or access is denied): {message}")]
    ImageNotInRegistry {
        /// The image reference from the task's spec.
        image: String,
        /// What the engine said.
        message: String,
    },
    /// Pulling the task's image failed (registry unreachable, interrupted transfer…): worth
    /// retrying.
    #[error("pulling image {image:?} failed: {message}")]
    PullFailed {
        /// The image reference.
        image: String,
        /// What the engine said.
        message: String,
    },
    /// A field of the task's spec cannot be expressed as a container.
    #[error("invalid task spec: {field}: {reason}")]
    InvalidSpec {
        /// The offending field, e.g. `"container.secrets[0].target.uid"`.
        field: String,
        /// Why it is invalid.
        reason: String,
    },
    /// The directory meant to hold secret and config files is not on a memory filesystem, so the
    /// files would reach the node's disk.
    #[error(
        "{path} is on a {fs_type} filesystem, not tmpfs: secrets would be written to disk \
         (point DockerConfig::secrets_root at a tmpfs such as /dev/shm or /run)"
    )]
    SecretsNotOnTmpfs {
        /// The directory that was checked.
        path: PathBuf,
        /// The filesystem's magic number, in hex.
        fs_type: String,
    },
    /// The directory meant to hold secret and config files could be read or replaced by
    /// someone else.
    #[error("secrets root {path} is unsafe: {reason}")]
    InsecureSecretsRoot {
        /// The directory.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Reading or writing a task's files on the host failed.
    #[error("{operation} {path}: {source}")]
    Io {
        /// What was being done, e.g. `"writing secret file"`.
        operation: &'static str,
        /// The host path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The task has no container on this engine.
    #[error("task {task_id} has no container {container:?} on this engine")]
    NoSuchContainer {
        /// The task's id.
        task_id: String,
        /// The container name that was looked up.
        container: String,
    },
    /// The task's container name is held by a container that belongs to something else.
    #[error("container name {container:?} is taken by a container that is not task {task_id}'s")]
    ContainerNameTaken {
        /// The task's id.
        task_id: String,
        /// The container name.
        container: String,
    },
    /// The local network a task's cluster network needs exists under its name but cannot serve:
    /// it stands for another cluster network, was not made by swarm, or has another subnet.
    #[error("local network {network:?} cannot serve the task: {reason}")]
    NetworkConflict {
        /// The local network's name.
        network: String,
        /// What does not match.
        reason: String,
    },
    /// A local network of the task was removed (by another adapter of the same engine finding
    /// it unused) between its creation and the container's start. Retryable: starting again
    /// creates it again.
    #[error("local network {network:?} was removed before the task's container started")]
    NetworkRemoved {
        /// The local network's name.
        network: String,
    },
    /// A label of the adapter's on a container does not read (see [`IngressPort`](crate::IngressPort)).
    #[error("label {label} entry {entry:?}: {reason}")]
    BadLabel {
        /// The label key.
        label: &'static str,
        /// The entry that does not read.
        entry: String,
        /// Why.
        reason: String,
    },
    /// The engine's answer lacked a field the adapter needs.
    #[error("docker engine answered {operation} without {field}")]
    MissingField {
        /// The API operation.
        operation: String,
        /// The missing field.
        field: &'static str,
    },
}

impl DockerError {
    /// Whether retrying the same operation later may succeed.
    ///
    /// ```
    /// use swarm_docker::DockerError;
    /// let e = DockerError::ImageNotFound { image: "nope:1".into() };
    /// assert!(!e.is_retryable());
    /// let e = DockerError::EngineUnreachable { socket: "/var/run/docker.sock".into(), message: "gone".into() };
    /// assert!(e.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        match self {
            DockerError::EngineUnreachable { .. }
            | DockerError::Transport { .. }
            | DockerError::PullFailed { .. }
            | DockerError::NetworkRemoved { .. }
            | DockerError::MissingField { .. } => true,
            // Lacking the right to write or chown a task's files (e.g. a file owner other than
            // the adapter's user without root) does not change by retrying; a full tmpfs or an
            // interrupted call may.
            DockerError::Io { source, .. } => source.kind() != std::io::ErrorKind::PermissionDenied,
            // 5xx: the engine had a problem of its own; 409 conflicts (a container being removed)
            // settle by themselves. 4xx otherwise means the request itself is wrong.
            DockerError::Engine { status, .. } => *status >= 500 || *status == 409,
            DockerError::ImageNotFound { .. }
            | DockerError::ImageNotInRegistry { .. }
            | DockerError::InvalidSpec { .. }
            | DockerError::SecretsNotOnTmpfs { .. }
            | DockerError::InsecureSecretsRoot { .. }
            | DockerError::NoSuchContainer { .. }
            | DockerError::ContainerNameTaken { .. }
            | DockerError::NetworkConflict { .. }
            | DockerError::BadLabel { .. } => false,
        }
    }

    /// Converts a client error into a typed one, naming the operation.
    pub(crate) fn from_bollard(operation: impl Into<String>, err: bollard::errors::Error) -> Self {
        use bollard::errors::Error as B;
        let operation = operation.into();
        match err {
            B::DockerResponseServerError {
                status_code,
                message,
            } => DockerError::Engine {
                operation,
                status: status_code,
                message,
            },
            B::SocketNotFoundError(socket) => DockerError::EngineUnreachable {
                socket,
                message: "socket not found".to_owned(),
            },
            other => DockerError::Transport {
                operation,
                message: other.to_string(),
            },
        }
    }

    /// The HTTP status when the engine refused the call.
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            DockerError::Engine { status, .. } => Some(*status),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_are_temporary_unless_permission_is_denied() {
        let io = |kind: std::io::ErrorKind| DockerError::Io {
            operation: "changing owner of",
            path: PathBuf::from("/dev/shm/swarm-docker/t/secret-0"),
            source: std::io::Error::from(kind),
        };
        assert!(!io(std::io::ErrorKind::PermissionDenied).is_retryable());
        assert!(io(std::io::ErrorKind::StorageFull).is_retryable());
        assert!(io(std::io::ErrorKind::Interrupted).is_retryable());
    }

    #[test]
    fn engine_errors_split_by_status() {
        let e = |status| DockerError::Engine {
            operation: "x".into(),
            status,
            message: String::new(),
        };
        assert!(e(500).is_retryable());
        assert!(e(503).is_retryable());
        assert!(e(409).is_retryable());
        assert!(!e(400).is_retryable());
        assert!(!e(404).is_retryable());
    }

    #[test]
    fn a_network_conflict_is_permanent_and_a_removed_network_temporary() {
        let e = DockerError::NetworkConflict {
            network: "swarm-backend".into(),
            reason: "its subnet is 10.0.9.0/24".into(),
        };
        assert!(!e.is_retryable());
        assert!(e.to_string().contains("swarm-backend"), "{e}");
        let e = DockerError::NetworkRemoved {
            network: "swarm-backend".into(),
        };
        assert!(e.is_retryable());
        assert!(e.to_string().contains("swarm-backend"), "{e}");
    }

    #[test]
    fn bollard_errors_are_typed() {
        let e = DockerError::from_bollard(
            "create container c",
            bollard::errors::Error::DockerResponseServerError {
                status_code: 404,
                message: "No such image: nope:1".into(),
            },
        );
        assert_eq!(e.status(), Some(404));
        assert!(e.to_string().contains("create container c"));
        let e = DockerError::from_bollard(
            "ping",
            bollard::errors::Error::SocketNotFoundError("/nope.sock".into()),
        );
        assert!(matches!(e, DockerError::EngineUnreachable { .. }));
        assert!(e.is_retryable());
    }
}
