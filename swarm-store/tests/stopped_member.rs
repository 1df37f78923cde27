//! A stopped member: every operation ends with `StoreError::Shutdown`, watches included, and
//! nothing waits forever.

mod raft_cluster;

use raft_cluster::Cluster;
use std::time::Duration;
use swarm_store::{StoreError, Txn};

/// Long enough for anything that should end at once, far below a test runner's patience.
const PROMPT: Duration = Duration::from_secs(5);

/// Before: a `Watch` on a stopped member never returned (its applied-index channel stayed
/// open), neither a call already waiting nor one made afterwards.
#[tokio::test]
async fn a_watch_on_a_stopped_member_ends_with_shutdown() {
    let c = Cluster::voters(1).await;
    let store = c.store(1).clone();
    let kv = store.collection::<u64>("kv");
    let listing = kv.list("").await.unwrap();
    let mut waiting = kv.watch("", listing.revision);
    kv.put("a", &1).await.unwrap();
    let mut later = kv.watch("", listing.revision);
    let waiter = tokio::spawn(async move {
        // The change applied before the stop comes first, then the end.
        let first = waiting.next().await.map(|e| e.key);
        let end = waiting.next().await.map(|e| e.key);
        (first, end)
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    store.shutdown().await.unwrap();
    let (first, end) = tokio::time::timeout(PROMPT, waiter)
        .await
        .expect("a waiting watch ends when its member stops")
        .unwrap();
    assert_eq!(first.unwrap(), "a");
    assert!(matches!(end, Err(StoreError::Shutdown)), "{end:?}");
    // A watch called after the stop returns what was applied, then ends.
    let got = tokio::time::timeout(PROMPT, later.next())
        .await
        .expect("no hang");
    assert_eq!(got.unwrap().key, "a");
    let end = tokio::time::timeout(PROMPT, later.next())
        .await
        .expect("a watch called after the stop ends");
    assert!(matches!(end, Err(StoreError::Shutdown)), "{end:?}");
    assert!(matches!(later.try_next(), Err(StoreError::Shutdown)));
    // So does a watch opened after the stop.
    let mut fresh = kv.watch("", 1);
    let end = tokio::time::timeout(PROMPT, fresh.next())
        .await
        .expect("a watch opened after the stop ends");
    assert!(matches!(end, Err(StoreError::Shutdown)), "{end:?}");
}

/// Before: after `shutdown`, `get` failed with `Transport(Remote "raft stopped")` (neither
/// retryable nor fatal) and `put` with `Indeterminate` although nothing left the member.
#[tokio::test]
async fn reads_and_writes_after_shutdown_fail_with_shutdown() {
    let c = Cluster::voters(1).await;
    let store = c.store(1).clone();
    let kv = store.collection::<u64>("kv");
    kv.put("a", &1).await.unwrap();
    store.shutdown().await.unwrap();
    let get = tokio::time::timeout(PROMPT, kv.get("a"))
        .await
        .expect("no hang");
    assert!(matches!(get, Err(StoreError::Shutdown)), "{get:?}");
    let list = tokio::time::timeout(PROMPT, kv.list(""))
        .await
        .expect("no hang");
    assert!(matches!(list, Err(StoreError::Shutdown)), "{list:?}");
    let rev = tokio::time::timeout(PROMPT, store.revision())
        .await
        .expect("no hang");
    assert!(matches!(rev, Err(StoreError::Shutdown)), "{rev:?}");
    let put = tokio::time::timeout(PROMPT, kv.put("b", &2))
        .await
        .expect("no hang");
    let e = put.unwrap_err();
    assert!(matches!(e, StoreError::Shutdown), "{e:?}");
    assert!(e.is_fatal() && !e.is_indeterminate(), "{e}");
    let txn = Txn::new().put(&kv, "c", &3);
    let e = store.submit(&txn).await.unwrap_err();
    assert!(matches!(e, StoreError::Shutdown), "{e:?}");
    // Stale local reads still serve the last applied state.
    assert_eq!(kv.get_local("a").unwrap().map(|d| d.value), Some(1));
}

/// A follower's client after its own member stopped: `Shutdown` too, not a forward to the
/// still running leader.
#[tokio::test]
async fn a_stopped_follower_answers_shutdown() {
    let c = Cluster::voters(3).await;
    let follower = c.follower().await;
    let store = c.store(follower).clone();
    let kv = store.collection::<u64>("kv");
    kv.put("a", &1).await.unwrap();
    store.shutdown().await.unwrap();
    let get = tokio::time::timeout(PROMPT, kv.get("a"))
        .await
        .expect("no hang");
    assert!(matches!(get, Err(StoreError::Shutdown)), "{get:?}");
    let put = tokio::time::timeout(PROMPT, kv.put("b", &2))
        .await
        .expect("no hang");
    assert!(matches!(put, Err(StoreError::Shutdown)), "{put:?}");
}

/// The other operations that need a running member say `Shutdown` too, and a second shutdown
/// is harmless.
#[tokio::test]
async fn every_operation_of_a_stopped_member_answers_shutdown() {
    let c = Cluster::voters(1).await;
    let store = c.store(1).clone();
    store.shutdown().await.unwrap();
    let e = store.wait_for_leader().await.unwrap_err();
    assert!(matches!(e, StoreError::Shutdown), "{e:?}");
    let e = store.snapshot_now().await.unwrap_err();
    assert!(matches!(e, StoreError::Shutdown), "{e:?}");
    let e = store.bootstrap().await.unwrap_err();
    assert!(matches!(e, StoreError::Shutdown), "{e:?}");
    let e = store.transfer_leader(store.member()).await.unwrap_err();
    assert!(matches!(e, StoreError::Shutdown), "{e:?}");
    let e = store
        .add_learner(swarm_store::MemberId(2), "member-2")
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Shutdown), "{e:?}");
    store.shutdown().await.unwrap();
}
