//! The fault harness has teeth: two deliberately broken variants (clients reading stale local
//! state, members restarting with their storage wiped) are caught within a few seeds.

mod fault_sim;

use fault_sim::Scenario;
use fault_sim::run::{failure_summary, run_seed, seeds_to_run};

/// The harness has teeth: clients that read with `get_local` (a member's possibly stale state)
/// produce histories the checker rejects, within a few seeds.
#[test]
fn stale_local_reads_are_caught() {
    let scenario = Scenario {
        name: "stale_local_reads_are_caught",
        members: 3,
        snapshot_every: 1000,
        duplicates: false,
        stale_reads: true,
        on_disk: false,
        wipe_on_restart: false,
    };
    for seed in seeds_to_run(40_000, 30) {
        if let Err(e) = run_seed(scenario, seed) {
            assert!(
                e.contains("not linearizable") || e.contains("lost write"),
                "{e}"
            );
            println!(
                "seed {seed} caught the stale reads: {}",
                failure_summary(&e)
            );
            return;
        }
    }
    panic!("30 seeds of stale local reads all passed the linearizability check");
}

/// The harness has teeth for lost writes too: members that come back from a crash with their
/// storage wiped (which Raft does not tolerate) let a stale member win an election, and the
/// acknowledged writes it never had are reported lost within a few seeds.
#[test]
fn wiped_storage_loses_writes_and_is_caught() {
    let scenario = Scenario {
        name: "wiped_storage_loses_writes_and_is_caught",
        members: 3,
        snapshot_every: 1000,
        duplicates: false,
        stale_reads: false,
        on_disk: false,
        wipe_on_restart: true,
    };
    for seed in seeds_to_run(60_000, 40) {
        if let Err(e) = run_seed(scenario, seed) {
            println!("seed {seed}: {}", failure_summary(&e));
            if e.contains("lost write") || e.contains("not linearizable") {
                return;
            }
        }
    }
    panic!("40 seeds of wiped restarts never lost an acknowledged write");
}
