//! Store benchmark: three members over TCP with mutual TLS on 127.0.0.1, disk storage with
//! fsync, in a fresh temporary directory. Closed-loop clients write 256-byte values at several
//! in-flight levels, then read linearizably.
//!
//! ```text
//! cargo run --release -p benches --bin store_bench
//! cargo run --release -p benches --bin store_bench -- --inflight 1,64 --seconds 5
//! ```
//!
//! Flags: `--inflight 1,16,64,256` (write rows; reads run at those of 1 and 64 given),
//! `--seconds N` (longest time per row, default 10), `--ops N` (most operations per row,
//! default 20000), `--threads N` (runtime worker threads for the whole process, default
//! `WORKER_THREADS`), `--snapshot-every N` (log entries between snapshots, default the
//! `StoreConfig` default), `--inflight-batches N` (`StoreConfig::max_inflight_batches`, default
//! the `StoreConfig` default), `--appends-in-flight N` (`StoreConfig::max_appends_in_flight`,
//! default the `StoreConfig` default), `--commit-notice-hold-ms N`
//! (`StoreConfig::commit_notice_hold_ms`, 0 sends commit notices at once; default the
//! `StoreConfig` default), `--value-bytes N` (encoded size of each value, default 256),
//! `--txn-docs N` (documents each write transaction puts, default 1), `--member-dir ID=DIR`
//! (keep member ID's log and snapshots in a new directory under DIR, e.g. `2=/dev/shm`, to see
//! whose `fdatasync` a write waits for; repeatable), `--no-reads`, `--no-writes`.
//!
//! One line per row: `write inflight=64 ops_per_s=23456 p50_ms=2.1 p99_ms=6.3`; an operation is
//! one transaction, and with `--txn-docs` above 1 the line also names the transaction's shape
//! and the documents written per second (`txn_docs=256 value_bytes=2048 ... docs_per_s=`), e.g. the orchestrator's case of many task documents per
//! transaction: `--value-bytes 2048 --txn-docs 256`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use swarm_store::testkit::TcpCluster;
use swarm_store::{Collection, StoreConfig};

/// `--snapshot-every` for the cluster harness's config function (0: the default).
static SNAPSHOT_EVERY: AtomicU64 = AtomicU64::new(0);

/// `--inflight-batches` for the cluster harness's config function (0: the default).
static INFLIGHT_BATCHES: AtomicU64 = AtomicU64::new(0);

/// `--appends-in-flight` for the cluster harness's config function (0: the default).
static APPENDS_IN_FLIGHT: AtomicU64 = AtomicU64::new(0);

/// `--commit-notice-hold-ms` for the cluster harness's config function (`u64::MAX`: the default).
static COMMIT_NOTICE_HOLD_MS: AtomicU64 = AtomicU64::new(u64::MAX);

/// Default encoded value size: a JSON string of 254 characters plus its two quotes.
const VALUE_BYTES: usize = 256;

struct Args {
    inflight: Vec<usize>,
    read_inflight: Vec<usize>,
    seconds: u64,
    ops: u64,
    threads: usize,
    /// `StoreConfig::snapshot_every_entries` for every member (`None`: the default).
    snapshot_every: Option<u64>,
    /// `StoreConfig::max_inflight_batches` for every member (`None`: the default).
    inflight_batches: Option<u64>,
    /// `StoreConfig::max_appends_in_flight` for every member (`None`: the default).
    appends_in_flight: Option<u64>,
    /// `StoreConfig::commit_notice_hold_ms` for every member (`None`: the default).
    commit_notice_hold_ms: Option<u64>,
    /// Encoded size of each value (a JSON string: this many bytes with its quotes).
    value_bytes: usize,
    /// Documents each write transaction puts.
    txn_docs: usize,
    /// Members whose data goes elsewhere than the cluster's directory: (member id, parent dir).
    member_dirs: Vec<(u64, std::path::PathBuf)>,
}

/// Parses `ID=DIR` of `--member-dir`.
fn parse_member_dir(v: &str) -> Result<(u64, std::path::PathBuf), String> {
    let (id, dir) = v
        .split_once('=')
        .ok_or_else(|| format!("--member-dir: expected ID=DIR, got {v:?}"))?;
    let id = id
        .parse::<u64>()
        .ok()
        .filter(|n| (1..=3).contains(n))
        .ok_or_else(|| format!("--member-dir: member id {id:?} is not 1, 2 or 3"))?;
    if dir.is_empty() {
        return Err("--member-dir: empty directory".to_owned());
    }
    Ok((id, std::path::PathBuf::from(dir)))
}

fn parse_list(flag: &str, v: &str) -> Result<Vec<usize>, String> {
    v.split(',')
        .map(|x| {
            x.trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{flag}: {x:?} is not a positive number"))
        })
        .collect()
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        inflight: vec![1, 16, 64, 256],
        read_inflight: vec![1, 64],
        seconds: 10,
        ops: 20_000,
        threads: WORKER_THREADS,
        snapshot_every: None,
        inflight_batches: None,
        appends_in_flight: None,
        commit_notice_hold_ms: None,
        value_bytes: VALUE_BYTES,
        txn_docs: 1,
        member_dirs: Vec::new(),
    };
    let mut reads = true;
    let mut writes = true;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |flag: &str| it.next().ok_or_else(|| format!("{flag} needs a value"));
        match a.as_str() {
            "--inflight" => {
                let list = parse_list("--inflight", &value("--inflight")?)?;
                args.read_inflight = list
                    .iter()
                    .copied()
                    .filter(|n| *n == 1 || *n == 64)
                    .collect();
                args.inflight = list;
            }
            "--seconds" => {
                args.seconds = value("--seconds")?
                    .parse()
                    .map_err(|e| format!("--seconds: {e}"))?
            }
            "--ops" => args.ops = value("--ops")?.parse().map_err(|e| format!("--ops: {e}"))?,
            "--threads" => {
                args.threads = value("--threads")?
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or("--threads: expected a positive number")?
            }
            "--snapshot-every" => {
                args.snapshot_every = Some(
                    value("--snapshot-every")?
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or("--snapshot-every: expected a positive number of entries")?,
                )
            }
            "--inflight-batches" => {
                args.inflight_batches = Some(
                    value("--inflight-batches")?
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or("--inflight-batches: expected a positive number of entries")?,
                )
            }
            "--appends-in-flight" => {
                args.appends_in_flight = Some(
                    value("--appends-in-flight")?
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or("--appends-in-flight: expected a positive number of messages")?,
                )
            }
            "--commit-notice-hold-ms" => {
                args.commit_notice_hold_ms = Some(
                    value("--commit-notice-hold-ms")?
                        .parse()
                        .ok()
                        .filter(|n| *n <= swarm_store::MAX_COMMIT_NOTICE_HOLD_MS)
                        .ok_or(format!(
                            "--commit-notice-hold-ms: expected milliseconds from 0 to {}",
                            swarm_store::MAX_COMMIT_NOTICE_HOLD_MS
                        ))?,
                )
            }
            "--value-bytes" => {
                args.value_bytes = value("--value-bytes")?
                    .parse()
                    .ok()
                    .filter(|n| *n >= 2)
                    .ok_or("--value-bytes: expected a number of bytes of at least 2")?
            }
            "--txn-docs" => {
                args.txn_docs = value("--txn-docs")?
                    .parse()
                    .ok()
                    .filter(|n| (1..=swarm_store::MAX_TXN_OPS).contains(n))
                    .ok_or(format!(
                        "--txn-docs: expected a number from 1 to {}",
                        swarm_store::MAX_TXN_OPS
                    ))?
            }
            "--member-dir" => {
                let (id, dir) = parse_member_dir(&value("--member-dir")?)?;
                args.member_dirs.retain(|(m, _)| *m != id);
                args.member_dirs.push((id, dir));
            }
            "--no-reads" => reads = false,
            "--no-writes" => writes = false,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if !reads {
        args.read_inflight.clear();
    }
    if !writes {
        args.inflight.clear();
    }
    Ok(args)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// Runs `inflight` closed-loop clients until `ops` operations or `seconds` elapse.
async fn run_row<F, Fut>(inflight: usize, seconds: u64, ops: u64, op: F) -> (f64, Vec<Duration>)
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), swarm_store::StoreError>> + Send,
{
    let op = Arc::new(op);
    let issued = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..inflight {
        let (op, issued) = (op.clone(), issued.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let n = issued.fetch_add(1, Ordering::Relaxed);
                if n >= ops || Instant::now() >= deadline {
                    break;
                }
                let t = Instant::now();
                if let Err(e) = op(n).await {
                    eprintln!("operation failed: {e}");
                    continue;
                }
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap_or_default());
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort();
    (all.len() as f64 / elapsed, all)
}

fn print_row(kind: &str, inflight: usize, rate: f64, lat: &[Duration]) {
    println!(
        "{kind} inflight={inflight} ops_per_s={:.0} p50_ms={:.3} p99_ms={:.3}",
        rate,
        percentile(lat, 0.50),
        percentile(lat, 0.99)
    );
}

/// Runtime threads for the whole process. The three members share one process here (etcd runs
/// three), so give it two threads per member.
const WORKER_THREADS: usize = 6;

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("store_bench: {e}");
            std::process::exit(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("store_bench: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    runtime.block_on(bench(args));
}

async fn bench(args: Args) {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("store_bench: cannot create a temporary directory: {e}");
            std::process::exit(1);
        }
    };
    eprintln!(
        "# 3 members, TCP+mTLS on 127.0.0.1, disk storage with fsync in {}",
        dir.path().display()
    );
    // A member kept elsewhere: its directory under the cluster's root is a link to a new
    // directory there, removed with it at the end.
    let mut elsewhere = Vec::new();
    for (id, parent) in &args.member_dirs {
        let made = tempfile::Builder::new()
            .prefix(&format!("store-bench-member-{id}-"))
            .tempdir_in(parent)
            .and_then(|d| {
                std::os::unix::fs::symlink(d.path(), dir.path().join(id.to_string())).map(|()| d)
            });
        match made {
            Ok(d) => {
                eprintln!("# member-{id} keeps its data in {}", d.path().display());
                elsewhere.push(d);
            }
            Err(e) => {
                eprintln!("store_bench: --member-dir {id}={}: {e}", parent.display());
                std::process::exit(1);
            }
        }
    }
    // The harness takes a plain function; the settings passed through go via statics.
    if let Some(n) = args.snapshot_every {
        SNAPSHOT_EVERY.store(n, Ordering::Relaxed);
    }
    if let Some(n) = args.inflight_batches {
        INFLIGHT_BATCHES.store(n, Ordering::Relaxed);
    }
    if let Some(n) = args.appends_in_flight {
        APPENDS_IN_FLIGHT.store(n, Ordering::Relaxed);
    }
    if let Some(ms) = args.commit_notice_hold_ms {
        COMMIT_NOTICE_HOLD_MS.store(ms, Ordering::Relaxed);
    }
    let cluster = TcpCluster::start(3, dir.path().to_path_buf(), |mut c: StoreConfig| {
        if let n @ 1.. = SNAPSHOT_EVERY.load(Ordering::Relaxed) {
            c.snapshot_every_entries = n;
        }
        if let n @ 1.. = INFLIGHT_BATCHES.load(Ordering::Relaxed) {
            c.max_inflight_batches = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let n @ 1.. = APPENDS_IN_FLIGHT.load(Ordering::Relaxed) {
            c.max_appends_in_flight = usize::try_from(n).unwrap_or(usize::MAX);
        }
        let hold_ms = COMMIT_NOTICE_HOLD_MS.load(Ordering::Relaxed);
        if hold_ms != u64::MAX {
            c.commit_notice_hold_ms = hold_ms;
        }
        c
    })
    .await;
    let leader = cluster.leader().await;
    eprintln!("# leader: member-{leader}");
    let kv: Collection<String> = cluster.store(leader).collection("bench");
    let value = "v".repeat(args.value_bytes - 2);
    let store = cluster.store(leader).clone();
    let docs = args.txn_docs;
    let mut row = 0u64;
    let mut written = 0u64;
    for &inflight in &args.inflight {
        row += 1;
        let (kv, value, store) = (kv.clone(), value.clone(), store.clone());
        let (rate, lat) = run_row(inflight, args.seconds, args.ops, move |n| {
            let (kv, value, store) = (kv.clone(), value.clone(), store.clone());
            async move {
                if docs == 1 {
                    return kv.put(&format!("r{row}/{n:08}"), &value).await.map(|_| ());
                }
                let mut txn = swarm_store::Txn::new();
                for d in 0..docs {
                    txn = txn.put(&kv, &format!("r{row}/{n:08}/{d:03}"), &value);
                }
                store.txn(txn).await.map(|_| ())
            }
        })
        .await;
        written = if docs == 1 { lat.len() as u64 } else { 0 };
        if docs == 1 {
            print_row("write", inflight, rate, &lat);
        } else {
            println!(
                "write inflight={inflight} txn_docs={docs} value_bytes={} ops_per_s={rate:.0} \
                 docs_per_s={:.0} p50_ms={:.3} p99_ms={:.3}",
                args.value_bytes,
                rate * docs as f64,
                percentile(&lat, 0.50),
                percentile(&lat, 0.99)
            );
        }
    }
    if !args.read_inflight.is_empty() {
        // Reads need documents: use the last write row's, or write a few.
        if written == 0 {
            row += 1;
            for n in 0..1000 {
                if let Err(e) = kv.put(&format!("r{row}/{n:08}"), &value).await {
                    eprintln!("store_bench: preparing reads failed: {e}");
                    std::process::exit(1);
                }
            }
            written = 1000;
        }
        let keys = written.max(1);
        for &inflight in &args.read_inflight {
            let kv = kv.clone();
            let (rate, lat) = run_row(inflight, args.seconds, args.ops, move |n| {
                let kv = kv.clone();
                async move {
                    let key = format!("r{row}/{:08}", n % keys);
                    kv.get(&key).await.map(|_| ())
                }
            })
            .await;
            print_row("read", inflight, rate, &lat);
        }
    }
    cluster.shutdown().await;
    drop(elsewhere);
}
