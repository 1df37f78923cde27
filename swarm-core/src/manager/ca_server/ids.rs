//! Fresh ids drawn from the seeded randomness a step is given.

use crate::model::{ClusterId, Node, NodeId};
use std::collections::BTreeMap;
use std::time::SystemTime;

/// Characters of a SwarmKit-style id: 128 random bits in lowercase base 36, zero-padded
/// (36^25 > 2^128).
pub const ID_CHARS: usize = 25;

/// Most draws a step makes for a fresh id before giving up. With 128-bit node ids and 64-bit
/// Raft ids a second draw is already astronomically unlikely; the bound only keeps a broken
/// random source (one that repeats) from looping.
pub const MAX_ID_DRAWS: usize = 8;

const BASE36: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// A 25-character lowercase base-36 id from 128 random bits (two draws), as SwarmKit's
/// `identity.NewID`. It is a DNS label, so it can be a certificate's common name.
pub fn random_id(rng: &mut dyn FnMut() -> u64) -> String {
    let mut n = (u128::from(rng()) << 64) | u128::from(rng());
    let mut out = [b'0'; ID_CHARS];
    for slot in out.iter_mut().rev() {
        // `n % 36` is below 36, so the index is in range.
        *slot = BASE36[(n % 36) as usize];
        n /= 36;
    }
    out.iter().map(|&b| char::from(b)).collect()
}

/// A fresh cluster id (see [`random_id`]); the caller generates the cluster CA for it, then
/// calls [`init_cluster`](crate::manager::control::init_cluster).
pub fn new_cluster_id(rng: &mut dyn FnMut() -> u64) -> ClusterId {
    ClusterId::new(random_id(rng))
}

/// A node id used by no node in `nodes` and not on the revocation list, or `None` after
/// [`MAX_ID_DRAWS`] draws.
pub(crate) fn new_node_id(
    rng: &mut dyn FnMut() -> u64,
    nodes: &[Node],
    revoked: &BTreeMap<NodeId, SystemTime>,
) -> Option<NodeId> {
    (0..MAX_ID_DRAWS)
        .map(|_| NodeId::new(random_id(rng)))
        .find(|id| !revoked.contains_key(id) && nodes.iter().all(|n| n.id != *id))
}

/// A Raft member id, non-zero, at most [`MAX_RAFT_ID`](crate::mapping::MAX_RAFT_ID) and used by no node's manager status, or `None` after
/// [`MAX_ID_DRAWS`] draws.
pub(crate) fn new_raft_id(rng: &mut dyn FnMut() -> u64, nodes: &[Node]) -> Option<u64> {
    (0..MAX_ID_DRAWS)
        .map(|_| rng() & crate::mapping::MAX_RAFT_ID)
        .find(|&id| {
            id != 0
                && nodes
                    .iter()
                    .all(|n| n.manager_status.as_ref().map(|m| m.raft_id) != Some(id))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ManagerStatus;

    fn seq(values: Vec<u64>) -> impl FnMut() -> u64 {
        let mut it = values.into_iter().cycle();
        move || it.next().unwrap_or(0)
    }

    #[test]
    fn ids_are_25_lowercase_base36_characters_and_valid_certificate_names() {
        let mut rng = seq(vec![0, 0]);
        assert_eq!(random_id(&mut rng), "0".repeat(25));
        let mut rng = seq(vec![u64::MAX, u64::MAX]);
        let max = random_id(&mut rng);
        // 2^128 - 1 in base 36.
        assert_eq!(max, "f5lxx1zz5pnorynqglhzmsp33");
        let mut rng = seq(vec![0, 35]);
        assert_eq!(random_id(&mut rng), format!("{}z", "0".repeat(24)));
        for id in [max, random_id(&mut seq(vec![7, 11]))] {
            assert_eq!(id.len(), ID_CHARS);
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
            );
            assert!(swarm_secrets::NodeId::new(id.as_str()).is_ok());
        }
        assert_eq!(
            new_cluster_id(&mut seq(vec![0, 1])).as_str().len(),
            ID_CHARS
        );
    }

    #[test]
    fn node_ids_skip_existing_and_revoked_ids_and_give_up_on_a_stuck_source() {
        let taken = NodeId::new(random_id(&mut seq(vec![1, 1])));
        let revoked_id = NodeId::new(random_id(&mut seq(vec![2, 2])));
        let nodes = [Node {
            id: taken.clone(),
            ..Node::default()
        }];
        let revoked = BTreeMap::from([(revoked_id.clone(), SystemTime::UNIX_EPOCH)]);
        let fresh = new_node_id(&mut seq(vec![1, 1, 2, 2, 3, 3]), &nodes, &revoked);
        assert_eq!(fresh, Some(NodeId::new(random_id(&mut seq(vec![3, 3])))));
        assert_eq!(new_node_id(&mut seq(vec![1]), &nodes, &revoked), None);
    }

    #[test]
    fn raft_ids_are_nonzero_and_unused() {
        let nodes = [Node {
            manager_status: Some(ManagerStatus {
                raft_id: 5,
                ..ManagerStatus::default()
            }),
            ..Node::default()
        }];
        assert_eq!(new_raft_id(&mut seq(vec![0, 5, 9]), &nodes), Some(9));
        assert_eq!(new_raft_id(&mut seq(vec![0, 5]), &nodes), None);
    }
}
