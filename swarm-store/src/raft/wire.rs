//! The messages members exchange over a [`Transport`](crate::transport::Transport): Raft RPCs,
//! snapshot chunks and client requests forwarded to the leader. Encoded with postcard.

use super::types::{C, Entry, LogId, SnapshotMeta, Vote};
use crate::blob::Blob;
use crate::state::command::{TxnApplied, TxnRejected, TxnRequest};
use bytes::Bytes;
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, TransferLeaderRequest,
    TransferLeaderResponse, VoteRequest, VoteResponse,
};
use serde::{Deserialize, Serialize};

/// The postcard variant index of [`RpcRequest::AppendEntries`] (a one-byte varint).
pub(crate) const APPEND_ENTRIES_TAG: u8 = 0;

/// A request from one member to another.
///
/// `AppendEntries` must stay the first variant ([`APPEND_ENTRIES_TAG`]): the leader writes its
/// entries' bytes into the message itself and the receiver keeps them
/// ([`decode_request`]).
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

/// A request as decoded from its message.
pub(crate) struct ReceivedRequest {
    pub(crate) request: RpcRequest,
    /// For an AppendEntries, the bytes each of its entries was decoded from, in order (slices
    /// of the message, no copy); empty for other requests.
    pub(crate) entry_bytes: Vec<Bytes>,
}

/// Decodes a request as `postcard::from_bytes` does, and for an AppendEntries also keeps the
/// bytes of each entry: a log record's payload is the postcard encoding of its entry, so a
/// follower can write what the leader sent instead of encoding the entries again. Every entry
/// is still decoded (and so checked) once.
pub(crate) fn decode_request(bytes: &Bytes) -> Result<ReceivedRequest, postcard::Error> {
    let Some(rest) = bytes.strip_prefix(&[APPEND_ENTRIES_TAG]) else {
        return Ok(ReceivedRequest {
            request: postcard::from_bytes(bytes)?,
            entry_bytes: Vec::new(),
        });
    };
    // A postcard struct is its fields in declaration order; a sequence is its length (varint)
    // and then its elements.
    let (vote, rest) = postcard::take_from_bytes::<Vote>(rest)?;
    let (prev_log_id, rest) = postcard::take_from_bytes::<Option<LogId>>(rest)?;
    let (count, mut rest) = postcard::take_from_bytes::<usize>(rest)?;
    // Every entry takes at least one byte: the vectors are never sized beyond the message.
    let mut entries = Vec::with_capacity(count.min(rest.len()));
    let mut entry_bytes = Vec::with_capacity(count.min(rest.len()));
    for _ in 0..count {
        let (entry, after) = postcard::take_from_bytes::<Entry>(rest)?;
        let used = rest.len() - after.len();
        entry_bytes.push(bytes.slice_ref(&rest[..used]));
        entries.push(entry);
        rest = after;
    }
    let (leader_commit, _) = postcard::take_from_bytes::<Option<LogId>>(rest)?;
    Ok(ReceivedRequest {
        request: RpcRequest::AppendEntries(AppendEntriesRequest {
            vote,
            prev_log_id,
            entries,
            leader_commit,
        }),
        entry_bytes,
    })
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
    use crate::raft::test_entries::batch_entry;
    use crate::raft::types::log_id;

    fn append_request(entries: Vec<Entry>) -> AppendEntriesRequest<C> {
        AppendEntriesRequest {
            vote: Vote::new_committed(3, 1),
            prev_log_id: Some(log_id(3, 9)),
            entries,
            leader_commit: Some(log_id(2, 8)),
        }
    }

    #[test]
    fn append_entries_decode_keeps_each_entrys_bytes_from_the_message() {
        let mut entries: Vec<Entry> = (10..13).map(|i| batch_entry(3, i)).collect();
        entries.push(openraft::Entry {
            log_id: log_id(3, 13),
            payload: openraft::EntryPayload::Blank,
        });
        let message = Bytes::from(
            postcard::to_allocvec(&RpcRequest::AppendEntries(append_request(entries.clone())))
                .expect("encode"),
        );
        assert_eq!(message[0], APPEND_ENTRIES_TAG);
        let received = decode_request(&message).expect("decode");
        let RpcRequest::AppendEntries(r) = received.request else {
            panic!("not an AppendEntries");
        };
        assert_eq!(r.vote, Vote::new_committed(3, 1));
        assert_eq!(r.prev_log_id, Some(log_id(3, 9)));
        assert_eq!(r.leader_commit, Some(log_id(2, 8)));
        assert_eq!(r.entries, entries);
        assert_eq!(received.entry_bytes.len(), entries.len());
        let within = message.as_ptr_range();
        for (bytes, entry) in received.entry_bytes.iter().zip(&entries) {
            assert_eq!(
                &bytes[..],
                &postcard::to_allocvec(entry).expect("encode")[..]
            );
            assert!(within.contains(&bytes.as_ptr()), "a slice of the message");
        }
        // Other requests decode as before, with no entry bytes.
        let vote = Bytes::from(postcard::to_allocvec(&RpcRequest::ReadIndex).expect("encode"));
        let received = decode_request(&vote).expect("decode");
        assert!(matches!(received.request, RpcRequest::ReadIndex));
        assert!(received.entry_bytes.is_empty());
    }

    #[test]
    fn a_malformed_append_entries_is_refused_without_sizing_by_its_count() {
        let message = postcard::to_allocvec(&RpcRequest::AppendEntries(append_request(vec![
            batch_entry(3, 10),
        ])))
        .expect("encode");
        // Cut inside the entry.
        let cut = Bytes::copy_from_slice(&message[..message.len() - 20]);
        assert!(decode_request(&cut).is_err());
        // A count of u64::MAX entries with nothing behind it.
        let mut huge = postcard::to_allocvec(&(
            APPEND_ENTRIES_TAG,
            Vote::new_committed(3, 1),
            Some(log_id(3, 9)),
        ))
        .expect("encode");
        huge.extend(postcard::to_allocvec(&u64::MAX).expect("encode"));
        assert!(decode_request(&Bytes::from(huge)).is_err());
    }

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
