//! Membership: learners, promotion, demotion, removal, leader transfer, quorum refusal and
//! force-new-cluster recovery.

mod raft_cluster;

use raft_cluster::Cluster;
use std::time::Duration;
use swarm_store::{MemberId, MemberRole, Role, StoreError};

async fn eventually(mut f: impl FnMut() -> bool) -> bool {
    for _ in 0..200 {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    false
}

#[tokio::test]
async fn learner_promote_demote_remove_and_transfer() {
    let mut c = Cluster::voters(1).await;
    let first = c.store(1).clone();
    let kv = first.collection::<u32>("kv");
    for i in 0..20 {
        kv.put(&format!("k{i}"), &i).await.unwrap();
    }

    // A learner receives the log but does not vote.
    let two = c.start(2).await;
    first.add_learner(MemberId(2), "member-2").await.unwrap();
    assert_eq!(first.status().learners(), vec![MemberId(2)]);
    let local = two.collection::<u32>("kv");
    assert!(eventually(|| local.list_local("").unwrap().items.len() == 20).await);
    assert_eq!(two.status().role, Role::Learner);
    // Reads through a learner are linearizable too (it asks the leader for a read index).
    assert_eq!(local.get("k7").await.unwrap().unwrap().value, 7);

    // Promote it, then a third member: three voters.
    first.promote(MemberId(2), false).await.unwrap();
    c.start(3).await;
    // Membership operations may be issued on any member; they are forwarded to the leader.
    two.add_learner(MemberId(3), "member-3").await.unwrap();
    two.promote(MemberId(3), false).await.unwrap();
    let status = first.status();
    assert_eq!(status.voters(), vec![MemberId(1), MemberId(2), MemberId(3)]);
    assert!(status.learners().is_empty());

    // Leader transfer.
    first.transfer_leader(MemberId(3)).await.unwrap();
    assert_eq!(c.leader().await, 3);
    assert_eq!(c.store(3).status().role, Role::Leader);
    kv.put("after-transfer", &1).await.unwrap();

    // Demote 2 to learner, then remove it.
    c.store(3).demote(MemberId(2), false).await.unwrap();
    let st = c.store(3).status();
    assert_eq!(st.voters(), vec![MemberId(1), MemberId(3)]);
    assert_eq!(st.learners(), vec![MemberId(2)]);
    c.store(1).remove(MemberId(2), false).await.unwrap();
    let st = c.store(3).status();
    assert!(st.members.iter().all(|m| m.id != MemberId(2)), "{st:?}");
    // Removing an unknown member names it.
    let err = c.store(3).remove(MemberId(9), false).await.unwrap_err();
    assert!(err.to_string().contains("member-9"), "{err}");
    // Promoting someone never added is refused with a clear message.
    let err = c.store(3).promote(MemberId(8), false).await.unwrap_err();
    assert!(matches!(err, StoreError::Membership(_)), "{err}");
    // Writes still work on the two-voter cluster.
    kv.put("end", &2).await.unwrap();
    assert_eq!(
        c.store(3)
            .collection::<u32>("kv")
            .get("end")
            .await
            .unwrap()
            .unwrap()
            .value,
        2
    );
}

#[tokio::test]
async fn changes_that_would_lose_quorum_are_refused_unless_forced() {
    let mut c = Cluster::voters(3).await;
    let leader = c.leader().await;
    let others: Vec<u64> = (1..=3).filter(|id| *id != leader).collect();
    // One follower dies.
    c.stop(others[0]).await;
    let l = c.store(leader).clone();
    assert!(
        eventually(|| {
            l.status()
                .members
                .iter()
                .any(|m| m.id == MemberId(others[0]) && m.reachable == Some(false))
        })
        .await,
        "the dead member is reported unreachable: {:?}",
        l.status()
    );
    // Removing the *live* follower would leave {leader, dead}: 1 reachable of quorum 2.
    let err = l.remove(MemberId(others[1]), false).await.unwrap_err();
    match err {
        StoreError::QuorumRisk {
            reachable, quorum, ..
        } => assert_eq!((reachable, quorum), (1, 2)),
        other => panic!("expected a quorum refusal, got {other}"),
    }
    // Adding a fourth voter that is not running: 2 reachable of quorum 3.
    l.add_learner(MemberId(4), "member-4").await.unwrap();
    let err = l.promote(MemberId(4), false).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::QuorumRisk {
                reachable: 2,
                quorum: 3,
                ..
            }
        ),
        "{err}"
    );
    assert!(!err.is_retryable());
    l.remove(MemberId(4), false).await.unwrap();
    // Removing the dead one is safe.
    l.remove(MemberId(others[0]), false).await.unwrap();
    assert_eq!(l.status().voters().len(), 2);
    // Forced: the operator may still do the risky change.
    l.demote(MemberId(others[1]), true).await.unwrap();
    assert_eq!(l.status().voters(), vec![MemberId(leader)]);
}

#[tokio::test]
async fn force_new_cluster_recovers_a_survivor_with_all_committed_data() {
    let mut c = Cluster::voters(3).await;
    let leader = c.leader().await;
    let kv = c.store(leader).collection::<u32>("kv");
    for i in 0..30 {
        kv.put(&format!("k{i}"), &i).await.unwrap();
    }
    kv.create("last", &999).await.unwrap();
    // Every member must hold the committed writes before we lose two of them for good.
    let survivor = c.follower().await;
    let s = c.store(survivor).collection::<u32>("kv");
    assert!(eventually(|| s.get_local("last").unwrap().is_some()).await);
    for id in [1, 2, 3] {
        c.stop(id).await;
    }
    // Quorum is lost forever. Restart the survivor as a one-member cluster.
    let store = c
        .start_with(survivor, |mut cfg| {
            cfg.force_new_cluster = true;
            cfg
        })
        .await;
    let leader = store.wait_for_leader().await.unwrap();
    assert_eq!(leader, MemberId(survivor));
    let status = store.status();
    assert_eq!(status.voters(), vec![MemberId(survivor)]);
    assert!(status.members.iter().all(|m| m.role == MemberRole::Voter));
    let kv = store.collection::<u32>("kv");
    let all = kv.list("").await.unwrap();
    assert_eq!(all.items.len(), 31);
    assert_eq!(kv.get("last").await.unwrap().unwrap().value, 999);
    // It takes writes alone and can grow again.
    kv.put("new", &1).await.unwrap();
    let fresh = 10 + survivor;
    c.start(fresh).await;
    store
        .add_learner(MemberId(fresh), format!("member-{fresh}"))
        .await
        .unwrap();
    store.promote(MemberId(fresh), false).await.unwrap();
    assert_eq!(store.status().voters().len(), 2);
    let on_fresh = c.store(fresh).collection::<u32>("kv");
    assert_eq!(on_fresh.get("new").await.unwrap().unwrap().value, 1);
    assert_eq!(on_fresh.list("").await.unwrap().items.len(), 32);
}

#[tokio::test]
async fn restart_with_memory_storage_keeps_committed_state() {
    let mut c = Cluster::voters(3).await;
    let leader = c.leader().await;
    let kv = c.store(leader).collection::<String>("kv");
    for i in 0..25 {
        kv.put(&format!("k{i}"), &format!("v{i}")).await.unwrap();
    }
    // Restart every member on its kept storage.
    for id in [1, 2, 3] {
        c.stop(id).await;
    }
    for id in [1, 2, 3] {
        c.start(id).await;
    }
    let l = c.leader().await;
    let kv = c.store(l).collection::<String>("kv");
    assert_eq!(kv.list("").await.unwrap().items.len(), 25);
    // Local (stale) reads on a restarted member already hold the pre-restart committed state.
    let f = c.follower().await;
    let local = c.store(f).collection::<String>("kv");
    assert!(eventually(|| local.list_local("").unwrap().items.len() == 25).await);
    kv.put("after", &"x".to_string()).await.unwrap();
}

/// A member added after the founder left replays the log from its start, whose first
/// configurations name only the founder. It used to refuse the current leader's next
/// AppendEntries as from a non-member (the leader is not in those early configurations) and
/// never caught up: a cluster that promoted it lost its quorum for good (simulation seed 8393,
/// 3 workers, 16 steps). A member that is not yet in its own effective membership now takes a
/// leader's entries and snapshot chunks from any authenticated member, as one whose
/// membership is still empty does.
#[tokio::test]
async fn a_member_added_after_the_founder_left_catches_up_through_the_old_configurations() {
    let mut c = Cluster::voters(1).await;
    let kv = c.store(1).collection::<u32>("kv");
    // Enough entries that the new member's first batches hold only the founder's
    // configuration.
    for i in 0..2_000u32 {
        kv.put("before", &i).await.unwrap();
    }
    c.start(2).await;
    c.store(1)
        .add_learner(MemberId(2), "member-2")
        .await
        .unwrap();
    c.store(1).promote(MemberId(2), false).await.unwrap();
    c.store(1).transfer_leader(MemberId(2)).await.unwrap();
    assert_eq!(c.leader().await, 2);
    c.store(2).demote(MemberId(1), false).await.unwrap();
    c.store(2).remove(MemberId(1), false).await.unwrap();
    let two = c.store(2).clone();
    two.collection::<u32>("kv").put("after", &2).await.unwrap();

    // Member 3 joins the one-voter cluster {2}; the log still begins with {1}.
    let three = c.start(3).await;
    two.add_learner(MemberId(3), "member-3").await.unwrap();
    let local = three.collection::<u32>("kv");
    assert!(
        eventually(|| local.list_local("").map(|l| l.items.len()).unwrap_or(0) == 2).await,
        "member 3 never caught up: {:?}",
        three.status()
    );
    two.promote(MemberId(3), false).await.unwrap();
    two.collection::<u32>("kv").put("end", &3).await.unwrap();
    assert_eq!(local.get("end").await.unwrap().unwrap().value, 3);
}
