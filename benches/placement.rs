//! Criterion bench of placement only on the scenarios S1–S4 (`benches/scenarios/README.md`): each
//! iteration gets a fresh engine holding the scenario's nodes (setup, not timed) and times
//! `Engine::schedule` on every pending group. S7 (steady state) times one batch of 50 tasks
//! placed into an engine that holds 100,000 (the 50 tasks each batch replaces finish untimed).
//!
//! ```text
//! cargo bench -p benches --bench placement
//! ```
#![allow(missing_docs)]

#[path = "scenarios/mod.rs"]
mod scenarios;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::time::{Duration, Instant};

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
    let mut state = scenarios::steady::setup(scenarios::steady::nodes());
    let mut batch = 0usize;
    g.bench_function("S7", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                let group = scenarios::steady::prepare(&mut state, batch);
                let t0 = Instant::now();
                let out = state.engine.schedule(group).expect("within limits");
                spent += t0.elapsed();
                assert!(out.unplaced.is_empty());
                scenarios::steady::record(&mut state, batch, &out);
                batch += 1;
            }
            spent
        });
    });
    g.finish();
}

criterion_group!(benches, placement);
criterion_main!(benches);
