//! Replication round trips per write, counted in virtual time: three store members on the
//! in-process network with a fixed one-way delay on every link, memory storage, on one thread
//! under tokio's paused clock. Nothing but the link delay takes virtual time (memory storage,
//! no disk), so the time a write takes is the chain of messages it waits for: what a network
//! with real round trips (members on different hosts) adds to every write, and what
//! `StoreConfig::max_appends_in_flight` (pipelined AppendEntries) saves there. Loopback TCP, as
//! in `store_bench`, has round trips too short to show it. The figures are exact and repeat
//! run to run (seeded Raft randomness, one thread).
//!
//! ```text
//! cargo run --release -p benches --bin store_rtt_bench
//! cargo run --release -p benches --bin store_rtt_bench -- --delay-ms 5 --appends 1,2,4 --inflight 1,16
//! ```
//!
//! Flags: `--delay-ms N` (one-way delay of every message, default 1), `--appends 1,4`
//! (`StoreConfig::max_appends_in_flight` of each row; 1 is openraft's one round trip at a
//! time), `--inflight 1,16` (closed-loop writers), `--writes N` (writes per row, default 400).
//!
//! One line per row: `rtt delay_ms=1 appends_in_flight=4 inflight=1 writes=400
//! virtual_ms_per_write=2.00 writes_per_virtual_s=500`. With one writer a write needs at least
//! one round trip to a follower (2 × delay).

use std::time::Duration;
use swarm_store::storage::{MemLogStorage, MemSnapshotStore};
use swarm_store::testkit::inproc::{InProcNetwork, LinkFaults};
use swarm_store::{Collection, MemberId, Store, StoreConfig, StoreRpc};
use tokio::time::Instant;

/// Members of the cluster.
const MEMBERS: u64 = 3;

struct Args {
    delay_ms: u64,
    appends: Vec<usize>,
    inflight: Vec<usize>,
    writes: usize,
}

fn list(flag: &str, v: &str) -> Result<Vec<usize>, String> {
    v.split(',')
        .map(|x| match x.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("{flag}: expected positive numbers, got {x:?}")),
        })
        .collect()
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        delay_ms: 1,
        appends: vec![1, 4],
        inflight: vec![1, 16],
        writes: 400,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag}: missing value"));
        match flag.as_str() {
            "--delay-ms" => {
                args.delay_ms = value()?
                    .parse()
                    .map_err(|_| "--delay-ms: expected a number".to_owned())?
            }
            "--appends" => args.appends = list("--appends", &value()?)?,
            "--inflight" => args.inflight = list("--inflight", &value()?)?,
            "--writes" => {
                args.writes = value()?
                    .parse()
                    .map_err(|_| "--writes: expected a number".to_owned())?
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(args)
}

fn config(id: u64, appends: usize) -> StoreConfig {
    let mut c = StoreConfig::new(MemberId(id), format!("member-{id}"));
    c.max_appends_in_flight = appends;
    // One thread and a paused clock: seeded randomness replays the run exactly.
    c.raft_rng_seed = Some(0x5eed_0000 + id);
    c
}

/// Forms a three-member cluster on `net` and returns its stores, the leader first.
async fn cluster(net: &InProcNetwork, appends: usize) -> Result<Vec<Store>, String> {
    let mut stores = Vec::new();
    for id in 1..=MEMBERS {
        let rpc = StoreRpc::new();
        net.register(MemberId(id), rpc.clone());
        let store = Store::open(
            config(id, appends),
            MemLogStorage::default(),
            MemSnapshotStore::default(),
            net.endpoint(MemberId(id)),
            &rpc,
        )
        .await
        .map_err(|e| format!("open member {id}: {e}"))?;
        if id == 1 {
            store
                .bootstrap()
                .await
                .map_err(|e| format!("bootstrap: {e}"))?;
        } else {
            let first: &Store = &stores[0];
            first
                .add_learner(MemberId(id), format!("member-{id}"))
                .await
                .map_err(|e| format!("add member {id}: {e}"))?;
            first
                .promote(MemberId(id), false)
                .await
                .map_err(|e| format!("promote member {id}: {e}"))?;
        }
        stores.push(store);
    }
    Ok(stores)
}

/// One row: `inflight` closed-loop writers share `writes` puts (rounded up to a multiple of
/// `inflight`); returns the writes made, virtual ms per write of one writer and writes per
/// virtual second.
async fn row(args: &Args, appends: usize, inflight: usize) -> Result<(usize, f64, f64), String> {
    let net = InProcNetwork::new(11);
    let stores = cluster(&net, appends).await?;
    // The delay is set once the cluster has formed, so formation is not measured.
    let delay = Duration::from_millis(args.delay_ms);
    net.set_default_faults(LinkFaults::none().with_delay(delay, delay))?;
    let kv: Collection<String> = stores[0].collection("rtt");
    // Warm up: the first writes after the delay is set.
    for n in 0..8 {
        kv.put(&format!("warm/{n}"), &"v".to_owned())
            .await
            .map_err(|e| format!("warm-up write: {e}"))?;
    }
    let per_writer = args.writes.div_ceil(inflight);
    let started = Instant::now();
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..inflight {
        let kv = kv.clone();
        writers.spawn(async move {
            for n in 0..per_writer {
                kv.put(&format!("w{w}/{n}"), &"v".repeat(254)).await?;
            }
            Ok::<(), swarm_store::StoreError>(())
        });
    }
    while let Some(done) = writers.join_next().await {
        done.map_err(|e| format!("writer: {e}"))?
            .map_err(|e| format!("write: {e}"))?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total = per_writer * inflight;
    for store in stores {
        store
            .shutdown()
            .await
            .map_err(|e| format!("shutdown: {e}"))?;
    }
    Ok((
        total,
        elapsed * 1000.0 / per_writer as f64,
        total as f64 / elapsed,
    ))
}

fn main() {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("store_rtt_bench: {e}");
            std::process::exit(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("store_rtt_bench: cannot build the runtime: {e}");
            std::process::exit(1);
        }
    };
    for &inflight in &args.inflight {
        for &appends in &args.appends {
            match runtime.block_on(row(&args, appends, inflight)) {
                Ok((writes, ms_per_write, per_s)) => println!(
                    "rtt delay_ms={} appends_in_flight={appends} inflight={inflight} writes={writes} \
                     virtual_ms_per_write={ms_per_write:.2} writes_per_virtual_s={per_s:.0}",
                    args.delay_ms,
                ),
                Err(e) => {
                    eprintln!(
                        "store_rtt_bench: appends_in_flight={appends} inflight={inflight}: {e}"
                    );
                    std::process::exit(1);
                }
            }
        }
    }
}
