//! The messages members exchange over a [`Transport`](crate::transport::Transport): Raft RPCs,
//! snapshot chunks and client requests forwarded to the leader. Encoded with postcard.

use super::types::{C, SnapshotMeta, Vote};
use crate::blob::Blob;
use crate::state::command::{TxnApplied, TxnRejected, TxnRequest};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, TransferLeaderRequest,
    TransferLeaderResponse, VoteRequest, VoteResponse,
};
use serde::{Deserialize, Serialize};

/// A request from one member to another.
#[derive(Serialize, Deserialize)]
pub(crate) enum RpcRequest {
    AppendEntries(AppendEntriesRequest<C>),
    Vote(VoteRequest<C>),
    PreVote(VoteRequest<C>),
    SnapshotChunk(SnapshotChunk),
    TransferLeader(TransferLeaderRequest<C>),
    /// A transaction proposed on a follower, for the leader to commit.
    Write(TxnRequest),
    /// A follower asks the leader for a read index (the log index a linearizable read must wait
    /// for).
    ReadIndex,
    /// A membership operation, for the leader to carry out.
    Membership(MembershipOp),
}

/// One piece of a snapshot being sent to a lagging member.
#[derive(Serialize, Deserialize)]
pub(crate) struct SnapshotChunk {
    /// The leader's vote.
    pub(crate) vote: Vote,
    pub(crate) meta: SnapshotMeta,
    /// Identifies one transfer: chunks of different transfers never mix.
    pub(crate) transfer_id: u64,
    /// Where this chunk goes in the snapshot data.
    pub(crate) offset: u64,
    /// The whole snapshot's length.
    pub(crate) total_bytes: u64,
    pub(crate) data: Blob,
}

/// A membership operation forwarded to the leader.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum MembershipOp {
    AddLearner { id: u64, addr: String },
    Promote { id: u64, force: bool },
    Demote { id: u64, force: bool },
    Remove { id: u64, force: bool },
    TransferLeader { to: u64 },
}

/// An error answered by the leader for a forwarded request.
///
/// Each variant says whether the request was proposed, so the member that forwarded it can keep
/// the at-most-once contract of [`StoreError`](crate::StoreError):
///
/// - certainly **not proposed** (the leader refused first): `NotLeader`, `NoLeader`,
///   `QuorumRisk`, `Membership`, `NotAuthorized`, `Invalid`, `Fatal`;
/// - **answered** by the state machine for this request id: `Rejected`;
/// - **may have been proposed**, outcome unknown: `Indeterminate`, `Timeout`.
///
/// Variants are only ever appended: postcard encodes a variant as its index, so a reordering
/// would make members of different versions misread each other's answers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum WireError {
    /// This member is not the leader (openraft refused the proposal before appending it).
    NotLeader { leader: Option<u64> },
    /// No leader confirmed (reads only).
    NoLeader,
    /// The state machine refused the transaction's preconditions (its answer for the request
    /// id; a resubmission gets the same answer from the dedup table).
    Rejected(TxnRejected),
    /// The request was proposed (or may have been) and no outcome is known: it may commit.
    Indeterminate(String),
    QuorumRisk {
        reachable: u64,
        quorum: u64,
        /// Each unreachable voter of the new configuration and its last call error.
        unreachable: Vec<(u64, String)>,
    },
    /// A membership change refused before anything was proposed.
    Membership(String),
    /// The leader's own deadline passed while the request was being carried out (it may have
    /// been proposed).
    Timeout { timeout_ms: u64 },
    /// The leader failed without proposing the request (its proposer stopped before taking it,
    /// or a read failed). A failure AFTER proposing is `Indeterminate`, never this.
    Fatal(String),
    /// The leader refused a membership operation from `peer` (not a voter, or a forced
    /// operation its operator did not allow from peers). Appended last: earlier variants keep
    /// their postcard tags.
    NotAuthorized { peer: u64, reason: String },
    /// The leader refused the request as malformed or over its limits, before proposing it.
    /// Appended last: earlier variants keep their postcard tags.
    Invalid(String),
}

/// A response to an [`RpcRequest`].
#[derive(Serialize, Deserialize)]
pub(crate) enum RpcResponse {
    AppendEntries(AppendEntriesResponse<C>),
    Vote(VoteResponse<C>),
    /// A chunk other than the last was stored.
    SnapshotChunkStored,
    /// The last chunk arrived and the snapshot was installed.
    SnapshotInstalled(SnapshotResponse<C>),
    TransferLeader(TransferLeaderResponse<C>),
    Write(Result<TxnApplied, WireError>),
    ReadIndex(Result<u64, WireError>),
    Membership(Result<(), WireError>),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first byte of a postcard-encoded enum is the variant index: members of different
    /// versions agree on every existing variant only if new ones are appended.
    #[test]
    fn wire_error_variants_keep_their_postcard_tags() {
        let tag = |e: WireError| postcard::to_allocvec(&e).expect("encode")[0];
        assert_eq!(tag(WireError::NotLeader { leader: None }), 0);
        assert_eq!(tag(WireError::NoLeader), 1);
        assert_eq!(tag(WireError::Indeterminate("x".into())), 3);
        assert_eq!(
            tag(WireError::QuorumRisk {
                reachable: 1,
                quorum: 2,
                unreachable: Vec::new(),
            }),
            4
        );
        assert_eq!(tag(WireError::Membership("x".into())), 5);
        assert_eq!(tag(WireError::Timeout { timeout_ms: 1 }), 6);
        assert_eq!(tag(WireError::Fatal("x".into())), 7);
        assert_eq!(
            tag(WireError::NotAuthorized {
                peer: 1,
                reason: "x".into()
            }),
            8
        );
        assert_eq!(tag(WireError::Invalid("x".into())), 9);
        let back: WireError = postcard::from_bytes(
            &postcard::to_allocvec(&WireError::Invalid("too big".into())).expect("encode"),
        )
        .expect("decode");
        assert!(matches!(back, WireError::Invalid(s) if s == "too big"));
    }
}
