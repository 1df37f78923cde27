//! `Store::open` refuses configurations that would be unsafe in production.

#![allow(clippy::unwrap_used)] // test code: setup failures should fail loudly

use swarm_store::storage::{MemLogStorage, MemSnapshotStore};
use swarm_store::testkit::inproc::InProcNetwork;
use swarm_store::{MemberId, Store, StoreConfig, StoreError, StoreRpc};

async fn open_with_seed(seed: Option<u64>) -> Result<Store, StoreError> {
    let net = InProcNetwork::new(7);
    let rpc = StoreRpc::new();
    net.register(MemberId(1), rpc.clone());
    let mut cfg = StoreConfig::new(MemberId(1), "member-1".to_string());
    cfg.raft_rng_seed = seed;
    Store::open(
        cfg,
        MemLogStorage::default(),
        MemSnapshotStore::default(),
        net.endpoint(MemberId(1)),
        &rpc,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raft_seed_is_refused_on_a_multi_thread_runtime() {
    match open_with_seed(Some(42)).await {
        Err(StoreError::Invalid { field, detail }) => {
            assert_eq!(field, "raft_rng_seed");
            assert!(detail.contains("simulation"), "{detail}");
        }
        Err(other) => panic!("expected Invalid(raft_rng_seed), got {other}"),
        Ok(_) => panic!("a seeded store opened on a multi-thread runtime"),
    }
    // Without a seed the same runtime is fine.
    let store = open_with_seed(None).await.unwrap();
    store.shutdown().await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_raft_seed_is_accepted_on_a_current_thread_runtime() {
    let store = open_with_seed(Some(42)).await.unwrap();
    store.shutdown().await.unwrap();
}
