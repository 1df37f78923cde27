//! Fault tests: 3- and 5-member clusters over the in-process network, under partitions (the
//! leader cut off, minorities split away, one-way links), crashes and restarts of members on
//! their storage, and lossy, slow, duplicating links, while clients write, compare-and-swap and
//! read linearizably through any member.
//!
//! Every seed runs in a fresh single-threaded tokio runtime on a paused clock; the network's
//! faults, the fault schedule and the clients' choices all derive from the seed. After the
//! faults stop, a liveness phase heals everything, restarts every member and requires a leader,
//! a successful write and every member converging on the same documents. Then the recorded
//! client history is checked: no acknowledged write lost, every read linearizable.
//!
//! `SWARM_SEED=<seed>` runs one seed of each test, `SWARM_SEEDS=<n>` runs `n` seeds per test
//! (soak); `SWARM_LOG=1` prints the fault log of passing seeds too (a failing seed always
//! prints it, with its replay command).
//!
//! `SWARM_TRACE=1` (with `SWARM_LOG=1`) also prints every client operation and every message
//! event of the network with its virtual time in microseconds: diff two runs' traces to find
//! where they part ways.
//!
//! Replay: a seed replays exactly. The network's faults, the fault schedule, the clients'
//! choices and every member's Raft randomness (election timeouts, the tick's phase, snapshot
//! transfer ids, through `StoreConfig::raft_rng_seed`: one stream per member and start) derive
//! from the seed; everything runs on one thread on a paused clock; every `select!` on the
//! simulated paths is biased (openraft's selects and ours), and openraft's watch channels wake
//! their waiters in registration order. Two runs of one seed, in one process or in two, print
//! the same fault log (every fault at the same virtual millisecond, every member ending in the
//! same term, log, commit, snapshot and revision, the same message counters) and the same
//! history fingerprint: `seeds_replay_exactly` and `seeds_replay_exactly_in_a_fresh_process`
//! check it on seeds with crashes, partitions, lossy links, duplicates and snapshots. What is
//! not covered:
//! - the on-disk variant (`three_members_on_disk`): its log writer and snapshot files work on
//!   OS threads, whose real timing against the simulation decides the order of events at one
//!   virtual instant; its replays repeat the faults and client choices, not the exact history.
//!
//! The store's applied-index channel uses the same registration-order watch, the snapshot
//! builder encodes inline when the Raft seed is set (`StoreRuntime::run_background`), and a
//! seeded member derives its request-id origin from its seed, so message bytes repeat too.
//!
//! Two deliberately broken variants prove the check has teeth: clients reading stale local
//! state, and members restarting with their storage wiped, are caught within a few seeds
//! (`fault_broken_variants.rs`). The on-disk variant is `fault_on_disk.rs`; the simulation all
//! three run is the `fault_sim` support module. `seeds_replay_exactly_in_a_fresh_process` runs
//! this binary's `three_members` test in a child process, so the two stay in this file.

#![allow(clippy::unwrap_used)] // test code: setup failures should fail loudly

mod fault_sim;

use fault_sim::run::{Run, run_scenario, run_seed};
use fault_sim::{LOG_PREFIX, Scenario};
use std::collections::BTreeSet;

/// Seeds per test in the normal run (two tests of each size: 2 × 70 + 2 × 30 = 200).
const SEEDS_THREE_MEMBERS: u64 = 140;
const SEEDS_FIVE_MEMBERS: u64 = 60;

const THREE_MEMBERS: Scenario = Scenario {
    name: "three_members",
    members: 3,
    snapshot_every: 40,
    duplicates: false,
    stale_reads: false,
    on_disk: false,
    wipe_on_restart: false,
};

const THREE_MEMBERS_DUPLICATING_LINKS: Scenario = Scenario {
    name: "three_members_duplicating_links",
    members: 3,
    snapshot_every: 1000,
    duplicates: true,
    stale_reads: false,
    on_disk: false,
    wipe_on_restart: false,
};

const FIVE_MEMBERS: Scenario = Scenario {
    name: "five_members",
    members: 5,
    snapshot_every: 40,
    duplicates: false,
    stale_reads: false,
    on_disk: false,
    wipe_on_restart: false,
};

const FIVE_MEMBERS_DUPLICATING_LINKS: Scenario = Scenario {
    name: "five_members_duplicating_links",
    members: 5,
    snapshot_every: 1000,
    duplicates: true,
    stale_reads: false,
    on_disk: false,
    wipe_on_restart: false,
};

#[test]
fn three_members() {
    run_scenario(THREE_MEMBERS, 0, SEEDS_THREE_MEMBERS / 2);
}

#[test]
fn three_members_duplicating_links() {
    run_scenario(
        THREE_MEMBERS_DUPLICATING_LINKS,
        10_000,
        SEEDS_THREE_MEMBERS / 2,
    );
}

#[test]
fn five_members() {
    run_scenario(FIVE_MEMBERS, 20_000, SEEDS_FIVE_MEMBERS / 2);
}

#[test]
fn five_members_duplicating_links() {
    run_scenario(
        FIVE_MEMBERS_DUPLICATING_LINKS,
        30_000,
        SEEDS_FIVE_MEMBERS / 2,
    );
}

/// Seeds whose replay is checked, with crashes, partitions (isolated leader, split minority or
/// one-way link), lossy and slow links, snapshots (the 40-entry scenarios) and duplicated
/// messages among them: each is `(scenario, seed)`.
const REPLAY_CASES: [(Scenario, u64); 4] = [
    (THREE_MEMBERS, 5),
    (THREE_MEMBERS, 66),
    (FIVE_MEMBERS, 20_016),
    (THREE_MEMBERS_DUPLICATING_LINKS, 10_001),
];

fn run_ok(scenario: Scenario, seed: u64) -> Run {
    run_seed(scenario, seed).unwrap_or_else(|e| panic!("{} seed {seed}: {e}", scenario.name))
}

/// Asserts that two runs of one seed did exactly the same, naming the first difference.
fn assert_same_run(what: &str, a: &Run, b: &Run) {
    if let Some((i, (x, y))) = a
        .log
        .iter()
        .zip(&b.log)
        .enumerate()
        .find(|(_, (x, y))| x != y)
    {
        panic!("{what}: fault logs part at line {i}:\n  {x}\n  {y}");
    }
    assert_eq!(a.log.len(), b.log.len(), "{what}: fault log lengths");
    assert_eq!(
        (a.fingerprint, a.ops, a.messages, a.crashes),
        (b.fingerprint, b.ops, b.messages, b.crashes),
        "{what}: (history fingerprint, operations, messages, crashes)"
    );
}

/// A seed replays exactly: two runs in this process give the same fault log (every fault at the
/// same virtual millisecond, every member ending in the same term, log, commit, snapshot and
/// revision, the network's message counters) and the same client history, operation for
/// operation. The cases cover crashes, partitions, lossy links and snapshots.
#[test]
fn seeds_replay_exactly() {
    let mut covered = BTreeSet::new();
    for (scenario, seed) in REPLAY_CASES {
        let first = run_ok(scenario, seed);
        let again = run_ok(scenario, seed);
        assert_same_run(&format!("{} seed {seed}", scenario.name), &first, &again);
        let log = first.log.join("\n");
        for (kind, marker) in [
            ("crash", " crash "),
            ("partition", "isolate leader"),
            ("partition", "split "),
            ("partition", "one-way partition"),
            ("lossy links", "links: "),
        ] {
            if log.contains(marker) {
                covered.insert(kind);
            }
        }
        if first.snapshotted {
            covered.insert("snapshot");
        }
        if scenario.duplicates {
            covered.insert("duplicates");
        }
        println!(
            "{} seed {seed}: replayed, history fingerprint {:016x}, {} log lines",
            scenario.name,
            first.fingerprint,
            first.log.len()
        );
    }
    for kind in [
        "crash",
        "partition",
        "lossy links",
        "snapshot",
        "duplicates",
    ] {
        assert!(covered.contains(kind), "no replay case has a {kind}");
    }
}

/// A seed replays exactly in another process too (other OS-seeded hash keys, tokio and thread
/// RNGs, addresses): this test binary runs itself for one seed with `SWARM_SEED` and
/// `SWARM_LOG`, and the fault log and fingerprint it prints match a run in this process.
#[test]
fn seeds_replay_exactly_in_a_fresh_process() {
    let (scenario, seed) = REPLAY_CASES[0];
    let here = run_ok(scenario, seed);
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([scenario.name, "--exact", "--nocapture", "--test-threads=1"])
        .env("SWARM_SEED", seed.to_string())
        .env("SWARM_LOG", "1")
        .env_remove("SWARM_SEEDS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the replay process failed:\n{stdout}"
    );
    let log: Vec<String> = stdout
        .lines()
        // libtest's "test <name> ... " may start the first line.
        .filter_map(|l| {
            l.find(LOG_PREFIX)
                .map(|at| l[at + LOG_PREFIX.len()..].to_owned())
        })
        .collect();
    let fingerprint = stdout
        .lines()
        .find(|l| l.starts_with(&format!("seed {seed}:")) && l.contains("fingerprint"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|f| u64::from_str_radix(f, 16).ok())
        .unwrap_or_else(|| panic!("no fingerprint in the replay's output:\n{stdout}"));
    let there = Run {
        log,
        fingerprint,
        ops: here.ops,
        messages: here.messages,
        crashes: here.crashes,
        ..Run::default()
    };
    assert_same_run(
        &format!("{} seed {seed} in another process", scenario.name),
        &here,
        &there,
    );
    println!(
        "{} seed {seed}: history fingerprint {fingerprint:016x} in both processes",
        scenario.name
    );
}

/// The fingerprint is not vacuous: different seeds give different histories, fault logs and
/// fingerprints.
#[test]
fn different_seeds_give_different_fingerprints() {
    let runs: Vec<(u64, Run)> = [5, 6, 7]
        .into_iter()
        .map(|seed| (seed, run_ok(THREE_MEMBERS, seed)))
        .collect();
    for (i, (a, ra)) in runs.iter().enumerate() {
        for (b, rb) in &runs[i + 1..] {
            assert_ne!(
                ra.fingerprint, rb.fingerprint,
                "seeds {a} and {b}: same history fingerprint"
            );
            assert_ne!(ra.log, rb.log, "seeds {a} and {b}: same fault log");
        }
    }
}
