//! The receiving side of chunked snapshot transfers, free of I/O: which transfer is accepted,
//! how much memory it may take and when it is dropped.
//!
//! Rules, each enforced here:
//!
//! - A chunk is accepted only with a committed vote at least as new as this member's own (a
//!   deposed leader cannot start, nor continue, a transfer). openraft checks the vote again
//!   when the snapshot is installed.
//! - An announced size over [`MAX_SNAPSHOT_BYTES`] is refused at the first chunk, before any
//!   buffer is allocated (a leader never builds a larger image, see
//!   [`SnapshotView::encode`](crate::state::snapshot_format::SnapshotView::encode)).
//! - At most [`MAX_SNAPSHOT_TRANSFERS`] transfer is buffered at a time. A first chunk of a new
//!   transfer replaces the one in progress when it comes from the same leader (it restarted
//!   the send) or carries a newer vote; otherwise it is refused as busy.
//! - A transfer that received no chunk for the idle timeout (the sender died mid-way) is
//!   dropped, by [`SnapshotInbox::expire`] or when another chunk arrives.

use crate::raft::types::{SnapshotMeta, Vote};
use crate::state::snapshot_format::MAX_SNAPSHOT_BYTES;
use crate::transport::MemberId;
use std::cmp::Ordering;
use std::time::{Duration, Instant};

/// The most snapshot transfers buffered at once (each may take up to [`MAX_SNAPSHOT_BYTES`]).
pub(crate) const MAX_SNAPSHOT_TRANSFERS: usize = 1;
const _: () = assert!(
    MAX_SNAPSHOT_TRANSFERS == 1,
    "SnapshotInbox holds its transfer in an Option"
);
/// The least time a transfer may go without a chunk before it is dropped. The member uses the
/// larger of this and twice the sender's per-chunk timeout (see `Member::new`), so a live sender
/// is never cut off between two chunks.
pub(crate) const SNAPSHOT_TRANSFER_IDLE_MIN: Duration = Duration::from_secs(30);
/// The first allocation of a transfer's buffer, at most (it grows with the chunks).
const INITIAL_BUFFER_BYTES: u64 = 64 * 1024 * 1024;

/// One chunk as received (the fields of the wire message this core decides on).
pub(crate) struct ChunkIn<'a> {
    pub(crate) vote: Vote,
    pub(crate) meta: &'a SnapshotMeta,
    pub(crate) transfer_id: u64,
    pub(crate) offset: u64,
    pub(crate) total_bytes: u64,
    pub(crate) data: &'a [u8],
}

/// What became of an accepted chunk.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ChunkStored {
    /// Buffered; more chunks are expected.
    Partial,
    /// The last chunk: the whole image, to install with the vote it came with.
    Complete(Vec<u8>),
}

/// Why a chunk was refused (the sender restarts the transfer if it still leads).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum ChunkRefused {
    /// The announced size is over the limit.
    #[error(
        "snapshot of {total_bytes} bytes from {from} exceeds the limit of {MAX_SNAPSHOT_BYTES} \
         bytes (MAX_SNAPSHOT_BYTES)"
    )]
    TooLarge { from: MemberId, total_bytes: u64 },
    /// The sender's vote is older than this member's, or not committed.
    #[error("snapshot chunk from {from} carries vote {theirs}, older than this member's {ours}")]
    StaleVote {
        from: MemberId,
        theirs: String,
        ours: String,
    },
    /// Another leader's transfer, with a vote at least as new, is in progress.
    #[error("a snapshot transfer from {current} is in progress; {from}'s is refused")]
    Busy { from: MemberId, current: MemberId },
    /// A chunk that continues no transfer in progress (it was dropped or replaced).
    #[error(
        "snapshot chunk from {from} at offset {offset} continues no transfer in progress; \
         restart the transfer"
    )]
    NoTransfer { from: MemberId, offset: u64 },
    /// A chunk out of order, of another size, or past the announced size.
    #[error("snapshot chunk from {from} out of order ({detail}); restart the transfer")]
    OutOfOrder { from: MemberId, detail: String },
}

/// The transfer being received.
struct Transfer {
    from: MemberId,
    vote: Vote,
    transfer_id: u64,
    total_bytes: u64,
    buf: Vec<u8>,
    last_chunk: Instant,
}

/// Buffers at most one snapshot transfer (see the module docs for the rules).
pub(crate) struct SnapshotInbox {
    idle_timeout: Duration,
    current: Option<Transfer>,
}

/// Whether `theirs` is at least as new as `ours` (incomparable votes are not).
fn not_older(theirs: &Vote, ours: &Vote) -> bool {
    matches!(
        theirs.partial_cmp(ours),
        Some(Ordering::Greater | Ordering::Equal)
    )
}

impl SnapshotInbox {
    /// An empty inbox dropping transfers idle for `idle_timeout`.
    pub(crate) fn new(idle_timeout: Duration) -> Self {
        SnapshotInbox {
            idle_timeout,
            current: None,
        }
    }

    /// Drops the transfer in progress if it received nothing for the idle timeout. Returns the
    /// sender of the dropped transfer.
    pub(crate) fn expire(&mut self, now: Instant) -> Option<MemberId> {
        let idle = self
            .current
            .as_ref()
            .is_some_and(|t| now.saturating_duration_since(t.last_chunk) >= self.idle_timeout);
        if idle {
            self.current.take().map(|t| t.from)
        } else {
            None
        }
    }

    /// The bytes buffered now.
    #[cfg(test)]
    pub(crate) fn buffered_bytes(&self) -> usize {
        self.current.as_ref().map_or(0, |t| t.buf.len())
    }

    /// When the transfer in progress will be idle past the timeout, if one is in progress.
    pub(crate) fn idle_deadline(&self) -> Option<Instant> {
        self.current
            .as_ref()
            .map(|t| t.last_chunk + self.idle_timeout)
    }

    /// Takes one chunk from `from`, this member's vote being `ours`.
    pub(crate) fn receive(
        &mut self,
        from: MemberId,
        chunk: ChunkIn<'_>,
        ours: &Vote,
        now: Instant,
    ) -> Result<ChunkStored, ChunkRefused> {
        self.expire(now);
        if !chunk.vote.is_committed() || !not_older(&chunk.vote, ours) {
            // A transfer of a deposed leader is dropped as soon as it shows.
            if self.current.as_ref().is_some_and(|t| t.from == from) {
                self.current = None;
            }
            return Err(ChunkRefused::StaleVote {
                from,
                theirs: chunk.vote.to_string(),
                ours: ours.to_string(),
            });
        }
        if chunk.offset == 0 {
            if chunk.total_bytes > MAX_SNAPSHOT_BYTES {
                return Err(ChunkRefused::TooLarge {
                    from,
                    total_bytes: chunk.total_bytes,
                });
            }
            if let Some(current) = &self.current {
                let replaces = current.from == from
                    || matches!(
                        chunk.vote.partial_cmp(&current.vote),
                        Some(Ordering::Greater)
                    );
                if !replaces {
                    return Err(ChunkRefused::Busy {
                        from,
                        current: current.from,
                    });
                }
            }
            tracing::debug!(
                %from,
                transfer_id = chunk.transfer_id,
                total_bytes = chunk.total_bytes,
                last_log_id = ?chunk.meta.last_log_id,
                "snapshot transfer starts"
            );
            let capacity = chunk.total_bytes.min(INITIAL_BUFFER_BYTES);
            self.current = Some(Transfer {
                from,
                vote: chunk.vote,
                transfer_id: chunk.transfer_id,
                total_bytes: chunk.total_bytes,
                buf: Vec::with_capacity(usize::try_from(capacity).unwrap_or(0)),
                last_chunk: now,
            });
        }
        let Some(t) = self.current.as_mut().filter(|t| t.from == from) else {
            return Err(ChunkRefused::NoTransfer {
                from,
                offset: chunk.offset,
            });
        };
        let detail = if t.transfer_id != chunk.transfer_id {
            Some(format!(
                "transfer {} while {} is in progress",
                chunk.transfer_id, t.transfer_id
            ))
        } else if t.vote != chunk.vote {
            Some(format!("vote {} changed mid-transfer", chunk.vote))
        } else if t.total_bytes != chunk.total_bytes {
            Some(format!(
                "announced {} bytes, then {}",
                t.total_bytes, chunk.total_bytes
            ))
        } else if t.buf.len() as u64 != chunk.offset {
            Some(format!(
                "offset {} where {} was expected",
                chunk.offset,
                t.buf.len()
            ))
        } else if (t.buf.len() + chunk.data.len()) as u64 > t.total_bytes {
            Some(format!(
                "chunks exceed the announced {} bytes",
                t.total_bytes
            ))
        } else {
            None
        };
        if let Some(detail) = detail {
            self.current = None;
            return Err(ChunkRefused::OutOfOrder { from, detail });
        }
        t.buf.extend_from_slice(chunk.data);
        t.last_chunk = now;
        if t.buf.len() as u64 == t.total_bytes {
            Ok(ChunkStored::Complete(
                self.current.take().map(|t| t.buf).unwrap_or_default(),
            ))
        } else {
            Ok(ChunkStored::Partial)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDLE: Duration = Duration::from_secs(30);

    fn meta() -> SnapshotMeta {
        SnapshotMeta::default()
    }

    fn chunk<'a>(
        vote: Vote,
        meta: &'a SnapshotMeta,
        transfer_id: u64,
        offset: u64,
        total_bytes: u64,
        data: &'a [u8],
    ) -> ChunkIn<'a> {
        ChunkIn {
            vote,
            meta,
            transfer_id,
            offset,
            total_bytes,
            data,
        }
    }

    fn leader(term: u64, id: u64) -> Vote {
        Vote::new_committed(term, id)
    }

    #[test]
    fn a_stale_leader_cannot_start_or_continue_a_transfer() {
        let m = meta();
        let mut inbox = SnapshotInbox::new(IDLE);
        let now = Instant::now();
        let ours = leader(5, 2);
        let e = inbox
            .receive(
                MemberId(1),
                chunk(leader(4, 1), &m, 1, 0, 10, b"abcde"),
                &ours,
                now,
            )
            .expect_err("term 4 < 5");
        assert!(matches!(e, ChunkRefused::StaleVote { .. }), "{e}");
        assert_eq!(
            inbox.buffered_bytes(),
            0,
            "nothing buffered for a stale leader"
        );
        // An uncommitted vote (a candidate) cannot either.
        let e = inbox
            .receive(
                MemberId(3),
                chunk(Vote::new(6, 3), &m, 1, 0, 10, b"abcde"),
                &ours,
                now,
            )
            .expect_err("not committed");
        assert!(matches!(e, ChunkRefused::StaleVote { .. }), "{e}");
        // The current leader starts; then this member learns of a newer term: the rest of the
        // old leader's transfer is refused and its buffer dropped.
        let stored = inbox
            .receive(MemberId(2), chunk(ours, &m, 1, 0, 10, b"abcde"), &ours, now)
            .expect("current leader");
        assert_eq!(stored, ChunkStored::Partial);
        assert_eq!(inbox.buffered_bytes(), 5);
        let newer = leader(6, 3);
        let e = inbox
            .receive(
                MemberId(2),
                chunk(ours, &m, 1, 5, 10, b"fghij"),
                &newer,
                now,
            )
            .expect_err("deposed mid-transfer");
        assert!(matches!(e, ChunkRefused::StaleVote { .. }), "{e}");
        assert_eq!(inbox.buffered_bytes(), 0);
    }

    #[test]
    fn an_abandoned_transfer_is_dropped_after_the_idle_timeout() {
        let m = meta();
        let mut inbox = SnapshotInbox::new(IDLE);
        let t0 = Instant::now();
        let v = leader(3, 1);
        inbox
            .receive(MemberId(1), chunk(v, &m, 9, 0, 10, b"abcde"), &v, t0)
            .expect("first chunk");
        assert_eq!(inbox.expire(t0 + IDLE / 2), None, "not idle yet");
        assert_eq!(inbox.idle_deadline(), Some(t0 + IDLE));
        assert_eq!(inbox.expire(t0 + IDLE), Some(MemberId(1)));
        assert_eq!(inbox.buffered_bytes(), 0);
        // Its late continuation is refused.
        let e = inbox
            .receive(MemberId(1), chunk(v, &m, 9, 5, 10, b"fghij"), &v, t0 + IDLE)
            .expect_err("dropped");
        assert!(matches!(e, ChunkRefused::NoTransfer { .. }), "{e}");
    }

    #[test]
    fn one_transfer_at_a_time_replaced_only_by_its_leader_or_a_newer_vote() {
        let m = meta();
        let mut inbox = SnapshotInbox::new(IDLE);
        let now = Instant::now();
        let v3 = leader(3, 1);
        inbox
            .receive(MemberId(1), chunk(v3, &m, 1, 0, 10, b"abcde"), &v3, now)
            .expect("first");
        // The same leader restarts its send: replaces.
        inbox
            .receive(MemberId(1), chunk(v3, &m, 2, 0, 10, b"ABCDE"), &v3, now)
            .expect("restart");
        let e = inbox
            .receive(MemberId(1), chunk(v3, &m, 1, 5, 10, b"fghij"), &v3, now)
            .expect_err("the replaced transfer");
        assert!(matches!(e, ChunkRefused::OutOfOrder { .. }), "{e}");
        inbox
            .receive(MemberId(1), chunk(v3, &m, 2, 0, 10, b"ABCDE"), &v3, now)
            .expect("restart again");
        // A newer leader replaces it; the old one's chunks are then refused.
        let v4 = leader(4, 2);
        inbox
            .receive(MemberId(2), chunk(v4, &m, 7, 0, 4, b"wx"), &v3, now)
            .expect("newer vote replaces");
        let e = inbox
            .receive(MemberId(1), chunk(v3, &m, 2, 5, 10, b"FGHIJ"), &v3, now)
            .expect_err("replaced");
        assert!(matches!(e, ChunkRefused::NoTransfer { .. }), "{e}");
        // A sender with an equal (incomparable) vote cannot push it out.
        let other = leader(4, 3);
        let e = inbox
            .receive(MemberId(3), chunk(other, &m, 1, 0, 4, b"zz"), &v3, now)
            .expect_err("busy");
        assert!(matches!(e, ChunkRefused::Busy { .. }), "{e}");
        assert_eq!(
            inbox.receive(MemberId(2), chunk(v4, &m, 7, 2, 4, b"yz"), &v3, now),
            Ok(ChunkStored::Complete(b"wxyz".to_vec()))
        );
        assert_eq!(inbox.buffered_bytes(), 0);
    }

    #[test]
    fn sizes_over_the_limit_or_past_the_announced_one_are_refused() {
        let m = meta();
        let mut inbox = SnapshotInbox::new(IDLE);
        let now = Instant::now();
        let v = leader(1, 1);
        let e = inbox
            .receive(
                MemberId(1),
                chunk(v, &m, 1, 0, MAX_SNAPSHOT_BYTES + 1, b"a"),
                &v,
                now,
            )
            .expect_err("too large");
        assert!(matches!(e, ChunkRefused::TooLarge { .. }), "{e}");
        inbox
            .receive(MemberId(1), chunk(v, &m, 1, 0, 4, b"ab"), &v, now)
            .expect("first");
        let e = inbox
            .receive(MemberId(1), chunk(v, &m, 1, 2, 4, b"cde"), &v, now)
            .expect_err("past the size");
        assert!(matches!(e, ChunkRefused::OutOfOrder { .. }), "{e}");
        assert_eq!(inbox.buffered_bytes(), 0);
    }
}
