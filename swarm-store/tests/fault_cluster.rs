//! Fault tests: 3- and 5-member clusters over the in-process network, under partitions (the
//! leader cut off, minorities split away, one-way links), crashes and restarts of members on
//! their storage, and lossy, slow, duplicating links, while clients write, compare-and-swap and
//! read linearizably through any member.
//!
//! Every seed runs in a fresh single-threaded tokio runtime on a paused clock; the network's
//! faults, the fault schedule and the clients' choices all derive from the seed. After the
//! faults stop, a liveness phase heals everything, restarts every member and requires a leader,
//! a successful write and every member converging on the same documents. Then the recorded
//! client history is checked: no acknowledged write lost, every read linearizable.
//!
//! `SWARM_SEED=<seed>` runs one seed of each test, `SWARM_SEEDS=<n>` runs `n` seeds per test
//! (soak); `SWARM_LOG=1` prints the fault log of passing seeds too (a failing seed always
//! prints it, with its replay command).
//!
//! `SWARM_TRACE=1` (with `SWARM_LOG=1`) also prints every client operation and every message
//! event of the network with its virtual time in microseconds: diff two runs' traces to find
//! where they part ways.
//!
//! Replay: a seed replays exactly. The network's faults, the fault schedule, the clients'
//! choices and every member's Raft randomness (election timeouts, the tick's phase, snapshot
//! transfer ids, through `StoreConfig::raft_rng_seed`: one stream per member and start) derive
//! from the seed; everything runs on one thread on a paused clock; every `select!` on the
//! simulated paths is biased (openraft's selects and ours), and openraft's watch channels wake
//! their waiters in registration order. Two runs of one seed, in one process or in two, print
//! the same fault log (every fault at the same virtual millisecond, every member ending in the
//! same term, log, commit, snapshot and revision, the same message counters) and the same
//! history fingerprint: `seeds_replay_exactly` and `seeds_replay_exactly_in_a_fresh_process`
//! check it on seeds with crashes, partitions, lossy links, duplicates and snapshots. What is
//! not covered:
//! - the on-disk variant (`three_members_on_disk`): its log writer and snapshot files work on
//!   OS threads, whose real timing against the simulation decides the order of events at one
//!   virtual instant; its replays repeat the faults and client choices, not the exact history.
//!
//! The store's applied-index channel uses the same registration-order watch, the snapshot
//! builder encodes inline when the Raft seed is set (`StoreRuntime::run_background`), and a
//! seeded member derives its request-id origin from its seed, so message bytes repeat too.
//!
//! Two deliberately broken variants prove the check has teeth: clients reading stale local
//! state, and members restarting with their storage wiped, are caught within a few seeds.

#![allow(clippy::unwrap_used)] // test code: setup failures should fail loudly

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use swarm_store::storage::disk::{DiskLogOptions, DiskLogStorage, DiskSnapshotStore};
use swarm_store::storage::{
    AppendTicket, LogPosition, LogRecord, LogState, LogStorage, MemLogStorage, MemSnapshotStore,
    SnapshotStore, StorageError, StoredSnapshot,
};
use swarm_store::testkit::SplitMix64;
use swarm_store::testkit::check::{
    CheckConfig, History, Op, OpId, Outcome, Output, Verdict, check,
};
use swarm_store::testkit::inproc::{InProcNetwork, LinkFaults};
use swarm_store::transport::TransportError;
use swarm_store::{MemberId, Store, StoreConfig, StoreError, StoreRpc};
use tokio::time::Instant;

/// Seeds per test in the normal run (two tests of each size: 2 × 70 + 2 × 30 = 200).
const SEEDS_THREE_MEMBERS: u64 = 140;
const SEEDS_FIVE_MEMBERS: u64 = 60;
/// Seeds of the on-disk variant (real files and fsync: slower), on top of the others.
const SEEDS_ON_DISK: u64 = 10;
/// Virtual time the faults last.
const FAULT_PHASE: Duration = Duration::from_secs(2);
/// The store's request deadline inside the simulation.
const CLIENT_REQUEST_TIMEOUT_MS: u64 = 1_000;
/// Virtual time allowed for the cluster to recover after the faults stop.
const RECOVERY_DEADLINE: Duration = Duration::from_secs(30);
/// Concurrent clients.
const CLIENTS: u64 = 3;
/// Keys the clients work on (few, so operations collide).
const KEYS: u64 = 3;
/// The collection the clients use.
const COLLECTION: &str = "kv";
/// Where the members' Raft seeds start among the seed's derived streams (clients use
/// 1000 + client, the fault schedule 7).
const RAFT_SEED_STREAM: u64 = 1 << 32;
/// Prefix of the fault log's lines when `SWARM_LOG` prints them.
const LOG_PREFIX: &str = "log| ";
/// Attempts at the final write and reads of the liveness phase.
const LIVENESS_ATTEMPTS: usize = 20;

type Kv = History<String, u64>;

#[derive(Clone, Copy, Debug)]
struct Scenario {
    name: &'static str,
    members: u64,
    /// Snapshot every this many entries (small: snapshots are built and installed during the run).
    snapshot_every: u64,
    /// Whether links also duplicate messages.
    duplicates: bool,
    /// Clients read with `get_local` (stale reads allowed) instead of linearizable `get`: a
    /// deliberately broken client that the check must catch.
    stale_reads: bool,
    /// Members keep their log and snapshots in files (the disk storage, fsync and all) instead
    /// of memory, and crashes drop and reopen them.
    on_disk: bool,
    /// A crashed member restarts with empty storage (its disk lost): breaks Raft's assumptions
    /// on purpose, so acknowledged writes can be lost and the check must say so.
    wipe_on_restart: bool,
}

/// One member's storage, kept across its restarts.
#[derive(Clone)]
enum Disk {
    Memory {
        log: MemLogStorage,
        snapshots: MemSnapshotStore,
    },
    /// Directories of the disk log and snapshot store.
    Files { log: PathBuf, snapshots: PathBuf },
}

/// Attempts at reopening a member's files while the crashed incarnation still holds the lock.
const REOPEN_ATTEMPTS: usize = 100;

/// Disk I/O in flight across the simulation. While it is non-zero, [`hold_clock`] keeps the
/// runtime busy so the paused clock does not jump ahead while a writer thread syncs a file
/// (which would look like a disk taking seconds per fsync and starve everything of time).
#[derive(Clone, Default)]
struct IoGate {
    in_flight: Arc<AtomicUsize>,
    started: Arc<tokio::sync::Notify>,
}

/// Counts one I/O operation for as long as it lives.
struct IoPass(Arc<AtomicUsize>);

impl IoGate {
    fn enter(&self) -> IoPass {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.started.notify_one();
        IoPass(self.in_flight.clone())
    }
}

impl Drop for IoPass {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Keeps virtual time still while disk I/O is in flight: spins (yielding, with tiny real
/// sleeps) until it completes.
async fn hold_clock(gate: IoGate) {
    loop {
        gate.started.notified().await;
        while gate.in_flight.load(Ordering::SeqCst) > 0 {
            std::thread::sleep(Duration::from_micros(20));
            tokio::task::yield_now().await;
        }
    }
}

/// A log whose operations are counted by an [`IoGate`].
struct GatedLog<L> {
    inner: L,
    gate: IoGate,
}

impl<L: LogStorage> LogStorage for GatedLog<L> {
    async fn append(&self, records: Vec<LogRecord>) -> Result<AppendTicket, StorageError> {
        let pass = self.gate.enter();
        let ticket = self.inner.append(records).await?;
        let (tx, gated) = AppendTicket::pending();
        tokio::spawn(async move {
            let result = ticket.await;
            drop(pass);
            let _ = tx.send(result);
        });
        Ok(gated)
    }
    async fn truncate(&self, index: u64) -> Result<(), StorageError> {
        let _pass = self.gate.enter();
        self.inner.truncate(index).await
    }
    async fn purge(&self, upto: LogPosition) -> Result<(), StorageError> {
        let _pass = self.gate.enter();
        self.inner.purge(upto).await
    }
    async fn read(&self, range: RangeInclusive<u64>) -> Result<Vec<LogRecord>, StorageError> {
        let _pass = self.gate.enter();
        self.inner.read(range).await
    }
    async fn state(&self) -> Result<LogState, StorageError> {
        self.inner.state().await
    }
    async fn save_vote(&self, vote: &[u8]) -> Result<(), StorageError> {
        let _pass = self.gate.enter();
        self.inner.save_vote(vote).await
    }
    async fn read_vote(&self) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.read_vote().await
    }
    async fn save_committed(&self, committed: Option<LogPosition>) -> Result<(), StorageError> {
        self.inner.save_committed(committed).await
    }
    async fn read_committed(&self) -> Result<Option<LogPosition>, StorageError> {
        self.inner.read_committed().await
    }
}

/// A snapshot store whose operations are counted by an [`IoGate`].
struct GatedSnapshots<S> {
    inner: S,
    gate: IoGate,
}

impl<S: SnapshotStore> SnapshotStore for GatedSnapshots<S> {
    async fn save(&self, snapshot: StoredSnapshot) -> Result<(), StorageError> {
        let _pass = self.gate.enter();
        self.inner.save(snapshot).await
    }
    async fn load(&self) -> Result<Option<StoredSnapshot>, StorageError> {
        let _pass = self.gate.enter();
        self.inner.load().await
    }
}

struct Sim {
    scenario: Scenario,
    seed: u64,
    net: InProcNetwork,
    disks: BTreeMap<u64, Disk>,
    /// Holds the members' directories (removed when the run ends).
    _dir: Option<tempfile::TempDir>,
    io: IoGate,
    running: Mutex<BTreeMap<u64, Store>>,
    clock: AtomicU64,
    history: Mutex<Kv>,
    log: Mutex<Vec<String>>,
    started: Instant,
    crashes: AtomicU64,
    crashed: Mutex<BTreeSet<u64>>,
    /// How many times each member was started (its Raft seed differs per start).
    starts: Mutex<BTreeMap<u64, u64>>,
    /// Client operations with their virtual times, when `SWARM_TRACE` is set.
    trace: Option<Mutex<Vec<String>>>,
}

impl Sim {
    fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::SeqCst)
    }

    /// Records a client event in the trace, if tracing.
    fn trace(&self, what: impl FnOnce() -> String) {
        if let Some(t) = &self.trace {
            let at = self.started.elapsed().as_micros();
            t.lock().unwrap().push(format!("{at:>10} us  {}", what()));
        }
    }

    fn note(&self, what: String) {
        let at = self.started.elapsed().as_millis();
        self.log.lock().unwrap().push(format!("{at:>6} ms  {what}"));
    }

    /// The settings of member `id` in its `start`-th life (0 = first).
    fn config(&self, id: u64, start: u64) -> StoreConfig {
        let mut c = StoreConfig::new(MemberId(id), format!("member-{id}")).fast_failover();
        // openraft's randomness (election timeouts, tick phase) derives from the seed too: one
        // stream per member and life, so a restart does not replay its previous timeouts.
        c.raft_rng_seed = Some(raft_seed(self.seed, id, start));
        c.snapshot_every_entries = self.scenario.snapshot_every;
        c.log_entries_kept_after_snapshot = self.scenario.snapshot_every / 2;
        // Clients give up sooner than in production, so the run drains quickly.
        c.request_timeout_ms = CLIENT_REQUEST_TIMEOUT_MS;
        c
    }

    fn store(&self, id: u64) -> Option<Store> {
        self.running.lock().unwrap().get(&id).cloned()
    }

    fn running_ids(&self) -> Vec<u64> {
        self.running.lock().unwrap().keys().copied().collect()
    }

    fn down_ids(&self) -> Vec<u64> {
        let running = self.running.lock().unwrap();
        (1..=self.scenario.members)
            .filter(|id| !running.contains_key(id))
            .collect()
    }

    async fn start(&self, id: u64) -> Result<Store, String> {
        let start = {
            let mut starts = self.starts.lock().unwrap();
            let n = starts.entry(id).or_insert(0);
            *n += 1;
            *n - 1
        };
        let rpc = StoreRpc::new();
        self.net.register(MemberId(id), rpc.clone());
        let transport = self.net.endpoint(MemberId(id));
        let opened = match self.disks[&id].clone() {
            Disk::Memory { .. } if self.scenario.wipe_on_restart && self.crashed_before(id) => {
                let (log, snapshots) = (MemLogStorage::new(), MemSnapshotStore::new());
                Store::open(self.config(id, start), log, snapshots, transport, &rpc).await
            }
            Disk::Memory { log, snapshots } => {
                Store::open(self.config(id, start), log, snapshots, transport, &rpc).await
            }
            Disk::Files { log, snapshots } => {
                // The crashed incarnation may still hold the log's lock for a moment.
                let mut attempt = 0;
                let log = loop {
                    match DiskLogStorage::open(&log, DiskLogOptions::default()) {
                        Ok(l) => break l,
                        Err(e) if attempt < REOPEN_ATTEMPTS => {
                            attempt += 1;
                            let _ = e;
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                        Err(e) => return Err(format!("member {id}: reopening its log: {e}")),
                    }
                };
                let snapshots = DiskSnapshotStore::open(&snapshots)
                    .map_err(|e| format!("member {id}: opening its snapshots: {e}"))?;
                let log = GatedLog {
                    inner: log,
                    gate: self.io.clone(),
                };
                let snapshots = GatedSnapshots {
                    inner: snapshots,
                    gate: self.io.clone(),
                };
                Store::open(self.config(id, start), log, snapshots, transport, &rpc).await
            }
        };
        let store = opened.map_err(|e| format!("member {id} failed to open: {e}"))?;
        self.running.lock().unwrap().insert(id, store.clone());
        Ok(store)
    }

    fn crashed_before(&self, id: u64) -> bool {
        self.crashed.lock().unwrap().contains(&id)
    }

    async fn crash(&self, id: u64) {
        self.crashes.fetch_add(1, Ordering::SeqCst);
        self.crashed.lock().unwrap().insert(id);
        let store = self.running.lock().unwrap().remove(&id);
        self.net.crash(MemberId(id));
        if let Some(store) = store {
            let _ = tokio::time::timeout(Duration::from_secs(5), store.shutdown()).await;
        }
    }

    /// The leader the running members know of, if they agree and it runs.
    fn agreed_leader(&self) -> Option<u64> {
        let running = self.running.lock().unwrap();
        let leaders: BTreeSet<Option<MemberId>> = running.values().map(|s| s.leader()).collect();
        match leaders.into_iter().collect::<Vec<_>>().as_slice() {
            [Some(l)] if running.contains_key(&l.0) => Some(l.0),
            _ => None,
        }
    }

    /// Any leader some running member knows of.
    fn some_leader(&self) -> Option<u64> {
        let running = self.running.lock().unwrap();
        running
            .values()
            .filter_map(|s| s.leader())
            .map(|l| l.0)
            .find(|l| running.contains_key(l))
    }
}

/// The Raft seed of member `id` in its `start`-th life during the run of `seed`.
fn raft_seed(seed: u64, id: u64, start: u64) -> u64 {
    SplitMix64::derive(seed, RAFT_SEED_STREAM + (id << 16) + start).next_u64()
}

/// Records one client operation around `run`.
async fn record<F>(sim: &Sim, client: u64, key: &str, op: Op<u64>, run: F)
where
    F: std::future::Future<Output = Result<Output<u64>, bool>>,
{
    sim.trace(|| format!("client {client} invokes {op:?} on {key}"));
    let id: OpId = {
        let at = sim.tick();
        sim.history
            .lock()
            .unwrap()
            .invoke(client, key.to_owned(), op, at)
    };
    let result = run.await;
    sim.trace(|| format!("client {client} gets {result:?}"));
    let at = sim.tick();
    let mut history = sim.history.lock().unwrap();
    match result {
        Ok(output) => history.complete(id, output, at).unwrap(),
        // Definitely no effect.
        Err(true) => history.fail(id).unwrap(),
        // May or may not have taken effect: stays pending.
        Err(false) => {}
    }
}

/// Whether a write's error proves it had no effect. The store only returns `NotLeader` /
/// `NoLeader` after every attempt was refused before being proposed (openraft's
/// `ForwardToLeader` means "rejected before its entry was appended"), and the in-process
/// network's "not running" means the request was never delivered. Everything else (timeouts,
/// lost connections, a member stopping mid-way) leaves the write pending: it may or may not
/// have taken effect.
fn no_effect(e: &StoreError) -> bool {
    if std::env::var("SWARM_ERRORS").is_ok() {
        eprintln!("write error: {e:?}");
    }
    match e {
        StoreError::NotLeader { .. } | StoreError::NoLeader => true,
        StoreError::Transport(TransportError::Unreachable { detail, .. }) => {
            detail == "member is not running"
        }
        _ => false,
    }
}

async fn client(sim: Arc<Sim>, client: u64, stop: Arc<AtomicBool>) {
    let mut rng = SplitMix64::derive(sim.seed, 1000 + client);
    let mut counter = 0u64;
    // The last (value, version) this client saw per key, for compare-and-swap.
    let mut seen: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    while !stop.load(Ordering::SeqCst) {
        let ids = sim.running_ids();
        if ids.is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        let member = ids[rng.below(ids.len() as u64) as usize];
        sim.trace(|| format!("client {client} picks member {member}"));
        let Some(store) = sim.store(member) else {
            continue;
        };
        let kv = store.collection::<u64>(COLLECTION);
        let key = format!("k{}", rng.below(KEYS));
        counter += 1;
        let value = (client << 32) | counter;
        match rng.below(10) {
            0..=3 => {
                record(&sim, client, &key, Op::Write(value), async {
                    match kv.put(&key, &value).await {
                        Ok(_) => Ok(Output::Done),
                        Err(e) => Err(no_effect(&e)),
                    }
                })
                .await;
            }
            4..=5 => match seen.get(&key).copied() {
                Some((old, version)) => {
                    let op = Op::Cas {
                        expected: Some(old),
                        new: Some(value),
                    };
                    let mut learned = None;
                    record(&sim, client, &key, op, async {
                        match kv.update(&key, &value, version).await {
                            Ok(v) => {
                                learned = Some((value, v));
                                Ok(Output::Cas(true))
                            }
                            // The precondition was evaluated by the state machine: no effect.
                            Err(StoreError::Conflict { .. } | StoreError::NotFound { .. }) => {
                                Ok(Output::Cas(false))
                            }
                            Err(e) => Err(no_effect(&e)),
                        }
                    })
                    .await;
                    if let Some(l) = learned {
                        seen.insert(key.clone(), l);
                    } else {
                        seen.remove(&key);
                    }
                }
                None => {
                    let op = Op::Cas {
                        expected: None,
                        new: Some(value),
                    };
                    record(&sim, client, &key, op, async {
                        match kv.create(&key, &value).await {
                            Ok(_) => Ok(Output::Cas(true)),
                            Err(StoreError::AlreadyExists { .. }) => Ok(Output::Cas(false)),
                            Err(e) => Err(no_effect(&e)),
                        }
                    })
                    .await;
                }
            },
            _ => {
                let mut learned = None;
                let stale = sim.scenario.stale_reads;
                record(&sim, client, &key, Op::Read, async {
                    let result = if stale {
                        kv.get_local(&key)
                    } else {
                        kv.get(&key).await
                    };
                    match result {
                        Ok(doc) => {
                            learned = doc.as_ref().map(|d| (d.value, d.version));
                            Ok(Output::Read(doc.map(|d| d.value)))
                        }
                        Err(_) => Err(true),
                    }
                })
                .await;
                match learned {
                    Some(l) => seen.insert(key.clone(), l),
                    None => seen.remove(&key),
                };
            }
        }
        tokio::time::sleep(Duration::from_millis(rng.below(25))).await;
    }
}

/// Something the fault schedule undoes later.
#[derive(Debug)]
enum Undo {
    Rejoin(u64),
    HealLink(u64, u64),
    HealAll,
    Restart(u64),
    ClearFaults,
}

async fn nemesis(sim: Arc<Sim>) -> Result<(), String> {
    let mut rng = SplitMix64::derive(sim.seed, 7);
    let n = sim.scenario.members;
    let max_down = ((n - 1) / 2) as usize;
    let end = Instant::now() + FAULT_PHASE;
    let mut undo: Vec<(Instant, Undo)> = Vec::new();
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(rng.between(100, 500))).await;
        // Undo what is due.
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) = undo.into_iter().partition(|(at, _)| *at <= now);
        undo = later;
        for (_, u) in due {
            sim.note(format!("undo {u:?}"));
            match u {
                Undo::Rejoin(id) => sim.net.rejoin(MemberId(id)),
                Undo::HealLink(a, b) => sim.net.heal_link(MemberId(a), MemberId(b)),
                Undo::HealAll => sim.net.heal(),
                Undo::Restart(id) => {
                    sim.start(id).await?;
                }
                Undo::ClearFaults => sim.net.clear_faults(),
            }
        }
        let hold = Instant::now() + Duration::from_millis(rng.between(200, 1500));
        let pick = |rng: &mut SplitMix64| 1 + rng.below(n);
        match rng.below(6) {
            0 => {
                if let Some(leader) = sim.some_leader() {
                    sim.note(format!("isolate leader {leader}"));
                    sim.net.isolate(MemberId(leader));
                    undo.push((hold, Undo::Rejoin(leader)));
                }
            }
            1 | 2 => {
                // Crash the leader or a random member, keeping a majority up.
                let victim = if rng.chance(0.5) {
                    sim.some_leader()
                } else {
                    Some(pick(&mut rng))
                };
                if let Some(id) = victim {
                    if sim.down_ids().len() < max_down && sim.store(id).is_some() {
                        sim.note(format!("crash {id}"));
                        sim.crash(id).await;
                        undo.push((hold, Undo::Restart(id)));
                    }
                }
            }
            3 => {
                let drop = rng.below(25) as f64 / 100.0;
                let delay_max = Duration::from_millis(rng.below(40));
                let dup = if sim.scenario.duplicates {
                    rng.below(15) as f64 / 100.0
                } else {
                    0.0
                };
                let faults = LinkFaults::none()
                    .with_drop_probability(drop)
                    .with_delay(Duration::ZERO, delay_max)
                    .with_duplicate_probability(dup);
                sim.note(format!("links: {faults:?}"));
                sim.net.set_default_faults(faults)?;
                undo.push((hold, Undo::ClearFaults));
            }
            4 => {
                // A random minority split away from the rest.
                let mut ids: Vec<u64> = (1..=n).collect();
                for i in (1..ids.len()).rev() {
                    ids.swap(i, rng.below(i as u64 + 1) as usize);
                }
                let cut = 1 + rng.below(max_down as u64) as usize;
                let (minority, majority) = ids.split_at(cut);
                let minority: Vec<MemberId> = minority.iter().map(|&i| MemberId(i)).collect();
                let majority: Vec<MemberId> = majority.iter().map(|&i| MemberId(i)).collect();
                sim.note(format!("split {minority:?} from {majority:?}"));
                sim.net.split(&[&minority, &majority]);
                undo.push((hold, Undo::HealAll));
            }
            _ => {
                let (a, b) = (pick(&mut rng), pick(&mut rng));
                if a != b {
                    sim.note(format!("one-way partition {a} -> {b}"));
                    sim.net.partition_one_way(MemberId(a), MemberId(b));
                    undo.push((hold, Undo::HealLink(a, b)));
                }
            }
        }
    }
    Ok(())
}

/// Waits until all running members agree on a running leader.
async fn wait_for_agreed_leader(sim: &Sim, deadline: Instant) -> Result<u64, String> {
    loop {
        if let Some(l) = sim.agreed_leader() {
            return Ok(l);
        }
        if Instant::now() >= deadline {
            return Err("no agreed leader after the faults stopped".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Retries `f` until it succeeds, up to [`LIVENESS_ATTEMPTS`].
async fn eventually<T, F, Fut>(what: &str, mut f: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let mut last = String::new();
    for _ in 0..LIVENESS_ATTEMPTS {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!(
        "{what} kept failing after the faults stopped: {last}"
    ))
}

async fn liveness(sim: &Sim) -> Result<(), String> {
    sim.note("liveness: heal, clear faults, restart everyone".into());
    sim.net.heal();
    sim.net.clear_faults();
    for id in sim.down_ids() {
        sim.start(id).await?;
    }
    let deadline = Instant::now() + RECOVERY_DEADLINE;
    let leader = wait_for_agreed_leader(sim, deadline).await?;
    sim.note(format!("liveness: leader {leader}"));

    // A write through every member succeeds.
    for id in 1..=sim.scenario.members {
        let kv = sim.store(id).unwrap().collection::<u64>(COLLECTION);
        let key = format!("final-{id}");
        let value = id;
        let at = sim.tick();
        let op = sim
            .history
            .lock()
            .unwrap()
            .invoke(0, key.clone(), Op::Write(value), at);
        eventually(&format!("a write through member {id}"), || {
            kv.put(&key, &value)
        })
        .await?;
        let at = sim.tick();
        sim.history
            .lock()
            .unwrap()
            .complete(op, Output::Done, at)
            .unwrap();
    }

    // Linearizable reads of every key through every member, recorded.
    let keys: Vec<String> = (0..KEYS)
        .map(|k| format!("k{k}"))
        .chain((1..=sim.scenario.members).map(|id| format!("final-{id}")))
        .collect();
    let mut final_values: BTreeMap<String, Option<u64>> = BTreeMap::new();
    for id in 1..=sim.scenario.members {
        let kv = sim.store(id).unwrap().collection::<u64>(COLLECTION);
        for key in &keys {
            let at = sim.tick();
            let op = sim
                .history
                .lock()
                .unwrap()
                .invoke(0, key.clone(), Op::Read, at);
            let doc = eventually(&format!("a read through member {id}"), || kv.get(key)).await?;
            let value = doc.map(|d| d.value);
            let at = sim.tick();
            sim.history
                .lock()
                .unwrap()
                .complete(op, Output::Read(value), at)
                .unwrap();
            final_values.insert(key.clone(), value);
        }
    }

    // Every member converges: its local (stale-allowed) state equals the linearizable one.
    let leader_store = sim.store(leader).unwrap();
    let target = eventually("reading the revision", || leader_store.revision()).await?;
    let deadline = Instant::now() + RECOVERY_DEADLINE;
    for id in 1..=sim.scenario.members {
        let store = sim.store(id).unwrap();
        while store.local_revision() < target {
            if Instant::now() >= deadline {
                return Err(format!(
                    "member {id} stuck at revision {} < {target}",
                    store.local_revision()
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let kv = store.collection::<u64>(COLLECTION);
        for key in &keys {
            let local = kv
                .get_local(key)
                .map_err(|e| format!("local read on member {id}: {e}"))?
                .map(|d| d.value);
            let expected = final_values[key];
            if local != expected && store.local_revision() == target {
                return Err(format!(
                    "member {id} diverged on {key}: {local:?}, cluster says {expected:?}"
                ));
            }
        }
    }
    Ok(())
}

/// No write acknowledged to a client is missing at the end. Values are unique, so each key's
/// final value (read by the liveness phase) names the write that produced it; a write that was
/// acknowledged and started after that one had returned should have replaced it: it was lost.
/// (Clients never delete, so an absent key with an acknowledged write is a loss too.) This is
/// implied by linearizability; it is checked on its own for a direct message.
fn check_no_lost_write(history: &Kv) -> Result<(), String> {
    let ops = history.ops();
    let mut final_read: BTreeMap<&str, Option<u64>> = BTreeMap::new();
    for op in ops {
        if let (
            0,
            Op::Read,
            Outcome::Returned {
                output: Output::Read(v),
                ..
            },
        ) = (op.client, &op.op, &op.outcome)
        {
            final_read.insert(&op.key, *v);
        }
    }
    let writes_value = |op: &Op<u64>, v: u64| match op {
        Op::Write(w) => *w == v,
        Op::Cas { new, .. } => *new == Some(v),
        _ => false,
    };
    for (key, value) in final_read {
        let producer = match value {
            Some(v) => match ops.iter().find(|o| o.key == key && writes_value(&o.op, v)) {
                Some(p) => Some(p),
                None => return Err(format!("key {key} holds {v}, which no client wrote")),
            },
            None => None,
        };
        let producer_returned = producer.map(|p| match p.outcome {
            Outcome::Returned { at, .. } => at,
            _ => u64::MAX,
        });
        for o in ops.iter().filter(|o| o.key == key) {
            let acknowledged = matches!(
                (&o.op, &o.outcome),
                (Op::Write(_), Outcome::Returned { .. })
                    | (
                        Op::Cas { .. },
                        Outcome::Returned {
                            output: Output::Cas(true),
                            ..
                        }
                    )
            );
            if !acknowledged {
                continue;
            }
            match producer_returned {
                None => {
                    return Err(format!(
                        "lost write: key {key} is absent at the end, but {:?} by client {} was acknowledged",
                        o.op, o.client
                    ));
                }
                Some(returned) if o.invoked_at > returned => {
                    return Err(format!(
                        "lost write: key {key} ends with {value:?}, but {:?} by client {} started after that value was written and was acknowledged",
                        o.op, o.client
                    ));
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

/// A digest of the whole client history (every operation with its client, key, arguments,
/// outcome and logical times): FNV-1a over its debug form, stable across processes, platforms
/// and toolchains, so fingerprints printed by different runs compare.
fn fingerprint(history: &Kv) -> u64 {
    const FNV_OFFSET: u64 = 0xCBF2_9CE4_8422_2325;
    const FNV_PRIME: u64 = 0x0000_0100_0000_01B3;
    format!("{:?}", history.ops())
        .bytes()
        .fold(FNV_OFFSET, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(FNV_PRIME)
        })
}

/// What one seed did, to prove the runs are not vacuous.
#[derive(Default)]
struct Run {
    ops: usize,
    fingerprint: u64,
    messages: u64,
    /// Client writes acknowledged during the faults (writes and successful compare-and-swaps).
    acknowledged_writes: usize,
    /// Client reads that returned during the faults.
    reads: usize,
    /// Client writes whose outcome is unknown.
    pending: usize,
    crashes: u64,
    /// Whether some member had built or installed a snapshot by the end.
    snapshotted: bool,
    /// The fault log (virtual times, faults, where every member ended).
    log: Vec<String>,
}

async fn simulate(scenario: Scenario, seed: u64) -> Result<Run, (String, Vec<String>)> {
    // The store hands every call its own deadline (what is left of the request's, or
    // openraft's per-RPC time to live), so the network's default per-call timeout is unused.
    let net = InProcNetwork::new(seed);
    let dir = scenario.on_disk.then(|| tempfile::tempdir().unwrap());
    let disks = (1..=scenario.members)
        .map(|id| {
            let disk = match &dir {
                None => Disk::Memory {
                    log: MemLogStorage::new(),
                    snapshots: MemSnapshotStore::new(),
                },
                Some(d) => Disk::Files {
                    log: d.path().join(format!("member-{id}/log")),
                    snapshots: d.path().join(format!("member-{id}/snapshots")),
                },
            };
            (id, disk)
        })
        .collect();
    let sim = Arc::new(Sim {
        scenario,
        seed,
        net,
        disks,
        _dir: dir,
        io: IoGate::default(),
        running: Mutex::new(BTreeMap::new()),
        clock: AtomicU64::new(1),
        history: Mutex::new(History::new()),
        log: Mutex::new(Vec::new()),
        started: Instant::now(),
        crashes: AtomicU64::new(0),
        crashed: Mutex::new(BTreeSet::new()),
        starts: Mutex::new(BTreeMap::new()),
        trace: std::env::var("SWARM_TRACE")
            .is_ok()
            .then(|| Mutex::new(Vec::new())),
    });
    if sim.trace.is_some() {
        sim.net.enable_trace();
    }
    // A failure names the history so far by its fingerprint: a replay of the seed reaches the
    // same failure with the same fingerprint.
    let fail = |sim: &Sim, e: String| {
        let (ops, print) = {
            let history = sim.history.lock().unwrap();
            (history.len(), fingerprint(&history))
        };
        (
            format!("{e}\nhistory fingerprint {print:016x} ({ops} operations)"),
            sim.log.lock().unwrap().clone(),
        )
    };
    let wall = std::time::Instant::now();
    let clock_holder = tokio::spawn(hold_clock(sim.io.clone()));

    // A healthy cluster first.
    let first = sim.start(1).await.map_err(|e| fail(&sim, e))?;
    first
        .bootstrap()
        .await
        .map_err(|e| fail(&sim, format!("bootstrap: {e}")))?;
    for id in 2..=scenario.members {
        sim.start(id).await.map_err(|e| fail(&sim, e))?;
        // The bootstrap membership may still be committing: retry (bounded).
        eventually(&format!("adding learner {id}"), || {
            first.add_learner(MemberId(id), format!("member-{id}"))
        })
        .await
        .map_err(|e| fail(&sim, e))?;
        eventually(&format!("promoting {id}"), || {
            first.promote(MemberId(id), false)
        })
        .await
        .map_err(|e| fail(&sim, e))?;
    }
    sim.note("cluster formed".into());
    let wall_formed = wall.elapsed();

    // Faults while clients work.
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (1..=CLIENTS)
        .map(|c| tokio::spawn(client(sim.clone(), c, stop.clone())))
        .collect();
    let faults = nemesis(sim.clone()).await;
    stop.store(true, Ordering::SeqCst);
    faults.map_err(|e| fail(&sim, e))?;
    for c in clients {
        // Clients finish their current operation within the store's request deadline.
        match tokio::time::timeout(RECOVERY_DEADLINE, c).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(fail(&sim, format!("client task failed: {e}"))),
            Err(_) => return Err(fail(&sim, "a client operation never returned".into())),
        }
    }

    sim.note("faults over".into());
    let wall_faults = wall.elapsed();
    liveness(&sim).await.map_err(|e| fail(&sim, e))?;
    sim.note("liveness over".into());
    let history = sim.history.lock().unwrap().clone();
    check_no_lost_write(&history).map_err(|e| fail(&sim, e))?;
    match check(&history, &CheckConfig::default()) {
        Verdict::Linearizable => {}
        other => {
            let mut stats: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
            for o in history.ops() {
                let e = stats.entry(&o.key).or_default();
                e.0 += 1;
                match o.outcome {
                    Outcome::Pending => e.1 += 1,
                    Outcome::Failed => e.2 += 1,
                    Outcome::Returned { .. } => {}
                }
            }
            if std::env::var("SWARM_DUMP").is_ok() {
                for o in history.ops() {
                    eprintln!("{o:?}");
                }
            }
            return Err(fail(
                &sim,
                format!("history check: {other}\nper key (ops, pending, failed): {stats:?}"),
            ));
        }
    }
    let stores: Vec<Store> = sim.running.lock().unwrap().values().cloned().collect();
    let snapshotted = stores.iter().any(|s| s.status().snapshot_index.is_some());
    // Where everyone ended, in the log too: a replay must end in the same place.
    for s in &stores {
        let st = s.status();
        sim.note(format!(
            "end: member {} {:?} term {} leader {:?} log {:?} committed {:?} applied {:?} snapshot {:?} purged {:?} revision {}",
            st.member.0,
            st.role,
            st.term,
            st.leader.map(|l| l.0),
            st.last_log_index,
            st.commit_index,
            st.applied_index,
            st.snapshot_index,
            st.purged_index,
            st.revision
        ));
    }
    sim.note(format!("end: network {:?}", sim.net.stats()));
    let log = sim.log.lock().unwrap().clone();
    if std::env::var("SWARM_LOG").is_ok() {
        for line in &log {
            println!("{LOG_PREFIX}{line}");
        }
        if let Some(t) = &sim.trace {
            for line in t.lock().unwrap().iter() {
                println!("trace| {line}");
            }
            let (events, missed) = sim.net.trace();
            for e in events {
                let at = e.at.duration_since(sim.started).as_micros();
                println!(
                    "trace| {at:>10} us  net {} -> {} {:?} {} bytes {:016x}",
                    e.from.0, e.to.0, e.kind, e.bytes, e.digest
                );
            }
            println!("trace| {missed} network events not kept");
        }
        println!(
            "seed {seed}: wall time {:?} to form the cluster, {:?} to the end of the faults, {:?} in all",
            wall_formed,
            wall_faults,
            wall.elapsed()
        );
    }
    for store in stores {
        let _ = store.shutdown().await;
    }
    clock_holder.abort();
    let during_faults = || history.ops().iter().filter(|o| o.client != 0);
    Ok(Run {
        ops: history.len(),
        fingerprint: fingerprint(&history),
        messages: sim.net.stats().delivered,
        acknowledged_writes: during_faults()
            .filter(|o| {
                matches!(
                    (&o.op, &o.outcome),
                    (Op::Write(_), Outcome::Returned { .. })
                        | (
                            Op::Cas { .. },
                            Outcome::Returned {
                                output: Output::Cas(true),
                                ..
                            }
                        )
                )
            })
            .count(),
        reads: during_faults()
            .filter(|o| matches!((&o.op, &o.outcome), (Op::Read, Outcome::Returned { .. })))
            .count(),
        pending: during_faults()
            .filter(|o| matches!(o.outcome, Outcome::Pending))
            .count(),
        crashes: sim.crashes.load(Ordering::SeqCst),
        snapshotted,
        log,
    })
}

/// Runs one seed in its own deterministic runtime.
fn run_seed(scenario: Scenario, seed: u64) -> Result<Run, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(simulate(scenario, seed))
    }));
    match outcome {
        Ok(Ok(run)) => Ok(run),
        Ok(Err((error, log))) => Err(format!("{error}\nfault log:\n  {}", log.join("\n  "))),
        Err(panic) => Err(format!(
            "panicked: {}",
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        )),
    }
}

/// The first line of a failure and its history fingerprint.
fn failure_summary(e: &str) -> String {
    let first = e.lines().next().unwrap_or("");
    match e.lines().find(|l| l.starts_with("history fingerprint")) {
        Some(print) => format!("{first} ({print})"),
        None => first.to_owned(),
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn seeds_to_run(first_seed: u64, seeds: u64) -> Vec<u64> {
    match env_u64("SWARM_SEED") {
        Some(seed) => vec![seed],
        None => {
            let n = env_u64("SWARM_SEEDS").unwrap_or(seeds);
            (first_seed..first_seed + n).collect()
        }
    }
}

fn run_scenario(scenario: Scenario, first_seed: u64, seeds: u64) {
    let seeds = seeds_to_run(first_seed, seeds);
    let mut total = Run::default();
    let mut seeds_with_acks = 0usize;
    let mut seeds_snapshotted = 0usize;
    for &seed in &seeds {
        match run_seed(scenario, seed) {
            Ok(run) => {
                if seeds.len() == 1 || std::env::var("SWARM_LOG").is_ok() {
                    println!(
                        "seed {seed}: {} operations ({} writes acknowledged, {} reads, {} pending), {} crashes, {} messages, history fingerprint {:016x}",
                        run.ops,
                        run.acknowledged_writes,
                        run.reads,
                        run.pending,
                        run.crashes,
                        run.messages,
                        run.fingerprint
                    );
                }
                seeds_with_acks += usize::from(run.acknowledged_writes > 0 && run.reads > 0);
                seeds_snapshotted += usize::from(run.snapshotted);
                total.ops += run.ops;
                total.acknowledged_writes += run.acknowledged_writes;
                total.reads += run.reads;
                total.pending += run.pending;
                total.crashes += run.crashes;
                total.messages += run.messages;
            }
            Err(e) => panic!(
                "{} failed for seed {seed}: {e}\nreplay: SWARM_SEED={seed} SWARM_LOG=1 cargo test -p swarm-store --test fault_cluster {} -- --exact --nocapture",
                scenario.name, scenario.name
            ),
        }
    }
    println!(
        "{}: {} seeds passed; {} operations checked ({} writes acknowledged, {} reads, {} pending); {} crashes; {} messages; {} seeds with snapshots",
        scenario.name,
        seeds.len(),
        total.ops,
        total.acknowledged_writes,
        total.reads,
        total.pending,
        total.crashes,
        total.messages,
        seeds_snapshotted
    );
    // The runs must have done something: clients made progress through the faults in most
    // seeds, and the faults happened.
    if seeds.len() >= 10 {
        assert!(
            seeds_with_acks * 10 >= seeds.len() * 9,
            "only {seeds_with_acks} of {} seeds acknowledged writes and reads during the faults",
            seeds.len()
        );
        assert!(total.crashes > 0, "no member was ever crashed");
        assert!(total.pending > 0, "no operation was ever left in doubt");
        if scenario.snapshot_every < 100 {
            assert!(seeds_snapshotted > 0, "no snapshot was ever built");
        }
    }
}

const THREE_MEMBERS: Scenario = Scenario {
    name: "three_members",
    members: 3,
    snapshot_every: 40,
    duplicates: false,
    stale_reads: false,
    on_disk: false,
    wipe_on_restart: false,
};

const THREE_MEMBERS_DUPLICATING_LINKS: Scenario = Scenario {
    name: "three_members_duplicating_links",
    members: 3,
    snapshot_every: 1000,
    duplicates: true,
    stale_reads: false,
    on_disk: false,
    wipe_on_restart: false,
};

const FIVE_MEMBERS: Scenario = Scenario {
    name: "five_members",
    members: 5,
    snapshot_every: 40,
    duplicates: false,
    stale_reads: false,
    on_disk: false,
    wipe_on_restart: false,
};

const FIVE_MEMBERS_DUPLICATING_LINKS: Scenario = Scenario {
    name: "five_members_duplicating_links",
    members: 5,
    snapshot_every: 1000,
    duplicates: true,
    stale_reads: false,
    on_disk: false,
    wipe_on_restart: false,
};

#[test]
fn three_members() {
    run_scenario(THREE_MEMBERS, 0, SEEDS_THREE_MEMBERS / 2);
}

#[test]
fn three_members_duplicating_links() {
    run_scenario(
        THREE_MEMBERS_DUPLICATING_LINKS,
        10_000,
        SEEDS_THREE_MEMBERS / 2,
    );
}

#[test]
fn five_members() {
    run_scenario(FIVE_MEMBERS, 20_000, SEEDS_FIVE_MEMBERS / 2);
}

#[test]
fn five_members_duplicating_links() {
    run_scenario(
        FIVE_MEMBERS_DUPLICATING_LINKS,
        30_000,
        SEEDS_FIVE_MEMBERS / 2,
    );
}

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

/// Seeds whose replay is checked, with crashes, partitions (isolated leader, split minority or
/// one-way link), lossy and slow links, snapshots (the 40-entry scenarios) and duplicated
/// messages among them: each is `(scenario, seed)`.
const REPLAY_CASES: [(Scenario, u64); 4] = [
    (THREE_MEMBERS, 5),
    (THREE_MEMBERS, 66),
    (FIVE_MEMBERS, 20_016),
    (THREE_MEMBERS_DUPLICATING_LINKS, 10_001),
];

fn run_ok(scenario: Scenario, seed: u64) -> Run {
    run_seed(scenario, seed).unwrap_or_else(|e| panic!("{} seed {seed}: {e}", scenario.name))
}

/// Asserts that two runs of one seed did exactly the same, naming the first difference.
fn assert_same_run(what: &str, a: &Run, b: &Run) {
    if let Some((i, (x, y))) = a
        .log
        .iter()
        .zip(&b.log)
        .enumerate()
        .find(|(_, (x, y))| x != y)
    {
        panic!("{what}: fault logs part at line {i}:\n  {x}\n  {y}");
    }
    assert_eq!(a.log.len(), b.log.len(), "{what}: fault log lengths");
    assert_eq!(
        (a.fingerprint, a.ops, a.messages, a.crashes),
        (b.fingerprint, b.ops, b.messages, b.crashes),
        "{what}: (history fingerprint, operations, messages, crashes)"
    );
}

/// A seed replays exactly: two runs in this process give the same fault log (every fault at the
/// same virtual millisecond, every member ending in the same term, log, commit, snapshot and
/// revision, the network's message counters) and the same client history, operation for
/// operation. The cases cover crashes, partitions, lossy links and snapshots.
#[test]
fn seeds_replay_exactly() {
    let mut covered = BTreeSet::new();
    for (scenario, seed) in REPLAY_CASES {
        let first = run_ok(scenario, seed);
        let again = run_ok(scenario, seed);
        assert_same_run(&format!("{} seed {seed}", scenario.name), &first, &again);
        let log = first.log.join("\n");
        for (kind, marker) in [
            ("crash", " crash "),
            ("partition", "isolate leader"),
            ("partition", "split "),
            ("partition", "one-way partition"),
            ("lossy links", "links: "),
        ] {
            if log.contains(marker) {
                covered.insert(kind);
            }
        }
        if first.snapshotted {
            covered.insert("snapshot");
        }
        if scenario.duplicates {
            covered.insert("duplicates");
        }
        println!(
            "{} seed {seed}: replayed, history fingerprint {:016x}, {} log lines",
            scenario.name,
            first.fingerprint,
            first.log.len()
        );
    }
    for kind in [
        "crash",
        "partition",
        "lossy links",
        "snapshot",
        "duplicates",
    ] {
        assert!(covered.contains(kind), "no replay case has a {kind}");
    }
}

/// A seed replays exactly in another process too (other OS-seeded hash keys, tokio and thread
/// RNGs, addresses): this test binary runs itself for one seed with `SWARM_SEED` and
/// `SWARM_LOG`, and the fault log and fingerprint it prints match a run in this process.
#[test]
fn seeds_replay_exactly_in_a_fresh_process() {
    let (scenario, seed) = REPLAY_CASES[0];
    let here = run_ok(scenario, seed);
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([scenario.name, "--exact", "--nocapture", "--test-threads=1"])
        .env("SWARM_SEED", seed.to_string())
        .env("SWARM_LOG", "1")
        .env_remove("SWARM_SEEDS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the replay process failed:\n{stdout}"
    );
    let log: Vec<String> = stdout
        .lines()
        // libtest's "test <name> ... " may start the first line.
        .filter_map(|l| {
            l.find(LOG_PREFIX)
                .map(|at| l[at + LOG_PREFIX.len()..].to_owned())
        })
        .collect();
    let fingerprint = stdout
        .lines()
        .find(|l| l.starts_with(&format!("seed {seed}:")) && l.contains("fingerprint"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|f| u64::from_str_radix(f, 16).ok())
        .unwrap_or_else(|| panic!("no fingerprint in the replay's output:\n{stdout}"));
    let there = Run {
        log,
        fingerprint,
        ops: here.ops,
        messages: here.messages,
        crashes: here.crashes,
        ..Run::default()
    };
    assert_same_run(
        &format!("{} seed {seed} in another process", scenario.name),
        &here,
        &there,
    );
    println!(
        "{} seed {seed}: history fingerprint {fingerprint:016x} in both processes",
        scenario.name
    );
}

/// The fingerprint is not vacuous: different seeds give different histories, fault logs and
/// fingerprints.
#[test]
fn different_seeds_give_different_fingerprints() {
    let runs: Vec<(u64, Run)> = [5, 6, 7]
        .into_iter()
        .map(|seed| (seed, run_ok(THREE_MEMBERS, seed)))
        .collect();
    for (i, (a, ra)) in runs.iter().enumerate() {
        for (b, rb) in &runs[i + 1..] {
            assert_ne!(
                ra.fingerprint, rb.fingerprint,
                "seeds {a} and {b}: same history fingerprint"
            );
            assert_ne!(ra.log, rb.log, "seeds {a} and {b}: same fault log");
        }
    }
}
