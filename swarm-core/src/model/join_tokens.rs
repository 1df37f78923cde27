//! The cluster's join tokens as the cluster object stores them.

use crate::model::node::NodeRole;
use crate::model::retired_root::RetiredRoot;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::SystemTime;
use swarm_secrets::JoinTokenFingerprint;

/// Most rotated tokens remembered per role. A token rotated away longer ago than this many
/// rotations is refused as a wrong token rather than as a rotated one. Worst case: 2 roles ×
/// 16 entries of about 80 bytes, under 3 KiB in the cluster object.
pub const MAX_RETIRED_JOIN_TOKENS_PER_ROLE: usize = 16;

/// A join token the cluster rotated away: only its fingerprint is kept, never its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetiredJoinToken {
    /// The role the token granted.
    pub role: NodeRole,
    /// SHA-256 of the token (see [`JoinTokenFingerprint`]).
    pub fingerprint: JoinTokenFingerprint,
    /// When it was rotated away.
    pub retired_at: SystemTime,
}

/// The current worker and manager join tokens (`SWMTKN-1-...` text, as SwarmKit keeps them in
/// its cluster object; the store encrypts the object at rest), the rotated ones, at most
/// [`MAX_RETIRED_JOIN_TOKENS_PER_ROLE`] per role, oldest first, and the root CAs a finished
/// root rotation retired, at most [`MAX_RETIRED_ROOTS`](crate::model::MAX_RETIRED_ROOTS),
/// oldest first.
///
/// `Debug` redacts the current tokens.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterJoinTokens {
    /// The token a worker joins with.
    pub worker: String,
    /// The token a manager joins with.
    pub manager: String,
    /// Fingerprints of rotated tokens, oldest first.
    pub retired: Vec<RetiredJoinToken>,
    /// Root CAs rotated away, oldest first: a token pinning one is refused as pinning a
    /// rotated root rather than as another cluster's.
    pub retired_roots: Vec<RetiredRoot>,
}

impl ClusterJoinTokens {
    /// The current token text for `role`.
    pub fn current(&self, role: NodeRole) -> &str {
        match role {
            NodeRole::Worker => &self.worker,
            NodeRole::Manager => &self.manager,
        }
    }
}

impl fmt::Debug for ClusterJoinTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterJoinTokens")
            .field("worker", &"[REDACTED]")
            .field("manager", &"[REDACTED]")
            .field("retired", &self.retired)
            .field("retired_roots", &self.retired_roots)
            .finish()
    }
}
