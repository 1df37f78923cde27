//! Serving one request from another member: Raft's own messages, snapshot chunks, forwarded
//! writes and read-index requests (each only from a member, and a leader's or candidate's
//! message only from the member it names: [`sender_check`](super::sender_check)), and
//! membership requests (only from a current voter, and forced ones only with this member's
//! operator's consent).

use super::Member;
use super::error_mapping::to_wire;
use crate::membership::authorize_remote;
use crate::raft::types::Entry;
use crate::raft::wire::{MembershipOp, RpcRequest, RpcResponse, WireError};
use crate::transport::MemberId;
use bytes::Bytes;
use std::sync::PoisonError;
use std::sync::atomic::Ordering;

/// Whether a membership operation skips the quorum guard.
fn is_forced(op: &MembershipOp) -> bool {
    match op {
        MembershipOp::Promote { force, .. }
        | MembershipOp::Demote { force, .. }
        | MembershipOp::Remove { force, .. } => *force,
        MembershipOp::AddLearner { .. } | MembershipOp::TransferLeader { .. } => false,
    }
}

impl Member {
    /// Hands the log the bytes a leader's entries were decoded from (all or nothing).
    fn offer_received(&self, entries: &[Entry], entry_bytes: Vec<Bytes>) {
        if entry_bytes.len() != entries.len() || entries.is_empty() {
            return;
        }
        let mut cache = self
            .entry_cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for (bytes, entry) in entry_bytes.into_iter().zip(entries) {
            cache.offer_received(bytes, entry);
        }
    }

    /// Serves one request from another member.
    #[cfg(test)]
    pub(crate) async fn handle(
        &self,
        from: MemberId,
        request: RpcRequest,
    ) -> Result<RpcResponse, String> {
        self.handle_received(from, request, Vec::new()).await
    }

    /// Serves one request from another member; `entry_bytes` are, for an AppendEntries, the
    /// bytes each entry was decoded from ([`decode_request`](crate::raft::wire::decode_request)),
    /// which its append writes instead of encoding the entries again.
    pub(crate) async fn handle_received(
        &self,
        from: MemberId,
        request: RpcRequest,
        entry_bytes: Vec<Bytes>,
    ) -> Result<RpcResponse, String> {
        if let Err(refused) = self.check_sender(from, &request) {
            tracing::warn!(error = %refused, "request from another member refused");
            let not_authorized = || WireError::NotAuthorized {
                peer: refused.peer().0,
                reason: refused.to_string(),
            };
            // Client requests answer with their typed refusal; Raft's messages fail as a whole.
            return match request {
                RpcRequest::Write(_) => Ok(RpcResponse::Write(Err(not_authorized()))),
                RpcRequest::ReadIndex => Ok(RpcResponse::ReadIndex(Err(not_authorized()))),
                _ => Err(refused.to_string()),
            };
        }
        match request {
            RpcRequest::AppendEntries(r) => {
                self.offer_received(&r.entries, entry_bytes);
                self.raft
                    .append_entries(r)
                    .await
                    .map(RpcResponse::AppendEntries)
                    .map_err(|e| e.to_string())
            }
            RpcRequest::Vote(r) => self
                .raft
                .vote(r)
                .await
                .map(RpcResponse::Vote)
                .map_err(|e| e.to_string()),
            RpcRequest::PreVote(r) => self
                .raft
                .pre_vote(r)
                .await
                .map(RpcResponse::Vote)
                .map_err(|e| e.to_string()),
            RpcRequest::SnapshotChunk(c) => self.snapshot_chunk(from, c).await,
            RpcRequest::TransferLeader(r) => self
                .raft
                .handle_transfer_leader(r)
                .await
                .map(RpcResponse::TransferLeader)
                .map_err(|e| e.to_string()),
            RpcRequest::Write(txn) => Ok(RpcResponse::Write(self.write_for_peer(txn).await)),
            RpcRequest::ReadIndex => {
                let r = match tokio::time::timeout(self.request_timeout(), self.local_read_index())
                    .await
                {
                    Ok(r) => r,
                    Err(_) => Err(WireError::Timeout {
                        timeout_ms: self.config.request_timeout_ms,
                    }),
                };
                Ok(RpcResponse::ReadIndex(r))
            }
            RpcRequest::Membership(op) => {
                // A valid certificate is not enough: only a current voter may change the
                // membership, and a forced change needs this member's operator's consent.
                let (voters, _) = self.members();
                let allow_force = self.allow_remote_force.load(Ordering::Relaxed);
                if let Err(e) = authorize_remote(from, &voters, is_forced(&op), allow_force) {
                    tracing::warn!(%from, ?op, error = %e, "membership request refused");
                    return Ok(RpcResponse::Membership(Err(WireError::NotAuthorized {
                        peer: from.0,
                        reason: e.to_string(),
                    })));
                }
                // The same deadline as a local call: a change that cannot commit (no quorum)
                // must not hold the connection's handler, nor the caller, forever.
                let r =
                    match tokio::time::timeout(self.request_timeout(), self.membership_local(op))
                        .await
                    {
                        Ok(r) => r.map_err(to_wire),
                        Err(_) => Err(WireError::Timeout {
                            timeout_ms: self.config.request_timeout_ms,
                        }),
                    };
                Ok(RpcResponse::Membership(r))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{ask, leader_voter_learner, start};
    use crate::error::StoreError;
    use crate::raft::wire::{MembershipOp, RpcRequest, RpcResponse, WireError};
    use crate::state::command::TxnRequest;
    use crate::testkit::inproc::InProcNetwork;
    use crate::transport::MemberId;

    /// Before, any member with a valid certificate (a learner too) could have the leader force
    /// a voter out; now only a voter may ask, and force needs the leader's operator's consent.
    #[tokio::test]
    async fn membership_rpcs_need_a_voter_and_remote_force_needs_local_consent() {
        let net = InProcNetwork::new(11);
        let (one, _two, three) = leader_voter_learner(&net).await;

        // Learner 3 asks the leader to force voter 2 out: refused, naming it.
        let e = ask(&one, 3, MembershipOp::Remove { id: 2, force: true })
            .await
            .expect_err("a learner may not");
        assert!(
            e.contains("NotAuthorized") && e.contains("member-3") && e.contains("voter"),
            "{e}"
        );
        let e = ask(
            &one,
            3,
            MembershipOp::Demote {
                id: 2,
                force: false,
            },
        )
        .await
        .expect_err("not even without force");
        assert!(e.contains("member-3"), "{e}");
        // A non-member (a certificate of the same CA, never added) neither.
        let e = ask(
            &one,
            9,
            MembershipOp::AddLearner {
                id: 9,
                addr: "x".into(),
            },
        )
        .await
        .expect_err("a stranger may not");
        assert!(e.contains("member-9"), "{e}");
        assert_eq!(one.status().voters(), vec![MemberId(1), MemberId(2)]);
        // The learner's own store refuses at once, with the typed error.
        let e = three
            .remove(MemberId(2), true)
            .await
            .expect_err("learner operator");
        assert!(
            matches!(
                e,
                StoreError::NotAuthorized {
                    peer: MemberId(3),
                    ..
                }
            ),
            "{e}"
        );

        // Voter 2 may change the membership, but not by force unless the leader allows it.
        let e = ask(&one, 2, MembershipOp::Promote { id: 3, force: true })
            .await
            .expect_err("remote force");
        assert!(e.contains("member-2") && e.contains("forced"), "{e}");
        assert_eq!(one.status().learners(), vec![MemberId(3)]);
        one.allow_forced_membership_from_peers(true);
        ask(&one, 2, MembershipOp::Promote { id: 3, force: true })
            .await
            .expect("allowed by the leader's operator");
        assert_eq!(
            one.status().voters(),
            vec![MemberId(1), MemberId(2), MemberId(3)]
        );
    }

    /// Issue 12, item 3: every request but membership ones used to be served to any
    /// authenticated sender (a stranger got a read index), and the leader id inside
    /// AppendEntries, TransferLeader and snapshot chunks was never compared with the sender.
    /// Now a sender outside the membership is refused, naming it, and a carried leader id must
    /// be the sender's; a learner stays a member (it may forward reads).
    #[tokio::test]
    async fn item_3_only_members_are_served_and_a_carried_leader_id_is_the_senders() {
        use crate::raft::types::Vote;
        use crate::raft::wire::SnapshotChunk;
        use openraft::raft::{AppendEntriesRequest, TransferLeaderRequest, VoteRequest};

        let net = InProcNetwork::new(17);
        let (one, _two, _three) = leader_voter_learner(&net).await;
        let term = one.status().term;
        let handle = |from: u64, request: RpcRequest| {
            let member = one.member.clone();
            async move { member.handle(MemberId(from), request).await }
        };
        let refused = |r: Result<RpcResponse, String>, who: &str| match r {
            Err(e) => assert!(e.contains(who), "{e}"),
            Ok(RpcResponse::ReadIndex(Err(WireError::NotAuthorized { peer, reason })))
            | Ok(RpcResponse::Write(Err(WireError::NotAuthorized { peer, reason }))) => {
                assert!(format!("member-{peer}") == who, "{peer}: {reason}");
                assert!(reason.contains(who), "{reason}");
            }
            Ok(_) => panic!("{who} was served"),
        };

        // A stranger (a certificate of the same CA, never added): nothing is served.
        refused(handle(9, RpcRequest::ReadIndex).await, "member-9");
        let txn = crate::Txn::new()
            .put_named("c", "k", "v", crate::Precondition::Any)
            .into_request(one.member.next_request_id())
            .expect("valid");
        refused(handle(9, RpcRequest::Write(txn)).await, "member-9");
        let vote = VoteRequest::new(Vote::new(term + 1, 9), None);
        refused(handle(9, RpcRequest::Vote(vote.clone())).await, "member-9");
        refused(handle(9, RpcRequest::PreVote(vote)).await, "member-9");
        let append = |leader: u64| AppendEntriesRequest {
            vote: Vote::new_committed(term + 1, leader),
            prev_log_id: None,
            entries: Vec::new(),
            leader_commit: None,
        };
        refused(
            handle(9, RpcRequest::AppendEntries(append(9))).await,
            "member-9",
        );
        assert_eq!(one.status().term, term, "a stranger moved the term");

        // A member speaking for another: the carried leader id must be the sender.
        refused(
            handle(2, RpcRequest::AppendEntries(append(1))).await,
            "member-2",
        );
        let transfer = TransferLeaderRequest::new(Vote::new_committed(term, 1), 2, None);
        refused(
            handle(2, RpcRequest::TransferLeader(transfer)).await,
            "member-2",
        );
        let chunk = SnapshotChunk {
            vote: Vote::new_committed(term, 1),
            meta: crate::raft::types::SnapshotMeta {
                last_log_id: None,
                last_membership: Default::default(),
            },
            transfer_id: 1,
            offset: 0,
            total_bytes: 1,
            data: crate::blob::Blob(bytes::Bytes::from_static(b"x")),
        };
        refused(
            handle(2, RpcRequest::SnapshotChunk(chunk)).await,
            "member-2",
        );
        let vote = VoteRequest::new(Vote::new(term + 1, 1), None);
        refused(handle(2, RpcRequest::Vote(vote)).await, "member-2");
        assert_eq!(one.status().term, term, "a forged message moved the term");
        assert_eq!(one.status().leader, Some(MemberId(1)));

        // A learner is a member: its read index is served.
        match handle(3, RpcRequest::ReadIndex).await {
            Ok(RpcResponse::ReadIndex(Ok(_))) => {}
            Ok(RpcResponse::ReadIndex(Err(e))) => panic!("learner refused: {e:?}"),
            Ok(_) => panic!("another response"),
            Err(e) => panic!("learner refused: {e}"),
        }
    }

    /// A forwarded transaction the leader refuses as invalid is refused before proposing, as
    /// `Invalid` (before: `Fatal`, read as a transport failure); a write handed to a leader
    /// whose Raft stopped is `Indeterminate` (before: `Fatal`).
    #[tokio::test]
    async fn the_leader_says_whether_it_proposed_a_forwarded_write() {
        let net = InProcNetwork::new(13);
        let one = start(&net, 1).await;
        one.bootstrap().await.expect("bootstrap");
        // Member 2 is a learner (never started): only members may forward writes at all.
        one.add_learner(MemberId(2), "member-2")
            .await
            .expect("add 2");
        let empty = TxnRequest {
            id: one.member.next_request_id(),
            ops: Vec::new(),
        };
        match one
            .member
            .handle(MemberId(2), RpcRequest::Write(empty))
            .await
        {
            Ok(RpcResponse::Write(Err(WireError::Invalid(detail)))) => {
                assert!(detail.contains("refused"), "{detail}");
            }
            Ok(RpcResponse::Write(other)) => panic!("expected Invalid, got {other:?}"),
            Ok(_) => panic!("another response"),
            Err(e) => panic!("handler failed: {e}"),
        }
        let txn = crate::Txn::new()
            .put_named("c", "k", "v", crate::Precondition::Any)
            .into_request(one.member.next_request_id())
            .expect("valid");
        one.member
            .proposer
            .propose(txn.clone())
            .await
            .expect("applied");
        one.member.raft.shutdown().await.expect("shutdown");
        let txn = crate::Txn::new()
            .put_named("c", "k2", "v", crate::Precondition::Any)
            .into_request(one.member.next_request_id())
            .expect("valid");
        let e = one
            .member
            .proposer
            .propose(txn)
            .await
            .expect_err("raft stopped");
        assert!(matches!(e, WireError::Indeterminate(_)), "{e:?}");
    }
}
