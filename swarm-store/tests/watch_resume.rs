//! Resuming a watch: from `Watch::position`, every change exactly once, also in the middle of
//! a transaction's changes.

mod raft_cluster;

use raft_cluster::Cluster;
use swarm_store::{Txn, WatchEvent, WatchPosition};

/// Three revisions: one change, three changes (one transaction), two changes.
async fn multi_key_revisions(c: &Cluster) -> u64 {
    let kv = c.store(1).collection::<u64>("kv");
    let start = kv.list("").await.expect("list").revision;
    kv.put("a", &1).await.expect("put");
    c.store(1)
        .txn(
            Txn::new()
                .put(&kv, "b", &2)
                .put(&kv, "c", &3)
                .put(&kv, "d", &4),
        )
        .await
        .expect("txn");
    c.store(1)
        .txn(Txn::new().delete(&kv, "a", 1).put(&kv, "e", &5))
        .await
        .expect("txn");
    start
}

fn names(events: &[WatchEvent<u64>]) -> Vec<(u64, String)> {
    events.iter().map(|e| (e.revision, e.key.clone())).collect()
}

/// Before: `Watch::revision()` in the middle of a multi-key revision named the revision before
/// it, so a watch resumed from it returned that revision's first changes again (the campaign
/// saw 120 duplicates over 203 resumes). `Watch::position()` names the operation too: a watch
/// resumed from it after any number of events returns the rest, each change once.
#[tokio::test]
async fn resuming_a_watch_from_its_position_in_a_multi_key_revision_is_exactly_once() {
    let c = Cluster::voters(1).await;
    let start = multi_key_revisions(&c).await;
    let kv = c.store(1).collection::<u64>("kv");
    let mut all = Vec::new();
    let mut full = kv.watch("", start);
    while let Some(e) = full.try_next().unwrap() {
        all.push(e);
    }
    assert_eq!(all.len(), 6, "{:?}", names(&all));
    for taken in 0..=all.len() {
        let mut first = kv.watch("", start);
        let mut got = Vec::new();
        for _ in 0..taken {
            got.push(first.next().await.unwrap());
        }
        let position = first.position();
        // A position survives being stored.
        let stored: WatchPosition =
            serde_json::from_str(&serde_json::to_string(&position).unwrap()).unwrap();
        let mut resumed = kv.watch_from("", stored);
        while let Some(e) = resumed.try_next().unwrap() {
            got.push(e);
        }
        assert_eq!(
            names(&got),
            names(&all),
            "resumed at {position:?} after {taken} events"
        );
        // The revision alone is a whole-revision resume point: at least once.
        let mut at_least_once = kv.watch("", first.revision());
        let mut again = got[..taken].to_vec();
        while let Some(e) = at_least_once.try_next().unwrap() {
            again.push(e);
        }
        assert!(again.len() >= all.len());
    }
    // A resumed watch's own position moves on from where it resumed.
    let mut w = kv.watch("", start);
    w.next().await.unwrap();
    w.next().await.unwrap();
    let mut resumed = kv.watch_from("", w.position());
    assert_eq!(resumed.position(), w.position(), "nothing returned yet");
    assert_eq!(resumed.next().await.unwrap().key, "c");
    let mut again = kv.watch_from("", resumed.position());
    assert_eq!(again.next().await.unwrap().key, "d");
}

/// A prefix watch resumed mid-transaction skips the same operations, whether they matched it.
#[tokio::test]
async fn a_prefix_watch_resumed_mid_revision_skips_only_what_it_returned() {
    let c = Cluster::voters(1).await;
    let kv = c.store(1).collection::<u64>("kv");
    let start = kv.list("").await.unwrap().revision;
    c.store(1)
        .txn(
            Txn::new()
                .put(&kv, "x/1", &1)
                .put(&kv, "y/1", &1)
                .put(&kv, "x/2", &2),
        )
        .await
        .unwrap();
    let mut w = kv.watch("x/", start);
    assert_eq!(w.next().await.unwrap().key, "x/1");
    let position = w.position();
    assert_eq!(
        (position.revision(), position.ops_returned()),
        (start, 2),
        "x/2 (operation 2) comes next"
    );
    let mut resumed = kv.watch_from("x/", position);
    assert_eq!(resumed.next().await.unwrap().key, "x/2");
    assert!(resumed.try_next().unwrap().is_none());
}
