//! The leader's orchestration loop: the pure steps run on the followed state, their writes
//! committed, one round after another.
//!
//! A round runs three steps on this manager's copy of the state
//! ([`FollowedState`](crate::node::state_follower::FollowedState)), each on the view the
//! previous ones left, and commits their writes folded object by object ([`plan_round`]: a
//! new task is one write, already addressed and placed):
//!
//! 1. the orchestrators: missing tasks created, ended ones restarted, tasks of drained, down
//!    or unfit nodes replaced, removed ones reaped;
//! 2. the allocator: networks, service endpoints, task addresses; new tasks move to pending;
//! 3. the scheduler ([`Scheduler`]): pending tasks placed on nodes;
//! 4. when the cluster turns rebalancing on (`orchestration.rebalance_max_moves`), at most
//!    that many tasks per `rebalance_interval` asked to move back to an even spread
//!    ([`Scheduler::plan_rebalance`]), once a round found nothing else to do.
//!
//! A manager that starts leading first takes the orchestration fence
//! ([`OrchestrationFence`]), then re-reads the state; every transaction of its rounds checks
//! the fence, so the writes of a leader deposed in the middle of a round (forwarded by its
//! store member to the new leader) fail instead of creating a second task for a slot. A round
//! that finds the fence taken starts over: fence, re-read, plan. So does a round with a
//! transaction whose fate is unknown (a timeout, a leader lost mid-write): those writes may
//! still commit, and a round planned on a copy without them would create their tasks again;
//! taking the fence anew makes them fail if they have not applied by then.
//!
//! Rounds run when the state changes (after a coalescing wait, so a burst of status reports
//! makes one round: as long as the last round computed, between [`ROUND_COALESCE`] and
//! [`MAX_ROUND_COALESCE`]), when a step asked to be woken (a restart delay), and at least
//! every [`ORCHESTRATION_FALLBACK_PERIOD`]. Only the leader runs rounds; a manager that
//! becomes leader first re-lists the whole state linearizably, so it never acts on a copy
//! older than what the previous leader committed (a missed task would be created twice).
//!
//! Writes go to the store in transactions of bounded size
//! ([`ManagerStore::apply_chunked`](crate::manager::state::ManagerStore::apply_chunked)): a
//! transaction refused on a version check changes nothing, and the next round, on a fresher
//! copy, decides again.

use crate::manager::round_plan::plan_round;
use crate::manager::scheduler::Scheduler;
use crate::manager::state::OrchestrationFence;
use crate::manager::writes::ManagerWrite;
use crate::node::manager_core::ManagerCore;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio_util::sync::CancellationToken;

/// A round runs at least this often while the manager leads.
pub const ORCHESTRATION_FALLBACK_PERIOD: Duration = Duration::from_secs(1);
/// Wait after a change before a round starts, so a burst of changes makes one round.
pub const ROUND_COALESCE: Duration = Duration::from_millis(5);
/// Longest wait after a change before a round starts. The wait is the time the last round's
/// steps computed, at least [`ROUND_COALESCE`] and at most this: with a large state (a
/// round over 100,000 tasks takes tens of milliseconds) a stream of status reports then
/// leaves the leader at least half of its time for everything else, and each round handles
/// a bigger batch. Worst case: a change waits this long before a round sees it.
pub const MAX_ROUND_COALESCE: Duration = Duration::from_millis(250);
/// Rounds in a row that may run without waiting for a change (each produced writes, e.g. a
/// 100,000-replica create produced in bounded chunks); then the loop waits for a change or
/// the fallback period, so a step that keeps writing cannot spin the leader.
pub const MAX_BUSY_ROUNDS: usize = 64;

/// The orchestration loop of a manager, until `stop`.
pub(crate) async fn orchestration_loop(core: Arc<ManagerCore>, stop: CancellationToken) {
    let mut changes = core.cluster_state.subscribe();
    // While this manager leads: the scheduler's memory of earlier rounds and the orchestration
    // fence it took when it started leading (or last started over).
    let mut term: Option<(Scheduler, OrchestrationFence)> = None;
    let mut next_wake: Option<SystemTime> = None;
    let mut busy_rounds = 0usize;
    let mut last_rebalance: Option<SystemTime> = None;
    let mut coalesce = ROUND_COALESCE;
    loop {
        let wait = wait_for(&core, next_wake, busy_rounds);
        tokio::select! {
            biased;
            () = stop.cancelled() => return,
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
                tokio::time::sleep(coalesce).await;
            }
            () = tokio::time::sleep(wait) => {}
        }
        if !core.is_leader() || !core.config.orchestrate {
            // What the last term of leadership asked for is not this manager's to do: a
            // wake time now past, or a streak of busy rounds, would make `wait_for` answer
            // zero at every turn and the loop spin without ever waiting.
            term = None;
            next_wake = None;
            busy_rounds = 0;
            continue;
        }
        let (scheduler, fence) = match &mut term {
            Some((scheduler, fence)) => (scheduler, *fence),
            None => {
                // A new term of leadership: take the fence, so writes of an earlier leader
                // still on their way fail from now on, then catch up with everything
                // committed before.
                let taken = match core.state.take_orchestration_fence(core.raft_id.0).await {
                    Ok(f) => f,
                    Err(e) => {
                        tracing::warn!(error = %e, "could not take the orchestration fence; retrying");
                        busy_rounds = 0;
                        continue;
                    }
                };
                if !core.cluster_state.resync(&stop).await {
                    return;
                }
                let (scheduler, _) = term.insert((Scheduler::default(), taken));
                (scheduler, taken)
            }
        };
        changes.borrow_and_update();
        let round = run_round(&core, scheduler, fence).await;
        if round.start_over {
            // Another manager leads (or led meanwhile), or some writes' fate is unknown:
            // start again from the fence.
            tracing::info!("starting over from the orchestration fence");
            term = None;
            next_wake = None;
            busy_rounds = 0;
            continue;
        }
        next_wake = round.next_wake;
        coalesce = round.compute.clamp(ROUND_COALESCE, MAX_ROUND_COALESCE);
        if round.writes == 0 {
            let moved = rebalance(&core, scheduler, fence, &mut last_rebalance).await;
            if moved > 0 {
                tracing::info!(tasks = moved, "tasks asked to move to restore the spread");
            }
        }
        busy_rounds = if round.writes > 0 {
            busy_rounds.saturating_add(1)
        } else {
            0
        };
    }
}

/// What a round did.
struct RoundSummary {
    /// Writes committed.
    writes: usize,
    /// When a step asked to run again.
    next_wake: Option<SystemTime>,
    /// Time the steps computed (commits not included).
    compute: Duration,
    /// Whether a transaction found the orchestration fence taken by another manager, or
    /// failed in a way that leaves its writes' fate unknown: either way the next round must
    /// start from a fence taken anew and a re-read state.
    start_over: bool,
}

/// How long to wait for a change before running a round anyway.
fn wait_for(core: &ManagerCore, next_wake: Option<SystemTime>, busy_rounds: usize) -> Duration {
    if busy_rounds > 0 && busy_rounds < MAX_BUSY_ROUNDS {
        return Duration::ZERO;
    }
    let until_wake = next_wake
        .map(|at| at.duration_since(core.now()).unwrap_or(Duration::ZERO))
        .unwrap_or(ORCHESTRATION_FALLBACK_PERIOD);
    until_wake.min(ORCHESTRATION_FALLBACK_PERIOD)
}

/// One round: the steps planned on the followed state ([`plan_round`]), then committed.
async fn run_round(
    core: &ManagerCore,
    scheduler: &mut Scheduler,
    fence: OrchestrationFence,
) -> RoundSummary {
    let started = tokio::time::Instant::now();
    let plan = {
        let state = core.cluster_state.read();
        plan_round(&state, core.now(), &mut || core.rng.next(), scheduler)
    };
    let compute = started.elapsed();
    let planned = plan.writes.len();
    let started = tokio::time::Instant::now();
    let (writes, start_over) = commit(core, "round", plan.writes, fence).await;
    if planned > 0 {
        tracing::debug!(
            orchestrated = plan.orchestrated,
            allocated = plan.allocated,
            scheduled = plan.scheduled,
            planned,
            committed = writes,
            compute_ms = compute.as_millis(),
            commit_ms = started.elapsed().as_millis(),
            "orchestration round"
        );
    }
    RoundSummary {
        writes,
        next_wake: plan.next_wake,
        compute,
        start_over,
    }
}

/// A rebalancing pass, if the cluster turned it on and its interval passed since the last.
async fn rebalance(
    core: &ManagerCore,
    scheduler: &Scheduler,
    fence: OrchestrationFence,
    last: &mut Option<SystemTime>,
) -> usize {
    let now = core.now();
    let writes = {
        let state = core.cluster_state.read();
        let Some(config) = state.cluster().map(|c| c.spec.orchestration.clone()) else {
            return 0;
        };
        let due = last.is_none_or(|at| {
            now.duration_since(at).unwrap_or_default() >= config.rebalance_interval
        });
        if config.rebalance_max_moves == 0 || !due {
            return 0;
        }
        *last = Some(now);
        let max_moves = usize::try_from(config.rebalance_max_moves).unwrap_or(usize::MAX);
        scheduler.plan_rebalance(&state, now, max_moves)
    };
    commit(core, "rebalance", writes, fence).await.0
}

/// Commits `writes` in bounded transactions, each task slot's writes in one
/// ([`ManagerWrite::commit_group`]) and each checking `fence`, and absorbs the committed ones
/// into the copy; returns how many committed and whether the round must start over from the
/// fence (found taken, or a transaction whose writes may still apply).
async fn commit(
    core: &ManagerCore,
    step: &'static str,
    mut writes: Vec<ManagerWrite>,
    fence: OrchestrationFence,
) -> (usize, bool) {
    if writes.is_empty() {
        return (0, false);
    }
    writes.sort_by(|a, b| a.commit_group().cmp(&b.commit_group()));
    let mut committed = 0;
    let mut start_over = false;
    for chunk in core.state.apply_fenced(&writes, fence).await {
        match chunk.result {
            Ok(_) => {
                core.cluster_state
                    .absorb(chunk.indexes().map(|i| &writes[i]));
                committed += chunk.indexes().count();
            }
            Err(e) if e.is_fence_lost() => start_over = true,
            Err(e) if e.is_conflict() => {
                tracing::debug!(step, error = %e, "a write met a newer version; the next round decides again");
            }
            Err(e) if e.is_retryable() && !e.is_indeterminate() => {
                tracing::warn!(step, error = %e, "orchestration writes failed; nothing applied");
            }
            Err(e) => {
                // The writes may still commit: a round planned on a copy without them would
                // create their tasks again. Taking the fence anew makes any still on their way
                // fail, and the re-read that follows holds those that made it.
                tracing::warn!(step, error = %e, "orchestration writes failed and may still apply; taking the fence anew");
                start_over = true;
            }
        }
    }
    (committed, start_over)
}
