//! Shared setup of the member's unit tests: a store on an in-process network, and a membership
//! request delivered to the leader as from another member.

use crate::config::StoreConfig;
use crate::raft::wire::{MembershipOp, RpcRequest, RpcResponse};
use crate::storage::{MemLogStorage, MemSnapshotStore};
use crate::testkit::inproc::InProcNetwork;
use crate::transport::MemberId;
use crate::{Store, StoreRpc};

pub(super) async fn start(net: &InProcNetwork, id: u64) -> Store {
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
    .expect("open")
}

/// Member 1 bootstrapped as leader, member 2 a voter, member 3 a learner, all running.
pub(super) async fn leader_voter_learner(net: &InProcNetwork) -> (Store, Store, Store) {
    let one = start(net, 1).await;
    one.bootstrap().await.expect("bootstrap");
    let two = start(net, 2).await;
    one.add_learner(MemberId(2), "member-2")
        .await
        .expect("add 2");
    one.promote(MemberId(2), false).await.expect("promote 2");
    let three = start(net, 3).await;
    one.add_learner(MemberId(3), "member-3")
        .await
        .expect("add 3");
    (one, two, three)
}

/// What the leader answers `from`'s membership request (as its transport would deliver it:
/// `from` is the identity the peer authenticated as).
pub(super) async fn ask(leader: &Store, from: u64, op: MembershipOp) -> Result<(), String> {
    match leader
        .member
        .handle(MemberId(from), RpcRequest::Membership(op))
        .await
    {
        Ok(RpcResponse::Membership(Ok(()))) => Ok(()),
        Ok(RpcResponse::Membership(Err(e))) => Err(format!("{e:?}")),
        Ok(_) => Err("another response".into()),
        Err(e) => Err(e),
    }
}
