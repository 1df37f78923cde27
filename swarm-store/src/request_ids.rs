//! Request ids for client transactions: one origin per [`Store`](crate::Store) instance and a
//! sequence number per call.

use crate::state::command::{RequestId, TxnOrigin};
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counts the origins drawn in this process, so two stores opened in the same nanosecond still
/// draw different incarnations.
static ORIGINS_DRAWN: AtomicU64 = AtomicU64::new(0);

/// Hands out this store instance's request ids.
///
/// The origin is the member id plus a 64-bit incarnation drawn once, when the store opens, from
/// the OS-seeded [`std::collections::hash_map::RandomState`] keys mixed with the wall clock, the
/// process id and a per-process counter. It is never derived from the member id alone: a
/// restarted member (a new incarnation) starts its sequence again at 1 and must not be taken
/// for a duplicate of its previous life's requests. Ids are therefore not reproducible between
/// runs; nothing depends on their value except equality.
///
/// A simulation that seeds its members ([`StoreConfig::raft_rng_seed`](crate::StoreConfig))
/// gets the incarnation from that seed instead ([`RequestIds::seeded`]), so a replay sends
/// byte-identical messages; every start of a member must then get its own seed.
#[derive(Debug)]
pub(crate) struct RequestIds {
    origin: TxnOrigin,
    next_seq: AtomicU64,
}

impl RequestIds {
    /// A fresh origin for member `member`.
    pub(crate) fn new(member: u64) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let drawn = ORIGINS_DRAWN.fetch_add(1, Ordering::Relaxed);
        let incarnation = std::collections::hash_map::RandomState::new().hash_one((
            nanos,
            std::process::id(),
            drawn,
            member,
        ));
        RequestIds {
            origin: TxnOrigin {
                member,
                incarnation,
            },
            next_seq: AtomicU64::new(1),
        }
    }

    /// An origin for member `member` whose incarnation derives from `seed` (SplitMix64 of the
    /// seed and the member id), for reproducible simulations. Two starts with the same seed
    /// share an incarnation, so the caller must give each start a new seed (the seed's
    /// contract on [`StoreConfig::raft_rng_seed`](crate::StoreConfig)).
    pub(crate) fn seeded(member: u64, seed: u64) -> Self {
        let mut z = seed ^ member.rotate_left(32) ^ 0x5157_4152_4d5f_4f52; // "QWARM_OR"
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        let incarnation = z ^ (z >> 31);
        RequestIds {
            origin: TxnOrigin {
                member,
                incarnation,
            },
            next_seq: AtomicU64::new(1),
        }
    }

    /// This instance's origin.
    #[cfg(test)]
    pub(crate) fn origin(&self) -> TxnOrigin {
        self.origin
    }

    /// The id of this origin whose encoding is the longest (the largest sequence number): a
    /// transaction that fits its size limit with it fits with any id of this origin.
    pub(crate) fn largest(&self) -> RequestId {
        RequestId {
            origin: self.origin,
            seq: u64::MAX,
        }
    }

    /// The next id (sequence numbers 1, 2, ...).
    pub(crate) fn next(&self) -> RequestId {
        RequestId {
            origin: self.origin,
            seq: self.next_seq.fetch_add(1, Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_per_instance_and_incarnation() {
        let a = RequestIds::new(1);
        let b = RequestIds::new(1);
        assert_ne!(a.origin(), b.origin(), "two incarnations of member 1");
        let (x, y) = (a.next(), a.next());
        assert_eq!((x.seq, y.seq), (1, 2));
        assert_eq!(x.origin, y.origin);
        assert_eq!(b.next().seq, 1);
    }

    #[test]
    fn seeded_ids_replay_and_differ_per_seed_and_member() {
        assert_eq!(
            RequestIds::seeded(1, 7).origin(),
            RequestIds::seeded(1, 7).origin()
        );
        assert_ne!(
            RequestIds::seeded(1, 7).origin(),
            RequestIds::seeded(1, 8).origin()
        );
        assert_ne!(
            RequestIds::seeded(1, 7).origin().incarnation,
            RequestIds::seeded(2, 7).origin().incarnation
        );
    }
}
