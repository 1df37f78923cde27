//! Waiting until the members of a test cluster agree on a leader.

use crate::Store;
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

/// How often [`agreed_leader`] looks again.
const LEADER_POLL: Duration = Duration::from_millis(25);

/// The member every store of `members` (by member id) names as leader, once they agree on one
/// that is among them; `None` if they do not within `attempts` looks, 25 ms apart.
pub async fn agreed_leader(members: &BTreeMap<u64, &Store>, attempts: usize) -> Option<u64> {
    for _ in 0..attempts {
        let leaders: HashSet<_> = members.values().map(|s| s.leader()).collect();
        if leaders.len() == 1 {
            if let Some(Some(l)) = leaders.into_iter().next() {
                if members.contains_key(&l.0) {
                    return Some(l.0);
                }
            }
        }
        tokio::time::sleep(LEADER_POLL).await;
    }
    None
}
