//! What a simulated run reports: a passing seed's counters and trace hash, a failing seed's
//! reason and trace tail, a campaign's summary line.

use crate::sim::trace::SimTrace;
use std::time::Duration;

/// A seed that held every invariant.
#[derive(Clone, Debug)]
pub struct SimReport {
    /// The seed.
    pub seed: u64,
    /// The hash of its trace: the same on every run of the seed.
    pub trace_hash: u64,
    /// Faults injected.
    pub faults_injected: u64,
    /// Invariant evaluations made.
    pub invariant_checks: u64,
    /// Control writes acknowledged.
    pub acknowledged_writes: u64,
    /// Simulated time the run took.
    pub simulated: Duration,
    /// Simulated time from the end of the faults to convergence.
    pub converged_after: Duration,
    /// Wall-clock time the run took.
    pub wall: Duration,
    /// The trace.
    pub trace: SimTrace,
}

/// A seed that broke an invariant (or could not run).
#[derive(Clone, Debug)]
pub struct SimFailure {
    /// The seed, to replay it.
    pub seed: u64,
    /// What broke, naming the invariant.
    pub reason: String,
    /// The hash of the trace up to the failure (the same on a replay).
    pub trace_hash: u64,
    /// The trace's last lines.
    pub trace_tail: Vec<String>,
    /// Faults injected before the failure.
    pub faults_injected: u64,
    /// Invariant evaluations made before the failure.
    pub invariant_checks: u64,
}

impl std::fmt::Display for SimFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "seed {} failed (trace hash {:016x}): {}",
            self.seed, self.trace_hash, self.reason
        )?;
        writeln!(
            f,
            "replay: cargo run --release -p swarm-mode-core --features testkit --example sim -- --seeds {}..{}",
            self.seed,
            self.seed.saturating_add(1)
        )?;
        for line in &self.trace_tail {
            writeln!(f, "  {line}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SimFailure {}

/// What a campaign of seeds did.
#[derive(Clone, Debug, Default)]
pub struct SimSummary {
    /// Seeds run.
    pub seeds: u64,
    /// The seeds that failed.
    pub failures: Vec<SimFailure>,
    /// Faults injected over all seeds.
    pub faults_injected: u64,
    /// Invariant evaluations over all seeds.
    pub invariant_checks: u64,
    /// Simulated time over all seeds.
    pub simulated: Duration,
    /// Wall-clock time over all seeds.
    pub wall: Duration,
}

impl SimSummary {
    /// Adds one seed's outcome.
    pub fn add(&mut self, outcome: &Result<SimReport, SimFailure>, wall: Duration) {
        self.seeds += 1;
        self.wall += wall;
        match outcome {
            Ok(r) => {
                self.faults_injected += r.faults_injected;
                self.invariant_checks += r.invariant_checks;
                self.simulated += r.simulated;
            }
            Err(f) => {
                self.faults_injected += f.faults_injected;
                self.invariant_checks += f.invariant_checks;
                self.failures.push(f.clone());
            }
        }
    }

    /// Simulated seconds per wall-clock second.
    pub fn sim_s_per_wall_s(&self) -> f64 {
        let wall = self.wall.as_secs_f64();
        if wall == 0.0 {
            0.0
        } else {
            self.simulated.as_secs_f64() / wall
        }
    }
}

impl std::fmt::Display for SimSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "seeds={} failures={} faults_injected={} invariant_checks={} sim_s_per_wall_s={:.1}",
            self.seeds,
            self.failures.len(),
            self.faults_injected,
            self.invariant_checks,
            self.sim_s_per_wall_s()
        )
    }
}
