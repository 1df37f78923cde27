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

    /// This instance's origin.
    #[cfg(test)]
    pub(crate) fn origin(&self) -> TxnOrigin {
        self.origin
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
}
