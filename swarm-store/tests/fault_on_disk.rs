//! The fault tests of `fault_cluster` with members on the disk storage: their log and snapshots
//! in files (fsync and all), dropped and reopened by crashes. Its log writer and snapshot files
//! work on OS threads, so a replay of a seed repeats the faults and client choices, not the
//! exact history.

mod fault_sim;

use fault_sim::Scenario;
use fault_sim::run::run_scenario;

/// Seeds of the on-disk variant (real files and fsync: slower), on top of the others.
const SEEDS_ON_DISK: u64 = 10;

#[test]
fn three_members_on_disk() {
    run_scenario(
        Scenario {
            name: "three_members_on_disk",
            members: 3,
            snapshot_every: 40,
            duplicates: false,
            stale_reads: false,
            on_disk: true,
            wipe_on_restart: false,
        },
        50_000,
        SEEDS_ON_DISK,
    );
}
