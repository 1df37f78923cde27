//! Shared fixtures of the manager step tests: a seeded random source, a founded cluster and a
//! tiny in-memory store that applies the steps' writes with their version checks.
#![allow(dead_code, clippy::unwrap_used)]

use std::time::{Duration, SystemTime};
use swarm_core::manager::ca_server::{JoinDecision, JoinRequest, JoinView, join};
use swarm_core::manager::control::{ClusterView, InitRequest, init_cluster};
use swarm_core::manager::writes::{ManagerWrite, ManagerWrites};
use swarm_core::model::{
    Cluster, ClusterSpec, Node, NodeAvailability, NodeDescription, NodeRole, Version,
};
use swarm_secrets::{CertPolicy, ClusterCa, ClusterId, NodeKey};
use swarm_store::storage::{MemLogStorage, MemSnapshotStore};
use swarm_store::testkit::inproc::InProcNetwork;
use swarm_store::{MemberId, Store, StoreConfig, StoreRpc};
use zeroize::Zeroizing;

/// splitmix64, the same generator the project's simulations use.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn source(&mut self) -> impl FnMut() -> u64 + '_ {
        move || self.next()
    }
}

/// A fixed time, well inside what certificates can carry.
pub(crate) fn t(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
}

pub(crate) fn csr() -> Vec<u8> {
    NodeKey::generate().unwrap().csr_der().unwrap()
}

pub(crate) fn new_ca(id: &str) -> ClusterCa {
    ClusterCa::generate(ClusterId::new(id).unwrap(), CertPolicy::default()).unwrap()
}

pub(crate) fn description(hostname: &str) -> NodeDescription {
    NodeDescription {
        hostname: hostname.to_owned(),
        ..NodeDescription::default()
    }
}

/// The managers' store as the tests see it: the cluster object, the nodes and the version
/// counter the store would keep.
pub(crate) struct World {
    pub(crate) ca: ClusterCa,
    pub(crate) cluster: Cluster,
    pub(crate) nodes: Vec<Node>,
    pub(crate) version: u64,
    pub(crate) rng: Rng,
}

impl World {
    /// A cluster founded at `t(0)` by manager `manager-0` at `10.0.0.1:2377`.
    pub(crate) fn founded() -> World {
        let ca = new_ca("c0ffee");
        let mut rng = Rng(42);
        let init = init_cluster(
            &ca,
            &InitRequest {
                spec: ClusterSpec::default(),
                csr_der: csr(),
                advertise_addr: "10.0.0.1:2377".into(),
                availability: NodeAvailability::Active,
                description: Some(description("manager-0")),
            },
            t(0),
            &mut rng.source(),
        )
        .unwrap();
        let mut world = World {
            ca,
            cluster: Cluster::default(),
            nodes: Vec::new(),
            version: 0,
            rng,
        };
        world.apply(&init.writes).unwrap();
        world
    }

    pub(crate) fn view(&self) -> ClusterView<'_> {
        ClusterView {
            cluster: &self.cluster,
            nodes: &self.nodes,
        }
    }

    pub(crate) fn join_view(&self) -> JoinView<'_> {
        JoinView {
            cluster: &self.cluster,
            ca: &self.ca,
            nodes: &self.nodes,
        }
    }

    pub(crate) fn token(&self, role: NodeRole) -> String {
        self.cluster.join_tokens.current(role).to_owned()
    }

    pub(crate) fn request(&self, token: &str, hostname: &str, addr: &str) -> JoinRequest {
        JoinRequest {
            token: Zeroizing::new(token.to_owned()),
            csr_der: csr(),
            advertise_addr: addr.to_owned(),
            availability: NodeAvailability::Active,
            description: Some(description(hostname)),
            observed_addr: addr.split(':').next().unwrap_or_default().to_owned(),
        }
    }

    /// Joins with the current token of `role` and applies the writes.
    pub(crate) fn join(&mut self, role: NodeRole, hostname: &str, addr: &str) -> JoinDecision {
        let request = self.request(&self.token(role), hostname, addr);
        let mut rng = Rng(self.rng.next());
        let decision = join(self.join_view(), &request, t(10), &mut rng.source()).unwrap();
        self.apply(&decision.writes).unwrap();
        decision
    }

    pub(crate) fn node(&self, hostname: &str) -> &Node {
        self.nodes
            .iter()
            .find(|n| n.display_name() == hostname)
            .unwrap_or_else(|| panic!("no node {hostname}"))
    }

    pub(crate) fn node_mut(&mut self, hostname: &str) -> &mut Node {
        self.nodes
            .iter_mut()
            .find(|n| n.display_name() == hostname)
            .unwrap_or_else(|| panic!("no node {hostname}"))
    }

    /// Applies the writes in one transaction, as the store would: every version check first,
    /// then every write with a new version.
    pub(crate) fn apply(&mut self, writes: &ManagerWrites) -> Result<(), String> {
        for w in &writes.writes {
            match w {
                ManagerWrite::CreateNode(n) => {
                    if self.nodes.iter().any(|m| m.id == n.id) {
                        return Err(format!("node {} exists", n.id));
                    }
                }
                ManagerWrite::UpdateNode {
                    node,
                    expected_version,
                } => self.check_node(&node.id, *expected_version)?,
                ManagerWrite::DeleteNode {
                    id,
                    expected_version,
                } => self.check_node(id, *expected_version)?,
                ManagerWrite::CreateCluster(_) => {
                    if !self.cluster.id.as_str().is_empty() {
                        return Err("cluster exists".into());
                    }
                }
                ManagerWrite::UpdateCluster {
                    expected_version, ..
                } => {
                    if self.cluster.meta.version != *expected_version {
                        return Err("cluster version".into());
                    }
                }
                other => return Err(format!("unknown write {other:?}")),
            }
        }
        self.version += 1;
        let v = Version(self.version);
        for w in &writes.writes {
            match w.clone() {
                ManagerWrite::CreateNode(mut n) => {
                    n.meta.version = v;
                    self.nodes.push(n);
                }
                ManagerWrite::UpdateNode { mut node, .. } => {
                    node.meta.version = v;
                    let slot = self.nodes.iter_mut().find(|m| m.id == node.id).unwrap();
                    *slot = node;
                }
                ManagerWrite::DeleteNode { id, .. } => self.nodes.retain(|n| n.id != id),
                ManagerWrite::CreateCluster(mut c)
                | ManagerWrite::UpdateCluster { cluster: mut c, .. } => {
                    c.meta.version = v;
                    self.cluster = c;
                }
                _ => unreachable!(),
            }
        }
        Ok(())
    }

    fn check_node(&self, id: &swarm_core::model::NodeId, expected: Version) -> Result<(), String> {
        match self.nodes.iter().find(|n| n.id == *id) {
            Some(n) if n.meta.version == expected => Ok(()),
            Some(n) => Err(format!("node {id} at {} not {expected}", n.meta.version)),
            None => Err(format!("node {id} missing")),
        }
    }
}

/// A bootstrapped one-member store on the in-process network, in memory.
pub(crate) async fn one_member_store() -> Store {
    let net = InProcNetwork::new(7);
    let rpc = StoreRpc::new();
    net.register(MemberId(1), rpc.clone());
    let store = Store::open(
        StoreConfig::new(MemberId(1), "member-1"),
        MemLogStorage::new(),
        MemSnapshotStore::new(),
        net.endpoint(MemberId(1)),
        &rpc,
    )
    .await
    .unwrap();
    store.bootstrap().await.unwrap();
    store
}

/// `swarm init` through `state`: the founding manager ("manager-0" at 10.0.0.1:2377) and the
/// cluster object with `ca`, written with the root CA record.
pub(crate) async fn found_cluster(
    state: &swarm_core::manager::state::ManagerStore,
    ca: &ClusterCa,
) -> swarm_core::manager::control::InitDecision {
    let init = init_cluster(
        ca,
        &InitRequest {
            spec: ClusterSpec::default(),
            csr_der: csr(),
            advertise_addr: "10.0.0.1:2377".into(),
            availability: NodeAvailability::Active,
            description: Some(description("manager-0")),
        },
        t(0),
        &mut Rng(1).source(),
    )
    .unwrap();
    state
        .initialize(
            &swarm_core::manager::state::StoredRootCa::from_ca(ca),
            &init.writes,
        )
        .await
        .unwrap();
    init
}
