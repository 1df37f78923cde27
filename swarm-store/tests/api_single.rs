//! The store API on a one-member cluster.

mod raft_cluster;

use raft_cluster::Cluster;
use serde::{Deserialize, Serialize};
use swarm_store::{Precondition, StoreError, Txn, WatchEventKind};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Service {
    image: String,
    replicas: u32,
}

fn svc(image: &str, replicas: u32) -> Service {
    Service {
        image: image.into(),
        replicas,
    }
}

#[tokio::test]
async fn create_get_update_delete_with_cas() {
    let c = Cluster::voters(1).await;
    let services = c.store(1).collection::<Service>("services");

    assert_eq!(services.create("web", &svc("nginx", 1)).await.unwrap(), 1);
    let err = services.create("web", &svc("apache", 1)).await.unwrap_err();
    assert!(
        matches!(err, StoreError::AlreadyExists { version: 1, .. }),
        "{err}"
    );

    let doc = services.get("web").await.unwrap().expect("present");
    assert_eq!(doc.value, svc("nginx", 1));
    assert_eq!(doc.version, 1);

    assert_eq!(
        services.update("web", &svc("nginx", 3), 1).await.unwrap(),
        2
    );
    let err = services
        .update("web", &svc("nginx", 5), 1)
        .await
        .unwrap_err();
    match err {
        StoreError::Conflict {
            expected,
            actual,
            ref key,
            ..
        } => {
            assert_eq!((expected, actual, key.as_str()), (1, Some(2), "web"));
        }
        other => panic!("expected a conflict, got {other}"),
    }
    assert!(!StoreError::NoLeader.to_string().is_empty());
    let err = services.update("nope", &svc("x", 1), 1).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");

    let err = services.delete("web", 1).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    services.delete("web", 2).await.unwrap();
    assert!(services.get("web").await.unwrap().is_none());
    assert!(services.get_local("web").unwrap().is_none());
}

#[tokio::test]
async fn list_by_prefix_and_filter_with_revision() {
    let c = Cluster::voters(1).await;
    let store = c.store(1);
    let services = store.collection::<Service>("services");
    for (k, r) in [("app/a", 1), ("app/b", 5), ("db/a", 2)] {
        services.put(k, &svc("img", r)).await.unwrap();
    }
    let all = services.list("").await.unwrap();
    assert_eq!(all.items.len(), 3);
    assert_eq!(all.revision, 3);
    let app = services.list("app/").await.unwrap();
    assert_eq!(
        app.items.iter().map(|v| v.key.as_str()).collect::<Vec<_>>(),
        vec!["app/a", "app/b"]
    );
    let big = services
        .list_filtered("", |v| v.value.replicas >= 2)
        .await
        .unwrap();
    assert_eq!(
        big.items.iter().map(|v| v.key.as_str()).collect::<Vec<_>>(),
        vec!["app/b", "db/a"]
    );
    // Another collection does not see them.
    let nodes = store.collection::<Service>("nodes");
    assert!(nodes.list("").await.unwrap().items.is_empty());
    assert_eq!(store.revision().await.unwrap(), 3);
}

#[tokio::test]
async fn transactions_are_all_or_nothing() {
    let c = Cluster::voters(1).await;
    let store = c.store(1);
    let services = store.collection::<Service>("services");
    services.create("a", &svc("a", 1)).await.unwrap();
    let before = store.revision().await.unwrap();

    // The second op fails: nothing applies, revision unchanged.
    let err = store
        .txn(Txn::new().create(&services, "b", &svc("b", 1)).update(
            &services,
            "a",
            &svc("a", 2),
            7,
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                expected: 7,
                actual: Some(1),
                ..
            }
        ),
        "{err}"
    );
    assert!(services.get("b").await.unwrap().is_none());
    assert_eq!(store.revision().await.unwrap(), before);

    // All ops apply at one revision.
    let nodes = store.collection::<Service>("nodes");
    let out = store
        .txn(
            Txn::new()
                .create(&services, "b", &svc("b", 1))
                .update(&services, "a", &svc("a", 2), 1)
                .check(&services, "b", Precondition::Version(1))
                .put(&nodes, "n1", &svc("node", 0)),
        )
        .await
        .unwrap();
    assert_eq!(out.revision, before + 1);
    assert_eq!(out.versions, vec![Some(1), Some(2), Some(1), Some(1)]);
    let a = services.get("a").await.unwrap().unwrap();
    let b = services.get("b").await.unwrap().unwrap();
    assert_eq!((a.mod_revision, b.mod_revision), (before + 1, before + 1));

    // Bad input is refused before proposing, naming the field.
    let unnamed = store.collection::<u32>("");
    let err = store
        .txn(Txn::new().put(&unnamed, "k", &1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Invalid {
                field: "collection",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn watch_follows_resumes_and_reports_compaction() {
    let c = Cluster::voters_with(1, |mut cfg| {
        cfg.watch_history_changes = 8;
        cfg
    })
    .await;
    let store = c.store(1);
    let services = store.collection::<Service>("services");
    let listing = services.list("").await.unwrap();
    let mut watch = services.watch("app/", listing.revision);

    services.create("app/x", &svc("x", 1)).await.unwrap();
    services.create("other", &svc("o", 1)).await.unwrap();
    services.update("app/x", &svc("x", 2), 1).await.unwrap();
    services.delete("app/x", 2).await.unwrap();

    let e1 = watch.next().await.unwrap();
    assert_eq!(e1.key, "app/x");
    assert_eq!(
        e1.kind,
        WatchEventKind::Put {
            value: svc("x", 1),
            version: 1
        }
    );
    let e2 = watch.next().await.unwrap();
    assert_eq!(
        e2.kind,
        WatchEventKind::Put {
            value: svc("x", 2),
            version: 2
        }
    );
    // Resume from where we were: a new watch from e2's revision sees the delete only.
    let mut resumed = services.watch("app/", e2.revision);
    let e3 = watch.next().await.unwrap();
    assert_eq!(e3.kind, WatchEventKind::Deleted { version: 2 });
    assert_eq!(resumed.next().await.unwrap(), e3);
    assert!(watch.try_next().unwrap().is_none());

    // A change arriving later wakes a waiting watch.
    let waiter = tokio::spawn(async move { watch.next().await });
    services.create("app/y", &svc("y", 1)).await.unwrap();
    let e4 = waiter.await.unwrap().unwrap();
    assert_eq!(e4.key, "app/y");

    // Push the history past its cap: an old watch must re-list.
    for i in 0..20 {
        services.put(&format!("k{i}"), &svc("z", i)).await.unwrap();
    }
    let mut stale = services.watch("", listing.revision);
    let err = stale.next().await.unwrap_err();
    assert!(matches!(err, StoreError::Compacted { .. }), "{err}");
    assert!(!err.is_retryable());
    // Re-list and watch from the listing's revision: works again.
    let fresh = services.list("").await.unwrap();
    let mut w = services.watch("", fresh.revision);
    services.put("k0", &svc("again", 0)).await.unwrap();
    assert_eq!(w.next().await.unwrap().key, "k0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_share_raft_entries() {
    let c = Cluster::voters(1).await;
    let store = c.store(1).clone();
    let before = store.status().last_log_index.unwrap_or(0);
    let writes = 400u64;
    let mut tasks = Vec::new();
    for i in 0..writes {
        let kv = store.collection::<u64>("kv");
        tasks.push(tokio::spawn(async move {
            kv.create(&format!("k{i}"), &i).await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 1);
    }
    let entries = store.status().last_log_index.unwrap_or(0) - before;
    assert!(
        entries < writes,
        "{writes} queued writes took {entries} Raft entries: the proposer did not batch"
    );
    let listing = store.collection::<u64>("kv").list("").await.unwrap();
    assert_eq!(listing.items.len() as u64, writes);
    // One revision per transaction, whatever the batching.
    assert_eq!(listing.revision, writes);
}

/// A `Txn` keeps its request id across submissions: resubmitting it (what a caller does after
/// an Indeterminate outcome) returns the recorded outcome instead of applying it again, while a
/// new `Txn` with the same operations is a new request.
#[tokio::test]
async fn resubmitting_the_same_txn_applies_it_once() {
    let c = Cluster::voters(1).await;
    let store = c.store(1);
    let jobs = store.collection::<String>("jobs");
    let queued = "queued".to_string();
    let txn = Txn::new().create(&jobs, "j1", &queued);
    assert_eq!(txn.request_id(), None);
    let first = store.submit(&txn).await.unwrap();
    let id = txn.request_id().expect("assigned at the first submission");
    let again = store.submit(&txn).await.unwrap();
    assert_eq!(again, first, "the recorded outcome, not AlreadyExists");
    assert_eq!(txn.request_id(), Some(id.clone()));
    assert_eq!(store.revision().await.unwrap(), first.revision);
    // A new transaction with the same operation is a new request: refused by its precondition.
    let err = store
        .submit(&Txn::new().create(&jobs, "j1", &queued))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists { .. }), "{err}");
    // Adding an operation makes it another transaction, with another id.
    let extended = txn.put(&jobs, "j2", &queued);
    assert_eq!(extended.request_id(), None);
    let err = store.submit(&extended).await.unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists { .. }), "{err}");
    assert_ne!(extended.request_id(), Some(id));
}

/// The sequence number of a submitted `Txn`'s request id (`member/incarnation#seq`).
fn request_seq(txn: &Txn) -> u64 {
    let id = txn.request_id().expect("submitted");
    id.rsplit('#')
        .next()
        .and_then(|seq| seq.parse().ok())
        .expect("a sequence number after '#'")
}

/// Before: a transaction refused on the caller's member as invalid still took a request id, so
/// every refusal left a gap in its origin's sequence numbers; past the dedup table's gap limit
/// the origin's floor rose, and an earlier request still in flight (never applied) was then
/// refused forever as `Indeterminate`. The id is now taken after validation.
#[tokio::test]
async fn an_invalid_txn_takes_no_request_id() {
    let c = Cluster::voters(1).await;
    let store = c.store(1);
    let kv = store.collection::<u64>("kv");
    let first = Txn::new().put(&kv, "a", &1);
    store.submit(&first).await.unwrap();
    for _ in 0..3 {
        let e = store.txn(Txn::new()).await.unwrap_err();
        assert!(matches!(e, StoreError::Invalid { .. }), "{e}");
        let bad = Txn::new().put(&kv, "", &1);
        let e = store.submit(&bad).await.unwrap_err();
        assert!(matches!(e, StoreError::Invalid { .. }), "{e}");
        assert_eq!(bad.request_id(), None, "a refused transaction has no id");
        let e = store
            .txn(Txn::new().put(&kv, &"k".repeat(swarm_store::MAX_KEY_BYTES + 1), &1))
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Invalid { .. }), "{e}");
    }
    let next = Txn::new().put(&kv, "b", &2);
    store.submit(&next).await.unwrap();
    assert_eq!(
        request_seq(&next),
        request_seq(&first) + 1,
        "the refused transactions took no sequence numbers"
    );
}
