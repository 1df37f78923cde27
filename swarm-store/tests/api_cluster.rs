//! The store API on a three-member in-process cluster.

mod raft_cluster;

use raft_cluster::Cluster;
use std::time::Duration;
use swarm_store::testkit::inproc::LinkFaults;
use swarm_store::{MemberId, Role, StoreError, Txn};

#[tokio::test]
async fn writes_on_followers_are_forwarded_and_reads_are_linearizable_everywhere() {
    let c = Cluster::voters(3).await;
    let leader = c.leader().await;
    let follower = c.follower().await;
    let on_follower = c.store(follower).collection::<String>("kv");

    // A write proposed on a follower is committed by the leader.
    assert_eq!(on_follower.create("a", &"1".to_string()).await.unwrap(), 1);
    // Linearizable reads on every member see it at once.
    for id in 1..=3 {
        let kv = c.store(id).collection::<String>("kv");
        let doc = kv.get("a").await.unwrap().expect("committed write visible");
        assert_eq!(doc.value, "1");
    }
    // CAS conflicts come back through forwarding with their details.
    let err = on_follower
        .update("a", &"2".to_string(), 9)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                expected: 9,
                actual: Some(1),
                ..
            }
        ),
        "{err}"
    );
    let err = on_follower.create("a", &"x".to_string()).await.unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists { .. }), "{err}");

    // Many concurrent writes from all members: every one is acknowledged once and applied.
    let mut tasks = Vec::new();
    for i in 0..60u32 {
        let kv = c.store(1 + u64::from(i % 3)).collection::<u32>("counters");
        tasks.push(tokio::spawn(async move {
            kv.create(&format!("c{i}"), &i).await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 1);
    }
    let listing = c
        .store(follower)
        .collection::<u32>("counters")
        .list("")
        .await
        .unwrap();
    assert_eq!(listing.items.len(), 60);

    // Status on the leader knows every member and their contact.
    let status = c.store(leader).status();
    assert_eq!(status.role, Role::Leader);
    assert_eq!(status.leader, Some(MemberId(leader)));
    assert_eq!(status.voters().len(), 3);
    assert!(status.commit_index.is_some());
    for m in &status.members {
        assert_eq!(m.reachable, Some(true), "{m:?}");
        assert!(m.last_contact.is_some());
    }
    let fstatus = c.store(follower).status();
    assert_eq!(fstatus.role, Role::Follower);
    assert_eq!(fstatus.leader, Some(MemberId(leader)));
}

#[tokio::test]
async fn a_duplicated_forwarded_write_is_applied_once() {
    let c = Cluster::voters(3).await;
    let leader = c.leader().await;
    let follower = c.follower().await;
    // Every request the follower sends the leader (its forwarded writes included) is delivered
    // twice, each copy after its own random delay, so a duplicate often lands after later
    // writes. Without deduplication by request id the late copy re-applies the blind write.
    c.net
        .set_link_faults(
            MemberId(follower),
            MemberId(leader),
            LinkFaults::none()
                .with_delay(Duration::from_millis(1), Duration::from_millis(40))
                .with_duplicate_probability(1.0),
        )
        .unwrap();
    let before = c.store(leader).revision().await.unwrap();
    let via_follower = c.store(follower).collection::<String>("kv");
    let on_leader = c.store(leader).collection::<String>("kv");
    const KEYS: usize = 12;
    for i in 0..KEYS {
        let key = format!("k{i}");
        assert_eq!(via_follower.put(&key, &"blind".into()).await.unwrap(), 1);
        // A compare-and-swap right after: it must see version 1, whenever the duplicate lands.
        assert_eq!(on_leader.update(&key, &"cas".into(), 1).await.unwrap(), 2);
    }
    // Let every duplicate arrive and be proposed (each copy is delayed at most 40 ms).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let duplicated = c.net.stats().duplicated;
    assert!(duplicated >= KEYS as u64, "only {duplicated} duplicates");
    for i in 0..KEYS {
        let doc = on_leader.get(&format!("k{i}")).await.unwrap().unwrap();
        assert_eq!((doc.version, doc.value.as_str()), (2, "cas"), "k{i}");
    }
    // Two changes per key and nothing else: no write applied twice.
    let after = c.store(leader).revision().await.unwrap();
    assert_eq!(after - before, 2 * KEYS as u64);
    // The same holds on every replica.
    c.net.clear_faults();
    for id in 1..=3 {
        let kv = c.store(id).collection::<String>("kv");
        assert_eq!(
            kv.get("k0").await.unwrap().unwrap().version,
            2,
            "member {id}"
        );
    }
}

#[tokio::test]
async fn leader_isolation_elects_a_new_leader_and_keeps_acknowledged_writes() {
    let c = Cluster::voters(3).await;
    let old = c.leader().await;
    let kv = c.store(old).collection::<u64>("kv");
    for i in 0..10 {
        kv.put(&format!("k{i}"), &i).await.unwrap();
    }
    c.net.isolate(MemberId(old));
    let others: Vec<u64> = (1..=3).filter(|id| *id != old).collect();
    // A write through a surviving member succeeds once they elect a new leader.
    // The first attempt may reach the isolated leader and time out: its outcome is then
    // unknown (Indeterminate), and the same transaction is resubmitted (same request id).
    let survivor = c.store(others[0]).collection::<u64>("kv");
    let after = Txn::new().put(&survivor, "after", &99u64);
    let mut written = false;
    for _ in 0..40 {
        match c.store(others[0]).submit(&after).await {
            Ok(_) => {
                written = true;
                break;
            }
            Err(e) if e.is_retryable() || e.is_indeterminate() => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert!(written, "no write succeeded after the leader was isolated");
    let new_leader = c.store(others[0]).leader().unwrap();
    assert_ne!(new_leader.0, old);
    for i in 0..10 {
        assert_eq!(
            survivor.get(&format!("k{i}")).await.unwrap().unwrap().value,
            i
        );
    }
    // The isolated old leader cannot serve a linearizable read.
    let err = c
        .store(old)
        .collection::<u64>("kv")
        .get("after")
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    // Healed, it catches up.
    c.net.rejoin(MemberId(old));
    let healed = c.store(old).collection::<u64>("kv");
    let mut seen = None;
    for _ in 0..100 {
        if let Ok(v) = healed.get("after").await {
            seen = v;
            if seen.is_some() {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert_eq!(seen.map(|v| v.value), Some(99));
}

#[tokio::test]
async fn lagging_member_catches_up_from_a_snapshot_in_chunks() {
    let mut c = Cluster::voters_with(3, |mut cfg| {
        cfg.snapshot_every_entries = 50;
        cfg.log_entries_kept_after_snapshot = 0;
        cfg
    })
    .await;
    let leader = c.leader().await;
    let lagging = c.follower().await;
    c.stop(lagging).await;
    let kv = c.store(leader).collection::<String>("kv");
    // Enough entries, with values big enough that the snapshot spans several chunks.
    let big = "x".repeat(200 * 1024);
    for i in 0..120 {
        let value = if i % 10 == 0 {
            big.clone()
        } else {
            format!("v{i}")
        };
        kv.put(&format!("k{i:03}"), &value).await.unwrap();
    }
    // Both running members purge their logs after their snapshots. The leader does so only once
    // no replication stream still holds the entries in flight: the stream to the stopped member
    // lets go of them after its calls fail (a few hundred milliseconds here). Until then the
    // returning member could still catch up from the leader's log, not from a snapshot.
    let healthy = *c.stores.keys().find(|id| **id != leader).unwrap();
    for member in [healthy, leader] {
        let mut purged = false;
        for _ in 0..250 {
            if c.store(member).status().purged_index.is_some() {
                purged = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(purged, "{:?}", c.store(member).status());
    }
    // The restarted member lags by more than the snapshot interval: it gets a snapshot.
    let back = c.start(lagging).await;
    let local = back.collection::<String>("kv");
    let mut caught_up = false;
    for _ in 0..200 {
        if local.list_local("").unwrap().items.len() == 120 {
            caught_up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(caught_up, "lagging member did not catch up");
    assert_eq!(local.get_local("k010").unwrap().unwrap().value, big);
    assert!(back.status().snapshot_index.is_some());
    // And it keeps following new writes.
    kv.put("late", &"1".to_string()).await.unwrap();
    assert_eq!(local.get("late").await.unwrap().unwrap().value, "1");
    let out = back
        .txn(Txn::new().put(&local, "via-lagging", &"2".to_string()))
        .await
        .unwrap();
    assert!(out.revision > 120);
}

#[tokio::test]
async fn large_transactions_commit_everywhere_and_oversized_ones_are_refused() {
    use swarm_store::{MAX_TXN_BYTES, MAX_VALUE_BYTES};
    let c = Cluster::voters(3).await;
    // Each value is within MAX_VALUE_BYTES; three make a transaction just under MAX_TXN_BYTES,
    // so no two share a batch and every append of up to MAX_ENTRIES_PER_APPEND such entries must
    // still fit one frame.
    let value = "v".repeat(MAX_VALUE_BYTES - 64);
    // In waves of three (one per member, two forwarded): the in-process network's default call
    // timeout (500 ms) bounds a forwarded write, and a debug build on a loaded machine is slow.
    for wave in 0..8u64 {
        let mut tasks = Vec::new();
        for i in wave * 3..(wave + 1) * 3 {
            let store = c.store(1 + i % 3).clone();
            let value = value.clone();
            tasks.push(tokio::spawn(async move {
                let big = store.collection::<String>("big");
                let mut txn = Txn::new();
                for op in 0..3 {
                    txn = txn.put(&big, &format!("t{i}-{op}"), &value);
                }
                store.txn(txn).await
            }));
        }
        for t in tasks {
            t.await
                .unwrap()
                .expect("a transaction within MAX_TXN_BYTES commits");
        }
    }
    for id in 1..=3 {
        let big = c.store(id).collection::<String>("big");
        for i in 0..24u64 {
            let doc = big
                .get(&format!("t{i}-2"))
                .await
                .unwrap()
                .expect("replicated");
            assert_eq!(doc.value.len(), value.len());
        }
    }

    // Five such values pass MAX_TXN_BYTES although each is within MAX_VALUE_BYTES: refused with
    // an error naming the field and the limit, on a follower as on the leader.
    let follower = c.follower().await;
    let big = c.store(follower).collection::<String>("big");
    let mut txn = Txn::new();
    for op in 0..5 {
        txn = txn.put(&big, &format!("over-{op}"), &value);
    }
    let err = c.store(follower).txn(txn).await.unwrap_err();
    match &err {
        StoreError::Invalid { field, detail } => {
            assert_eq!(*field, "txn");
            assert!(detail.contains(&MAX_TXN_BYTES.to_string()), "{detail}");
        }
        other => panic!("unexpected {other}"),
    }
    assert!(
        c.store(follower)
            .collection::<String>("big")
            .get("over-0")
            .await
            .unwrap()
            .is_none()
    );
}

/// A follower that forwards a write to a leader that just crashed gets "unreachable" at once.
/// Before, the write failed with that transport error; now it is re-routed, with the same
/// request id, to the leader elected next, within the request deadline.
#[tokio::test]
async fn a_write_forwarded_to_a_crashed_leader_is_rerouted_to_the_next_one() {
    let c = Cluster::voters(3).await;
    let old = c.leader().await;
    let follower = c.follower().await;
    assert_eq!(c.store(follower).leader(), Some(MemberId(old)));
    c.net.crash(MemberId(old));
    // The follower still takes `old` for the leader: the first forward fails to connect.
    let kv = c.store(follower).collection::<u32>("kv");
    let txn = Txn::new().create(&kv, "rerouted", &1u32);
    let outcome = c
        .store(follower)
        .submit(&txn)
        .await
        .expect("re-routed to the new leader");
    let new_leader = c.store(follower).leader().expect("a new leader");
    assert_ne!(new_leader.0, old);
    assert!(c.net.stats().unreachable > 0, "the old leader was tried");
    // Resubmitting the same transaction is the same request: its recorded outcome, not a
    // second create (which would fail with AlreadyExists).
    let again = c
        .store(follower)
        .submit(&txn)
        .await
        .expect("recorded outcome");
    assert_eq!(again, outcome);
    let doc = c
        .store(follower)
        .collection::<u32>("kv")
        .get("rerouted")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(doc.version, 1);
}

/// A leader whose Raft stopped (a storage fault, or shut down) while its RPC handler still
/// answers: a write forwarded to it may have been appended before it stopped, so the follower
/// must never report it as a definite "nothing applied" failure. Before, the leader's fatal
/// `client_write` error travelled as `WireError::Fatal` and came back as `Transport(Remote)`
/// (class "answer: nothing was applied"). Resubmitting the same transaction then applies it
/// exactly once.
#[tokio::test]
async fn a_write_forwarded_to_a_stopped_leader_is_never_reported_as_not_applied() {
    let c = Cluster::voters(3).await;
    let leader = c.leader().await;
    let follower = c.follower().await;
    // Raft stops; the in-process transport still delivers requests to its handler.
    c.store(leader).shutdown().await.unwrap();
    let store = c.store(follower);
    let kv = store.collection::<String>("kv");
    let txn = Txn::new().create(&kv, "once", &"1".to_string());
    let mut result = store.submit(&txn).await;
    for _ in 0..20 {
        match &result {
            Err(e) if e.is_indeterminate() || e.is_retryable() => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                result = store.submit(&txn).await;
            }
            _ => break,
        }
    }
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(e) => panic!("a write handed to a stopped leader came back as {e:?}"),
    };
    assert_eq!(outcome.versions, vec![Some(1)]);
    let doc = store
        .collection::<String>("kv")
        .get("once")
        .await
        .unwrap()
        .expect("applied");
    assert_eq!((doc.value.as_str(), doc.version), ("1", 1));
}

/// `Timeout` is retryable because a write returns it only when it never left its member: once
/// proposed, a deadline that passes is `Indeterminate` (retry only the same `Txn` with
/// `Store::submit`, never as a new request). Here the leader, cut off from both followers,
/// proposes the write and cannot commit it before the deadline.
#[tokio::test]
async fn a_write_whose_deadline_passes_after_it_was_proposed_is_indeterminate_not_timeout() {
    let c = Cluster::voters(3).await;
    let leader = c.leader().await;
    c.net.isolate(MemberId(leader));
    let kv = c.store(leader).collection::<u64>("kv");
    let txn = Txn::new().put(&kv, "k", &1);
    let e = c.store(leader).submit(&txn).await.unwrap_err();
    assert!(e.is_indeterminate(), "{e:?}");
    assert!(!e.is_retryable(), "{e}");
    c.net.rejoin(MemberId(leader));
    // Resubmitting the same transaction applies it at most once.
    let mut outcome = None;
    for _ in 0..40 {
        match c.store(leader).submit(&txn).await {
            Ok(o) => {
                outcome = Some(o);
                break;
            }
            Err(e) if e.is_retryable() || e.is_indeterminate() => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert!(outcome.is_some(), "the resubmitted write never completed");
    let doc = kv.get("k").await.unwrap().expect("written");
    assert_eq!((doc.value, doc.version), (1, 1), "applied once");
}
