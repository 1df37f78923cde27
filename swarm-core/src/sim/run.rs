//! Running seeds: one seed in its own current-thread runtime on a paused clock, and ranges of
//! seeds.

use crate::model::{NodeRole, NodeState};
use crate::sim::cluster::{FIRST_MANAGER, SimCluster};
use crate::sim::config::{
    FORMATION_DEADLINE, LIVENESS_DEADLINE, MAX_CONTROL_CALL, MAX_SEED_WALL, OBSERVE_PERIOD,
    SimConfig, WORKLOAD_PAUSE_MAX,
};
use crate::sim::faults::Nemesis;
use crate::sim::history::History;
use crate::sim::invariants::{ALL, When};
use crate::sim::ledger::LedgerNode;
use crate::sim::observe::Observation;
use crate::sim::report::{SimFailure, SimReport, SimSummary};
use crate::sim::sim_rng::{SimRng, derive};
use crate::sim::trace::SimTrace;
use crate::sim::workload::Workload;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// One run in this many initialises its cluster with autolock on.
const AUTOLOCK_ONE_IN: u64 = 4;

/// Runs one seed in a runtime of its own: a current-thread tokio runtime on a paused clock,
/// on a thread of its own. A panic inside the run is reported as a failure of the seed, and
/// so is a run still going after [`MAX_SEED_WALL`] of wall-clock time (its thread is left
/// to the process).
pub fn run_seed(config: &SimConfig) -> Result<SimReport, SimFailure> {
    let fail = |reason: String| SimFailure {
        seed: config.seed,
        reason,
        trace_hash: 0,
        trace_tail: Vec::new(),
        faults_injected: 0,
        invariant_checks: 0,
    };
    config.validate().map_err(fail)?;
    let (sender, outcome) = std::sync::mpsc::channel();
    let on_thread = config.clone();
    std::thread::Builder::new()
        .name(format!("sim-seed-{}", config.seed))
        .spawn(move || {
            let _ = sender.send(run_seed_here(&on_thread));
        })
        .map_err(|e| fail(format!("the seed's thread: {e}")))?;
    match outcome.recv_timeout(MAX_SEED_WALL) {
        Ok(outcome) => outcome,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(fail(format!(
            "the simulated clock stalled: the seed still ran after {MAX_SEED_WALL:?} of \
             wall-clock time (a task that never waits keeps tokio's paused clock from \
             advancing; run it with {} set to see its last trace line)",
            crate::sim::trace::TRACE_LIVE_ENV
        ))),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(fail(
            "the seed's thread ended without an outcome".to_owned(),
        )),
    }
}

/// [`run_seed`] on this thread.
fn run_seed_here(config: &SimConfig) -> Result<SimReport, SimFailure> {
    let fail = |reason: String| SimFailure {
        seed: config.seed,
        reason,
        trace_hash: 0,
        trace_tail: Vec::new(),
        faults_injected: 0,
        invariant_checks: 0,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .map_err(|e| fail(format!("tokio runtime: {e}")))?;
    let wall = std::time::Instant::now();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(simulate(config))
    }));
    drop(runtime);
    match outcome {
        Ok(Ok(mut report)) => {
            report.wall = wall.elapsed();
            Ok(report)
        }
        Ok(Err(failure)) => Err(failure),
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "a panic".to_owned());
            Err(fail(format!("panicked: {what}")))
        }
    }
}

/// Runs every seed of `seeds` with `base`'s other settings; `each` sees every outcome.
pub fn run_seeds(
    base: &SimConfig,
    seeds: Range<u64>,
    mut each: impl FnMut(&Result<SimReport, SimFailure>),
) -> SimSummary {
    let mut summary = SimSummary::default();
    for seed in seeds {
        let config = SimConfig {
            seed,
            ..base.clone()
        };
        let wall = std::time::Instant::now();
        let outcome = run_seed(&config);
        summary.add(&outcome, wall.elapsed());
        each(&outcome);
    }
    summary
}

/// One run's moving parts.
struct Run {
    config: SimConfig,
    rng: SimRng,
    cluster: SimCluster,
    trace: SimTrace,
    workload: Workload,
    nemesis: Nemesis,
    started: Instant,
    leaders_by_term: BTreeMap<u64, BTreeSet<u64>>,
    history: Arc<History>,
    invariant_checks: u64,
}

impl Run {
    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    fn line(&mut self, event: impl Into<String>) {
        let at = self.now();
        self.trace.line(at, event);
    }

    fn failure(&mut self, reason: String) -> SimFailure {
        self.line(format!("FAILED: {reason}"));
        SimFailure {
            seed: self.config.seed,
            reason,
            trace_hash: self.trace.hash(),
            trace_tail: self.trace.tail(),
            faults_injected: self.nemesis.injected,
            invariant_checks: self.invariant_checks,
        }
    }

    fn observe(&mut self) -> Observation {
        self.cluster.refresh_roles();
        Observation::take(
            &self.cluster,
            self.now(),
            &mut self.leaders_by_term,
            &self.workload.ledger,
            &mut self.history,
        )
    }

    /// Checks the invariants that hold `when`; `Err` names every one broken.
    fn check(&mut self, obs: &Observation, when: When) -> Result<(), String> {
        let mut broken = Vec::new();
        for inv in ALL.iter().filter(|i| i.when == when) {
            self.invariant_checks += 1;
            if let Err(e) = (inv.check)(obs) {
                broken.push(format!("invariant {} broken: {e}", inv.name));
            }
        }
        if broken.is_empty() {
            Ok(())
        } else {
            Err(broken.join("; "))
        }
    }

    /// Sleeps `total` of simulated time, looking at the cluster every [`OBSERVE_PERIOD`].
    async fn pause(&mut self, total: Duration) -> Result<(), String> {
        let until = Instant::now() + total;
        while Instant::now() < until {
            tokio::time::sleep_until(until.min(Instant::now() + OBSERVE_PERIOD)).await;
            if let Some(broken) = self.cluster.broken.take() {
                return Err(broken);
            }
            let obs = self.observe();
            self.check(&obs, When::Always)?;
        }
        Ok(())
    }

    /// Forms the cluster: the first manager, the others joined one at a time (each a voter
    /// before the next), the workers, every node ready.
    async fn form(&mut self) -> Result<(), String> {
        // One run in four autolocks its managers (drawn apart from the run's stream).
        let autolock = derive(self.config.seed, "autolock", 0) % AUTOLOCK_ONE_IN == 0;
        self.cluster.init(FIRST_MANAGER, autolock).await?;
        let control = self
            .cluster
            .control()
            .ok_or("the first manager has no control API")?;
        if autolock {
            let key = control
                .unlock_key()
                .await
                .map_err(|e| format!("unlock key: {e}"))?
                .ok_or("autolock on and no unlock key")?;
            self.cluster.learn_unlock_key(key.as_str().to_owned());
            self.line("formed: autolock on");
        }
        let manager_token = control
            .join_token(NodeRole::Manager)
            .await
            .map_err(|e| format!("manager token: {e}"))?;
        let worker_token = control
            .join_token(NodeRole::Worker)
            .await
            .map_err(|e| format!("worker token: {e}"))?;
        let deadline = Instant::now() + FORMATION_DEADLINE;
        for i in 2..=self.config.managers {
            let name = format!("m{i}");
            self.cluster
                .join(&name, FIRST_MANAGER, &manager_token, true)
                .await?;
            loop {
                let voters = self
                    .cluster
                    .nodes
                    .get(FIRST_MANAGER)
                    .and_then(|n| n.node.as_ref())
                    .and_then(|n| n.store_status())
                    .filter(|s| s.is_settled())
                    .map_or(0, |s| s.voters().len());
                if voters == i {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(format!("{name} never became a voter"));
                }
                tokio::time::sleep(OBSERVE_PERIOD).await;
            }
            self.line(format!("formed: {name} votes"));
        }
        for i in 1..=self.config.workers {
            let name = format!("w{i}");
            self.cluster
                .join(&name, FIRST_MANAGER, &worker_token, false)
                .await?;
        }
        let expected = self.config.managers + self.config.workers;
        loop {
            let obs = self.observe();
            let ready = obs.state.as_ref().map_or(0, |s| {
                s.nodes()
                    .values()
                    .filter(|n| n.status.state == NodeState::Ready)
                    .count()
            });
            if ready == expected {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("only {ready} of {expected} nodes ready"));
            }
            tokio::time::sleep(OBSERVE_PERIOD).await;
        }
        self.line(format!("formed: {expected} nodes ready"));
        for (name, node) in &self.cluster.nodes {
            let role = if node.manager {
                NodeRole::Manager
            } else {
                NodeRole::Worker
            };
            self.workload
                .ledger
                .nodes
                .insert(name.clone(), LedgerNode::new(role));
        }
        Ok(())
    }

    /// The workload with faults interleaved.
    async fn workload(&mut self) -> Result<(), String> {
        for step in 0..self.config.steps {
            for line in self.nemesis.reap(&mut self.cluster).await {
                self.line(format!("step {step}: {line}"));
            }
            if self.config.faults && self.rng.percent(35) {
                let line = self.nemesis.strike(&self.rng, &mut self.cluster).await;
                self.line(format!("step {step}: {line}"));
            } else {
                match self.cluster.control() {
                    Some(control) => {
                        let line = self
                            .workload
                            .step(&self.rng, &mut self.cluster, &control)
                            .await;
                        self.line(format!("step {step}: {line}"));
                    }
                    None => self.line(format!("step {step}: no manager runs")),
                }
            }
            let max = u64::try_from(WORKLOAD_PAUSE_MAX.as_millis()).unwrap_or(0);
            let pause = Duration::from_millis(self.rng.below(max + 1));
            self.pause(pause).await?;
        }
        Ok(())
    }

    /// Removes (forced, as an operator would) the records of nodes whose join failed: no
    /// node will ever bring them up, and a record that never registered stays `Unknown`.
    async fn remove_lost_joins(&mut self, obs: &Observation) {
        let Some(state) = obs.state.as_ref() else {
            return;
        };
        let lost: Vec<String> = state
            .nodes()
            .values()
            .filter(|n| self.cluster.lost_joins.contains(&n.advertise_addr))
            .map(|n| n.id.as_str().to_owned())
            .collect();
        let Some(control) = self.cluster.control() else {
            return;
        };
        for id in lost {
            let result =
                tokio::time::timeout(MAX_CONTROL_CALL, control.remove_node(&id, true)).await;
            let outcome = match result {
                Ok(Ok(())) => "ok".to_owned(),
                Ok(Err(e)) => format!("error ({e})"),
                Err(_) => "no answer".to_owned(),
            };
            self.line(format!(
                "calm: node rm --force {id} (a lost join): {outcome}"
            ));
        }
    }

    /// The faults end; every invariant must hold at once within [`LIVENESS_DEADLINE`].
    async fn liveness(&mut self) -> Result<Duration, String> {
        for line in self.nemesis.calm(&mut self.cluster).await {
            self.line(line);
        }
        let calm = Instant::now();
        let deadline = calm + LIVENESS_DEADLINE;
        loop {
            tokio::time::sleep(OBSERVE_PERIOD).await;
            if let Some(broken) = self.cluster.broken.take() {
                return Err(broken);
            }
            let obs = self.observe();
            self.remove_lost_joins(&obs).await;
            let not_ready: Vec<String> = obs.state.as_ref().map_or_else(
                || vec!["(no leader)".to_owned()],
                |s| {
                    s.nodes()
                        .values()
                        .filter(|n| {
                            n.status.state != NodeState::Ready
                                && !self.cluster.lost_joins.contains(&n.advertise_addr)
                        })
                        .map(|n| {
                            format!(
                                "{} {:?}",
                                crate::sim::invariants::node_name(n),
                                n.status.state
                            )
                        })
                        .collect()
                },
            );
            // What must always hold fails the run at once; the rest may take time.
            self.check(&obs, When::Always)?;
            let verdict = if not_ready.is_empty() {
                self.check(&obs, When::Converged)
            } else {
                Err(format!("nodes not ready: {}", not_ready.join(", ")))
            };
            match verdict {
                Ok(()) => return Ok(calm.elapsed()),
                Err(e) if Instant::now() > deadline => {
                    return Err(format!(
                        "not converged {LIVENESS_DEADLINE:?} after the faults ended: {e}"
                    ));
                }
                Err(_) => {}
            }
        }
    }
}

/// One seed, inside its runtime.
async fn simulate(config: &SimConfig) -> Result<SimReport, SimFailure> {
    // Every node reads this virtual wall clock; it starts at the real time (certificates are
    // issued against the real clock) and then follows tokio's paused one.
    let _clock = crate::clock::install_virtual(std::time::SystemTime::now());
    let _sabotage = crate::sim::sabotage::install(config.sabotage);
    let cluster = SimCluster::new(config.seed).map_err(|reason| SimFailure {
        seed: config.seed,
        reason,
        trace_hash: 0,
        trace_tail: Vec::new(),
        faults_injected: 0,
        invariant_checks: 0,
    })?;
    let mut run = Run {
        config: config.clone(),
        rng: SimRng::new(config.seed),
        cluster,
        trace: SimTrace::default(),
        workload: Workload::default(),
        nemesis: Nemesis::default(),
        started: Instant::now(),
        leaders_by_term: BTreeMap::new(),
        history: Arc::new(History::default()),
        invariant_checks: 0,
    };
    run.line(format!(
        "seed {} managers {} workers {} steps {}{}",
        config.seed,
        config.managers,
        config.workers,
        config.steps,
        config
            .sabotage
            .map_or_else(String::new, |s| format!(" sabotage {}", s.name()))
    ));
    let outcome = async {
        run.form().await?;
        run.workload().await?;
        run.line("faults end");
        let converged_after = run.liveness().await?;
        run.line(format!(
            "converged {} ms after the faults ended",
            converged_after.as_millis()
        ));
        Ok::<Duration, String>(converged_after)
    }
    .await;
    let (events, missed) = run.cluster.net.network().trace();
    run.trace
        .network(run.started, &events, missed, config.trace_messages);
    let result = match outcome {
        Ok(converged_after) => Ok(SimReport {
            seed: config.seed,
            trace_hash: run.trace.hash(),
            faults_injected: run.nemesis.injected,
            invariant_checks: run.invariant_checks,
            acknowledged_writes: run.workload.ledger.acknowledged,
            simulated: run.now(),
            converged_after,
            wall: Duration::ZERO,
            trace: run.trace.clone(),
        }),
        Err(reason) => Err(run.failure(reason)),
    };
    run.cluster.shutdown().await;
    result
}
