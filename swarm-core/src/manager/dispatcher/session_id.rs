//! The id of an agent's session with the dispatcher.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Identifies one session of one node with the leader's dispatcher. Local to that dispatcher:
/// after a leader change, or when the node registers again, the old id is refused and the agent
/// registers anew. Not a credential (the caller's node id comes from its certificate).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(pub u64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_as_sixteen_hex_digits() {
        assert_eq!(SessionId(0xAB).to_string(), "00000000000000ab");
        assert_eq!(SessionId(u64::MAX).to_string(), "ffffffffffffffff");
    }
}
