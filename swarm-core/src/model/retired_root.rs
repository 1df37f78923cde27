//! A root CA the cluster rotated away, remembered so that its join tokens are refused by name.

use serde::{Deserialize, Serialize};
use std::time::SystemTime;
use swarm_secrets::CaDigest;

/// Most retired roots the cluster object remembers. A token pinning a root retired longer ago
/// than this many rotations is refused as a token of another cluster. Worst case: 8 entries
/// of about 50 bytes, under 1 KiB in the cluster object.
pub const MAX_RETIRED_ROOTS: usize = 8;

/// A root CA the cluster rotated away: the digest its join tokens pinned and when the rotation
/// finished. A join token that pins it is refused as
/// [`RootRotated`](crate::manager::ca_server::JoinError::RootRotated).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetiredRoot {
    /// SHA-256 of the retired root's canonical PEM (see [`CaDigest`]).
    pub ca_digest: CaDigest,
    /// When the rotation away from it finished.
    pub retired_at: SystemTime,
}
