//! Member identifiers.

use serde::{Deserialize, Serialize};

/// Identifies a member of a store cluster (a Raft node). Stable across restarts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MemberId(pub u64);

impl std::fmt::Display for MemberId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "member-{}", self.0)
    }
}
