//! What one simulated run does: its seed, cluster size, workload length, faults.

use crate::sim::sabotage::Sabotage;
use std::time::Duration;

/// The most managers a simulated cluster has (Raft groups beyond 5 are not simulated).
pub const MAX_MANAGERS: usize = 5;
/// The most workers a simulated cluster has.
pub const MAX_WORKERS: usize = 50;
/// How long (simulated) the cluster has to converge once the faults stop; a run that does not
/// converge by then fails its liveness check.
pub const LIVENESS_DEADLINE: Duration = Duration::from_secs(120);
/// How long (simulated) the workload waits for one control call before taking it as
/// unanswered (its outcome unknown).
pub const MAX_CONTROL_CALL: Duration = Duration::from_secs(15);
/// How long (simulated) the cluster has to form (every node joined and ready).
pub const FORMATION_DEADLINE: Duration = Duration::from_secs(60);
/// How often (simulated) the run looks at the cluster between and during workload steps and
/// while it waits for convergence.
pub const OBSERVE_PERIOD: Duration = Duration::from_millis(250);
/// The longest wall-clock time one seed may run before it is reported as stalled: a task
/// that never waits keeps tokio's paused clock from advancing, so the run would never end.
/// A seed takes seconds in a release build and well under a minute in a debug build.
pub const MAX_SEED_WALL: Duration = Duration::from_secs(300);
/// The longest simulated pause between two workload steps.
pub const WORKLOAD_PAUSE_MAX: Duration = Duration::from_millis(2_000);

/// The settings of one simulated run.
///
/// ```
/// use swarm_core::sim::SimConfig;
/// let config = SimConfig::new(42).with_size(3, 3).with_steps(20);
/// assert!(config.validate().is_ok());
/// assert!(SimConfig::new(1).with_size(2, 1).validate().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimConfig {
    /// Every choice of the run derives from it.
    pub seed: u64,
    /// Managers: 1, 3 or 5.
    pub managers: usize,
    /// Workers: 0 to [`MAX_WORKERS`].
    pub workers: usize,
    /// Workload steps (control calls and faults) before the liveness phase.
    pub steps: usize,
    /// Whether faults are injected (off: the workload alone).
    pub faults: bool,
    /// Whether the trace keeps a line per network message event (to find where two runs
    /// of one seed part ways); they are hashed either way.
    pub trace_messages: bool,
    /// A deliberate bug switched on for the run, to prove an invariant catches it; `None`
    /// (the default) for every real run.
    pub sabotage: Option<Sabotage>,
}

impl SimConfig {
    /// Three managers, three workers, 30 steps with faults.
    pub fn new(seed: u64) -> Self {
        SimConfig {
            seed,
            managers: 3,
            workers: 3,
            steps: 30,
            faults: true,
            trace_messages: false,
            sabotage: None,
        }
    }

    /// Sets the cluster's size.
    pub fn with_size(mut self, managers: usize, workers: usize) -> Self {
        self.managers = managers;
        self.workers = workers;
        self
    }

    /// Sets the number of workload steps.
    pub fn with_steps(mut self, steps: usize) -> Self {
        self.steps = steps;
        self
    }

    /// Turns faults on or off.
    pub fn with_faults(mut self, faults: bool) -> Self {
        self.faults = faults;
        self
    }

    /// Switches a deliberate bug on for the run (tests of the invariants only).
    pub fn with_sabotage(mut self, sabotage: Sabotage) -> Self {
        self.sabotage = Some(sabotage);
        self
    }

    /// Checks the settings; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        if ![1, 3, 5].contains(&self.managers) {
            return Err(format!("managers must be 1, 3 or 5, got {}", self.managers));
        }
        if self.workers > MAX_WORKERS {
            return Err(format!(
                "workers must be at most {MAX_WORKERS}, got {}",
                self.workers
            ));
        }
        Ok(())
    }
}
