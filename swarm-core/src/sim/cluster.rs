//! The simulated cluster: its nodes (running or crashed, each with its mock runtime and its
//! data directory kept across restarts) on one in-process network.

use crate::model::{ClusterSpec, NodeRole};
use crate::node::NodeError;
use crate::node::{Control, InProcNodes, Node, NodeConfig, NodeNetwork};
use crate::runtime::mock::{MockRuntime, MockScript};
use crate::runtime::{ErrorKind, HealthStatus, LifecycleStep};
use crate::sim::config::MAX_CONTROL_CALL;
use crate::sim::sim_rng::derive;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use swarm_store::testkit::DiskFaults;
use swarm_store::testkit::inproc::InProcNetwork;

/// The image whose tasks run until stopped.
pub(crate) const IMAGE_RUNS: &str = "sim/runs";
/// The image whose tasks fail to start twice (a temporary error the agent retries), then run.
pub(crate) const IMAGE_FLAKY_START: &str = "sim/flaky-start";
/// The image whose tasks crash (exit 1) a few seconds after they start.
pub(crate) const IMAGE_CRASHES: &str = "sim/crashes";
/// How long a task of [`IMAGE_CRASHES`] runs before it crashes.
pub(crate) const CRASH_AFTER: Duration = Duration::from_secs(3);
/// The image whose tasks exit 0 a moment after they start (jobs).
pub(crate) const IMAGE_COMPLETES: &str = "sim/completes";
/// How long a task of [`IMAGE_COMPLETES`] runs before it completes.
pub(crate) const COMPLETE_AFTER: Duration = Duration::from_secs(2);

/// The image whose tasks run, turn healthy after [`HEALTHY_AFTER`], then unhealthy
/// [`UNHEALTHY_AFTER`] later (its health check starts failing): the agent fails them and the
/// restart policy replaces them.
pub(crate) const IMAGE_TURNS_UNHEALTHY: &str = "sim/turns-unhealthy";
/// How long a task of [`IMAGE_TURNS_UNHEALTHY`] takes to turn healthy.
pub(crate) const HEALTHY_AFTER: Duration = Duration::from_secs(1);
/// How long a task of [`IMAGE_TURNS_UNHEALTHY`] stays healthy.
pub(crate) const UNHEALTHY_AFTER: Duration = Duration::from_secs(3);
/// The most unlock keys a run remembers (the first and every rotation's); a rotation beyond
/// forgets the oldest.
pub(crate) const MAX_UNLOCK_KEYS: usize = 16;

/// The name of the manager that starts the cluster (every other node joins through it).
pub(crate) const FIRST_MANAGER: &str = "m1";

/// The port every simulated node's address names.
const PORT: u16 = 2377;

/// One node of the simulation.
pub(crate) struct SimNode {
    /// The node while it runs; `None` while crashed.
    pub(crate) node: Option<Node>,
    /// Its runtime, kept across restarts (the containers outlive the agent).
    pub(crate) runtime: MockRuntime,
    /// Whether it is a manager, as last seen while it ran (it joined as one, or was
    /// promoted; a demotion clears it).
    pub(crate) manager: bool,
    /// Its Raft member id, once seen as a manager.
    pub(crate) member: Option<u64>,
    /// How many times it started.
    pub(crate) starts: u64,
}

/// The nodes of one simulated run.
pub(crate) struct SimCluster {
    pub(crate) seed: u64,
    pub(crate) net: InProcNodes,
    pub(crate) root: tempfile::TempDir,
    pub(crate) nodes: BTreeMap<String, SimNode>,
    /// Whether the managers are autolocked (the cluster was initialised so).
    pub(crate) autolock: bool,
    /// The unlock keys the run learned (the first, then each rotation's), newest last, at
    /// most [`MAX_UNLOCK_KEYS`].
    pub(crate) unlock_keys: Vec<String>,
    /// Workers that joined after formation.
    pub(crate) joined: u64,
    /// The addresses of nodes whose join failed: the cluster may hold a record of theirs
    /// that no node will ever bring up (down for good, as in SwarmKit).
    pub(crate) lost_joins: std::collections::BTreeSet<String>,
    /// A broken promise seen outside the invariants' observations (a wrong unlock key
    /// accepted): the run fails at its next observation.
    pub(crate) broken: Option<String>,
}

/// The runtime of every simulated node.
fn runtime() -> MockRuntime {
    MockRuntime::new()
        .with_default_script(MockScript::new().run_until_stopped())
        .with_script(IMAGE_RUNS, MockScript::new().run_until_stopped())
        .with_script(
            IMAGE_FLAKY_START,
            MockScript::new().run_until_stopped().fail_at(
                LifecycleStep::Start,
                ErrorKind::Temporary,
                2,
            ),
        )
        .with_script(IMAGE_CRASHES, MockScript::new().exit_after(CRASH_AFTER, 1))
        .with_script(
            IMAGE_COMPLETES,
            MockScript::new().exit_after(COMPLETE_AFTER, 0),
        )
        .with_script(
            IMAGE_TURNS_UNHEALTHY,
            MockScript::new().run_until_stopped().health_steps(
                vec![
                    (HEALTHY_AFTER, HealthStatus::Healthy),
                    (UNHEALTHY_AFTER, HealthStatus::Unhealthy),
                ],
                false,
            ),
        )
}

/// The address a node is known by on the in-process network.
pub(crate) fn addr(name: &str) -> String {
    format!("{name}:{PORT}")
}

impl SimCluster {
    /// An empty cluster on a network seeded by `seed`, with its data directories in a
    /// temporary directory.
    pub(crate) fn new(seed: u64) -> Result<SimCluster, String> {
        let root = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
        let net = InProcNodes::new(InProcNetwork::new(seed)).with_memory_disks();
        net.network().enable_trace();
        Ok(SimCluster {
            seed,
            net,
            root,
            nodes: BTreeMap::new(),
            autolock: false,
            unlock_keys: Vec::new(),
            joined: 0,
            lost_joins: std::collections::BTreeSet::new(),
            broken: None,
        })
    }

    /// The settings of `name`'s start number `start`.
    fn config(&self, name: &str, start: u64, runtime: &MockRuntime) -> NodeConfig {
        let mut c = NodeConfig::new(
            self.root.path().join(name),
            std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            Arc::new(runtime.clone()),
        );
        c.hostname = Some(name.to_owned());
        c.network = NodeNetwork::InProc(self.net.clone());
        c.advertise_addr = Some(addr(name));
        c.rng_seed = Some(derive(self.seed, name, start));
        c.raft_rng_seed = Some(derive(self.seed ^ 0x5241_4654, name, start));
        c
    }

    /// Starts the first manager of a new cluster, autolocked if `autolock`.
    pub(crate) async fn init(&mut self, name: &str, autolock: bool) -> Result<(), String> {
        let runtime = runtime();
        let mut spec = ClusterSpec::default();
        spec.encryption.auto_lock_managers = autolock;
        self.autolock = autolock;
        let node = Node::init(self.config(name, 1, &runtime), spec)
            .await
            .map_err(|e| format!("init {name}: {e}"))?;
        self.nodes.insert(
            name.to_owned(),
            SimNode {
                node: Some(node),
                runtime,
                manager: true,
                member: None,
                starts: 1,
            },
        );
        Ok(())
    }

    /// Joins `name` through the manager at `via` with `token`.
    pub(crate) async fn join(
        &mut self,
        name: &str,
        via: &str,
        token: &str,
        manager: bool,
    ) -> Result<(), String> {
        let runtime = runtime();
        let node = Node::join(self.config(name, 1, &runtime), &addr(via), token)
            .await
            .map_err(|e| format!("join {name}: {e}"))?;
        self.nodes.insert(
            name.to_owned(),
            SimNode {
                node: Some(node),
                runtime,
                manager,
                member: None,
                starts: 1,
            },
        );
        Ok(())
    }

    /// Crashes `name`: cut off the network at once (its calls in flight are lost), then its
    /// parts stopped. Its data directory and runtime stay.
    pub(crate) async fn crash(&mut self, name: &str) {
        self.net.crash(&addr(name));
        let node = self.nodes.get_mut(name).and_then(|n| n.node.take());
        if let Some(node) = node {
            node.shutdown().await;
        }
    }

    /// Restarts a crashed `name` from its data directory.
    pub(crate) async fn restart(&mut self, name: &str) -> Result<(), String> {
        let Some(slot) = self.nodes.get(name) else {
            return Err(format!("restart {name}: no such node"));
        };
        if slot.node.is_some() {
            return Ok(());
        }
        let start = slot.starts + 1;
        let config = self.config(name, start, &slot.runtime);
        // The disk comes back sound, with what it kept (a failed write persisted nothing).
        if let Some(faults) = self.disk_faults(name) {
            faults.repair();
        }
        let node = match Node::start(config.clone()).await {
            Ok(node) => node,
            Err(NodeError::Locked) => self.unlock(name, &config).await?,
            Err(e) => return Err(format!("restart {name}: {e}")),
        };
        if let Some(slot) = self.nodes.get_mut(name) {
            slot.node = Some(node);
            slot.starts = start;
        }
        Ok(())
    }

    /// Starts `name`, a manager that came back locked: a wrong key must be refused; then the
    /// keys the run knows, newest first, and last the current key read from a running
    /// manager (a rotation whose answer was lost).
    async fn unlock(&mut self, name: &str, config: &NodeConfig) -> Result<Node, String> {
        let parse = |key: &str| {
            swarm_secrets::UnlockKey::parse(key).map_err(|e| format!("unlock key: {e}"))
        };
        let mut wrong = config.clone();
        wrong.unlock_key =
            Some(swarm_secrets::UnlockKey::generate().map_err(|e| format!("unlock key: {e}"))?);
        match Node::start(wrong).await {
            Err(NodeError::WrongUnlockKey) => {}
            Err(e) => return Err(format!("restart {name} with a wrong key: {e}")),
            Ok(node) => {
                node.shutdown().await;
                let broken = format!("a wrong unlock key opened {name}");
                self.broken = Some(broken.clone());
                return Err(broken);
            }
        }
        let mut keys: Vec<String> = self.unlock_keys.iter().rev().cloned().collect();
        if let Some(control) = self.control() {
            if let Ok(Ok(Some(current))) =
                tokio::time::timeout(MAX_CONTROL_CALL, control.unlock_key()).await
            {
                keys.push(current.as_str().to_owned());
            }
        }
        for key in &keys {
            let mut right = config.clone();
            right.unlock_key = Some(parse(key)?);
            match Node::start(right).await {
                Ok(node) => return Ok(node),
                Err(NodeError::WrongUnlockKey) => {}
                Err(e) => return Err(format!("restart {name} unlocked: {e}")),
            }
        }
        Err(format!(
            "restart {name}: none of {} unlock keys opens it",
            keys.len()
        ))
    }

    /// The disk fault switch of `name`'s Raft log (kept in memory by the manager's data
    /// directory).
    pub(crate) fn disk_faults(&self, name: &str) -> Option<DiskFaults> {
        self.net
            .disk_faults(&self.root.path().join(name).join(crate::node::MANAGER_DIR))
    }

    /// Whether `name` runs with a sound disk (no write failure armed or happened).
    pub(crate) fn runs_soundly(&self, name: &str) -> bool {
        self.nodes.get(name).is_some_and(|n| n.node.is_some())
            && !self.disk_faults(name).is_some_and(|f| f.faulty())
    }

    /// Remembers an unlock key the cluster gave.
    pub(crate) fn learn_unlock_key(&mut self, key: String) {
        if self.unlock_keys.last() != Some(&key) {
            self.unlock_keys.push(key);
        }
        if self.unlock_keys.len() > MAX_UNLOCK_KEYS {
            self.unlock_keys.remove(0);
        }
    }

    /// Drops `name` from the cluster for good (it was removed): stopped if it runs, its
    /// runtime and containers gone with it.
    pub(crate) async fn forget(&mut self, name: &str) {
        self.net.crash(&addr(name));
        if let Some(node) = self.nodes.remove(name).and_then(|n| n.node) {
            node.shutdown().await;
        }
    }

    /// Brings every running node's manager flag and Raft member id up to date.
    pub(crate) fn refresh_roles(&mut self) {
        for n in self.nodes.values_mut() {
            let Some(node) = &n.node else { continue };
            n.manager = node.role() == NodeRole::Manager;
            if let Some(status) = node.store_status() {
                n.member = Some(status.member.0);
            }
        }
    }

    /// The nodes that count towards the Raft quorum, by name: the voters of the leader's
    /// configuration and every node flagged a manager (a promotion or demotion may be under
    /// way). `None` when no manager leads (nothing is known for sure).
    pub(crate) fn quorum_members(&self) -> Option<std::collections::BTreeSet<String>> {
        let leader = self.leader()?;
        let status = self.nodes.get(&leader)?.node.as_ref()?.store_status()?;
        let voters: Vec<u64> = status.voters().iter().map(|m| m.0).collect();
        Some(
            self.nodes
                .iter()
                .filter(|(_, n)| n.manager || n.member.is_some_and(|m| voters.contains(&m)))
                .map(|(name, _)| name.clone())
                .collect(),
        )
    }

    /// The running nodes, by name.
    pub(crate) fn running(&self) -> impl Iterator<Item = (&String, &Node)> {
        self.nodes
            .iter()
            .filter_map(|(name, n)| n.node.as_ref().map(|node| (name, node)))
    }

    /// The names of the crashed nodes.
    pub(crate) fn crashed(&self) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.node.is_none())
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// The running nodes that are managers now.
    pub(crate) fn managers(&self) -> Vec<(&String, &Node)> {
        self.running()
            .filter(|(_, n)| n.role() == NodeRole::Manager)
            .collect()
    }

    /// The name of the running manager that leads, if one does.
    pub(crate) fn leader(&self) -> Option<String> {
        self.managers()
            .into_iter()
            .find(|(_, n)| n.is_leader())
            .map(|(name, _)| name.clone())
    }

    /// The control API of the leader, else of any running manager (which forwards).
    pub(crate) fn control(&self) -> Option<Control> {
        let managers = self.managers();
        managers
            .iter()
            .find(|(_, n)| n.is_leader())
            .or_else(|| managers.first())
            .and_then(|(_, n)| n.control().ok())
    }

    /// Stops every node.
    pub(crate) async fn shutdown(&mut self) {
        let names: Vec<String> = self.nodes.keys().cloned().collect();
        for name in names {
            if let Some(node) = self.nodes.get_mut(&name).and_then(|n| n.node.take()) {
                node.shutdown().await;
            }
        }
    }
}
