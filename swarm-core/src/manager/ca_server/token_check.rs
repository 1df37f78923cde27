//! Which role a presented join token grants, or which kind of refusal it earns.

use crate::manager::ca_server::join_error::JoinError;
use crate::model::{ClusterJoinTokens, NodeRole};
use swarm_secrets::JoinToken;

/// Parses the current worker and manager tokens of the cluster object; both must pin the same
/// root CA.
pub(crate) fn current_tokens(
    tokens: &ClusterJoinTokens,
) -> Result<(JoinToken, JoinToken), JoinError> {
    let parse = |role: NodeRole| {
        JoinToken::parse(tokens.current(role)).map_err(|e| JoinError::ClusterState {
            reason: format!("the current {role} join token does not parse: {e}"),
        })
    };
    let worker = parse(NodeRole::Worker)?;
    let manager = parse(NodeRole::Manager)?;
    if worker.ca_digest() != manager.ca_digest() {
        return Err(JoinError::ClusterState {
            reason: "the worker and manager join tokens pin different root CAs".to_owned(),
        });
    }
    Ok((worker, manager))
}

/// Checks a presented join token against the cluster object's tokens and returns the role it
/// grants.
///
/// Contract:
/// * a current token grants its role; it is compared with both current tokens in constant time
///   (both comparisons always run);
/// * a token pinning a root CA the cluster rotated away (in `retired_roots`) is refused as
///   [`JoinError::RootRotated`] with the time of that rotation;
/// * a token whose fingerprint is among the retired ones is refused as
///   [`JoinError::RotatedToken`] naming its role and rotation time (the newest such entry);
/// * a token pinning another root CA than the current tokens is refused as
///   [`JoinError::OtherCluster`];
/// * any other well-formed token is [`JoinError::WrongToken`], a malformed one
///   [`JoinError::MalformedToken`];
/// * tokens of the cluster object that do not parse are [`JoinError::ClusterState`].
pub fn check_join_token(
    tokens: &ClusterJoinTokens,
    presented: &str,
) -> Result<NodeRole, JoinError> {
    let presented = JoinToken::parse(presented).map_err(|e| JoinError::MalformedToken {
        reason: e.to_string(),
    })?;
    let (worker, manager) = current_tokens(tokens)?;
    // `&`, not `&&`: both comparisons run whatever the first says.
    let is_worker = presented == worker;
    let is_manager = presented == manager;
    if is_worker & !is_manager {
        return Ok(NodeRole::Worker);
    }
    if is_manager & !is_worker {
        return Ok(NodeRole::Manager);
    }
    if is_worker & is_manager {
        return Err(JoinError::ClusterState {
            reason: "the worker and manager join tokens are equal".to_owned(),
        });
    }
    let digest = presented.ca_digest();
    if digest != worker.ca_digest()
        && let Some(root) = tokens
            .retired_roots
            .iter()
            .rev()
            .find(|r| r.ca_digest == digest)
    {
        return Err(JoinError::RootRotated {
            retired_at: root.retired_at,
        });
    }
    let fingerprint = presented.fingerprint();
    if let Some(retired) = tokens
        .retired
        .iter()
        .rev()
        .find(|r| r.fingerprint == fingerprint)
    {
        return Err(JoinError::RotatedToken {
            role: retired.role,
            retired_at: retired.retired_at,
        });
    }
    if digest != worker.ca_digest() {
        return Err(JoinError::OtherCluster);
    }
    Err(JoinError::WrongToken)
}
