//! `swarm join-token <role>` and `swarm join-token --rotate <role>`.

use crate::manager::ca_server::current_tokens;
use crate::manager::control::error::ControlError;
use crate::manager::writes::{ManagerWrite, ManagerWrites};
use crate::model::{Cluster, MAX_RETIRED_JOIN_TOKENS_PER_ROLE, NodeRole, RetiredJoinToken};
use std::time::SystemTime;
use swarm_secrets::{JoinToken, JoinTokens};
use zeroize::Zeroizing;

fn current(cluster: &Cluster, role: NodeRole) -> Result<JoinToken, ControlError> {
    let (worker, manager) =
        current_tokens(&cluster.join_tokens).map_err(|e| ControlError::ClusterState {
            reason: e.to_string(),
        })?;
    Ok(match role {
        NodeRole::Worker => worker,
        NodeRole::Manager => manager,
    })
}

/// `swarm join-token <role>`: the current token for `role` (show it to an operator only).
///
/// Contract: the token as stored, after checking that both current tokens parse and pin the
/// same CA ([`ControlError::ClusterState`] otherwise). Pure.
pub fn join_token(cluster: &Cluster, role: NodeRole) -> Result<Zeroizing<String>, ControlError> {
    Ok(current(cluster, role)?.expose())
}

/// `swarm join-token --rotate <role>`: a new token for `role`; the old one is refused from
/// then on, as [rotated](crate::manager::ca_server::JoinError::RotatedToken).
///
/// Contract:
/// * the new secret comes from the operating system's random source (a token must be
///   unguessable; the seeded source is not used), pinned to the same CA; the other role's
///   token is unchanged;
/// * the old token's fingerprint is appended to the retired list with its role and `now`;
///   the list keeps the newest [`MAX_RETIRED_JOIN_TOKENS_PER_ROLE`] per role;
/// * the only write is the cluster object at the version read, `meta.updated_at = now`.
pub fn rotate_join_token(
    cluster: &Cluster,
    role: NodeRole,
    now: SystemTime,
) -> Result<ManagerWrites, ControlError> {
    let old = current(cluster, role)?;
    let fresh = JoinTokens::generate(old.ca_digest())
        .map_err(|source| ControlError::Secrets {
            what: format!("a new {role} join token"),
            source,
        })?
        .token(role.into());
    let mut changed = cluster.clone();
    let tokens = &mut changed.join_tokens;
    match role {
        NodeRole::Worker => tokens.worker = fresh.expose().to_string(),
        NodeRole::Manager => tokens.manager = fresh.expose().to_string(),
    }
    tokens.retired.push(RetiredJoinToken {
        role,
        fingerprint: old.fingerprint(),
        retired_at: now,
    });
    let same_role = tokens.retired.iter().filter(|r| r.role == role).count();
    let mut drop = same_role.saturating_sub(MAX_RETIRED_JOIN_TOKENS_PER_ROLE);
    tokens.retired.retain(|r| {
        if r.role == role && drop > 0 {
            drop -= 1;
            false
        } else {
            true
        }
    });
    changed.meta.updated_at = now;
    Ok(ManagerWrites {
        writes: vec![ManagerWrite::UpdateCluster {
            cluster: changed,
            expected_version: cluster.meta.version,
        }],
        membership: Vec::new(),
    })
}
