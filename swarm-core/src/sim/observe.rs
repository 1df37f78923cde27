//! What the invariants look at: the leader's view of the cluster, what every running agent
//! holds, what every node's runtime runs, every manager's Raft status, the workload's ledger
//! and the run's history.

use crate::manager::cluster_state::ClusterState;
use crate::model::{NodeId, TaskId};
use crate::node::AgentSnapshot;
use crate::sim::cluster::SimCluster;
use crate::sim::history::History;
use crate::sim::ledger::Ledger;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use swarm_store::StoreStatus;

/// What one running node holds.
#[derive(Clone, Debug)]
pub struct AgentView {
    /// Its id.
    pub node_id: NodeId,
    /// What its agent holds.
    pub snapshot: AgentSnapshot,
    /// The tasks its runtime runs.
    pub runtime_running: Vec<TaskId>,
}

/// The cluster as the invariants see it at one instant.
#[derive(Clone, Debug)]
pub struct Observation {
    /// Simulated time since the run started.
    pub at: Duration,
    /// The virtual wall-clock time the nodes read at this instant.
    pub now: SystemTime,
    /// The name of the leading manager, if one leads.
    pub leader: Option<String>,
    /// The leader's view of the orchestration state.
    pub state: Option<ClusterState>,
    /// Every running node, by name.
    pub agents: BTreeMap<String, AgentView>,
    /// The tasks every node's runtime runs, by node name, crashed nodes included (their
    /// containers outlive the agent).
    pub runtimes: BTreeMap<String, Vec<TaskId>>,
    /// Every running manager's Raft status, by name.
    pub stores: BTreeMap<String, StoreStatus>,
    /// Every Raft member seen leading, by term, over the whole run so far.
    pub leaders_by_term: BTreeMap<u64, BTreeSet<u64>>,
    /// What the workload wrote.
    pub ledger: Ledger,
    /// What the run saw so far, this observation included.
    pub history: Arc<History>,
}

impl Observation {
    /// Looks at `cluster` now; `leaders_by_term` and `history` accumulate across
    /// observations.
    pub(crate) fn take(
        cluster: &SimCluster,
        at: Duration,
        leaders_by_term: &mut BTreeMap<u64, BTreeSet<u64>>,
        ledger: &Ledger,
        history: &mut Arc<History>,
    ) -> Observation {
        let now = crate::clock::now();
        let mut stores = BTreeMap::new();
        let mut agents = BTreeMap::new();
        for (name, node) in cluster.running() {
            if let Some(status) = node.store_status() {
                if status.leader == Some(status.member) {
                    leaders_by_term
                        .entry(status.term)
                        .or_default()
                        .insert(status.member.0);
                }
                stores.insert(name.clone(), status);
            }
            let runtime_running = cluster
                .nodes
                .get(name)
                .map(|n| n.runtime.running_tasks())
                .unwrap_or_default();
            agents.insert(
                name.clone(),
                AgentView {
                    node_id: node.id().clone(),
                    snapshot: node.agent_snapshot(),
                    runtime_running,
                },
            );
        }
        let runtimes = cluster
            .nodes
            .iter()
            .map(|(name, n)| (name.clone(), n.runtime.running_tasks()))
            .collect();
        // Of the managers that believe they lead, the one of the highest term (a deposed
        // leader may not know yet).
        let leader = cluster
            .managers()
            .into_iter()
            .filter(|(_, n)| n.is_leader())
            .max_by_key(|(name, n)| {
                (
                    n.store_status().map_or(0, |s| s.term),
                    std::cmp::Reverse((*name).clone()),
                )
            })
            .map(|(name, _)| name.clone());
        let state = leader
            .as_ref()
            .and_then(|l| cluster.nodes.get(l))
            .and_then(|n| n.node.as_ref())
            .and_then(|n| n.testkit_state());
        if let Some(state) = &state {
            Arc::make_mut(history).record(state, now);
        }
        Observation {
            at,
            now,
            leader,
            state,
            agents,
            stores,
            runtimes,
            leaders_by_term: leaders_by_term.clone(),
            ledger: ledger.clone(),
            history: Arc::clone(history),
        }
    }
}
