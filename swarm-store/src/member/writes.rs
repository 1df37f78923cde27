//! Writes: a client transaction routed to the leader, and a follower's forwarded transaction
//! served here as the leader.

use super::Member;
use super::attempt_failure::settle;
use crate::error::StoreError;
use crate::raft::wire::{RpcRequest, RpcResponse, WireError};
use crate::state::command::{TxnApplied, TxnRequest};
use tokio::time::Instant;

impl Member {
    /// Commits a transaction through the leader.
    ///
    /// `txn.id` was assigned once (by [`Member::next_request_id`], or kept by a resubmitted
    /// [`Txn`](crate::Txn)) before this call: every re-route after a "not leader" answer or a
    /// transport failure, and every forwarded copy (a duplicated message included), carries
    /// the same id, and the state machine applies an id at most once, so re-routing never
    /// applies the transaction twice.
    ///
    /// Outcome contract ([`StoreError`]'s classes): once the transaction was handed to a
    /// proposer or sent to a leader it may commit, so every failure after that point is
    /// [`StoreError::Indeterminate`] (naming the last cause), except the definite answers
    /// sorted by [`attempt_failure`]: the state machine's refusal of a precondition
    /// (`Conflict`, `NotFound`, `AlreadyExists`), and a refusal made before proposing (`NotLeader`,
    /// `Invalid`, ...) when no earlier attempt's outcome is unknown. Every other error comes
    /// back only when the transaction never left this member.
    ///
    /// [`attempt_failure`]: super::attempt_failure
    pub(crate) async fn write(&self, txn: TxnRequest) -> Result<TxnApplied, StoreError> {
        let deadline = Instant::now() + self.request_timeout();
        let mut unsettled = false;
        self.write_attempts(&txn, deadline, &mut unsettled)
            .await
            .map_err(|e| settle(e, unsettled, &format_args!("request {}", txn.id)))
    }

    /// The routing loop of [`Member::write`]; sets `unsettled` once an attempt may have been
    /// proposed without an outcome coming back.
    async fn write_attempts(
        &self,
        txn: &TxnRequest,
        deadline: Instant,
        unsettled: &mut bool,
    ) -> Result<TxnApplied, StoreError> {
        self.route(
            "write",
            || RpcRequest::Write(txn.clone()),
            || self.proposer.propose(txn.clone()),
            |response| match response {
                RpcResponse::Write(r) => Some(r),
                _ => None,
            },
            deadline,
            unsettled,
        )
        .await
    }

    /// Serves a write forwarded by a follower.
    pub(super) async fn write_for_peer(&self, txn: TxnRequest) -> Result<TxnApplied, WireError> {
        // The follower checked it already; a peer that did not (or runs other limits) must not
        // get an oversized or malformed transaction into the log.
        if let Err(e) = crate::txn::validate_request(&txn) {
            return Err(WireError::Invalid(format!(
                "forwarded transaction refused: {e}"
            )));
        }
        if self.current_leader() != Some(self.id) {
            return Err(WireError::NotLeader {
                leader: self.current_leader(),
            });
        }
        match tokio::time::timeout(self.request_timeout(), self.proposer.propose(txn)).await {
            Ok(r) => r,
            // Handed to the proposer: it may have been proposed and may still commit.
            Err(_) => Err(WireError::Indeterminate(format!(
                "no outcome within the leader's request timeout of {} ms",
                self.config.request_timeout_ms
            ))),
        }
    }
}
