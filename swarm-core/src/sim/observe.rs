//! What the invariants look at: the leader's view of the cluster, what every running agent
//! holds, every manager's Raft status, and the workload's ledger.

use crate::manager::cluster_state::ClusterState;
use crate::model::{NodeId, TaskId};
use crate::node::AgentSnapshot;
use crate::sim::cluster::SimCluster;
use crate::sim::ledger::Ledger;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
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
    /// The name of the leading manager, if one leads.
    pub leader: Option<String>,
    /// The leader's view of the orchestration state.
    pub state: Option<ClusterState>,
    /// Every running node, by name.
    pub agents: BTreeMap<String, AgentView>,
    /// Every running manager's Raft status, by name.
    pub stores: BTreeMap<String, StoreStatus>,
    /// Every Raft member seen leading, by term, over the whole run so far.
    pub leaders_by_term: BTreeMap<u64, BTreeSet<u64>>,
    /// What the workload wrote.
    pub ledger: Ledger,
}

impl Observation {
    /// Looks at `cluster` now; `leaders_by_term` accumulates across observations.
    pub(crate) fn take(
        cluster: &SimCluster,
        at: Duration,
        leaders_by_term: &mut BTreeMap<u64, BTreeSet<u64>>,
        ledger: &Ledger,
    ) -> Observation {
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
        let leader = cluster.leader();
        let state = leader
            .as_ref()
            .and_then(|l| cluster.nodes.get(l))
            .and_then(|n| n.node.as_ref())
            .and_then(|n| n.testkit_state());
        Observation {
            at,
            leader,
            state,
            agents,
            stores,
            leaders_by_term: leaders_by_term.clone(),
            ledger: ledger.clone(),
        }
    }
}
