//! The leader's side of a node's tasks: its assignment set (a long poll) and its task status
//! reports (task writes).

use crate::manager::dispatcher::{
    AssignmentPlan, DispatcherError, HeldItem, MAX_HELD_ITEMS, MAX_STATUS_UPDATES_PER_CALL,
    MAX_STATUS_WRITES_PER_TXN, SentTasks, SessionId, StatusRefusal, status_writes,
};
use crate::manager::writes::{ManagerWrite, ManagerWrites, ObjectWrite};
use crate::model::{NodeId, TaskId, TaskStatus};
use crate::node::manager_core::{MAX_CONFLICT_RETRIES, ManagerCore};
use crate::node::wire::{NodeReply, RefusalKind, RemoteRefusal, refusal};
use std::collections::BTreeSet;
use std::time::Duration;

/// The leader answers an unchanged assignment set after at most this many heartbeat periods
/// (the cluster's nominal period): an agent learns of a change at once, and otherwise hears
/// from the leader at least this often, so a lost leader is noticed within the same bound.
pub const ASSIGNMENT_WAIT_PERIODS: u32 = 2;

/// After a status write lost a version check, the wait for this manager's copy of the state
/// to catch up with the write that won before the reports are validated again.
pub const STATUS_CONFLICT_WAIT: Duration = Duration::from_millis(100);

impl ManagerCore {
    /// How long the leader holds an assignment call whose answer is unchanged.
    pub(crate) fn assignment_wait(&self) -> Duration {
        let period_ms = self.dispatcher().timing().period_ms();
        Duration::from_millis(period_ms.saturating_mul(u64::from(ASSIGNMENT_WAIT_PERIODS)))
    }

    /// Answers `node`'s assignment call: its set when it differs from what the agent knows
    /// and holds, else once this manager's copy of the state changes so that it does, or
    /// [`NodeReply::AssignmentsUnchanged`] after [`ManagerCore::assignment_wait`].
    ///
    /// The answer carries the changes only when the agent knows the set this leader last
    /// sent it ([`SentTaskTable`](crate::node::sent_task_table::SentTaskTable)).
    pub(crate) async fn serve_assignments(
        &self,
        node: &NodeId,
        session: SessionId,
        known_generation: u64,
        held: &[HeldItem],
    ) -> NodeReply {
        let mut sent = self.sent_tasks.take(node);
        let reply = self
            .serve_assignments_since(node, session, known_generation, held, &mut sent)
            .await;
        if let Some(sent) = sent {
            self.sent_tasks.record(node, sent);
        }
        reply
    }

    /// [`ManagerCore::serve_assignments`] with the set last sent to the node: replaced by
    /// the new set when the answer carries one.
    async fn serve_assignments_since(
        &self,
        node: &NodeId,
        session: SessionId,
        known_generation: u64,
        held: &[HeldItem],
        sent: &mut Option<SentTasks>,
    ) -> NodeReply {
        if held.len() > MAX_HELD_ITEMS {
            return refusal(
                RefusalKind::Refused,
                format!(
                    "node {node} listed {} held items, more than {MAX_HELD_ITEMS}",
                    held.len()
                ),
            );
        }
        let deadline = tokio::time::Instant::now() + self.assignment_wait();
        let mut changes = self.cluster_state.subscribe();
        // The state's change counter when the node's set was last found equal to what the
        // agent has (by this call, or by an earlier call with the same generation and held
        // items): while nothing of the node changed since, another change of the state
        // (another node's tasks, a status report) is not worth computing it again.
        let mut computed_at: Option<u64> =
            self.assignment_memos
                .unchanged_at(node, known_generation, held);
        loop {
            if let Err(e) = self.dispatcher().check_session(node, session) {
                return dispatcher_refusal(e);
            }
            changes.borrow_and_update();
            if self.cluster_state.is_whole() {
                let plan = {
                    let state = self.cluster_state.read();
                    let same = computed_at.is_some_and(|at| !state.node_changed_since(node, at));
                    let seq = state.change_seq();
                    computed_at = Some(seq);
                    if same {
                        None
                    } else {
                        let plan = AssignmentPlan::for_node_since(
                            &state,
                            node,
                            known_generation,
                            held,
                            sent.as_ref(),
                        );
                        match &plan {
                            None => self.assignment_memos.record_unchanged(
                                node,
                                seq,
                                known_generation,
                                held,
                            ),
                            Some(_) => self.assignment_memos.forget(node),
                        }
                        plan
                    }
                };
                if let Some(mut plan) = plan {
                    *sent = Some(plan.take_sent());
                    for item in plan.waiting() {
                        tracing::debug!(%node, item = %item.item, reason = %item.reason, "waiting to deliver");
                    }
                    // Sealing runs outside the lock.
                    let assignments = plan.seal();
                    for item in &assignments.unavailable {
                        tracing::warn!(%node, item = %item.item, reason = %item.reason, "cannot deliver");
                    }
                    return NodeReply::Assignments(Box::new(assignments));
                }
            }
            tokio::select! {
                biased;
                changed = changes.changed() => {
                    if changed.is_err() {
                        return refusal(RefusalKind::Unavailable, "this manager is stopping");
                    }
                }
                () = tokio::time::sleep_until(deadline) => {
                    if !self.cluster_state.is_whole() {
                        return refusal(
                            RefusalKind::Unavailable,
                            "this manager has not read the cluster state yet",
                        );
                    }
                    return NodeReply::AssignmentsUnchanged { generation: known_generation };
                }
            }
        }
    }

    /// Applies `node`'s task status reports as task writes (in transactions of
    /// [`MAX_STATUS_WRITES_PER_TXN`]). Reports about tasks of other nodes and illegal moves are
    /// refused, logged and returned; a lost version check re-reads and retries, at most
    /// [`MAX_CONFLICT_RETRIES`] times, after which the call fails as a conflict (the agent
    /// sends the reports again).
    pub(crate) async fn serve_task_status(
        &self,
        node: &NodeId,
        session: SessionId,
        updates: Vec<(TaskId, TaskStatus)>,
    ) -> NodeReply {
        if updates.len() > MAX_STATUS_UPDATES_PER_CALL {
            return refusal(
                RefusalKind::Refused,
                format!(
                    "node {node} sent {} status reports, more than {MAX_STATUS_UPDATES_PER_CALL}",
                    updates.len()
                ),
            );
        }
        if let Err(e) = self.dispatcher().check_session(node, session) {
            return dispatcher_refusal(e);
        }
        let mut pending = updates;
        let mut refused: Vec<StatusRefusal> = Vec::new();
        let mut changes = self.cluster_state.subscribe();
        for _ in 0..MAX_CONFLICT_RETRIES {
            changes.borrow_and_update();
            let batch = {
                let state = self.cluster_state.read();
                status_writes(&state, node, &pending, crate::clock::now())
            };
            for r in &batch.refused {
                tracing::warn!(%node, task = %r.task(), "status report refused: {r}");
            }
            let refused_now: BTreeSet<TaskId> =
                batch.refused.iter().map(|r| r.task().clone()).collect();
            refused.extend(batch.refused);
            pending.retain(|(task, _)| !refused_now.contains(task));
            let mut conflict = None;
            for chunk in batch.writes.chunks(MAX_STATUS_WRITES_PER_TXN) {
                let writes = ManagerWrites {
                    writes: chunk.to_vec(),
                    membership: Vec::new(),
                };
                match self.state.apply(&writes).await {
                    Ok(_) => {
                        let done: BTreeSet<&TaskId> =
                            chunk.iter().filter_map(written_task).collect();
                        pending.retain(|(task, _)| !done.contains(task));
                    }
                    Err(e) if e.is_conflict() => {
                        conflict = Some(e);
                        break;
                    }
                    Err(e) => return refusal(RefusalKind::Unavailable, e.to_string()),
                }
            }
            let Some(e) = conflict else {
                return NodeReply::TaskStatusUpdated { refused };
            };
            tracing::debug!(%node, error = %e, "status write conflicted; re-reading");
            let _ = tokio::time::timeout(STATUS_CONFLICT_WAIT, changes.changed()).await;
        }
        refusal(
            RefusalKind::Conflict,
            format!("the tasks of node {node} kept changing while its reports were applied"),
        )
    }
}

fn written_task(write: &ManagerWrite) -> Option<&TaskId> {
    match write {
        ManagerWrite::Task(ObjectWrite::Update { object, .. }) => Some(&object.id),
        _ => None,
    }
}

pub(crate) fn dispatcher_refusal(e: DispatcherError) -> NodeReply {
    NodeReply::Refused(RemoteRefusal {
        message: e.to_string(),
        kind: RefusalKind::Dispatcher(e),
    })
}
