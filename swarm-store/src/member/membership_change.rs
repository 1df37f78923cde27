//! Membership operations: routed to the leader like a write, and carried out there behind the
//! quorum guard (which members acknowledged the leader recently) and the catch-up wait.

use super::Member;
use super::attempt_failure::settle;
use super::error_mapping::{from_wire, to_wire};
use crate::error::StoreError;
use crate::membership::check_quorum;
use crate::proposer::write_error;
use crate::raft::types::C;
use crate::raft::wire::{MembershipOp, RpcRequest, RpcResponse};
use crate::transport::MemberId;
use openraft::async_runtime::WatchReceiver;
use openraft::errors::{ChangeMembershipError, ClientWriteError, RaftError};
use openraft::{BasicNode, ChangeMembers, Instant as _};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use tokio::time::Instant;

/// A learner is promoted only once it is at most this many entries behind the leader.
pub(crate) const PROMOTE_MAX_LAG_ENTRIES: u64 = 1_000;

impl Member {
    /// Carries out a membership operation on the leader. Like [`Member::write`]: re-routed after
    /// "not leader" or an unreachable leader, and a failure after the operation left this
    /// member is [`StoreError::Indeterminate`] (the change may have been made).
    ///
    /// Only a voter may change the membership (the leader refuses anyone else); a member that
    /// knows itself not to be one is refused here, with [`StoreError::NotAuthorized`].
    pub(crate) async fn membership(&self, op: MembershipOp) -> Result<(), StoreError> {
        let (voters, _) = self.members();
        if !voters.contains(&self.id) {
            return Err(StoreError::NotAuthorized {
                peer: MemberId(self.id),
                reason: "only a current voter may change the membership".into(),
            });
        }
        let deadline = Instant::now() + self.request_timeout();
        let mut unsettled = false;
        self.membership_attempts(&op, deadline, &mut unsettled)
            .await
            .map_err(|e| {
                settle(
                    e,
                    unsettled,
                    &format_args!("membership operation {op:?} (check the status before retrying)"),
                )
            })
    }

    /// The routing loop of [`Member::membership`]; sets `unsettled` like
    /// [`Member::write_attempts`].
    async fn membership_attempts(
        &self,
        op: &MembershipOp,
        deadline: Instant,
        unsettled: &mut bool,
    ) -> Result<(), StoreError> {
        self.route(
            "membership request",
            || RpcRequest::Membership(op.clone()),
            || async { self.membership_local(op.clone()).await.map_err(to_wire) },
            |response| match response {
                RpcResponse::Membership(r) => Some(r),
                _ => None,
            },
            deadline,
            unsettled,
        )
        .await
    }

    /// Voters and learners of the effective membership.
    pub(super) fn members(&self) -> (BTreeSet<u64>, BTreeMap<u64, String>) {
        let metrics = self.raft.metrics().borrow_watched().clone();
        let membership = metrics.membership_config.membership().clone();
        let voters: BTreeSet<u64> = membership.voter_ids().collect();
        let nodes = membership
            .nodes()
            .map(|(id, n)| (*id, n.addr.clone()))
            .collect();
        (voters, nodes)
    }

    /// Which members acknowledged the leader recently (meaningful on the leader only).
    pub(super) fn reachable(&self) -> BTreeMap<u64, Option<Duration>> {
        let metrics = self.raft.metrics().borrow_watched().clone();
        let mut out = BTreeMap::new();
        if let Some(hb) = &metrics.heartbeat {
            for (id, last) in hb {
                out.insert(*id, last.as_ref().map(|t| t.elapsed()));
            }
        }
        out.insert(self.id, Some(Duration::ZERO));
        out
    }

    pub(super) fn is_reachable(&self, contacts: &BTreeMap<u64, Option<Duration>>, id: u64) -> bool {
        let limit = Duration::from_millis(self.config.unreachable_after_ms());
        id == self.id || matches!(contacts.get(&id), Some(Some(d)) if *d <= limit)
    }

    fn guard_quorum(&self, new_voters: &BTreeSet<u64>, force: bool) -> Result<(), StoreError> {
        if force {
            return Ok(());
        }
        let contacts = self.reachable();
        check_quorum(new_voters, |id| self.is_reachable(&contacts, id)).map_err(
            |(reachable, quorum)| {
                let unreachable: Vec<(MemberId, String)> = new_voters
                    .iter()
                    .filter(|id| !self.is_reachable(&contacts, **id))
                    .map(|id| (MemberId(*id), self.why_unreachable(*id)))
                    .collect();
                let e = StoreError::QuorumRisk {
                    reachable,
                    quorum,
                    unreachable,
                };
                tracing::warn!(error = %e, "membership change refused");
                e
            },
        )
    }

    /// The last failure of this member's calls to `id`, or what is known instead.
    pub(super) fn why_unreachable(&self, id: u64) -> String {
        self.peer_errors.last_error(id).unwrap_or_else(|| {
            format!(
                "no acknowledgement of the leader within {} ms, and no call to it failed",
                self.config.unreachable_after_ms()
            )
        })
    }

    async fn change(
        &self,
        change: ChangeMembers<u64, BasicNode>,
        retain: bool,
    ) -> Result<(), StoreError> {
        self.retry_in_progress(|| self.raft.change_membership(change.clone(), retain))
            .await
    }

    /// Runs a membership write, waiting out a change still in progress (the previous change's
    /// entry not yet committed) until the request deadline.
    async fn retry_in_progress<F, Fut, R>(&self, mut op: F) -> Result<(), StoreError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<R, RaftError<C, ClientWriteError<C>>>>,
    {
        let deadline = Instant::now() + self.request_timeout();
        loop {
            match op().await {
                Ok(_) => return Ok(()),
                Err(RaftError::APIError(ClientWriteError::ChangeMembershipError(
                    ChangeMembershipError::InProgress(_),
                ))) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(self.config.heartbeat_period_ms))
                        .await;
                }
                Err(e) => return Err(from_wire(MemberId(self.id), write_error(e))),
            }
        }
    }

    /// Waits up to the unreachable limit for `id` to acknowledge the leader.
    async fn wait_reachable(&self, id: u64) {
        let deadline = Instant::now() + Duration::from_millis(self.config.unreachable_after_ms());
        while Instant::now() < deadline {
            if self.is_reachable(&self.reachable(), id) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(self.config.heartbeat_period_ms)).await;
        }
    }

    /// Runs a membership operation here, as the leader.
    pub(super) async fn membership_local(&self, op: MembershipOp) -> Result<(), StoreError> {
        if self.current_leader() != Some(self.id) {
            return Err(StoreError::NotLeader {
                leader: self.current_leader().map(MemberId),
            });
        }
        let (voters, nodes) = self.members();
        match op {
            MembershipOp::AddLearner { id, addr } => {
                if voters.contains(&id) {
                    return Err(StoreError::Membership(format!(
                        "{} is already a voter",
                        MemberId(id)
                    )));
                }
                self.retry_in_progress(|| {
                    self.raft
                        .add_learner(id, BasicNode { addr: addr.clone() }, false)
                })
                .await
            }
            MembershipOp::Promote { id, force } => {
                if voters.contains(&id) {
                    return Ok(());
                }
                if !nodes.contains_key(&id) {
                    return Err(StoreError::Membership(format!(
                        "{} is not a learner of this cluster; add it first",
                        MemberId(id)
                    )));
                }
                let mut new_voters = voters.clone();
                new_voters.insert(id);
                if !force {
                    // A learner added a moment ago may not have answered a heartbeat yet.
                    self.wait_reachable(id).await;
                }
                self.guard_quorum(&new_voters, force)?;
                if !force {
                    self.wait_caught_up(id).await?;
                }
                self.change(ChangeMembers::AddVoterIds(BTreeSet::from([id])), false)
                    .await
            }
            MembershipOp::Demote { id, force } => {
                if !voters.contains(&id) {
                    return Err(StoreError::Membership(format!(
                        "{} is not a voter",
                        MemberId(id)
                    )));
                }
                let mut new_voters = voters.clone();
                new_voters.remove(&id);
                if new_voters.is_empty() {
                    return Err(StoreError::Membership(
                        "cannot demote the last voter".into(),
                    ));
                }
                self.guard_quorum(&new_voters, force)?;
                self.change(ChangeMembers::RemoveVoters(BTreeSet::from([id])), true)
                    .await
            }
            MembershipOp::Remove { id, force } => {
                if voters.contains(&id) {
                    let mut new_voters = voters.clone();
                    new_voters.remove(&id);
                    if new_voters.is_empty() {
                        return Err(StoreError::Membership(
                            "cannot remove the last voter".into(),
                        ));
                    }
                    self.guard_quorum(&new_voters, force)?;
                    self.change(ChangeMembers::RemoveVoters(BTreeSet::from([id])), false)
                        .await
                } else if nodes.contains_key(&id) {
                    self.change(ChangeMembers::RemoveNodes(BTreeSet::from([id])), false)
                        .await
                } else {
                    Err(StoreError::Membership(format!(
                        "{} is not a member",
                        MemberId(id)
                    )))
                }
            }
            MembershipOp::TransferLeader { to } => {
                if to == self.id {
                    return Ok(());
                }
                if !voters.contains(&to) {
                    return Err(StoreError::Membership(format!(
                        "{} is not a voter and cannot lead",
                        MemberId(to)
                    )));
                }
                self.raft
                    .trigger()
                    .transfer_leader(to)
                    .await
                    .map_err(StoreError::raft_stopped)?;
                let wait = self.raft.wait(Some(self.request_timeout()));
                wait.metrics(
                    |m| m.current_leader == Some(to),
                    format!("leadership moved to {}", MemberId(to)),
                )
                .await
                .map(|_| ())
                .map_err(|_| self.timeout_error())
            }
        }
    }

    /// Waits (within the request deadline) until learner `id` is close to the leader's log.
    async fn wait_caught_up(&self, id: u64) -> Result<(), StoreError> {
        let wait = self.raft.wait(Some(self.request_timeout()));
        wait.metrics(
            |m| {
                let last = m.last_log_index.unwrap_or(0);
                let matched = m
                    .replication
                    .as_ref()
                    .and_then(|r| r.get(&id).cloned().flatten())
                    .map(|l| l.index);
                matched.is_some_and(|i| i + PROMOTE_MAX_LAG_ENTRIES >= last)
            },
            format!("{} caught up", MemberId(id)),
        )
        .await
        .map(|_| ())
        .map_err(|_| {
            StoreError::Membership(format!(
                "{} did not catch up with the leader's log within {} ms",
                MemberId(id),
                self.config.request_timeout_ms
            ))
        })
    }
}
