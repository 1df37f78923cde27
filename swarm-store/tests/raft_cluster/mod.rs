//! Test support: clusters of store members in one process.
//!
//! Members talk over `testkit::inproc::InProcNetwork` (seeded; no faults unless a test sets
//! them).
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::collections::BTreeMap;
use swarm_store::storage::{MemLogStorage, MemSnapshotStore};
use swarm_store::testkit::agreed_leader;
use swarm_store::testkit::inproc::InProcNetwork;
use swarm_store::{MemberId, Store, StoreConfig, StoreRpc};

/// Storage that survives a member's restart.
#[derive(Clone, Default)]
pub struct MemberDisk {
    pub log: MemLogStorage,
    pub snapshots: MemSnapshotStore,
}

pub struct Cluster {
    pub net: InProcNetwork,
    pub stores: BTreeMap<u64, Store>,
    pub disks: BTreeMap<u64, MemberDisk>,
    pub tweak: fn(StoreConfig) -> StoreConfig,
}

pub fn config(id: u64) -> StoreConfig {
    StoreConfig::new(MemberId(id), format!("member-{id}")).fast_failover()
}

impl Cluster {
    pub fn new() -> Self {
        Cluster {
            net: InProcNetwork::new(7),
            stores: BTreeMap::new(),
            disks: BTreeMap::new(),
            tweak: |c| c,
        }
    }

    /// Starts (or restarts) member `id` on its storage.
    pub async fn start(&mut self, id: u64) -> Store {
        self.start_with(id, |c| c).await
    }

    pub async fn start_with(
        &mut self,
        id: u64,
        f: impl FnOnce(StoreConfig) -> StoreConfig,
    ) -> Store {
        let disk = self.disks.entry(id).or_default().clone();
        let rpc = StoreRpc::new();
        self.net.crash(MemberId(id));
        self.net.register(MemberId(id), rpc.clone());
        let transport = self.net.endpoint(MemberId(id));
        let cfg = f((self.tweak)(config(id)));
        let store = Store::open(cfg, disk.log, disk.snapshots, transport, &rpc)
            .await
            .expect("open store");
        self.stores.insert(id, store.clone());
        store
    }

    /// Stops member `id` (its storage is kept).
    pub async fn stop(&mut self, id: u64) {
        if let Some(s) = self.stores.remove(&id) {
            s.shutdown().await.expect("shutdown");
        }
        self.net.crash(MemberId(id));
    }

    pub fn store(&self, id: u64) -> &Store {
        &self.stores[&id]
    }

    /// A cluster of `n` voters, member 1 bootstrapped first.
    pub async fn voters(n: u64) -> Self {
        Self::voters_with(n, |c| c).await
    }

    pub async fn voters_with(n: u64, tweak: fn(StoreConfig) -> StoreConfig) -> Self {
        let mut c = Cluster::new();
        c.tweak = tweak;
        let first = c.start(1).await;
        first.bootstrap().await.expect("bootstrap");
        for id in 2..=n {
            c.start(id).await;
            first
                .add_learner(MemberId(id), format!("member-{id}"))
                .await
                .expect("add learner");
            first.promote(MemberId(id), false).await.expect("promote");
        }
        c
    }

    /// The member every running member agrees leads.
    pub async fn leader(&self) -> u64 {
        let members = self.stores.iter().map(|(id, s)| (*id, s)).collect();
        agreed_leader(&members, 200)
            .await
            .expect("no agreed leader")
    }

    /// Some member that is not the leader.
    pub async fn follower(&self) -> u64 {
        let l = self.leader().await;
        *self.stores.keys().find(|id| **id != l).expect("a follower")
    }
}
