//! Client sessions (Ongaro's thesis §6.3): which request ids of each origin were applied, and the
//! replies of recent ones, so a retried or duplicated transaction is applied at most once.
//!
//! Every decision here is made from applied log data only (request ids, log indexes and the
//! replies' encoded sizes), so every replica, and every replica that installs a snapshot, keeps
//! exactly the same table.
//!
//! # What the table knows, per origin
//!
//! - `floor`: every sequence number at or below it is *outside the window*: whether it applied
//!   is no longer known, so such a request is never applied ([`DedupCheck::Expired`]).
//! - Above the floor the table is **exact**: the applied sequence numbers are kept as disjoint
//!   ranges (`applied`), so a request that was overtaken by any number of later requests of
//!   its origin is still recognised as never applied ([`DedupCheck::New`]). In-order traffic
//!   is one range, whatever its length.
//! - The replies of the most recent applied requests (`replies`): a duplicate of one of them
//!   gets its recorded reply ([`DedupCheck::Duplicate`]); a duplicate of an applied request
//!   whose reply was evicted is refused ([`DedupCheck::Forgotten`]).
//!
//! # Bounds and eviction (all deterministic)
//!
//! | bound | what is evicted when it is passed |
//! |---|---|
//! | [`MAX_DEDUP_ORIGINS`] origins with a session | the session of the origin whose last transaction applied at the lowest log index (ties: lowest origin) is *retired* |
//! | [`MAX_DEDUP_RETIRED_ORIGINS`] retired origins | the retired origin retired from the lowest log index (ties: lowest origin) is forgotten |
//! | [`MAX_DEDUP_GAPS_PER_ORIGIN`] applied ranges per origin | the lowest range: the floor rises to its end |
//! | [`MAX_DEDUP_SEQS_PER_ORIGIN`] replies per origin | the reply applied at the lowest log index (the request stays known as applied) |
//! | [`MAX_DEDUP_REPLY_BYTES`] reply bytes in all | the oldest reply of the origin idle the longest |
//!
//! A retired origin keeps only its highest applied sequence number: its later requests apply
//! normally, and a late copy of one of its earlier requests is refused as expired. An origin
//! forgotten altogether (more than [`MAX_DEDUP_RETIRED_ORIGINS`] retirements later) is treated
//! as new. Worst-case memory: about 256 × 1,024 ranges × 48 bytes (12 MiB) + 8 MiB of replies +
//! 4,096 retired origins × 48 bytes (0.2 MiB), so about 21 MiB, against roughly a GiB before
//! these bounds.

use super::command::{RequestId, TxnOrigin, TxnReply};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The most origins (store instances) with a session. When a new origin applies its first
/// transaction and the table is full, the origin whose last transaction applied at the lowest
/// log index is retired (it keeps only its highest applied sequence number).
pub const MAX_DEDUP_ORIGINS: usize = 256;
/// The most replies kept per origin: those of its most recently applied requests. A retried
/// or duplicated request within the last `MAX_DEDUP_SEQS_PER_ORIGIN` requests of its origin
/// gets its recorded reply; an older one that applied is refused, never applied again.
pub const MAX_DEDUP_SEQS_PER_ORIGIN: usize = 1024;
/// The most disjoint ranges of applied sequence numbers kept per origin, i.e. roughly the most
/// requests of one origin still missing while later ones applied. Past it the lowest range is
/// dropped and the origin's floor rises to its end.
pub const MAX_DEDUP_GAPS_PER_ORIGIN: usize = 1024;
/// The most retired origins remembered (their highest applied sequence number only).
pub const MAX_DEDUP_RETIRED_ORIGINS: usize = 4096;
/// The most bytes of replies kept in all: each reply is charged its postcard size plus 64
/// bytes of bookkeeping (map node, index, size field).
pub const MAX_DEDUP_REPLY_BYTES: u64 = 8 * 1024 * 1024;
/// What each kept reply is charged beyond its encoded size (map node, index, size field).
pub(crate) const DEDUP_REPLY_OVERHEAD_BYTES: u64 = 64;

/// What the table says about a request id before it is applied.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DedupCheck {
    /// Never applied: apply it, then [`DedupTable::record`].
    New,
    /// Already applied: this was its reply.
    Duplicate(TxnReply),
    /// Already applied, but its reply was evicted: it must not be applied again and its outcome
    /// is no longer known.
    Forgotten,
    /// At or below its origin's floor: it may have applied (the table no longer knows), so it
    /// must not be applied.
    Expired,
}

/// One recorded reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct KeptReply {
    /// The log index of the entry that applied it (replies are evicted oldest first).
    index: u64,
    /// What it is charged against [`MAX_DEDUP_REPLY_BYTES`].
    charged_bytes: u64,
    reply: TxnReply,
}

/// The bytes `reply` is charged.
fn charge(reply: &TxnReply) -> u64 {
    // Sizing plain structs of strings and integers cannot fail; were it to, the reply is
    // charged the whole budget so it is evicted first.
    postcard::experimental::serialized_size(reply)
        .map_or(MAX_DEDUP_REPLY_BYTES, |n| n as u64)
        .saturating_add(DEDUP_REPLY_OVERHEAD_BYTES)
}

/// The applied requests of one origin.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct OriginSession {
    /// The log index of the entry holding this origin's last applied transaction.
    last_index: u64,
    /// Sequence numbers at or below it are outside the window (unknown whether applied).
    floor: u64,
    /// Applied sequence numbers above the floor: disjoint, non-adjacent inclusive ranges,
    /// start → end, at most [`MAX_DEDUP_GAPS_PER_ORIGIN`].
    applied: BTreeMap<u64, u64>,
    /// Replies by sequence number, at most [`MAX_DEDUP_SEQS_PER_ORIGIN`], of the requests
    /// applied last.
    replies: BTreeMap<u64, KeptReply>,
    /// The kept replies as (log index, sequence number), oldest first: the eviction order.
    by_index: BTreeSet<(u64, u64)>,
}

impl OriginSession {
    fn is_applied(&self, seq: u64) -> bool {
        self.applied
            .range(..=seq)
            .next_back()
            .is_some_and(|(_, end)| *end >= seq)
    }

    /// Marks `seq` (above the floor, not applied yet) applied, merging neighbouring ranges.
    fn mark_applied(&mut self, seq: u64) {
        let before = self
            .applied
            .range(..seq)
            .next_back()
            .filter(|(_, end)| end.checked_add(1) == Some(seq))
            .map(|(start, _)| *start);
        let after = seq
            .checked_add(1)
            .and_then(|next| self.applied.remove(&next));
        let start = before.unwrap_or(seq);
        let end = after.unwrap_or(seq);
        self.applied.insert(start, end);
        while self.applied.len() > MAX_DEDUP_GAPS_PER_ORIGIN {
            if let Some((_, end)) = self.applied.pop_first() {
                self.floor = self.floor.max(end);
            }
        }
    }

    /// Drops the reply applied at the lowest log index (ties: lowest sequence number); the
    /// request stays known as applied.
    fn evict_oldest_reply(&mut self) -> Option<KeptReply> {
        let (_, seq) = self.by_index.pop_first()?;
        self.replies.remove(&seq)
    }

    /// The highest sequence number known applied (0: none).
    fn high(&self) -> u64 {
        let applied = self.applied.last_key_value().map_or(0, |(_, end)| *end);
        let replied = self.replies.last_key_value().map_or(0, |(seq, _)| *seq);
        self.floor.max(applied).max(replied)
    }
}

/// An origin whose session was evicted: only its highest applied sequence number is kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct RetiredOrigin {
    /// Every sequence number at or below it may have applied.
    high: u64,
    /// The log index at which it was retired (orders retired origins for eviction).
    retired_at: u64,
}

/// The bounded table of applied request ids and recent replies, keyed by origin. Part of the
/// state machine's snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DedupTable {
    /// Sessions are shared copy-on-write: a snapshot's clone of the table copies one pointer
    /// per origin (under the state machine's lock), and a write afterwards copies one session.
    origins: BTreeMap<TxnOrigin, Arc<OriginSession>>,
    retired: BTreeMap<TxnOrigin, RetiredOrigin>,
    /// The sum of the kept replies' charged bytes.
    reply_bytes: u64,
}

impl DedupTable {
    /// Whether `id` was applied already.
    pub(crate) fn check(&self, id: &RequestId) -> DedupCheck {
        let Some(session) = self.origins.get(&id.origin) else {
            return match self.retired.get(&id.origin) {
                Some(r) if id.seq <= r.high => DedupCheck::Expired,
                _ => DedupCheck::New,
            };
        };
        if let Some(kept) = session.replies.get(&id.seq) {
            return DedupCheck::Duplicate(kept.reply.clone());
        }
        if id.seq <= session.floor {
            return DedupCheck::Expired;
        }
        if session.is_applied(id.seq) {
            return DedupCheck::Forgotten;
        }
        DedupCheck::New
    }

    /// Records the reply of `id` (for which [`DedupTable::check`] said [`DedupCheck::New`]),
    /// applied in the entry at log index `index`, evicting beyond the bounds.
    pub(crate) fn record(&mut self, id: RequestId, index: u64, reply: TxnReply) {
        if !self.origins.contains_key(&id.origin) {
            // Take the returning origin's floor out of the retired list before making room:
            // retiring another origin may trim the oldest retired entry, which could be this
            // one, and its floor (everything it applied before) must not be lost.
            let floor = self.retired.remove(&id.origin).map_or(0, |r| r.high);
            self.make_room_for_origin(index);
            self.origins.insert(
                id.origin,
                Arc::new(OriginSession {
                    floor,
                    ..OriginSession::default()
                }),
            );
        }
        let charged_bytes = charge(&reply);
        let Some(session) = self.origins.get_mut(&id.origin).map(Arc::make_mut) else {
            return;
        };
        session.last_index = session.last_index.max(index);
        if id.seq > session.floor && !session.is_applied(id.seq) {
            session.mark_applied(id.seq);
        }
        let mut freed = 0u64;
        session.by_index.insert((index, id.seq));
        if let Some(old) = session.replies.insert(
            id.seq,
            KeptReply {
                index,
                charged_bytes,
                reply,
            },
        ) {
            if old.index != index {
                session.by_index.remove(&(old.index, id.seq));
            }
            freed += old.charged_bytes;
        }
        while session.replies.len() > MAX_DEDUP_SEQS_PER_ORIGIN {
            match session.evict_oldest_reply() {
                Some(kept) => freed += kept.charged_bytes,
                None => break,
            }
        }
        self.reply_bytes = (self.reply_bytes + charged_bytes).saturating_sub(freed);
        self.enforce_reply_budget();
    }

    /// Retires the idle-longest origin when the table holds [`MAX_DEDUP_ORIGINS`] sessions.
    fn make_room_for_origin(&mut self, index: u64) {
        while self.origins.len() >= MAX_DEDUP_ORIGINS {
            let Some(oldest) = self
                .origins
                .iter()
                .min_by_key(|(origin, s)| (s.last_index, **origin))
                .map(|(origin, _)| *origin)
            else {
                return;
            };
            let Some(session) = self.origins.remove(&oldest) else {
                return;
            };
            let bytes: u64 = session.replies.values().map(|k| k.charged_bytes).sum();
            self.reply_bytes = self.reply_bytes.saturating_sub(bytes);
            self.retired.insert(
                oldest,
                RetiredOrigin {
                    high: session.high(),
                    retired_at: index,
                },
            );
        }
        while self.retired.len() > MAX_DEDUP_RETIRED_ORIGINS {
            let oldest = self
                .retired
                .iter()
                .min_by_key(|(origin, r)| (r.retired_at, **origin))
                .map(|(origin, _)| *origin);
            if let Some(oldest) = oldest {
                self.retired.remove(&oldest);
            }
        }
    }

    /// Evicts replies, the oldest of the idle-longest origin first, until the
    /// kept replies fit [`MAX_DEDUP_REPLY_BYTES`].
    fn enforce_reply_budget(&mut self) {
        while self.reply_bytes > MAX_DEDUP_REPLY_BYTES {
            let victim = self
                .origins
                .iter_mut()
                .filter(|(_, s)| !s.replies.is_empty())
                .min_by_key(|(origin, s)| (s.last_index, **origin))
                .and_then(|(_, s)| Arc::make_mut(s).evict_oldest_reply());
            match victim {
                Some(kept) => {
                    self.reply_bytes = self.reply_bytes.saturating_sub(kept.charged_bytes);
                }
                None => {
                    self.reply_bytes = 0;
                    return;
                }
            }
        }
    }

    /// Number of origins with a session.
    #[cfg(test)]
    pub(crate) fn origins(&self) -> usize {
        self.origins.len()
    }

    /// Checks a decoded table against the bounds and its own invariants (a snapshot comes from
    /// another member).
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.origins.len() > MAX_DEDUP_ORIGINS {
            return Err(format!(
                "the dedup table holds {} origins, over the limit of {MAX_DEDUP_ORIGINS}",
                self.origins.len()
            ));
        }
        if self.retired.len() > MAX_DEDUP_RETIRED_ORIGINS {
            return Err(format!(
                "the dedup table holds {} retired origins, over the limit of \
                 {MAX_DEDUP_RETIRED_ORIGINS}",
                self.retired.len()
            ));
        }
        let mut bytes = 0u64;
        for (origin, s) in &self.origins {
            if s.replies.len() > MAX_DEDUP_SEQS_PER_ORIGIN {
                return Err(format!(
                    "the dedup table holds {} replies for origin {origin}, over the limit of \
                     {MAX_DEDUP_SEQS_PER_ORIGIN}",
                    s.replies.len()
                ));
            }
            if s.applied.len() > MAX_DEDUP_GAPS_PER_ORIGIN {
                return Err(format!(
                    "the dedup table holds {} applied ranges for origin {origin}, over the \
                     limit of {MAX_DEDUP_GAPS_PER_ORIGIN}",
                    s.applied.len()
                ));
            }
            let mut previous_end: Option<u64> = None;
            for (start, end) in &s.applied {
                let overlaps = previous_end.is_some_and(|p| p.saturating_add(1) >= *start);
                if start > end || *start <= s.floor || overlaps {
                    return Err(format!(
                        "the dedup table's applied ranges of origin {origin} are not disjoint \
                         ranges above its floor {}",
                        s.floor
                    ));
                }
                previous_end = Some(*end);
            }
            let ordered = s.by_index.len() == s.replies.len()
                && s.by_index
                    .iter()
                    .all(|(index, seq)| s.replies.get(seq).is_some_and(|k| k.index == *index));
            if !ordered {
                return Err(format!(
                    "the dedup table's eviction order of origin {origin} does not match its \
                     replies"
                ));
            }
            for (seq, kept) in &s.replies {
                if kept.charged_bytes != charge(&kept.reply) {
                    return Err(format!(
                        "the dedup table's reply {origin}#{seq} is charged {} bytes, not {}",
                        kept.charged_bytes,
                        charge(&kept.reply)
                    ));
                }
                bytes += kept.charged_bytes;
            }
        }
        if bytes != self.reply_bytes || bytes > MAX_DEDUP_REPLY_BYTES {
            return Err(format!(
                "the dedup table's replies take {bytes} bytes (recorded {}, limit \
                 {MAX_DEDUP_REPLY_BYTES})",
                self.reply_bytes
            ));
        }
        Ok(())
    }

    /// Converts the table of snapshot format 1 (replies by sequence number and an eviction
    /// mark per origin) without losing what it knew: its replies' sequence numbers become the
    /// applied ranges, its eviction mark the floor. The bounds are then enforced as if the
    /// replies were recorded in sequence order.
    pub(crate) fn from_legacy(legacy: LegacyDedupTable) -> Self {
        let mut table = DedupTable::default();
        let mut by_index: Vec<(u64, TxnOrigin, LegacyOriginSession)> = legacy
            .origins
            .into_iter()
            .map(|(origin, s)| (s.last_index, origin, s))
            .collect();
        // Oldest first, so the origin-count bound retires the same origins the old table
        // would have evicted first.
        by_index.sort_by_key(|(index, origin, _)| (*index, *origin));
        for (index, origin, session) in by_index {
            table.make_room_for_origin(index);
            table.origins.insert(
                origin,
                Arc::new(OriginSession {
                    last_index: index,
                    floor: session.evicted_through,
                    ..OriginSession::default()
                }),
            );
            for (seq, reply) in session.replies {
                if seq <= session.evicted_through {
                    continue;
                }
                table.record(RequestId { origin, seq }, index, reply);
            }
        }
        table
    }
}

/// One origin in the table of snapshot format 1.
#[derive(Deserialize)]
pub(crate) struct LegacyOriginSession {
    last_index: u64,
    evicted_through: u64,
    replies: BTreeMap<u64, TxnReply>,
}

/// The dedup table of snapshot format 1.
#[derive(Deserialize)]
pub(crate) struct LegacyDedupTable {
    origins: BTreeMap<TxnOrigin, LegacyOriginSession>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::command::{TxnApplied, TxnRejected};
    use crate::txn::Precondition;

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

    /// Regression (review): an origin that returns while it is the oldest entry of a full
    /// retired list kept its floor only if it was taken out before room was made.
    #[test]
    fn a_returning_retired_origin_keeps_its_floor_when_the_retired_list_is_full() {
        let mut t = DedupTable::default();
        let mut index = 0u64;
        for seq in 1..=10 {
            index += 1;
            assert_eq!(apply(&mut t, id(0, seq), index), DedupCheck::New);
        }
        // Enough other origins to retire origin 0 and fill the retired list behind it.
        for member in 1..(MAX_DEDUP_ORIGINS + MAX_DEDUP_RETIRED_ORIGINS) as u64 {
            index += 1;
            apply(&mut t, id(member, 1), index);
        }
        assert_eq!(t.check(&id(0, 5)), DedupCheck::Expired);
        index += 1;
        assert_eq!(apply(&mut t, id(0, 11), index), DedupCheck::New);
        assert_eq!(
            t.check(&id(0, 5)),
            DedupCheck::Expired,
            "an old request of the returning origin must never apply again"
        );
    }

    /// Checks then records, as the state machine does.
    fn apply(t: &mut DedupTable, id: RequestId, index: u64) -> DedupCheck {
        let check = t.check(&id);
        if check == DedupCheck::New {
            t.record(id, index, reply(index));
        }
        check
    }

    #[test]
    fn keeps_the_last_replies_per_origin_and_refuses_older_applied_ones() {
        let mut t = DedupTable::default();
        let n = MAX_DEDUP_SEQS_PER_ORIGIN as u64 + 10;
        for seq in 1..=n {
            assert_eq!(apply(&mut t, id(1, seq), seq), DedupCheck::New);
        }
        assert_eq!(t.check(&id(1, n)), DedupCheck::Duplicate(reply(n)));
        assert_eq!(t.check(&id(1, 11)), DedupCheck::Duplicate(reply(11)));
        // Applied, reply evicted: refused, never applied again.
        assert_eq!(t.check(&id(1, 10)), DedupCheck::Forgotten);
        assert_eq!(t.check(&id(1, 1)), DedupCheck::Forgotten);
        assert_eq!(t.check(&id(1, n + 1)), DedupCheck::New);
        t.validate().expect("within bounds");
    }

    /// The review's case: more than a window of an origin's writes overtake an older one, which
    /// then arrives. It never applied, so it must apply now (the old table, which evicted by
    /// "highest evicted sequence number", called it expired and refused it).
    #[test]
    fn a_request_overtaken_by_more_than_a_window_of_later_ones_still_applies() {
        let mut t = DedupTable::default();
        let late = 1;
        let n = 3 * MAX_DEDUP_SEQS_PER_ORIGIN as u64;
        for seq in 2..=n {
            assert_eq!(apply(&mut t, id(1, seq), seq), DedupCheck::New);
        }
        assert_eq!(t.check(&id(1, late)), DedupCheck::New, "never applied");
        assert_eq!(apply(&mut t, id(1, late), n + 1), DedupCheck::New);
        // Now it did, and its reply is kept.
        assert_eq!(t.check(&id(1, late)), DedupCheck::Duplicate(reply(n + 1)));
        // Every other one is still known applied (reply kept or not).
        assert_eq!(t.check(&id(1, 2)), DedupCheck::Forgotten);
        assert_eq!(t.check(&id(1, n)), DedupCheck::Duplicate(reply(n)));
        t.validate().expect("within bounds");
    }

    #[test]
    fn many_gaps_raise_the_floor_and_older_requests_are_then_refused() {
        let mut t = DedupTable::default();
        // Odd sequence numbers only: every even one is a gap.
        let ranges = MAX_DEDUP_GAPS_PER_ORIGIN as u64 + 5;
        for i in 0..ranges {
            apply(&mut t, id(1, 2 * i + 1), i + 1);
        }
        t.validate().expect("within bounds");
        // The five lowest ranges were dropped: seqs 1..=9 are below the floor.
        assert_eq!(t.check(&id(1, 2)), DedupCheck::Expired, "unknown: refused");
        assert_eq!(t.check(&id(1, 8)), DedupCheck::Expired);
        assert_eq!(
            t.check(&id(1, 10)),
            DedupCheck::New,
            "still exact above the floor"
        );
        assert_eq!(
            t.check(&id(1, 2 * ranges - 1)),
            DedupCheck::Duplicate(reply(ranges))
        );
    }

    #[test]
    fn retired_origins_refuse_old_requests_and_accept_new_ones() {
        let mut t = DedupTable::default();
        for member in 0..MAX_DEDUP_ORIGINS as u64 {
            for seq in 1..=3 {
                apply(&mut t, id(member, seq), 100 + member);
            }
        }
        // Origin 0 applies again, so origin 1 is now the idle-longest.
        apply(&mut t, id(0, 4), 1_000);
        apply(&mut t, id(9_999, 1), 1_001);
        assert_eq!(t.origins(), MAX_DEDUP_ORIGINS);
        assert_eq!(
            t.check(&id(1, 2)),
            DedupCheck::Expired,
            "retired: may have applied"
        );
        assert_eq!(
            t.check(&id(1, 4)),
            DedupCheck::New,
            "after its high mark: new"
        );
        assert_eq!(t.check(&id(0, 1)), DedupCheck::Duplicate(reply(100)));
        // The retired origin comes back: its floor is its old high mark.
        assert_eq!(apply(&mut t, id(1, 4), 1_002), DedupCheck::New);
        assert_eq!(t.check(&id(1, 3)), DedupCheck::Expired);
        assert_eq!(t.check(&id(1, 4)), DedupCheck::Duplicate(reply(1_002)));
        t.validate().expect("within bounds");
    }

    #[test]
    fn the_reply_budget_evicts_the_idle_longest_origin_first() {
        let mut t = DedupTable::default();
        let big: TxnReply = Err(TxnRejected {
            op_index: 0,
            collection: "c".repeat(crate::MAX_COLLECTION_BYTES),
            key: "k".repeat(crate::MAX_KEY_BYTES),
            expected: Precondition::Absent,
            actual: Some(1),
        });
        let per = charge(&big);
        let fits = MAX_DEDUP_REPLY_BYTES / per;
        let mut index = 0;
        'fill: for member in 0.. {
            for seq in 1..=MAX_DEDUP_SEQS_PER_ORIGIN as u64 {
                index += 1;
                if index > fits + 3 {
                    break 'fill;
                }
                t.record(id(member, seq), index, big.clone());
            }
        }
        t.validate().expect("within bounds");
        assert!(t.reply_bytes <= MAX_DEDUP_REPLY_BYTES);
        // Origin 0 (idle longest) lost its three lowest replies; they stay known applied.
        assert_eq!(t.check(&id(0, 1)), DedupCheck::Forgotten);
        assert_eq!(t.check(&id(0, 3)), DedupCheck::Forgotten);
        assert_eq!(t.check(&id(0, 4)), DedupCheck::Duplicate(big));
    }

    #[test]
    fn two_replicas_applying_the_same_ids_keep_equal_tables() {
        let mut a = DedupTable::default();
        let mut b = DedupTable::default();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for index in 1..20_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let rid = id(x % 300, (x >> 20) % 5_000 + 1);
            assert_eq!(apply(&mut a, rid, index), apply(&mut b, rid, index));
        }
        assert_eq!(a, b);
        a.validate().expect("within bounds");
    }

    #[test]
    fn decoded_tables_over_the_bounds_or_inconsistent_are_refused() {
        let mut t = DedupTable::default();
        t.record(id(1, 1), 1, reply(1));
        let mut over = t.clone();
        let session = Arc::make_mut(over.origins.get_mut(&id(1, 1).origin).expect("session"));
        for seq in 2..=MAX_DEDUP_SEQS_PER_ORIGIN as u64 + 1 {
            session.by_index.insert((seq, seq));
            session.replies.insert(
                seq,
                KeptReply {
                    index: seq,
                    charged_bytes: charge(&reply(seq)),
                    reply: reply(seq),
                },
            );
        }
        let e = over.validate().expect_err("over the per-origin bound");
        assert!(e.contains("replies"), "{e}");
        let mut lying = t.clone();
        lying.reply_bytes = 1;
        let e = lying.validate().expect_err("bytes do not add up");
        assert!(e.contains("bytes"), "{e}");
        let mut below = t;
        Arc::make_mut(below.origins.get_mut(&id(1, 1).origin).expect("session")).floor = 5;
        let e = below.validate().expect_err("range below the floor");
        assert!(e.contains("floor"), "{e}");
    }
}
