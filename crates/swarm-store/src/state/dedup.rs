//! Client sessions (Ongaro's thesis §6.3): the replies of recently applied transactions by
//! request id, so a retried or duplicated transaction is applied at most once.
//!
//! Every decision here is made from applied log data only (request ids and log indexes), so every
//! replica, and every replica that installs a snapshot, keeps exactly the same table.

use super::command::{RequestId, TxnOrigin, TxnReply};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most origins (store instances) whose replies are kept. When a new origin applies its
/// first transaction and the table is full, the origin whose last transaction applied at the
/// lowest log index is forgotten.
pub const MAX_DEDUP_ORIGINS: usize = 256;
/// The most replies kept per origin: the replies of its highest applied sequence numbers. A
/// retried or duplicated request within the last `MAX_DEDUP_SEQS_PER_ORIGIN` requests of its
/// origin is applied at most once.
pub const MAX_DEDUP_SEQS_PER_ORIGIN: usize = 1024;

/// What the table says about a request id before it is applied.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DedupCheck {
    /// Never applied (as far as the table knows): apply it, then [`DedupTable::record`].
    New,
    /// Already applied: this was its reply.
    Duplicate(TxnReply),
    /// Older than every reply kept for its origin: it may have applied and its reply is gone,
    /// so it must not be applied.
    Expired,
}

/// The applied requests of one origin.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct OriginSession {
    /// The log index of the entry holding this origin's last applied transaction.
    last_index: u64,
    /// The highest sequence number whose reply was dropped (0: none yet).
    evicted_through: u64,
    /// Replies by sequence number, at most [`MAX_DEDUP_SEQS_PER_ORIGIN`].
    replies: BTreeMap<u64, TxnReply>,
}

/// The bounded table of recent replies, keyed by origin. Part of the state machine's snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DedupTable {
    origins: BTreeMap<TxnOrigin, OriginSession>,
}

impl DedupTable {
    /// Whether `id` was applied already.
    pub(crate) fn check(&self, id: &RequestId) -> DedupCheck {
        let Some(session) = self.origins.get(&id.origin) else {
            return DedupCheck::New;
        };
        if let Some(reply) = session.replies.get(&id.seq) {
            return DedupCheck::Duplicate(reply.clone());
        }
        if id.seq <= session.evicted_through {
            return DedupCheck::Expired;
        }
        DedupCheck::New
    }

    /// Records the reply of `id`, applied in the entry at log index `index`, evicting the
    /// oldest replies beyond the caps.
    pub(crate) fn record(&mut self, id: RequestId, index: u64, reply: TxnReply) {
        if !self.origins.contains_key(&id.origin) && self.origins.len() >= MAX_DEDUP_ORIGINS {
            // Forget the origin idle the longest (by log index; ties by origin order).
            let oldest = self
                .origins
                .iter()
                .min_by_key(|(origin, s)| (s.last_index, **origin))
                .map(|(origin, _)| *origin);
            if let Some(oldest) = oldest {
                self.origins.remove(&oldest);
            }
        }
        let session = self.origins.entry(id.origin).or_default();
        session.last_index = session.last_index.max(index);
        session.replies.insert(id.seq, reply);
        while session.replies.len() > MAX_DEDUP_SEQS_PER_ORIGIN {
            if let Some((seq, _)) = session.replies.pop_first() {
                session.evicted_through = session.evicted_through.max(seq);
            }
        }
    }

    /// Number of origins with kept replies.
    #[cfg(test)]
    pub(crate) fn origins(&self) -> usize {
        self.origins.len()
    }

    /// Checks a decoded table against the caps (a snapshot comes from another member).
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.origins.len() > MAX_DEDUP_ORIGINS {
            return Err(format!(
                "the dedup table holds {} origins, over the limit of {MAX_DEDUP_ORIGINS}",
                self.origins.len()
            ));
        }
        for (origin, s) in &self.origins {
            if s.replies.len() > MAX_DEDUP_SEQS_PER_ORIGIN {
                return Err(format!(
                    "the dedup table holds {} replies for origin {origin}, over the limit of \
                     {MAX_DEDUP_SEQS_PER_ORIGIN}",
                    s.replies.len()
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::command::TxnApplied;

    fn id(member: u64, seq: u64) -> RequestId {
        RequestId {
            origin: TxnOrigin {
                member,
                incarnation: 7,
            },
            seq,
        }
    }

    fn reply(revision: u64) -> TxnReply {
        Ok(TxnApplied {
            revision,
            versions: vec![Some(1)],
        })
    }

    #[test]
    fn keeps_the_last_seqs_per_origin_and_expires_older_ones() {
        let mut t = DedupTable::default();
        let n = MAX_DEDUP_SEQS_PER_ORIGIN as u64 + 10;
        for seq in 1..=n {
            assert_eq!(t.check(&id(1, seq)), DedupCheck::New);
            t.record(id(1, seq), seq, reply(seq));
        }
        assert_eq!(t.check(&id(1, n)), DedupCheck::Duplicate(reply(n)));
        assert_eq!(t.check(&id(1, 11)), DedupCheck::Duplicate(reply(11)));
        assert_eq!(t.check(&id(1, 10)), DedupCheck::Expired);
        assert_eq!(t.check(&id(1, 1)), DedupCheck::Expired);
        assert_eq!(t.check(&id(1, n + 1)), DedupCheck::New);
        t.validate().expect("within caps");
    }

    #[test]
    fn evicts_the_origin_idle_longest_by_log_index() {
        let mut t = DedupTable::default();
        for member in 0..MAX_DEDUP_ORIGINS as u64 {
            t.record(id(member, 1), 100 + member, reply(1));
        }
        // Origin 0 applies again, so origin 1 is now the idle-longest.
        t.record(id(0, 2), 1_000, reply(2));
        t.record(id(9_999, 1), 1_001, reply(3));
        assert_eq!(t.origins(), MAX_DEDUP_ORIGINS);
        assert_eq!(
            t.check(&id(1, 1)),
            DedupCheck::New,
            "origin 1 was forgotten"
        );
        assert_eq!(t.check(&id(0, 1)), DedupCheck::Duplicate(reply(1)));
        assert_eq!(t.check(&id(9_999, 1)), DedupCheck::Duplicate(reply(3)));
    }

    #[test]
    fn decoded_tables_over_the_caps_are_refused() {
        let mut t = DedupTable::default();
        let session = t.origins.entry(id(1, 1).origin).or_default();
        for seq in 0..=MAX_DEDUP_SEQS_PER_ORIGIN as u64 {
            session.replies.insert(seq, reply(seq));
        }
        let e = t.validate().expect_err("over the per-origin cap");
        assert!(e.contains("replies"), "{e}");
    }
}
