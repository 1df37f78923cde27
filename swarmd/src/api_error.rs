//! The Engine API's error answer: a status code and `{"message": "..."}`.

use hyper::StatusCode;
use swarm_core::manager::control::ControlError;
use swarm_core::node::{NodeError, RefusalKind};

/// dockerd's message on a node that is in no swarm.
pub(crate) const NOT_IN_SWARM: &str = "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.";
/// dockerd's message on an autolocked manager that was restarted and not unlocked yet.
pub(crate) const SWARM_LOCKED: &str = "Swarm is encrypted and needs to be unlocked before it can be used. Please use \"docker swarm unlock\" to unlock it.";
/// dockerd's message on a worker asked for cluster state.
pub(crate) const NOT_A_MANAGER: &str = "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.";

/// A refused request: the status and the message the CLI prints.
#[derive(Debug, thiserror::Error)]
#[error("{status}: {message}")]
pub(crate) struct ApiError {
    /// The HTTP status.
    pub(crate) status: StatusCode,
    /// What the CLI shows (`Error response from daemon: <message>`).
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 400: the request itself is wrong (a field, a parameter).
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404: no such object or route.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 501: a part of the Engine API swarmd does not serve.
    pub(crate) fn not_implemented(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_IMPLEMENTED, message)
    }

    /// 503: the node is not in a swarm, or not a manager.
    pub(crate) fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }
}

impl From<NodeError> for ApiError {
    fn from(e: NodeError) -> Self {
        let status = match &e {
            NodeError::NotAManager => return ApiError::unavailable(NOT_A_MANAGER),
            NodeError::Control(c) => control_status(c),
            NodeError::Remote(r) => match r.kind {
                RefusalKind::NotFound => StatusCode::NOT_FOUND,
                RefusalKind::Conflict => StatusCode::CONFLICT,
                RefusalKind::Refused | RefusalKind::BadToken => StatusCode::BAD_REQUEST,
                RefusalKind::PermissionDenied => StatusCode::FORBIDDEN,
                RefusalKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
            NodeError::JoinRefused { .. } | NodeError::Config { .. } => StatusCode::BAD_REQUEST,
            NodeError::AlreadyInitialized { .. } => StatusCode::SERVICE_UNAVAILABLE,
            NodeError::Locked | NodeError::WrongUnlockKey => StatusCode::SERVICE_UNAVAILABLE,
            e if e.is_retryable() => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

/// The status a control refusal maps to, as dockerd maps SwarmKit's gRPC codes.
fn control_status(e: &ControlError) -> StatusCode {
    match e {
        ControlError::NotFound { .. } | ControlError::NodeNotFound { .. } => StatusCode::NOT_FOUND,
        ControlError::NameInUse { .. } | ControlError::InUse { .. } => StatusCode::CONFLICT,
        ControlError::PortInUse { .. } => StatusCode::CONFLICT,
        e if e.is_conflict() => StatusCode::CONFLICT,
        e if e.is_retryable() => StatusCode::SERVICE_UNAVAILABLE,
        ControlError::InvalidSpec(_)
        | ControlError::InvalidNodeSpec { .. }
        | ControlError::InvalidClusterSpec(_)
        | ControlError::InvalidRequest { .. }
        | ControlError::Ambiguous { .. }
        | ControlError::AmbiguousNode { .. }
        | ControlError::MissingReference { .. }
        | ControlError::ServiceModeChange { .. }
        | ControlError::ServiceRename { .. }
        | ControlError::NoPreviousSpec { .. }
        | ControlError::NotScalable { .. }
        | ControlError::UnsupportedNetworkDriver { .. }
        | ControlError::SubnetOverlap { .. }
        | ControlError::SecondIngress { .. }
        | ControlError::ClusterNameImmutable { .. }
        | ControlError::MembershipChange { .. }
        | ControlError::OnlyLabelsMayChange { .. } => StatusCode::BAD_REQUEST,
        ControlError::LastManager { .. } | ControlError::ManagerNotDemoted { .. } => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_a_manager_is_dockerds_503() {
        let e = ApiError::from(NodeError::NotAManager);
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(e.message.contains("Worker nodes can't be used"));
    }

    #[test]
    fn not_found_is_404() {
        let e = ApiError::from(NodeError::Control(ControlError::NodeNotFound {
            query: "nope".into(),
        }));
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        assert!(e.message.contains("nope"), "{}", e.message);
    }
}
