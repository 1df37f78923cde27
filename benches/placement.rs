//! Criterion bench of placement only on the scenarios S1–S4 (`benches/scenarios/README.md`): each
//! iteration gets a fresh engine holding the scenario's nodes (setup, not timed) and times
//! `Engine::schedule` on every pending group.
//!
//! ```text
//! cargo bench -p benches --bench placement
//! ```
#![allow(missing_docs)]

#[path = "scenarios/mod.rs"]
mod scenarios;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::time::Duration;

fn placement(c: &mut Criterion) {
    let mut g = c.benchmark_group("placement");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));
    for sc in scenarios::ALL {
        let nodes = sc.nodes();
        let groups = sc.groups();
        g.bench_function(sc.name(), |b| {
            b.iter_batched(
                || (scenarios::engine_with(nodes.clone()), groups.clone()),
                |(mut engine, groups)| {
                    let out = scenarios::place(&mut engine, groups);
                    assert_eq!(out.iter().map(|o| o.unplaced.len()).sum::<usize>(), 0);
                    (engine, out)
                },
                BatchSize::PerIteration,
            );
        });
    }
    g.finish();
}

criterion_group!(benches, placement);
criterion_main!(benches);
