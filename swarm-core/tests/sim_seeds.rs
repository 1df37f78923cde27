//! The whole-cluster simulation over many seeds: every invariant holds on each, and a seed
//! replays exactly (the same trace hash twice in this process, and in a second process).

use swarm_core::sim::{SimConfig, run_seed};

/// Seeds run by `every_seed_holds_every_invariant` (campaigns of thousands run with the
/// release example, see RELIABILITY.md).
const SEEDS: u64 = 100;

/// Workload steps per seed of the test.
const STEPS: usize = 8;

/// The cluster of one seed of the test: one manager and one worker for most seeds (the
/// workload, the agents and the orchestration at their cheapest), three managers and one
/// worker for every fifth (Raft elections, leader kills, forwarded control calls).
fn sized(seed: u64) -> SimConfig {
    let managers = if seed % 5 == 0 { 3 } else { 1 };
    SimConfig::new(seed)
        .with_size(managers, 1)
        .with_steps(STEPS)
}

/// The cluster of the replay tests.
fn small(seed: u64) -> SimConfig {
    SimConfig::new(seed).with_size(3, 1).with_steps(10)
}

#[test]
fn every_seed_holds_every_invariant() {
    // Two threads (each seed runs on its own current-thread runtime), taking seeds in turn.
    let next = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let halves: Vec<_> = (0..2)
        .map(|_| {
            let next = next.clone();
            std::thread::spawn(move || {
                let mut summary = swarm_core::sim::SimSummary::default();
                loop {
                    let seed = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if seed >= SEEDS {
                        return summary;
                    }
                    let wall = std::time::Instant::now();
                    let outcome = run_seed(&sized(seed));
                    if let Err(failure) = &outcome {
                        eprintln!("{failure}");
                    }
                    summary.add(&outcome, wall.elapsed());
                }
            })
        })
        .collect();
    let mut seeds = 0;
    let mut faults = 0;
    let mut checks = 0;
    let mut failures = Vec::new();
    for half in halves {
        let summary = half.join().expect("a half of the seeds ran");
        eprintln!("{summary}");
        seeds += summary.seeds;
        faults += summary.faults_injected;
        checks += summary.invariant_checks;
        failures.extend(summary.failures);
    }
    assert_eq!(seeds, SEEDS);
    assert!(faults > SEEDS, "faults were injected: {faults}");
    assert!(checks > SEEDS * 100, "invariants were checked: {checks}");
    let failing: Vec<String> = failures
        .iter()
        .map(|f| format!("seed {}: {}", f.seed, f.reason))
        .collect();
    assert!(failing.is_empty(), "failing seeds: {failing:#?}");
}

#[test]
fn a_seed_replays_exactly_in_one_process() {
    let first = run_seed(&small(4242)).expect("seed 4242");
    let second = run_seed(&small(4242)).expect("seed 4242 again");
    assert_eq!(first.trace.lines(), second.trace.lines());
    assert_eq!(first.trace_hash, second.trace_hash);
    assert!(first.faults_injected > 0 && first.acknowledged_writes > 0);
    let other = run_seed(&small(4243)).expect("seed 4243");
    assert_ne!(first.trace_hash, other.trace_hash);
}

/// Run by `a_seed_replays_exactly_in_another_process` in a child process: prints the hash.
#[test]
#[ignore = "run as a child process by a_seed_replays_exactly_in_another_process"]
fn print_the_hash_of_seed_4242() {
    let report = run_seed(&small(4242)).expect("seed 4242");
    println!("SIM_HASH={:016x}", report.trace_hash);
}

#[test]
fn a_seed_replays_exactly_in_another_process() {
    let here = run_seed(&small(4242)).expect("seed 4242");
    let exe = std::env::current_exe().expect("the test binary");
    let child = std::process::Command::new(exe)
        .args([
            "--ignored",
            "--exact",
            "print_the_hash_of_seed_4242",
            "--nocapture",
        ])
        .output()
        .expect("the child process runs");
    let out = String::from_utf8_lossy(&child.stdout);
    assert!(child.status.success(), "child failed: {out}");
    let there = out
        .lines()
        .find_map(|l| l.strip_prefix("SIM_HASH="))
        .expect("the child printed its hash");
    assert_eq!(there, format!("{:016x}", here.trace_hash));
}

/// Seed 5 (3 managers, 2 workers, 12 steps) found a leader's "unknown" of the leadership
/// change committing after a node's registration with that leader: the record stayed
/// `Unknown` while the node heartbeated, and the cluster never converged. The leader now
/// writes such a node ready again at its next heartbeat.
#[test]
fn seed_5_a_registration_racing_the_leadership_change_converges() {
    let config = SimConfig::new(5).with_size(3, 2).with_steps(12);
    if let Err(failure) = run_seed(&config) {
        panic!("{failure}");
    }
}

/// Seed 46 (3 managers, 2 workers, 12 steps) found a stop-first update's new task left
/// prepared forever: a scale cleared the update status while the task waited for its slot's
/// old task to stop, and the update supervisor then ignored the service. It now starts such
/// a task without a status too (unit test
/// `a_prepared_task_starts_after_a_scale_cleared_the_update_status`).
#[test]
fn seed_46_a_scale_during_a_stop_first_update_leaves_no_task_prepared() {
    let config = SimConfig::new(46).with_size(3, 2).with_steps(12);
    if let Err(failure) = run_seed(&config) {
        panic!("{failure}");
    }
}

/// Seed 82 (3 managers, 2 workers, 12 steps) never ended: a manager that lost the
/// leadership kept the wake time of its last round, now past, so its orchestration loop
/// waited zero at every turn and never let tokio's paused clock advance (on a real clock, a
/// core spun). A manager that does not lead now forgets its wake time and busy rounds.
#[test]
fn seed_82_a_deposed_leaders_orchestration_loop_waits() {
    let config = SimConfig::new(82).with_size(3, 2).with_steps(12);
    if let Err(failure) = run_seed(&config) {
        panic!("{failure}");
    }
}

/// Seed 264 (3 managers, 2 workers, 12 steps) found a worker that never came back: cut off
/// while the only manager it knew (m1) was demoted and a manager it had known before (m2)
/// promoted again, its agent kept calling m1. The agent now tries every manager it learned
/// of once its current ones all fail (focused test
/// `seed_264_a_worker_whose_only_manager_was_demoted_while_cut_off_finds_the_new_one`).
#[test]
fn seed_264_a_worker_cut_off_while_its_manager_was_demoted_comes_back() {
    let config = SimConfig::new(264).with_size(3, 2).with_steps(12);
    if let Err(failure) = run_seed(&config) {
        panic!("{failure}");
    }
}

/// Seed 206 (3 managers, 2 workers, 12 steps): a replicated job's task on the leader's own
/// node was replaced while that node was seen down, and completed there all the same before
/// its agent heard it was to stop (a job runs at least once, as in SwarmKit): the checker
/// now counts the completions of tasks the managers did not order to stop (unit test
/// `seed_206_a_completed_task_the_managers_ordered_to_stop_is_not_counted`).
#[test]
fn seed_206_a_job_task_replaced_while_its_node_was_down_is_not_counted_twice() {
    let config = SimConfig::new(206).with_size(3, 2).with_steps(12);
    if let Err(failure) = run_seed(&config) {
        panic!("{failure}");
    }
}

/// Seed 265 (3 managers, 2 workers, 12 steps): a join request delivered twice (the network
/// duplicated it) made two node records; the one no node ran stayed `Unknown` for good. A
/// manager now answers a repeated join (same certificate request and token) with its first
/// answer (unit test
/// `seed_265_a_join_request_delivered_twice_gets_its_first_answer_and_the_memory_is_bounded`).
#[test]
fn seed_265_a_join_delivered_twice_makes_one_node() {
    let config = SimConfig::new(265).with_size(3, 2).with_steps(12);
    if let Err(failure) = run_seed(&config) {
        panic!("{failure}");
    }
}

/// Seed 734 (3 managers, 2 workers, 12 steps): a global job's task on w2 completed after the
/// managers had ordered it to stop; the reconciler counts w2 done and starts nothing more
/// there, and the checker now does the same (unit test
/// `seed_734_a_node_whose_only_completion_was_ordered_to_stop_is_done`).
#[test]
fn seed_734_a_global_job_node_done_by_a_task_ordered_to_stop_converges() {
    let config = SimConfig::new(734).with_size(3, 2).with_steps(12);
    if let Err(failure) = run_seed(&config) {
        panic!("{failure}");
    }
}

/// Seed 1484 (3 managers, 2 workers, 12 steps): j1's join failed after the managers had
/// written its record; the record, never registered, stayed `Unknown`, and a global service's
/// task waited for it. The liveness phase now removes such records (forced, as an operator
/// would).
#[test]
fn seed_1484_a_lost_joins_record_is_removed_before_convergence() {
    let config = SimConfig::new(1484).with_size(3, 2).with_steps(12);
    if let Err(failure) = run_seed(&config) {
        panic!("{failure}");
    }
}

/// Seed 7 (3 managers, 1 worker, 30 steps) fails a write of m2's disk: its Raft member stops
/// on the storage error, the run stops m2 like a crashed manager, and m2 comes back on the
/// disk as it was kept; every invariant holds.
#[test]
fn seed_7_a_manager_whose_disk_failed_a_write_stops_and_comes_back() {
    let config = SimConfig::new(7).with_size(3, 1).with_steps(30);
    let report = match run_seed(&config) {
        Ok(report) => report,
        Err(failure) => panic!("{failure}"),
    };
    let lines = report.trace.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("disk of m2 fails its next write")),
        "the fault was drawn"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("disk: m2 failed a write, stopped")),
        "m2 stopped on its failed write"
    );
}

/// Seed 1830 (3 managers, 2 workers, 12 steps) removed w2 (`node rm --force`) 0.8 s after a
/// task of a crashing service ended there; the orchestrator replaced it at once, as for a
/// node failure, and `restart_limits_hold` read that as a restart before its delay. The
/// history now counts a removed node as failed.
#[test]
fn seed_1830_a_task_replaced_after_its_node_was_removed_is_no_early_restart() {
    let config = SimConfig::new(1830).with_size(3, 2).with_steps(12);
    if let Err(failure) = run_seed(&config) {
        panic!("{failure}");
    }
}

/// Seed 6359 (3 managers, 2 workers, 12 steps) drained m2 after a task of a crashing service
/// had used its last restart there: the task keeps its slot and its desired state by design
/// (the policy gave up), and `no_task_on_unavailable_node` counted it as meant to run on the
/// drained node. The invariant now leaves out a task that ended and whose policy gave up.
#[test]
fn seed_6359_a_task_whose_restart_policy_gave_up_on_a_drained_node_is_not_meant_to_run() {
    let config = SimConfig::new(6359).with_size(3, 2).with_steps(12);
    if let Err(failure) = run_seed(&config) {
        panic!("{failure}");
    }
}

/// Seed 9113 (3 managers, 3 workers, 16 steps): a round's commit ended "commit status unknown"
/// while the cluster changed leaders; the next round, planned on a copy without those writes,
/// created a global job's task for node m2 again, and both ran there once the first writes
/// committed after all (`slot_runs_once`). A round with a write of unknown fate now takes the
/// orchestration fence anew and re-reads the state before planning, so a late write fails.
#[test]
fn seed_9113_a_round_whose_commit_status_is_unknown_is_not_planned_again_blind() {
    let config = SimConfig::new(9113).with_size(3, 3).with_steps(16);
    if let Err(failure) = run_seed(&config) {
        panic!("{failure}");
    }
}

/// Seeds 8923 and 8948 (3 managers, 3 workers, 16 steps): an update of a service whose tasks
/// turn unhealthy 3 s after they start, and whose restart policy (a window) never runs out of
/// attempts, stayed `updating` for good: the update counted the restarts of its tasks as its
/// own, so with one of five replicas always restarting its watch never ended
/// (`update_status_ends`). An update now watches only the tasks it created (scenario test
/// `an_update_completes_while_restarts_of_its_tasks_go_on`).
#[test]
fn seed_8923_an_update_ends_while_its_tasks_keep_restarting() {
    for seed in [8923, 8948] {
        let config = SimConfig::new(seed).with_size(3, 3).with_steps(16);
        if let Err(failure) = run_seed(&config) {
            panic!("{failure}");
        }
    }
}
