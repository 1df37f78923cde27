//! Who may send what: every request from another member is checked against the effective
//! membership and, for the messages only a leader sends, against the leader id they carry.
//!
//! | request | the sender must |
//! |---|---|
//! | AppendEntries, snapshot chunk | be a member (voter or learner of the effective membership, joint configurations included) and be the leader its vote names |
//! | Vote, PreVote | be a member and be the candidate its vote names |
//! | TransferLeader | be a member and be the leader whose vote it carries |
//! | Write, ReadIndex | be a member (a learner forwards its clients' requests too) |
//! | Membership | be a voter (checked in [`rpc_dispatch`](super::rpc_dispatch), with the forced-change rule) |
//!
//! A member whose membership is still empty (being added, or restarted on an empty log) takes
//! AppendEntries, snapshot chunks, Vote and PreVote from the sender they name: it learns the
//! membership from the leader's entries, and Raft decides the rest as before. So does a member
//! not in its own effective membership yet for AppendEntries and snapshot chunks: one added
//! after the founder left replays configurations that name neither it nor the current leader
//! before it reaches the one that added it. (A removed member is in the same position; what it
//! takes in no longer counts in any quorum.)

use super::Member;
use crate::raft::types::Vote;
use crate::raft::wire::RpcRequest;
use crate::transport::MemberId;
use openraft::async_runtime::WatchReceiver;

/// Why a request from another member was refused before it was handled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SenderRefused {
    /// The sender is not a voter or learner of this member's effective membership.
    #[error(
        "{what} from {peer} refused: {peer} is not a member of this store's membership (voters \
         and learners of the effective configuration)"
    )]
    NotAMember {
        /// The authenticated sender.
        peer: MemberId,
        /// The request's kind.
        what: &'static str,
    },
    /// The leader (or candidate) id the request carries is not its authenticated sender.
    #[error(
        "{what} from {peer} refused: it speaks for {claimed}, and a member speaks only for itself"
    )]
    SpeaksForAnother {
        /// The authenticated sender.
        peer: MemberId,
        /// The id the request carries.
        claimed: MemberId,
        /// The request's kind.
        what: &'static str,
    },
}

impl SenderRefused {
    /// The refused sender.
    pub(crate) fn peer(&self) -> MemberId {
        match self {
            SenderRefused::NotAMember { peer, .. }
            | SenderRefused::SpeaksForAnother { peer, .. } => *peer,
        }
    }
}

/// The node a vote is for: the leader of an AppendEntries or snapshot, the candidate of a vote.
fn voted_for(vote: &Vote) -> u64 {
    vote.leader_id().voted_for
}

impl Member {
    /// Checks `from` against the rules of the module's table; membership requests pass here and
    /// are checked by their own rule.
    pub(super) fn check_sender(
        &self,
        from: MemberId,
        request: &RpcRequest,
    ) -> Result<(), SenderRefused> {
        let (what, carried) = match request {
            RpcRequest::AppendEntries(r) => ("AppendEntries", Some(voted_for(&r.vote))),
            RpcRequest::SnapshotChunk(c) => ("snapshot chunk", Some(voted_for(&c.vote))),
            RpcRequest::Vote(r) => ("Vote", Some(voted_for(&r.vote))),
            RpcRequest::PreVote(r) => ("PreVote", Some(voted_for(&r.vote))),
            RpcRequest::TransferLeader(r) => ("TransferLeader", Some(voted_for(r.from_leader()))),
            RpcRequest::Write(_) => ("forwarded write", None),
            RpcRequest::ReadIndex => ("read-index request", None),
            RpcRequest::Membership(_) => return Ok(()),
        };
        if let Some(claimed) = carried {
            if claimed != from.0 {
                return Err(SenderRefused::SpeaksForAnother {
                    peer: from,
                    claimed: MemberId(claimed),
                    what,
                });
            }
        }
        let raft_message = matches!(
            request,
            RpcRequest::AppendEntries(_)
                | RpcRequest::SnapshotChunk(_)
                | RpcRequest::Vote(_)
                | RpcRequest::PreVote(_)
        );
        let metrics = self.raft.metrics();
        let metrics = metrics.borrow_watched();
        let membership = metrics.membership_config.membership();
        if membership.get_node(&from.0).is_some() {
            return Ok(());
        }
        // A member being added knows no membership yet: its first log entries and snapshot come
        // from the leader, which it learns of through them.
        if raft_message && membership.nodes().next().is_none() {
            return Ok(());
        }
        // Nor does one still replaying the configurations before the one that added it: a
        // log that begins before the current leader joined names other members first, and
        // refusing that leader would leave the new member behind for good.
        let leader_message = matches!(
            request,
            RpcRequest::AppendEntries(_) | RpcRequest::SnapshotChunk(_)
        );
        if leader_message && membership.get_node(&self.id).is_none() {
            return Ok(());
        }
        Err(SenderRefused::NotAMember { peer: from, what })
    }
}
