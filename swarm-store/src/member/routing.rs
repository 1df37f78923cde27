//! Finding the leader and routing a request to it: the loop that re-routes after "not leader"
//! and after an unreachable leader, keeping the request's identity across attempts.

use super::Member;
use super::attempt_failure::note;
use super::error_mapping::{from_call, from_wire};
use crate::error::StoreError;
use crate::raft::network::call;
use crate::raft::wire::{RpcRequest, RpcResponse, WireError};
use crate::transport::MemberId;
use std::time::Duration;
use tokio::time::Instant;

/// The most times a request is re-routed after a "not leader" answer.
pub(crate) const MAX_ROUTE_ATTEMPTS: usize = 8;

impl Member {
    /// The known leader, waiting for an election until `deadline`.
    pub(super) async fn leader_or_wait(&self, deadline: Instant) -> Result<u64, StoreError> {
        if let Some(e) = self.stopped() {
            return Err(e);
        }
        if let Some(l) = self.current_leader() {
            return Ok(l);
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        match self
            .raft
            .wait(Some(remaining))
            .metrics(|m| m.current_leader.is_some(), "a leader")
            .await
        {
            Ok(m) => m.current_leader.ok_or(StoreError::NoLeader),
            Err(_) => Err(self.stopped().unwrap_or(StoreError::NoLeader)),
        }
    }

    /// After a "not leader" answer, give the election or the leader hint a moment.
    pub(super) async fn backoff(&self, hint: Option<u64>, tried: u64) {
        if hint.is_none() || hint == Some(tried) {
            tokio::time::sleep(Duration::from_millis(self.config.heartbeat_period_ms)).await;
        }
    }

    /// After `unreachable` (the known leader) could not be reached: waits until this member
    /// learns of another leader, or for one election timeout (the leader may be back, the
    /// failure transient), or until `deadline`, whichever comes first.
    async fn await_leader_change(&self, unreachable: u64, deadline: Instant) {
        let election = Duration::from_millis(self.config.election_timeout_max_ms);
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .min(election);
        let _ = self
            .raft
            .wait(Some(wait))
            .metrics(
                |m| m.current_leader.is_some_and(|l| l != unreachable),
                "another leader",
            )
            .await;
    }

    pub(super) async fn forward(
        &self,
        leader: u64,
        request: &RpcRequest,
        deadline: Instant,
    ) -> Result<RpcResponse, StoreError> {
        let remaining = deadline.saturating_duration_since(Instant::now());
        call(
            self.transport.as_ref(),
            MemberId(leader),
            request,
            remaining,
        )
        .await
        .map_err(from_call)
    }

    /// Routes one request to the leader until it answers, at most [`MAX_ROUTE_ATTEMPTS`] times
    /// and within `deadline`: `local` when this member leads, a forward of the message `request`
    /// makes otherwise (made only then: the leader's own writes copy nothing for it)
    /// (`answer` takes the result out of the leader's response). The request keeps its identity
    /// across attempts (a write's request id), so a copy that did arrive is harmless. Re-routed
    /// after "not leader" and after an unreachable leader; every other failure ends the loop.
    /// Sets `unsettled` once an attempt may have taken effect without an outcome coming back.
    pub(super) async fn route<T, Fut>(
        &self,
        what: &'static str,
        request: impl Fn() -> RpcRequest,
        local: impl Fn() -> Fut,
        answer: fn(RpcResponse) -> Option<Result<T, WireError>>,
        deadline: Instant,
        unsettled: &mut bool,
    ) -> Result<T, StoreError>
    where
        Fut: std::future::Future<Output = Result<T, WireError>>,
    {
        let mut last = StoreError::NoLeader;
        for _ in 0..MAX_ROUTE_ATTEMPTS {
            // A stopped member sends nothing more: before any attempt left it, the request
            // certainly had no effect (`Shutdown`); after one did, the caller's `settle` makes
            // it `Indeterminate`.
            if let Some(e) = self.stopped() {
                return Err(e);
            }
            if Instant::now() >= deadline {
                break;
            }
            let leader = match self.leader_or_wait(deadline).await {
                Ok(leader) => leader,
                Err(e) if e.is_fatal() => return Err(e),
                Err(e) => return Err(if *unsettled { last } else { e }),
            };
            let outcome = if leader == self.id {
                match tokio::time::timeout_at(deadline, local()).await {
                    Ok(r) => r,
                    Err(_) => return Err(note(unsettled, self.timeout_error())),
                }
            } else {
                match self.forward(leader, &request(), deadline).await {
                    Ok(response) => match answer(response) {
                        Some(r) => r,
                        None => {
                            return Err(note(
                                unsettled,
                                StoreError::Protocol {
                                    peer: MemberId(leader),
                                    detail: format!("unexpected response to a {what}"),
                                },
                            ));
                        }
                    },
                    // The leader is unreachable (crashed, partitioned, restarting): route again
                    // with the same request; the dedup table makes a copy that did arrive
                    // harmless.
                    Err(e @ StoreError::Transport(_)) if e.is_retryable() => {
                        tracing::debug!(%leader, error = %e, what, "forward failed; re-routing");
                        last = note(unsettled, e);
                        self.await_leader_change(leader, deadline).await;
                        continue;
                    }
                    Err(e) => return Err(note(unsettled, e)),
                }
            };
            match outcome {
                Ok(done) => return Ok(done),
                // Refused before proposing (openraft's ForwardToLeader): route again.
                Err(WireError::NotLeader { leader: hint }) => {
                    last = StoreError::NotLeader {
                        leader: hint.map(MemberId),
                    };
                    self.backoff(hint, leader).await;
                }
                Err(e) => return Err(note(unsettled, from_wire(MemberId(leader), e))),
            }
        }
        Err(last)
    }
}
