//! The invariants bite: each deliberate bug of `swarm_core::sim::Sabotage`, switched on for a
//! run, makes the invariant that guards against it fail within 100 seeds, and the same seeds
//! pass without it.

use swarm_core::sim::{Sabotage, SimConfig, run_seed};

/// The most seeds a switch may take to be caught.
const MAX_SEEDS: u64 = 100;

/// The seed that first catches `sabotage`, after checking that the failure names the
/// invariant that guards against it.
fn first_caught(sabotage: Sabotage) -> u64 {
    for seed in 0..MAX_SEEDS {
        let config = SimConfig::new(seed)
            .with_size(1, 1)
            .with_steps(8)
            .with_sabotage(sabotage);
        if let Err(failure) = run_seed(&config) {
            let expected = format!("invariant {} broken", sabotage.caught_by());
            assert!(
                failure.reason.contains(&expected),
                "{sabotage:?} made seed {seed} fail otherwise than by {}: {failure}",
                sabotage.caught_by()
            );
            eprintln!("{sabotage:?} caught by seed {seed}: {}", failure.reason);
            return seed;
        }
    }
    panic!(
        "{sabotage:?} was not caught by {} within {MAX_SEEDS} seeds",
        sabotage.caught_by()
    );
}

/// The seed that caught a switch holds every invariant without it (the failure was the
/// switch's doing).
fn holds_without_sabotage(seed: u64) {
    let config = SimConfig::new(seed).with_size(1, 1).with_steps(8);
    if let Err(failure) = run_seed(&config) {
        panic!("seed {seed} fails without sabotage too: {failure}");
    }
}

#[test]
fn a_dispatcher_sending_every_secret_breaks_secret_only_where_referenced() {
    let seed = first_caught(Sabotage::SkipSecretFilter);
    holds_without_sabotage(seed);
}

#[test]
fn a_store_dropping_an_acknowledged_write_breaks_acknowledged_writes_kept() {
    let seed = first_caught(Sabotage::DropAcknowledgedWrite);
    holds_without_sabotage(seed);
}

#[test]
fn an_orchestrator_double_starting_a_slot_breaks_slot_runs_once() {
    let seed = first_caught(Sabotage::DoubleStartSlot);
    holds_without_sabotage(seed);
}
