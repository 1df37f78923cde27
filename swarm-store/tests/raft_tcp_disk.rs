//! A three-member cluster over real TCP with mutual TLS on 127.0.0.1, on disk storage with
//! fsync: writes, a full stop, a restart of every member from its files.

use swarm_store::testkit::TcpCluster;
use swarm_store::{MemberId, StoreError, Txn};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_members_over_tls_survive_a_full_restart_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let tweak = |mut c: swarm_store::StoreConfig| {
        c = c.fast_failover();
        c.snapshot_every_entries = 40;
        c.log_entries_kept_after_snapshot = 5;
        c
    };
    let mut c = TcpCluster::start(3, dir.path().to_path_buf(), tweak).await;
    let leader = c.leader().await;
    let follower = (1..=3).find(|id| *id != leader).unwrap();
    let kv = c.store(follower).collection::<String>("kv");
    for i in 0..100 {
        kv.put(&format!("k{i:03}"), &format!("v{i}")).await.unwrap();
    }
    let kv_at_leader = c.store(leader).collection::<String>("kv");
    c.store(leader)
        .txn(
            Txn::new()
                .create(&kv_at_leader, "txn-a", &"a".to_string())
                .create(&kv_at_leader, "txn-b", &"b".to_string()),
        )
        .await
        .unwrap();
    let before = c.store(leader).revision().await.unwrap();
    assert!(c.store(leader).status().snapshot_index.is_some());

    // Stop everyone, then bring everyone back on the same files.
    for id in 1..=3 {
        c.stop(id).await;
    }
    for id in 1..=3 {
        c.restart(id).await;
    }
    let leader = c.leader().await;
    let kv = c.store(leader).collection::<String>("kv");
    let listing = kv.list("").await.unwrap();
    if listing.items.len() != 102 {
        let keys: Vec<_> = listing.items.iter().map(|v| v.key.clone()).collect();
        let statuses: Vec<_> = (1..=3).map(|id| c.store(id).status()).collect();
        panic!(
            "after restart: {} documents at revision {} (before: {before}); keys {keys:?}; {statuses:#?}",
            listing.items.len(),
            listing.revision
        );
    }
    assert_eq!(listing.revision, before);
    assert_eq!(kv.get("k042").await.unwrap().unwrap().value, "v42");
    let err = kv.create("txn-a", &"again".to_string()).await.unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists { .. }), "{err}");
    // The restarted cluster takes writes, through any member.
    let other = (1..=3).find(|id| *id != leader).unwrap();
    c.store(other)
        .collection::<String>("kv")
        .put("after", &"restart".to_string())
        .await
        .unwrap();
    assert_eq!(c.store(leader).status().voters().len(), 3);
    assert_eq!(c.store(leader).status().leader, Some(MemberId(leader)));
    c.shutdown().await;
}
