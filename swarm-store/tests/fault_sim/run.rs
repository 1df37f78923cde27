//! Running seeds: one seed in its own deterministic runtime, and a scenario's seeds with the
//! checks that the runs did something.

use super::checks::{check_no_lost_write, fingerprint};
use super::client::client;
use super::liveness::{eventually, liveness};
use super::nemesis::nemesis;
use super::sim::Sim;
use super::storage::{Disk, IoGate, hold_clock};
use super::{CLIENTS, LOG_PREFIX, RECOVERY_DEADLINE, Scenario};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use swarm_store::storage::{MemLogStorage, MemSnapshotStore};
use swarm_store::testkit::check::{CheckConfig, History, Op, Outcome, Output, Verdict, check};
use swarm_store::testkit::inproc::InProcNetwork;
use swarm_store::{MemberId, Store};
use tokio::time::Instant;

/// What one seed did, to prove the runs are not vacuous.
#[derive(Default)]
pub struct Run {
    pub ops: usize,
    pub fingerprint: u64,
    pub messages: u64,
    /// Client writes acknowledged during the faults (writes and successful compare-and-swaps).
    pub acknowledged_writes: usize,
    /// Client reads that returned during the faults.
    pub reads: usize,
    /// Client writes whose outcome is unknown.
    pub pending: usize,
    pub crashes: u64,
    /// Whether some member had built or installed a snapshot by the end.
    pub snapshotted: bool,
    /// The fault log (virtual times, faults, where every member ended).
    pub log: Vec<String>,
}

pub async fn simulate(scenario: Scenario, seed: u64) -> Result<Run, (String, Vec<String>)> {
    // The store hands every call its own deadline (what is left of the request's, or
    // openraft's per-RPC time to live), so the network's default per-call timeout is unused.
    let net = InProcNetwork::new(seed);
    let dir = scenario.on_disk.then(|| tempfile::tempdir().unwrap());
    let disks = (1..=scenario.members)
        .map(|id| {
            let disk = match &dir {
                None => Disk::Memory {
                    log: MemLogStorage::new(),
                    snapshots: MemSnapshotStore::new(),
                },
                Some(d) => Disk::Files {
                    log: d.path().join(format!("member-{id}/log")),
                    snapshots: d.path().join(format!("member-{id}/snapshots")),
                },
            };
            (id, disk)
        })
        .collect();
    let sim = Arc::new(Sim {
        scenario,
        seed,
        net,
        disks,
        _dir: dir,
        io: IoGate::default(),
        running: Mutex::new(BTreeMap::new()),
        clock: AtomicU64::new(1),
        history: Mutex::new(History::new()),
        log: Mutex::new(Vec::new()),
        started: Instant::now(),
        crashes: AtomicU64::new(0),
        crashed: Mutex::new(BTreeSet::new()),
        starts: Mutex::new(BTreeMap::new()),
        trace: std::env::var("SWARM_TRACE")
            .is_ok()
            .then(|| Mutex::new(Vec::new())),
    });
    if sim.trace.is_some() {
        sim.net.enable_trace();
    }
    // A failure names the history so far by its fingerprint: a replay of the seed reaches the
    // same failure with the same fingerprint.
    let fail = |sim: &Sim, e: String| {
        let (ops, print) = {
            let history = sim.history.lock().unwrap();
            (history.len(), fingerprint(&history))
        };
        (
            format!("{e}\nhistory fingerprint {print:016x} ({ops} operations)"),
            sim.log.lock().unwrap().clone(),
        )
    };
    let wall = std::time::Instant::now();
    let clock_holder = tokio::spawn(hold_clock(sim.io.clone()));

    // A healthy cluster first.
    let first = sim.start(1).await.map_err(|e| fail(&sim, e))?;
    first
        .bootstrap()
        .await
        .map_err(|e| fail(&sim, format!("bootstrap: {e}")))?;
    for id in 2..=scenario.members {
        sim.start(id).await.map_err(|e| fail(&sim, e))?;
        // The bootstrap membership may still be committing: retry (bounded).
        eventually(&format!("adding learner {id}"), || {
            first.add_learner(MemberId(id), format!("member-{id}"))
        })
        .await
        .map_err(|e| fail(&sim, e))?;
        eventually(&format!("promoting {id}"), || {
            first.promote(MemberId(id), false)
        })
        .await
        .map_err(|e| fail(&sim, e))?;
    }
    sim.note("cluster formed".into());
    let wall_formed = wall.elapsed();

    // Faults while clients work.
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (1..=CLIENTS)
        .map(|c| tokio::spawn(client(sim.clone(), c, stop.clone())))
        .collect();
    let faults = nemesis(sim.clone()).await;
    stop.store(true, Ordering::SeqCst);
    faults.map_err(|e| fail(&sim, e))?;
    for c in clients {
        // Clients finish their current operation within the store's request deadline.
        match tokio::time::timeout(RECOVERY_DEADLINE, c).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(fail(&sim, format!("client task failed: {e}"))),
            Err(_) => return Err(fail(&sim, "a client operation never returned".into())),
        }
    }

    sim.note("faults over".into());
    let wall_faults = wall.elapsed();
    liveness(&sim).await.map_err(|e| fail(&sim, e))?;
    sim.note("liveness over".into());
    let history = sim.history.lock().unwrap().clone();
    check_no_lost_write(&history).map_err(|e| fail(&sim, e))?;
    match check(&history, &CheckConfig::default()) {
        Verdict::Linearizable => {}
        other => {
            let mut stats: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
            for o in history.ops() {
                let e = stats.entry(&o.key).or_default();
                e.0 += 1;
                match o.outcome {
                    Outcome::Pending => e.1 += 1,
                    Outcome::Failed => e.2 += 1,
                    Outcome::Returned { .. } => {}
                }
            }
            if std::env::var("SWARM_DUMP").is_ok() {
                for o in history.ops() {
                    eprintln!("{o:?}");
                }
            }
            return Err(fail(
                &sim,
                format!("history check: {other}\nper key (ops, pending, failed): {stats:?}"),
            ));
        }
    }
    let stores: Vec<Store> = sim.running.lock().unwrap().values().cloned().collect();
    let snapshotted = stores.iter().any(|s| s.status().snapshot_index.is_some());
    // Where everyone ended, in the log too: a replay must end in the same place.
    for s in &stores {
        let st = s.status();
        sim.note(format!(
            "end: member {} {:?} term {} leader {:?} log {:?} committed {:?} applied {:?} snapshot {:?} purged {:?} revision {}",
            st.member.0,
            st.role,
            st.term,
            st.leader.map(|l| l.0),
            st.last_log_index,
            st.commit_index,
            st.applied_index,
            st.snapshot_index,
            st.purged_index,
            st.revision
        ));
    }
    sim.note(format!("end: network {:?}", sim.net.stats()));
    let log = sim.log.lock().unwrap().clone();
    if std::env::var("SWARM_LOG").is_ok() {
        for line in &log {
            println!("{LOG_PREFIX}{line}");
        }
        if let Some(t) = &sim.trace {
            for line in t.lock().unwrap().iter() {
                println!("trace| {line}");
            }
            let (events, missed) = sim.net.trace();
            for e in events {
                let at = e.at.duration_since(sim.started).as_micros();
                println!(
                    "trace| {at:>10} us  net {} -> {} {:?} {} bytes {:016x}",
                    e.from.0, e.to.0, e.kind, e.bytes, e.digest
                );
            }
            println!("trace| {missed} network events not kept");
        }
        println!(
            "seed {seed}: wall time {:?} to form the cluster, {:?} to the end of the faults, {:?} in all",
            wall_formed,
            wall_faults,
            wall.elapsed()
        );
    }
    for store in stores {
        let _ = store.shutdown().await;
    }
    clock_holder.abort();
    let during_faults = || history.ops().iter().filter(|o| o.client != 0);
    Ok(Run {
        ops: history.len(),
        fingerprint: fingerprint(&history),
        messages: sim.net.stats().delivered,
        acknowledged_writes: during_faults()
            .filter(|o| {
                matches!(
                    (&o.op, &o.outcome),
                    (Op::Write(_), Outcome::Returned { .. })
                        | (
                            Op::Cas { .. },
                            Outcome::Returned {
                                output: Output::Cas(true),
                                ..
                            }
                        )
                )
            })
            .count(),
        reads: during_faults()
            .filter(|o| matches!((&o.op, &o.outcome), (Op::Read, Outcome::Returned { .. })))
            .count(),
        pending: during_faults()
            .filter(|o| matches!(o.outcome, Outcome::Pending))
            .count(),
        crashes: sim.crashes.load(Ordering::SeqCst),
        snapshotted,
        log,
    })
}

/// Runs one seed in its own deterministic runtime.
pub fn run_seed(scenario: Scenario, seed: u64) -> Result<Run, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(simulate(scenario, seed))
    }));
    match outcome {
        Ok(Ok(run)) => Ok(run),
        Ok(Err((error, log))) => Err(format!("{error}\nfault log:\n  {}", log.join("\n  "))),
        Err(panic) => Err(format!(
            "panicked: {}",
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        )),
    }
}

/// The first line of a failure and its history fingerprint.
pub fn failure_summary(e: &str) -> String {
    let first = e.lines().next().unwrap_or("");
    match e.lines().find(|l| l.starts_with("history fingerprint")) {
        Some(print) => format!("{first} ({print})"),
        None => first.to_owned(),
    }
}

pub fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

pub fn seeds_to_run(first_seed: u64, seeds: u64) -> Vec<u64> {
    match env_u64("SWARM_SEED") {
        Some(seed) => vec![seed],
        None => {
            let n = env_u64("SWARM_SEEDS").unwrap_or(seeds);
            (first_seed..first_seed + n).collect()
        }
    }
}

pub fn run_scenario(scenario: Scenario, first_seed: u64, seeds: u64) {
    let seeds = seeds_to_run(first_seed, seeds);
    let mut total = Run::default();
    let mut seeds_with_acks = 0usize;
    let mut seeds_snapshotted = 0usize;
    for &seed in &seeds {
        match run_seed(scenario, seed) {
            Ok(run) => {
                if seeds.len() == 1 || std::env::var("SWARM_LOG").is_ok() {
                    println!(
                        "seed {seed}: {} operations ({} writes acknowledged, {} reads, {} pending), {} crashes, {} messages, history fingerprint {:016x}",
                        run.ops,
                        run.acknowledged_writes,
                        run.reads,
                        run.pending,
                        run.crashes,
                        run.messages,
                        run.fingerprint
                    );
                }
                seeds_with_acks += usize::from(run.acknowledged_writes > 0 && run.reads > 0);
                seeds_snapshotted += usize::from(run.snapshotted);
                total.ops += run.ops;
                total.acknowledged_writes += run.acknowledged_writes;
                total.reads += run.reads;
                total.pending += run.pending;
                total.crashes += run.crashes;
                total.messages += run.messages;
            }
            Err(e) => panic!(
                "{} failed for seed {seed}: {e}\nreplay: SWARM_SEED={seed} SWARM_LOG=1 cargo test -p swarm-mode-store --test {} {} -- --exact --nocapture",
                scenario.name,
                // The test file running the scenario (its crate name).
                env!("CARGO_CRATE_NAME"),
                scenario.name
            ),
        }
    }
    println!(
        "{}: {} seeds passed; {} operations checked ({} writes acknowledged, {} reads, {} pending); {} crashes; {} messages; {} seeds with snapshots",
        scenario.name,
        seeds.len(),
        total.ops,
        total.acknowledged_writes,
        total.reads,
        total.pending,
        total.crashes,
        total.messages,
        seeds_snapshotted
    );
    // The runs must have done something: clients made progress through the faults in most
    // seeds, and the faults happened.
    if seeds.len() >= 10 {
        assert!(
            seeds_with_acks * 10 >= seeds.len() * 9,
            "only {seeds_with_acks} of {} seeds acknowledged writes and reads during the faults",
            seeds.len()
        );
        assert!(total.crashes > 0, "no member was ever crashed");
        assert!(total.pending > 0, "no operation was ever left in doubt");
        if scenario.snapshot_every < 100 {
            assert!(seeds_snapshotted > 0, "no snapshot was ever built");
        }
    }
}
