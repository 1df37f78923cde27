//! Test support: the fault simulation of the `fault_*` tests. A seed runs 3- or 5-member
//! clusters over the in-process network in a single-threaded tokio runtime on a paused clock,
//! while clients write, compare-and-swap and read through any member and a fault schedule
//! partitions, crashes and restarts members and makes links lossy, slow or duplicating; then a
//! liveness phase and the history checks ([`run::run_seed`], [`run::run_scenario`]).
//!
//! One file per part: [`storage`] (members' storage, counted disk I/O), [`sim`] (the running
//! cluster), [`client`], [`nemesis`] (the fault schedule), [`liveness`], [`checks`] (lost
//! writes, the history fingerprint) and [`run`] (one seed, a scenario's seeds).
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)] // test code: setup failures should fail loudly

pub mod checks;
pub mod client;
pub mod liveness;
pub mod nemesis;
pub mod run;
pub mod sim;
pub mod storage;

use std::time::Duration;
use swarm_store::testkit::check::History;

/// Virtual time the faults last.
pub const FAULT_PHASE: Duration = Duration::from_secs(2);
/// The store's request deadline inside the simulation.
pub const CLIENT_REQUEST_TIMEOUT_MS: u64 = 1_000;
/// Virtual time allowed for the cluster to recover after the faults stop.
pub const RECOVERY_DEADLINE: Duration = Duration::from_secs(30);
/// Concurrent clients.
pub const CLIENTS: u64 = 3;
/// Keys the clients work on (few, so operations collide).
pub const KEYS: u64 = 3;
/// The collection the clients use.
pub const COLLECTION: &str = "kv";
/// Where the members' Raft seeds start among the seed's derived streams (clients use
/// 1000 + client, the fault schedule 7).
pub const RAFT_SEED_STREAM: u64 = 1 << 32;
/// Prefix of the fault log's lines when `SWARM_LOG` prints them.
pub const LOG_PREFIX: &str = "log| ";
/// Attempts at the final write and reads of the liveness phase.
pub const LIVENESS_ATTEMPTS: usize = 20;

pub type Kv = History<String, u64>;

#[derive(Clone, Copy, Debug)]
pub struct Scenario {
    pub name: &'static str,
    pub members: u64,
    /// Snapshot every this many entries (small: snapshots are built and installed during the run).
    pub snapshot_every: u64,
    /// Whether links also duplicate messages.
    pub duplicates: bool,
    /// Clients read with `get_local` (stale reads allowed) instead of linearizable `get`: a
    /// deliberately broken client that the check must catch.
    pub stale_reads: bool,
    /// Members keep their log and snapshots in files (the disk storage, fsync and all) instead
    /// of memory, and crashes drop and reopen them.
    pub on_disk: bool,
    /// A crashed member restarts with empty storage (its disk lost): breaks Raft's assumptions
    /// on purpose, so acknowledged writes can be lost and the check must say so.
    pub wipe_on_restart: bool,
}
