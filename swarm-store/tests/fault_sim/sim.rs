//! The simulated cluster of one seed: its network, members, storage, client history and fault
//! log.

use super::storage::{Disk, GatedLog, GatedSnapshots, IoGate, REOPEN_ATTEMPTS};
use super::{CLIENT_REQUEST_TIMEOUT_MS, Kv, RAFT_SEED_STREAM, Scenario};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use swarm_store::storage::disk::{DiskLogOptions, DiskLogStorage, DiskSnapshotStore};
use swarm_store::storage::{MemLogStorage, MemSnapshotStore};
use swarm_store::testkit::SplitMix64;
use swarm_store::testkit::inproc::InProcNetwork;
use swarm_store::{MemberId, Store, StoreConfig, StoreRpc};
use tokio::time::Instant;

pub struct Sim {
    pub scenario: Scenario,
    pub seed: u64,
    pub net: InProcNetwork,
    pub disks: BTreeMap<u64, Disk>,
    /// Holds the members' directories (removed when the run ends).
    pub _dir: Option<tempfile::TempDir>,
    pub io: IoGate,
    pub running: Mutex<BTreeMap<u64, Store>>,
    pub clock: AtomicU64,
    pub history: Mutex<Kv>,
    pub log: Mutex<Vec<String>>,
    pub started: Instant,
    pub crashes: AtomicU64,
    pub crashed: Mutex<BTreeSet<u64>>,
    /// How many times each member was started (its Raft seed differs per start).
    pub starts: Mutex<BTreeMap<u64, u64>>,
    /// Client operations with their virtual times, when `SWARM_TRACE` is set.
    pub trace: Option<Mutex<Vec<String>>>,
}

impl Sim {
    pub fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::SeqCst)
    }

    /// Records a client event in the trace, if tracing.
    pub fn trace(&self, what: impl FnOnce() -> String) {
        if let Some(t) = &self.trace {
            let at = self.started.elapsed().as_micros();
            t.lock().unwrap().push(format!("{at:>10} us  {}", what()));
        }
    }

    pub fn note(&self, what: String) {
        let at = self.started.elapsed().as_millis();
        self.log.lock().unwrap().push(format!("{at:>6} ms  {what}"));
    }

    /// The settings of member `id` in its `start`-th life (0 = first).
    pub fn config(&self, id: u64, start: u64) -> StoreConfig {
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

    pub fn store(&self, id: u64) -> Option<Store> {
        self.running.lock().unwrap().get(&id).cloned()
    }

    pub fn running_ids(&self) -> Vec<u64> {
        self.running.lock().unwrap().keys().copied().collect()
    }

    pub fn down_ids(&self) -> Vec<u64> {
        let running = self.running.lock().unwrap();
        (1..=self.scenario.members)
            .filter(|id| !running.contains_key(id))
            .collect()
    }

    pub async fn start(&self, id: u64) -> Result<Store, String> {
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

    pub fn crashed_before(&self, id: u64) -> bool {
        self.crashed.lock().unwrap().contains(&id)
    }

    pub async fn crash(&self, id: u64) {
        self.crashes.fetch_add(1, Ordering::SeqCst);
        self.crashed.lock().unwrap().insert(id);
        let store = self.running.lock().unwrap().remove(&id);
        self.net.crash(MemberId(id));
        if let Some(store) = store {
            let _ = tokio::time::timeout(Duration::from_secs(5), store.shutdown()).await;
        }
    }

    /// The leader the running members know of, if they agree and it runs.
    pub fn agreed_leader(&self) -> Option<u64> {
        let running = self.running.lock().unwrap();
        let leaders: BTreeSet<Option<MemberId>> = running.values().map(|s| s.leader()).collect();
        match leaders.into_iter().collect::<Vec<_>>().as_slice() {
            [Some(l)] if running.contains_key(&l.0) => Some(l.0),
            _ => None,
        }
    }

    /// Any leader some running member knows of.
    pub fn some_leader(&self) -> Option<u64> {
        let running = self.running.lock().unwrap();
        running
            .values()
            .filter_map(|s| s.leader())
            .map(|l| l.0)
            .find(|l| running.contains_key(l))
    }
}

/// The Raft seed of member `id` in its `start`-th life during the run of `seed`.
pub fn raft_seed(seed: u64, id: u64, start: u64) -> u64 {
    SplitMix64::derive(seed, RAFT_SEED_STREAM + (id << 16) + start).next_u64()
}
