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
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum WireError {
    NotLeader {
        leader: Option<u64>,
    },
    NoLeader,
    Rejected(TxnRejected),
    Indeterminate(String),
    QuorumRisk {
        reachable: u64,
        quorum: u64,
    },
    Membership(String),
    Timeout {
        timeout_ms: u64,
    },
    Fatal(String),
    /// The leader refused a membership operation from `peer` (not a voter, or a forced
    /// operation its operator did not allow from peers). Appended last: earlier variants keep
    /// their postcard tags.
    NotAuthorized {
        peer: u64,
        reason: String,
    },
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
