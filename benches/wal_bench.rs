//! WAL micro-benchmark: closed-loop appenders of 256-byte records on `DiskLogStorage` with
//! fsync on, showing group commit (many appends per `fdatasync`).
//!
//! ```text
//! cargo run --release -p benches --bin wal_bench [-- --appenders 1,16,64,256 --seconds 3 --dir PATH --cipher chacha20]
//! ```
//!
//! One line per scenario:
//! `wal appenders=64 cipher=none appends_per_s=... fsyncs_per_s=... appends_per_fsync=... p50_ms=... p99_ms=...`
//!
//! `--cipher chacha20` seals every record with ChaCha20-Poly1305 (ring; the testkit's
//! `TestCipher`) to show the cost of at-rest encryption.

use std::sync::Arc;
use std::time::{Duration, Instant};
use swarm_store::storage::disk::{DiskLogOptions, DiskLogStorage};
use swarm_store::storage::{LogRecord, LogStorage, StorageError};
use swarm_store::testkit::TestCipher;
use tokio::sync::Mutex;

/// Bytes of each record's payload.
const RECORD_BYTES: usize = 256;

struct Args {
    cipher: bool,
    appenders: Vec<usize>,
    seconds: u64,
    dir: Option<std::path::PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        cipher: false,
        appenders: vec![1, 16, 64, 256],
        seconds: 3,
        dir: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--appenders" => {
                args.appenders = value
                    .split(',')
                    .map(|v| {
                        v.trim()
                            .parse()
                            .map_err(|e| format!("--appenders {v}: {e}"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--seconds" => args.seconds = value.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--dir" => args.dir = Some(value.into()),
            "--cipher" if value == "chacha20" => args.cipher = true,
            "--cipher" if value == "none" => args.cipher = false,
            "--cipher" => return Err(format!("--cipher {value}: expected none or chacha20")),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(args)
}

async fn scenario(
    dir: &std::path::Path,
    appenders: usize,
    run: Duration,
    cipher: bool,
) -> Result<(), StorageError> {
    let mut options = DiskLogOptions::default();
    if cipher {
        options = options.with_cipher(TestCipher::shared(7));
    }
    let log = DiskLogStorage::open(dir, options)?;
    let next = Arc::new(Mutex::new(1u64));
    let deadline = Instant::now() + run;
    let payload = bytes::Bytes::from(vec![0xab; RECORD_BYTES]);
    let mut tasks = Vec::new();
    let start = Instant::now();
    for _ in 0..appenders {
        let (log, next, payload) = (log.clone(), next.clone(), payload.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let began = Instant::now();
                let ticket = {
                    // Indices must be contiguous: take the next one and append under the lock;
                    // the durable wait happens outside it, concurrently with other appenders.
                    let mut next = next.lock().await;
                    let ticket = log
                        .append(vec![LogRecord {
                            index: *next,
                            term: 1,
                            payload: payload.clone(),
                        }])
                        .await?;
                    *next += 1;
                    ticket
                };
                ticket.await?;
                latencies.push(began.elapsed());
            }
            Ok::<_, StorageError>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(
            task.await
                .map_err(|e| StorageError::Closed(format!("appender task: {e}")))??,
        );
    }
    let elapsed = start.elapsed().as_secs_f64();
    let stats = log.stats();
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "wal appenders={appenders} cipher={} appends_per_s={:.0} fsyncs_per_s={:.0} appends_per_fsync={:.1} p50_ms={:.2} p99_ms={:.2}",
        if cipher { "chacha20" } else { "none" },
        latencies.len() as f64 / elapsed,
        stats.syncs as f64 / elapsed,
        stats.records_written as f64 / stats.syncs.max(1) as f64,
        pct(0.50),
        pct(0.99),
    );
    Ok(())
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("wal_bench: {e}");
            std::process::exit(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wal_bench: runtime: {e}");
            std::process::exit(1);
        }
    };
    let base = args.dir.clone().unwrap_or_else(std::env::temp_dir);
    for &appenders in &args.appenders {
        let dir = match tempfile::tempdir_in(&base) {
            Ok(dir) => dir,
            Err(e) => {
                eprintln!("wal_bench: temp dir in {}: {e}", base.display());
                std::process::exit(1);
            }
        };
        if let Err(e) = runtime.block_on(scenario(
            dir.path(),
            appenders,
            Duration::from_secs(args.seconds),
            args.cipher,
        )) {
            eprintln!("wal_bench: appenders={appenders}: {e}");
            std::process::exit(1);
        }
    }
}
