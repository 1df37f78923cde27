//! A deterministic simulation of a whole cluster (feature `testkit`): managers and workers
//! of this crate's real code (store, orchestrators, scheduler, dispatcher, agents) in one
//! process, on swarm-store's in-process network with seeded faults, the mock runtime and
//! tokio's paused clock, every choice drawn from one seed.
//!
//! One seed ([`run_seed`]) forms a cluster, runs a workload of control calls interleaved with
//! faults (partitions, loss, delay, duplication, crashes and restarts with the disk kept,
//! leader kills) and then a liveness phase: the faults stop and the cluster must converge
//! within [`LIVENESS_DEADLINE`] of simulated time. Invariants (one file each under
//! `invariants/`) are checked while it runs and at the end. A failing seed reports its seed and
//! the tail of its trace; the trace's hash is the same on every run of the seed, in any process.
//!
//! What replays exactly, and why: every node runs on the one thread of a current-thread
//! runtime with a paused clock; the wall clock the nodes read is virtual (the crate's `clock`
//! module); ids, jitter and Raft timeouts come from per-node seeds derived from the run's; the
//! managers' Raft storage is in memory
//! ([`InProcNodes::with_memory_disks`](crate::node::InProcNodes::with_memory_disks)); the
//! node's `select!`s are biased. Key material and signatures still come from the operating
//! system (secrets never come from a seed), so the trace hashes what happened to messages
//! (when, between whom, lost, delayed, duplicated), not their bytes.
//!
//! ```no_run
//! use swarm_core::sim::{SimConfig, run_seed};
//! let report = run_seed(&SimConfig::new(7)).expect("seed 7 holds every invariant");
//! println!("trace hash {:016x}", report.trace_hash);
//! ```

mod cluster;
mod config;
mod faults;
mod history;
pub mod invariants;
mod ledger;
mod observe;
mod report;
mod run;
pub(crate) mod sabotage;
mod seen_task;
mod sim_rng;
mod trace;
mod workload;

pub use config::{
    FORMATION_DEADLINE, LIVENESS_DEADLINE, MAX_CONTROL_CALL, MAX_MANAGERS, MAX_SEED_WALL,
    MAX_WORKERS, OBSERVE_PERIOD, SimConfig, WORKLOAD_PAUSE_MAX,
};
pub use history::History;
pub use ledger::{Ledger, LedgerNode, LedgerSecret, LedgerService, Outcome};
pub use observe::{AgentView, Observation};
pub use report::{SimFailure, SimReport, SimSummary};
pub use run::{run_seed, run_seeds};
pub use sabotage::Sabotage;
pub use seen_task::SeenTask;
pub use trace::{SimTrace, TRACE_LIVE_ENV, TRACE_TAIL_LINES};
