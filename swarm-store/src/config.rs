//! Settings of one store member.

use crate::error::StoreError;
use crate::transport::MemberId;

/// How linearizable reads confirm that the leader is still the leader.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReadPolicy {
    /// Read-index: the leader confirms its leadership with a quorum (one heartbeat round) and
    /// the read waits until the local state machine applied up to the leader's commit index.
    /// Safe whatever the clocks do.
    #[default]
    ReadIndex,
    /// Leader lease: the leader skips the heartbeat round while its lease (renewed by quorum
    /// acknowledgements) is valid. Faster; assumes bounded clock drift between members. A read
    /// on a follower right after the last write of a burst may wait about a millisecond more:
    /// a leader holds the message that only announces a commit that long, in case the next
    /// write's entries carry it (no heartbeat round delivers it sooner here).
    Lease,
}

/// Settings of one store member. [`StoreConfig::new`] gives SwarmKit-like defaults tuned for a
/// LAN; [`StoreConfig::fast_failover`] shortens every timer for tests and single-host clusters.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// This member's id, stable across restarts.
    pub member: MemberId,
    /// This member's address as the transport understands it; recorded in the membership so
    /// other members and operators can see it.
    pub addr: String,
    /// A name shared by all members of the cluster (diagnostics only).
    pub cluster_name: String,
    /// How often the leader sends heartbeats.
    pub heartbeat_period_ms: u64,
    /// Shortest time without a leader before a follower stands for election.
    pub election_timeout_min_ms: u64,
    /// Longest such time (each follower picks a random timeout in the range).
    pub election_timeout_max_ms: u64,
    /// A snapshot is built every this many log entries; the log is purged after it
    /// (SwarmKit: 10,000).
    pub snapshot_every_entries: u64,
    /// Entries kept in the log below the last snapshot, so briefly lagging followers catch up
    /// from the log instead of a snapshot.
    pub log_entries_kept_after_snapshot: u64,
    /// The most transactions one Raft entry carries.
    pub max_batch_txns: usize,
    /// The most encoded bytes one Raft entry carries (one transaction may overshoot it).
    pub max_batch_bytes: usize,
    /// The most Raft entries the proposer has in flight; while they are all busy, new writes
    /// queue and go out together in the next entry. Default 1: each entry costs far more
    /// (an `fdatasync` on every member, a message to each follower, the Raft core's rounds)
    /// than each write in it, so with many writes waiting, fewer and fuller entries carry more
    /// writes per second than several smaller ones in flight at once.
    pub max_inflight_batches: usize,
    /// The most AppendEntries a leader keeps unanswered per follower (pipelining; at most
    /// [`MAX_APPENDS_IN_FLIGHT_LIMIT`]). Default 4. With 1 the leader waits for each answer
    /// before sending more, as openraft does by default, so the entries of a new write also
    /// wait behind the round trip of the message telling followers of the last commit; 2 or
    /// more saves that round trip, half a write's time where round trips are long
    /// (`store_rtt_bench`). A follower receives them in order (the transport keeps a
    /// connection's order); one overtaken by the next is answered with a conflict and the
    /// stream starts again from what the follower acknowledged.
    pub max_appends_in_flight: usize,
    /// How long a leader holds the AppendEntries that only announces a newer commit index to a
    /// follower, waiting for the next write's entries to carry it instead (at most
    /// [`MAX_COMMIT_NOTICE_HOLD_MS`]; 0 sends it at once, openraft's behaviour). Default 1: at
    /// low load the next write follows within tens of microseconds, and one round trip per
    /// write is saved (21–32 % of the CPU time of a write at one in flight on tmpfs,
    /// `store_bench --commit-notice-hold-ms 0` against the default). A follower learns of the
    /// last commit of a burst of writes up to this much later; a read on it under
    /// [`ReadPolicy::ReadIndex`] does not wait for that (the leader's heartbeat round carries
    /// the commit).
    pub commit_notice_hold_ms: u64,
    /// The most transactions waiting for the proposer; callers wait for room beyond it.
    pub proposal_queue_txns: usize,
    /// The most recent changes kept for watches. A watch that falls further behind gets
    /// [`StoreError::Compacted`] and must re-list.
    pub watch_history_changes: usize,
    /// Deadline of one client request (write, linearizable read, forwarded call).
    pub request_timeout_ms: u64,
    /// How linearizable reads are confirmed.
    pub read_policy: ReadPolicy,
    /// Start as a one-member cluster made of this member, keeping everything in its log and
    /// snapshot (disaster recovery after losing quorum for good).
    pub force_new_cluster: bool,
    /// Seeds this member's Raft randomness (election timeouts, the tick's phase, snapshot
    /// transfer ids) so a simulation on a single-threaded runtime with a paused clock replays
    /// exactly. `None` (the default): OS entropy. Leave it `None` in production: members that
    /// shared a seed would time out in lockstep and split their votes, and blocking work
    /// (snapshot encoding) runs inline on the Raft task under a seed. [`Store::open`] refuses a
    /// seed on a multi-thread tokio runtime. The seed also fixes this start's request-id
    /// incarnation, so give every start of a member its own seed: a member restarted with the
    /// seed of an earlier start would have its new transactions taken for that start's (and
    /// refused as already applied).
    ///
    /// [`Store::open`]: crate::Store::open
    pub raft_rng_seed: Option<u64>,
}

/// The most entries one append-entries message carries (bounds frame size together with
/// [`StoreConfig::max_batch_bytes`]).
pub const MAX_ENTRIES_PER_APPEND: u64 = 8;

/// The largest accepted [`StoreConfig::max_appends_in_flight`]: with at most
/// [`MAX_ENTRIES_PER_APPEND`] entries of at most [`MAX_BATCH_BYTES_LIMIT`] each, a follower
/// holds at most 64 × 8 MiB of one leader's unanswered messages, and its transport's budget of
/// buffered request bytes cuts that lower.
pub const MAX_APPENDS_IN_FLIGHT_LIMIT: usize = 64;

/// The largest accepted [`StoreConfig::commit_notice_hold_ms`]: a follower must not learn of
/// commits much later than a heartbeat would tell it.
pub const MAX_COMMIT_NOTICE_HOLD_MS: u64 = 100;

/// The largest accepted `max_batch_bytes`: [`MAX_ENTRIES_PER_APPEND`] such entries must fit a
/// transport frame. A batch holds the encoded transactions the proposer drains (it stops before
/// one that would pass `max_batch_bytes`); one transaction is at most
/// [`MAX_TXN_BYTES`](crate::MAX_TXN_BYTES), no more than this, so a batch never passes it.
pub const MAX_BATCH_BYTES_LIMIT: usize = 1024 * 1024;

/// Room for what an entry adds around its batch's transactions in an append-entries frame (log
/// id, payload tag, length prefixes), with the message's own fields (vote, previous log id,
/// commit index) and the transport envelope spread over the entries. Generous on purpose: those
/// are tens of bytes.
const APPEND_OVERHEAD_BYTES_PER_ENTRY: usize = 64 * 1024;

// The fullest append-entries message fits one frame, and any one transaction fits one entry.
const _: () = assert!(
    (MAX_ENTRIES_PER_APPEND as usize) * (MAX_BATCH_BYTES_LIMIT + APPEND_OVERHEAD_BYTES_PER_ENTRY)
        < crate::transport::MAX_FRAME_BYTES
);
const _: () = assert!(crate::txn::MAX_TXN_BYTES <= MAX_BATCH_BYTES_LIMIT);

impl StoreConfig {
    /// Defaults for member `member` reachable at `addr`: heartbeat 100 ms, election timeout
    /// 1–2 s, snapshot every 10,000 entries.
    pub fn new(member: MemberId, addr: impl Into<String>) -> Self {
        StoreConfig {
            member,
            addr: addr.into(),
            cluster_name: "swarm-store".into(),
            heartbeat_period_ms: 100,
            election_timeout_min_ms: 1000,
            election_timeout_max_ms: 2000,
            snapshot_every_entries: 10_000,
            log_entries_kept_after_snapshot: 1_000,
            max_batch_txns: 1024,
            max_batch_bytes: 512 * 1024,
            max_inflight_batches: 1,
            max_appends_in_flight: 4,
            commit_notice_hold_ms: 1,
            proposal_queue_txns: 16 * 1024,
            watch_history_changes: 100_000,
            request_timeout_ms: 5_000,
            read_policy: ReadPolicy::ReadIndex,
            force_new_cluster: false,
            raft_rng_seed: None,
        }
    }

    /// Short timers (heartbeat 30 ms, election 150–300 ms): for tests and clusters on one host.
    pub fn fast_failover(mut self) -> Self {
        self.heartbeat_period_ms = 30;
        self.election_timeout_min_ms = 150;
        self.election_timeout_max_ms = 300;
        self.request_timeout_ms = 3_000;
        self
    }

    /// Checks the settings, naming the first bad field.
    pub fn validate(&self) -> Result<(), StoreError> {
        let bad = |field: &'static str, detail: String| Err(StoreError::Invalid { field, detail });
        if self.heartbeat_period_ms == 0 {
            return bad("heartbeat_period_ms", "must be positive".into());
        }
        if self.election_timeout_min_ms <= self.heartbeat_period_ms * 2 {
            return bad(
                "election_timeout_min_ms",
                format!(
                    "{} must exceed twice heartbeat_period_ms ({})",
                    self.election_timeout_min_ms, self.heartbeat_period_ms
                ),
            );
        }
        if self.election_timeout_max_ms <= self.election_timeout_min_ms {
            return bad(
                "election_timeout_max_ms",
                "must exceed election_timeout_min_ms".into(),
            );
        }
        if self.snapshot_every_entries == 0 {
            return bad("snapshot_every_entries", "must be positive".into());
        }
        if self.max_batch_txns == 0 {
            return bad("max_batch_txns", "must be positive".into());
        }
        if self.max_batch_bytes == 0 || self.max_batch_bytes > MAX_BATCH_BYTES_LIMIT {
            return bad(
                "max_batch_bytes",
                format!("must be in 1..={MAX_BATCH_BYTES_LIMIT}"),
            );
        }
        if self.max_inflight_batches == 0 {
            return bad("max_inflight_batches", "must be positive".into());
        }
        if !(1..=MAX_APPENDS_IN_FLIGHT_LIMIT).contains(&self.max_appends_in_flight) {
            return bad(
                "max_appends_in_flight",
                format!("must be in 1..={MAX_APPENDS_IN_FLIGHT_LIMIT}"),
            );
        }
        if self.commit_notice_hold_ms > MAX_COMMIT_NOTICE_HOLD_MS {
            return bad(
                "commit_notice_hold_ms",
                format!("must be at most {MAX_COMMIT_NOTICE_HOLD_MS}"),
            );
        }
        if self.proposal_queue_txns == 0 {
            return bad("proposal_queue_txns", "must be positive".into());
        }
        if self.watch_history_changes == 0 {
            return bad("watch_history_changes", "must be positive".into());
        }
        if self.request_timeout_ms == 0 {
            return bad("request_timeout_ms", "must be positive".into());
        }
        Ok(())
    }

    /// How long a member may go without acknowledging the leader before it counts as
    /// unreachable.
    pub fn unreachable_after_ms(&self) -> u64 {
        self.election_timeout_max_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_fields() {
        let ok = StoreConfig::new(MemberId(1), "a");
        assert!(ok.validate().is_ok());
        assert!(ok.clone().fast_failover().validate().is_ok());
        let mut c = ok.clone();
        c.election_timeout_max_ms = c.election_timeout_min_ms;
        assert!(matches!(
            c.validate(),
            Err(StoreError::Invalid {
                field: "election_timeout_max_ms",
                ..
            })
        ));
        let mut c = ok.clone();
        c.max_batch_bytes = MAX_BATCH_BYTES_LIMIT + 1;
        assert!(matches!(
            c.validate(),
            Err(StoreError::Invalid {
                field: "max_batch_bytes",
                ..
            })
        ));
        let mut c = ok.clone();
        c.commit_notice_hold_ms = MAX_COMMIT_NOTICE_HOLD_MS + 1;
        assert!(matches!(
            c.validate(),
            Err(StoreError::Invalid {
                field: "commit_notice_hold_ms",
                ..
            })
        ));
        for appends in [0, MAX_APPENDS_IN_FLIGHT_LIMIT + 1] {
            let mut c = ok.clone();
            c.max_appends_in_flight = appends;
            assert!(matches!(
                c.validate(),
                Err(StoreError::Invalid {
                    field: "max_appends_in_flight",
                    ..
                })
            ));
        }
    }
}
