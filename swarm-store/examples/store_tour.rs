//! A tour of the store API on a three-member in-process cluster with memory storage:
//! typed collections, compare-and-swap, transactions, linearizable and local reads, watches,
//! follower forwarding, leader transfer and status.
//!
//! ```text
//! cargo run -p swarm-mode-store --example store_tour
//! ```

use serde::{Deserialize, Serialize};
use swarm_store::storage::{MemLogStorage, MemSnapshotStore};
use swarm_store::testkit::inproc::InProcNetwork;
use swarm_store::{MemberId, Precondition, Store, StoreConfig, StoreError, StoreRpc, Txn};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Service {
    image: String,
    replicas: u32,
}

async fn member(net: &InProcNetwork, id: u64) -> Result<Store, StoreError> {
    let rpc = StoreRpc::new();
    net.register(MemberId(id), rpc.clone());
    let config = StoreConfig::new(MemberId(id), format!("member-{id}")).fast_failover();
    Store::open(
        config,
        MemLogStorage::new(),
        MemSnapshotStore::new(),
        net.endpoint(MemberId(id)),
        &rpc,
    )
    .await
}

#[tokio::main]
async fn main() -> Result<(), StoreError> {
    let net = InProcNetwork::new(1);
    let one = member(&net, 1).await?;
    one.bootstrap().await?;
    let two = member(&net, 2).await?;
    let three = member(&net, 3).await?;
    for id in [2, 3] {
        one.add_learner(MemberId(id), format!("member-{id}"))
            .await?;
        one.promote(MemberId(id), false).await?;
    }
    println!("voters: {:?}", one.status().voters());

    // Typed collections; a write on a follower is forwarded to the leader.
    let services = two.collection::<Service>("services");
    let web = Service {
        image: "nginx:1.27".into(),
        replicas: 3,
    };
    let v1 = services.create("web", &web).await?;
    println!("created web at version {v1}");

    // Compare-and-swap: a stale version is refused.
    let scaled = Service {
        replicas: 5,
        ..web.clone()
    };
    let v2 = services.update("web", &scaled, v1).await?;
    match services.update("web", &web, v1).await {
        Err(e @ StoreError::Conflict { .. }) => println!("refused as expected: {e}"),
        other => println!("unexpected: {other:?}"),
    }

    // Watch from a listing's revision.
    let listing = services.list("").await?;
    let mut watch = three
        .collection::<Service>("services")
        .watch("", listing.revision);

    // A transaction: all or nothing. `submit` keeps the Txn's request id, so resubmitting it
    // after an Indeterminate outcome (say the leader changed mid-way) applies it at most once.
    // Its operations name their documents through typed collections: a value of another type
    // than the collection's does not compile.
    const SUBMIT_ATTEMPTS: usize = 3;
    let nodes = one.collection::<String>("nodes");
    let txn = Txn::new()
        .check(&services, "web", Precondition::Version(v2))
        .create(
            &services,
            "db",
            &Service {
                image: "postgres:17".into(),
                replicas: 1,
            },
        )
        .put(&nodes, "n1", &"ready".to_string());
    let mut result = one.submit(&txn).await;
    for _ in 1..SUBMIT_ATTEMPTS {
        match &result {
            Err(e) if e.is_indeterminate() || e.is_retryable() => result = one.submit(&txn).await,
            _ => break,
        }
    }
    let out = result?;
    println!("transaction applied at revision {}", out.revision);
    let event = watch.next().await?;
    println!(
        "watch on member 3 saw {} at revision {}",
        event.key, event.revision
    );

    // Linearizable read anywhere, or a local read that may lag.
    let db = three.collection::<Service>("services").get("db").await?;
    println!("db (linearizable, member 3): {:?}", db.map(|d| d.value));
    let local = three.collection::<Service>("services").list_local("")?;
    println!("{} services in member 3's local state", local.items.len());

    // Move leadership and look at the cluster.
    one.transfer_leader(MemberId(3)).await?;
    // Give the new leader a heartbeat round to hear from everyone.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let status = three.status();
    println!(
        "leader {:?} term {} commit index {:?}",
        status.leader, status.term, status.commit_index
    );
    for m in &status.members {
        println!(
            "  {} {:?} reachable={:?} last_contact={:?}",
            m.id, m.role, m.reachable, m.last_contact
        );
    }
    for s in [one, two, three] {
        s.shutdown().await?;
    }
    Ok(())
}
