//! The loops of a running manager: keeping its wiring in step with the node records, and the
//! leader's duties.
//!
//! * The **sync loop** (every manager) runs after every change of the node records or the
//!   cluster object (once this manager's followed copy of the state holds it, read from that
//!   copy rather than decoded from the store again), and at least every [`SYNC_FALLBACK_PERIOD`]: the store
//!   transport and the member names learn the managers from the records (a user never pairs
//!   identities by hand), the revocation list follows the cluster object (open connections of
//!   a revoked node are cut), the dispatcher gets the manager list and its settings, the data
//!   directory follows the cluster's unlock key, and the events stream gets the differences.
//! * The **leader loop** (every manager, active while it leads) runs every
//!   [`NodeConfig::leader_tick`](crate::node::NodeConfig::leader_tick): on a leadership change
//!   the dispatcher starts (every node gets a longer grace) or stops; expired heartbeats mark
//!   nodes down; every [`NodeConfig::reconcile_period`](crate::node::NodeConfig::reconcile_period)
//!   the manager statuses and the Raft group are reconciled with the records, one membership
//!   change at a time.

use crate::manager::control::revoked_node_ids;
use crate::manager::dispatcher::WeightedManager;
use crate::manager::manager_statuses::reconcile_manager_statuses;
use crate::manager::raft_membership::{RaftMember, reconcile_membership};
use crate::manager::state::schema::{cluster_from_store, node_from_store};
use crate::manager::writes::{ManagerWrites, MembershipChange};
use crate::mapping::store_member_id;
use crate::model::{Cluster, Node, NodeId};
use crate::node::events::node_events;
use crate::node::manager_core::{ManagerCore, set_store_peer};
use crate::node::wire::{MAX_LISTED_MANAGERS, ManagerAddr};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use swarm_store::{MemberId, MemberRole, StoreError};
use tokio_util::sync::CancellationToken;

/// The sync loop runs at least this often, watch or not.
pub const SYNC_FALLBACK_PERIOD: Duration = Duration::from_secs(1);

/// The records as this manager's copy holds them. The node records come from the followed
/// state once it holds every collection (already decoded: a thousand records are not decoded
/// again at every change of one), else from the store; the cluster object is read from the
/// store (one record), which also tells when the store has shut down.
fn local_records(core: &ManagerCore) -> Result<(Vec<Node>, Option<Cluster>), StoreError> {
    let collections = core.state.collections();
    let cluster = collections
        .clusters
        .list_local("")?
        .items
        .into_iter()
        .next()
        .map(cluster_from_store);
    let nodes = match core.cluster_state.nodes() {
        Some(nodes) => nodes,
        None => collections
            .nodes
            .list_local("")?
            .items
            .into_iter()
            .map(node_from_store)
            .collect(),
    };
    Ok((nodes, cluster))
}

/// The managers the records name, with a Raft id and an address, at most
/// [`MAX_LISTED_MANAGERS`].
pub(crate) fn managers_of(nodes: &[Node]) -> Vec<ManagerAddr> {
    nodes
        .iter()
        .filter_map(|n| {
            let status = n.manager_status.as_ref()?;
            let raft_id = store_member_id(n)?.0;
            (!status.addr.is_empty()).then(|| ManagerAddr {
                node: n.id.clone(),
                raft_id,
                addr: status.addr.clone(),
            })
        })
        .take(MAX_LISTED_MANAGERS)
        .collect()
}

/// The sync loop of a manager.
pub(crate) async fn sync_loop(core: Arc<ManagerCore>, stop: CancellationToken) {
    // The followed state announces every change of the records once it holds it.
    let mut records = core.cluster_state.subscribe_records();
    let mut previous: BTreeMap<NodeId, Node> = BTreeMap::new();
    let mut peers: BTreeMap<u64, ManagerAddr> = BTreeMap::new();
    let mut revoked: Vec<swarm_secrets::NodeId> = Vec::new();
    loop {
        match local_records(&core) {
            Ok((nodes, cluster)) => {
                sync_once(&core, &nodes, cluster.as_ref(), &mut peers, &mut revoked).await;
                let now: BTreeMap<NodeId, Node> =
                    nodes.into_iter().map(|n| (n.id.clone(), n)).collect();
                for event in node_events(&previous, &now) {
                    let _ = core.events.send(event);
                }
                previous = now;
            }
            Err(StoreError::Shutdown) => break,
            Err(e) => tracing::warn!(error = %e, "cannot read the node records"),
        }
        records.borrow_and_update();
        tokio::select! {
            biased;
            () = stop.cancelled() => break,
            changed = records.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            () = tokio::time::sleep(SYNC_FALLBACK_PERIOD) => {}
        }
    }
    stop.cancel();
}

async fn sync_once(
    core: &ManagerCore,
    nodes: &[Node],
    cluster: Option<&Cluster>,
    peers: &mut BTreeMap<u64, ManagerAddr>,
    revoked: &mut Vec<swarm_secrets::NodeId>,
) {
    let managers = managers_of(nodes);
    let names = core.peers.names();
    for m in &managers {
        if let Err(e) = names.insert(MemberId(m.raft_id), m.node.as_str()) {
            tracing::warn!(node = %m.node, error = %e, "manager with an unusable node id");
        }
        if m.node != core.node_id && peers.get(&m.raft_id) != Some(m) {
            set_store_peer(&core.store_transport, m).await;
            peers.insert(m.raft_id, m.clone());
        }
    }
    let current: BTreeSet<u64> = managers.iter().map(|m| m.raft_id).collect();
    let gone: Vec<u64> = peers
        .keys()
        .filter(|id| !current.contains(id))
        .copied()
        .collect();
    for id in gone {
        peers.remove(&id);
        core.store_transport.remove_peer(MemberId(id));
        names.remove(MemberId(id));
    }
    {
        let mut dispatcher = core.dispatcher();
        let weighted = managers
            .iter()
            .map(|m| WeightedManager::new(m.node.clone(), m.addr.clone()))
            .collect();
        if let Err(e) = dispatcher.set_managers(weighted) {
            tracing::warn!(error = %e, "manager list refused");
        }
        if let Some(cluster) = cluster {
            dispatcher.set_config(&cluster.spec.dispatcher);
        }
        if dispatcher.is_leader() {
            let now_ms = core.now_ms();
            for node in nodes {
                if let Err(e) = dispatcher.node_added(node, now_ms, core.rng.next()) {
                    tracing::warn!(node = %node.id, error = %e, "dispatcher cannot track node");
                }
            }
        }
    }
    *core
        .managers
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(managers);
    if let Some(cluster) = cluster {
        sync_roots(core, cluster);
        let now_revoked = revoked_node_ids(cluster, crate::clock::now());
        if now_revoked != *revoked {
            core.peers
                .trust()
                .revocations()
                .replace(now_revoked.clone());
            *revoked = now_revoked;
            core.recheck_peers();
        }
        let desired = match &cluster.unlock_key {
            Some(text) => match swarm_secrets::UnlockKey::parse(&text.0) {
                Ok(key) => Some(key),
                Err(e) => {
                    tracing::warn!(error = %e, "the cluster's unlock key does not parse");
                    None
                }
            },
            None => None,
        };
        if cluster.unlock_key.is_none() || desired.is_some() {
            let mut data = core
                .data
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match data.match_unlock_key(desired.as_ref()) {
                Ok(true) => tracing::info!(
                    autolock = desired.is_some(),
                    "manager data re-locked with the cluster's unlock key"
                ),
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "cannot follow the cluster's unlock key"),
            }
        }
    }
}

/// The roots to trust follow the cluster object (both during a root rotation): the listener's
/// and the store transport's trust, and the roots the dispatcher sends nodes.
fn sync_roots(core: &ManagerCore, cluster: &Cluster) {
    let key = crate::manager::state::RootCaSlot::Current.key(&core.cluster_id);
    let current = match core.state.collections().root_ca.get_local(&key) {
        Ok(Some(record)) => record.value.cert_der.clone(),
        _ => return,
    };
    let roots: Vec<Vec<u8>> = crate::manager::root_rotation::trusted_roots(cluster, &current)
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect();
    let unchanged = **core
        .trusted_roots
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        == roots;
    if unchanged {
        return;
    }
    let revocations = core.peers.trust().revocations().clone();
    match crate::manager::root_rotation::cluster_trust(cluster, &current, revocations) {
        Ok(trust) => match core.peers.live_trust().replace(trust) {
            Ok(()) => {
                tracing::info!(roots = roots.len(), "trusted roots changed");
                *core
                    .trusted_roots
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(roots);
            }
            Err(e) => tracing::warn!(error = %e, "cannot install the trusted roots"),
        },
        Err(e) => tracing::warn!(error = %e, "the cluster's roots are unusable"),
    }
}

/// Finishes a root rotation once every node renewed from the new root.
async fn finish_rotation_if_done(core: &ManagerCore, nodes: &[Node]) {
    let Ok(Some(cluster)) = core.local_cluster() else {
        return;
    };
    if cluster.root_rotation.is_none() {
        return;
    }
    let view = crate::manager::control::ClusterView {
        cluster: &cluster,
        nodes,
    };
    let Some(progress) = crate::manager::root_rotation::root_rotation_progress(view) else {
        return;
    };
    if !progress.can_finish() {
        return;
    }
    let new_ca = match core.ca_in(crate::manager::state::RootCaSlot::Rotation) {
        Ok(ca) => ca,
        Err(e) => {
            tracing::warn!(error = %e, "the rotation's new root is unreadable");
            return;
        }
    };
    match crate::manager::root_rotation::finish_root_rotation(view, &new_ca, crate::clock::now()) {
        Ok(writes) => match core.apply(&writes).await {
            Ok(()) => tracing::info!("root CA rotation finished: the old root is retired"),
            Err(e) => tracing::debug!(error = %e, "finishing the rotation failed; next round"),
        },
        Err(e) => tracing::debug!(error = %e, "the rotation cannot finish yet"),
    }
}

/// The leader loop of a manager.
pub(crate) async fn leader_loop(core: Arc<ManagerCore>, stop: CancellationToken) {
    let mut was_leader = false;
    let mut next_reconcile_ms = 0;
    let mut membership: Option<tokio::task::JoinHandle<()>> = None;
    let mut tick = tokio::time::interval(core.config.leader_tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => {
                if let Some(task) = membership.take() {
                    task.abort();
                    let _ = task.await;
                }
                return;
            }
            _ = tick.tick() => {}
        }
        let leader = core.is_leader();
        let now_ms = core.now_ms();
        if leader && !was_leader {
            tracing::info!(node = %core.node_id, "this manager leads");
            if let Ok((nodes, _)) = local_records(&core) {
                let writes = core
                    .dispatcher()
                    .on_leadership(now_ms, &nodes, core.rng.next());
                match writes {
                    Ok(writes) => {
                        for w in &writes {
                            if let Err(e) = core.apply_status(w).await {
                                tracing::warn!(node = %w.node, error = %e, "status write failed");
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "dispatcher cannot take the lead"),
                }
            }
            next_reconcile_ms = now_ms;
        } else if !leader && was_leader {
            tracing::info!(node = %core.node_id, "this manager no longer leads");
            core.dispatcher().on_leadership_lost();
        }
        was_leader = leader;
        if !leader {
            continue;
        }
        let expired = core.dispatcher().expire(now_ms);
        for w in &expired {
            tracing::info!(node = %w.node, state = %w.state, message = %w.message, "node status");
            if let Err(e) = core.apply_status(w).await {
                tracing::warn!(node = %w.node, error = %e, "status write failed");
            }
        }
        if now_ms >= next_reconcile_ms {
            next_reconcile_ms = now_ms.saturating_add(
                u64::try_from(core.config.reconcile_period.as_millis()).unwrap_or(u64::MAX),
            );
            let idle = membership.as_ref().is_none_or(|t| t.is_finished());
            if let Some(change) = reconcile(&core).await.filter(|_| idle) {
                membership = Some(tokio::spawn(carry_out(core.clone(), change)));
            }
        }
    }
}

/// Reconciles manager statuses and membership records; returns the membership change due.
async fn reconcile(core: &ManagerCore) -> Option<MembershipChange> {
    let (nodes, _) = local_records(core).ok()?;
    let status = core.store.status();
    let members: Vec<RaftMember> = status
        .members
        .iter()
        .map(|m| RaftMember {
            id: m.id,
            voter: m.role == MemberRole::Voter,
        })
        .collect();
    let reachable: Vec<(MemberId, Option<bool>)> =
        status.members.iter().map(|m| (m.id, m.reachable)).collect();
    let now = crate::clock::now();
    let statuses = ManagerWrites {
        writes: reconcile_manager_statuses(&nodes, core.raft_id, &reachable, now),
        membership: Vec::new(),
    };
    if let Err(e) = core.apply(&statuses).await {
        tracing::debug!(error = %e, "manager status write failed; next round");
    }
    finish_rotation_if_done(core, &nodes).await;
    let mut plan = reconcile_membership(&nodes, &members, core.raft_id, now);
    if let Err(e) = core
        .apply(&ManagerWrites {
            writes: std::mem::take(&mut plan.writes),
            membership: Vec::new(),
        })
        .await
    {
        tracing::debug!(error = %e, "membership record write failed; next round");
    }
    plan.membership.into_iter().next()
}

/// Carries out one membership change (logged; a failure is retried by the next round).
async fn carry_out(core: Arc<ManagerCore>, change: MembershipChange) {
    let timeout = core.config.raft.request_timeout;
    let result = match &change {
        MembershipChange::AddLearner { member, node, addr } => {
            let m = ManagerAddr {
                node: node.clone(),
                raft_id: member.0,
                addr: addr.clone(),
            };
            if let Err(e) = core.peers.names().insert(*member, node.as_str()) {
                tracing::warn!(node = %node, error = %e, "manager with an unusable node id");
            }
            set_store_peer(&core.store_transport, &m).await;
            core.store.add_learner(*member, addr.clone()).await
        }
        MembershipChange::Promote { member, .. } => {
            match tokio::time::timeout(timeout, core.store.promote(*member, false)).await {
                Ok(r) => r,
                Err(_) => Err(StoreError::Timeout {
                    timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
                }),
            }
        }
        MembershipChange::Remove { member, .. } if *member == core.raft_id => {
            // The leader leaves last: hand leadership to a reachable voter first.
            let status = core.store.status();
            match status.members.iter().find(|m| {
                m.id != core.raft_id && m.role == MemberRole::Voter && m.reachable == Some(true)
            }) {
                Some(next) => core.store.transfer_leader(next.id).await,
                None => Err(StoreError::Membership(
                    "no reachable voter to hand leadership to".into(),
                )),
            }
        }
        MembershipChange::Remove { member, .. } => core.store.remove(*member, false).await,
    };
    match result {
        Ok(()) => tracing::info!(?change, "membership change done"),
        Err(e) => {
            tracing::warn!(?change, error = %e, "membership change failed; retried next round")
        }
    }
}
