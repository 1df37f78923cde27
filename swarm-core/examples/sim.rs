//! Runs a campaign of simulated seeds and prints its summary line.
//!
//! ```text
//! cargo run --release -p swarm-mode-core --features testkit --example sim -- --seeds 0..100
//! cargo run --release -p swarm-mode-core --features testkit --example sim -- --seeds 7..8 --trace
//! ```
//!
//! Options: `--seeds A..B` (default `0..10`), `--managers N` (1, 3, 5; default 3),
//! `--workers N` (default 3), `--steps N` (default 30), `--no-faults`, `--trace` (print every
//! seed's trace), `--trace-messages` (with a line per network message event), `--check-replay`
//! (run every seed twice and compare the trace hashes), `--sabotage NAME` (switch a deliberate
//! bug on: `skip-secret-filter`, `drop-acknowledged-write`, `double-start-slot`; the seeds must
//! then fail).
//! Every seed prints `seed=<n> hash=<trace hash>`; a failing seed prints its reason and the tail
//! of its trace. Exits 1 if a seed failed or did not replay.

use std::process::ExitCode;
use swarm_core::sim::{Sabotage, SimConfig, run_seed, run_seeds};

struct Args {
    seeds: std::ops::Range<u64>,
    config: SimConfig,
    trace: bool,
    check_replay: bool,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        seeds: 0..10,
        config: SimConfig::new(0),
        trace: false,
        check_replay: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--seeds" => {
                let v = value("--seeds")?;
                let (a, b) = v
                    .split_once("..")
                    .ok_or(format!("--seeds takes A..B, got {v}"))?;
                let a = a.parse().map_err(|e| format!("--seeds start: {e}"))?;
                let b = b.parse().map_err(|e| format!("--seeds end: {e}"))?;
                args.seeds = a..b;
            }
            "--managers" => {
                args.config.managers = value("--managers")?
                    .parse()
                    .map_err(|e| format!("--managers: {e}"))?;
            }
            "--workers" => {
                args.config.workers = value("--workers")?
                    .parse()
                    .map_err(|e| format!("--workers: {e}"))?;
            }
            "--steps" => {
                args.config.steps = value("--steps")?
                    .parse()
                    .map_err(|e| format!("--steps: {e}"))?;
            }
            "--no-faults" => args.config.faults = false,
            "--trace" => args.trace = true,
            "--trace-messages" => {
                args.trace = true;
                args.config.trace_messages = true;
            }
            "--check-replay" => args.check_replay = true,
            "--sabotage" => {
                let v = value("--sabotage")?;
                let sabotage =
                    Sabotage::parse(&v).ok_or(format!("--sabotage: no switch named {v}"))?;
                args.config.sabotage = Some(sabotage);
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    args.config.validate()?;
    Ok(args)
}

fn main() -> ExitCode {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("sim: {e}");
            return ExitCode::from(2);
        }
    };
    let mut replay_failures = 0u64;
    let summary = run_seeds(&args.config, args.seeds.clone(), |outcome| match outcome {
        Ok(report) => {
            println!("seed={} hash={:016x}", report.seed, report.trace_hash);
            if args.trace {
                for line in report.trace.lines() {
                    println!("  {line}");
                }
            }
            if args.check_replay {
                let again = run_seed(&SimConfig {
                    seed: report.seed,
                    ..args.config.clone()
                });
                let hash = again
                    .as_ref()
                    .map_or_else(|f| f.trace_hash, |r| r.trace_hash);
                if hash != report.trace_hash {
                    replay_failures += 1;
                    println!(
                        "seed={} did not replay: hash {:016x} then {hash:016x}",
                        report.seed, report.trace_hash
                    );
                }
            }
        }
        Err(failure) => println!("{failure}"),
    });
    println!("{summary} replay_failures={replay_failures}");
    if summary.failures.is_empty() && replay_failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
