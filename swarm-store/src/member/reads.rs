//! Linearizable reads: the leader's read index (computed here or asked of the leader) and the
//! wait until the local state machine has applied it.

use super::Member;
use super::error_mapping::from_wire;
use super::routing::MAX_ROUTE_ATTEMPTS;
use crate::config::ReadPolicy;
use crate::error::StoreError;
use crate::raft::wire::{RpcRequest, RpcResponse, WireError};
use crate::state::shared::AppliedMark;
use crate::transport::MemberId;
use openraft::errors::{LinearizableReadError, RaftError};
use tokio::time::Instant;

impl Member {
    /// The leader's read index, computed here (this member must be the leader).
    pub(super) async fn local_read_index(&self) -> Result<u64, WireError> {
        let mut policy = match self.config.read_policy {
            ReadPolicy::ReadIndex => openraft::ReadPolicy::ReadIndex,
            ReadPolicy::Lease => openraft::ReadPolicy::LeaseRead,
        };
        loop {
            match self.raft.get_read_linearizer(policy.clone()).await {
                Ok(lin) => return Ok(lin.read_log_id().index()),
                Err(RaftError::APIError(LinearizableReadError::ForwardToLeader(f))) => {
                    return Err(WireError::NotLeader {
                        leader: f.leader_id,
                    });
                }
                Err(RaftError::APIError(LinearizableReadError::QuorumNotEnough(_)))
                    if policy == openraft::ReadPolicy::LeaseRead =>
                {
                    // The lease lapsed: confirm leadership with a heartbeat round instead.
                    policy = openraft::ReadPolicy::ReadIndex;
                }
                Err(RaftError::APIError(LinearizableReadError::QuorumNotEnough(_))) => {
                    return Err(WireError::NoLeader);
                }
                Err(RaftError::Fatal(f)) => return Err(WireError::Fatal(f.to_string())),
            }
        }
    }

    /// Waits until the local state machine has applied `index`.
    async fn wait_applied(&self, index: u64, deadline: Instant) -> Result<AppliedMark, StoreError> {
        let mark = self.shared.applied();
        if mark.index >= index {
            return Ok(mark);
        }
        let mut rx = self.shared.subscribe();
        match tokio::time::timeout_at(deadline, rx.wait_for(|m| m.index >= index)).await {
            Ok(Ok(m)) => Ok(*m),
            Ok(Err(_)) => Err(StoreError::Shutdown),
            Err(_) => Err(self.timeout_error()),
        }
    }

    /// Returns once a linearizable read may be served from the local state machine.
    ///
    /// On a stopped member it fails with the member's stop error ([`StoreError::Shutdown`]
    /// after a shutdown), whatever the step that met the stop (a read has no effect, so this
    /// is always accurate).
    pub(crate) async fn read_barrier(&self) -> Result<AppliedMark, StoreError> {
        if let Some(e) = self.stopped() {
            return Err(e);
        }
        self.read_barrier_attempts()
            .await
            .map_err(|e| self.stopped().unwrap_or(e))
    }

    /// The routing loop of [`Member::read_barrier`].
    async fn read_barrier_attempts(&self) -> Result<AppliedMark, StoreError> {
        let deadline = Instant::now() + self.request_timeout();
        for _ in 0..MAX_ROUTE_ATTEMPTS {
            let leader = self.leader_or_wait(deadline).await?;
            let index = if leader == self.id {
                match tokio::time::timeout_at(deadline, self.local_read_index()).await {
                    Ok(r) => r,
                    Err(_) => return Err(self.timeout_error()),
                }
            } else {
                match self
                    .forward(leader, &RpcRequest::ReadIndex, deadline)
                    .await?
                {
                    RpcResponse::ReadIndex(r) => r,
                    _ => {
                        return Err(StoreError::Protocol {
                            peer: MemberId(leader),
                            detail: "unexpected response to a read-index request".into(),
                        });
                    }
                }
            };
            match index {
                Ok(index) => return self.wait_applied(index, deadline).await,
                Err(WireError::NotLeader { leader: hint }) => self.backoff(hint, leader).await,
                Err(e) => return Err(from_wire(MemberId(leader), e)),
            }
        }
        Err(StoreError::NoLeader)
    }
}
