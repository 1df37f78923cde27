//! A founded cluster for the unit tests of the certificate steps: the cluster object, the
//! node records and the root CA records, with the steps' writes applied as the store would
//! (version checks first, all or nothing). Times are around the real clock, so that
//! certificates the steps issue verify now.

use crate::manager::ca_server::{
    JoinDecision, JoinRequest, JoinView, RenewDecision, RenewError, RenewRequest, RenewView, join,
    renew_certificate,
};
use crate::manager::control::{ClusterView, InitRequest, init_cluster};
use crate::manager::state::RootCaSlot;
use crate::manager::writes::{ManagerWrite, ManagerWrites};
use crate::model::{
    Cluster, ClusterSpec, Node, NodeAvailability, NodeDescription, NodeRole, Version,
};
use std::time::{Duration, SystemTime};
use swarm_secrets::{CertPolicy, ClusterCa, ClusterId, NodeKey};
use zeroize::Zeroizing;

pub(crate) fn new_ca(id: &str) -> ClusterCa {
    ClusterCa::generate(ClusterId::new(id).unwrap(), CertPolicy::default()).unwrap()
}

pub(crate) fn csr() -> Vec<u8> {
    NodeKey::generate().unwrap().csr_der().unwrap()
}

/// `secs` after the fixture's start (the real clock when the test began).
pub(crate) struct Clock(SystemTime);

impl Clock {
    pub(crate) fn at(&self, secs: u64) -> SystemTime {
        self.0 + Duration::from_secs(secs)
    }
}

pub(crate) struct Fixture {
    pub(crate) clock: Clock,
    pub(crate) cluster: Cluster,
    pub(crate) nodes: Vec<Node>,
    pub(crate) current: ClusterCa,
    pub(crate) rotation: Option<ClusterCa>,
    version: u64,
    rng: u64,
}

impl Fixture {
    /// A cluster founded by `manager-0`.
    pub(crate) fn founded() -> Fixture {
        let ca = new_ca("c0ffee");
        let clock = Clock(SystemTime::now());
        let mut f = Fixture {
            cluster: Cluster::default(),
            nodes: Vec::new(),
            current: new_ca("c0ffee"),
            rotation: None,
            version: 0,
            rng: 42,
            clock,
        };
        let request = InitRequest {
            spec: ClusterSpec::default(),
            csr_der: csr(),
            advertise_addr: "10.0.0.1:2377".into(),
            availability: NodeAvailability::Active,
            description: description("manager-0"),
        };
        let init = init_cluster(&ca, &request, f.clock.at(0), &mut f.source()).unwrap();
        f.current = ca;
        f.apply(&init.writes).unwrap();
        f
    }

    fn source(&mut self) -> impl FnMut() -> u64 + '_ {
        move || {
            // splitmix64
            self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.rng;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
    }

    pub(crate) fn view(&self) -> ClusterView<'_> {
        ClusterView {
            cluster: &self.cluster,
            nodes: &self.nodes,
        }
    }

    /// The root that issues now, as the loop loads it from [`RootCaSlot::issuing`].
    pub(crate) fn issuing(&self) -> &ClusterCa {
        match (RootCaSlot::issuing(&self.cluster), &self.rotation) {
            (RootCaSlot::Rotation, Some(ca)) => ca,
            _ => &self.current,
        }
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

    /// Joins `hostname` with the current token of `role` at `secs` and applies the writes.
    pub(crate) fn join(&mut self, role: NodeRole, hostname: &str, secs: u64) -> JoinDecision {
        let request = JoinRequest {
            token: Zeroizing::new(self.cluster.join_tokens.current(role).to_owned()),
            csr_der: csr(),
            advertise_addr: "10.0.0.9:2377".into(),
            availability: NodeAvailability::Active,
            description: description(hostname),
            observed_addr: "10.0.0.9".into(),
        };
        let now = self.clock.at(secs);
        let mut rng = self.rng;
        let mut source = || {
            rng = rng.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            rng
        };
        let view = JoinView {
            cluster: &self.cluster,
            ca: self.issuing(),
            nodes: &self.nodes,
        };
        let decision = join(view, &request, now, &mut source).unwrap();
        self.rng = rng;
        self.apply(&decision.writes).unwrap();
        decision
    }

    /// `hostname` asks for a new certificate at `secs`, presenting the role of its record.
    pub(crate) fn renew(&self, hostname: &str, secs: u64) -> Result<RenewDecision, RenewError> {
        let node = self.node(hostname);
        let request = RenewRequest {
            node: node.id.clone(),
            presented_role: node.spec.role,
            csr_der: csr(),
        };
        let view = RenewView {
            cluster: &self.cluster,
            ca: self.issuing(),
            nodes: &self.nodes,
        };
        renew_certificate(view, &request, self.clock.at(secs))
    }

    /// Applies `writes` as the store would: every version check, then every write.
    pub(crate) fn apply(&mut self, writes: &ManagerWrites) -> Result<(), String> {
        let node_at = |nodes: &[Node], id: &crate::model::NodeId, v: Version| match nodes
            .iter()
            .find(|n| n.id == *id)
        {
            Some(n) if n.meta.version == v => Ok(()),
            Some(n) => Err(format!("node {id} at {}, not {v}", n.meta.version)),
            None => Err(format!("no node {id}")),
        };
        for w in &writes.writes {
            match w {
                ManagerWrite::CreateNode(n) if self.nodes.iter().any(|m| m.id == n.id) => {
                    return Err(format!("node {} exists", n.id));
                }
                ManagerWrite::UpdateNode {
                    node,
                    expected_version,
                } => node_at(&self.nodes, &node.id, *expected_version)?,
                ManagerWrite::DeleteNode {
                    id,
                    expected_version,
                } => node_at(&self.nodes, id, *expected_version)?,
                ManagerWrite::UpdateCluster {
                    expected_version, ..
                } if self.cluster.meta.version != *expected_version => {
                    return Err("cluster version".into());
                }
                _ => {}
            }
        }
        self.version += 1;
        let v = Version(self.version);
        for w in writes.writes.iter().cloned() {
            match w {
                ManagerWrite::CreateNode(mut n) => {
                    n.meta.version = v;
                    self.nodes.push(n);
                }
                ManagerWrite::UpdateNode { mut node, .. } => {
                    node.meta.version = v;
                    if let Some(slot) = self.nodes.iter_mut().find(|m| m.id == node.id) {
                        *slot = node;
                    }
                }
                ManagerWrite::DeleteNode { id, .. } => self.nodes.retain(|n| n.id != id),
                ManagerWrite::CreateCluster(mut c)
                | ManagerWrite::UpdateCluster { cluster: mut c, .. } => {
                    c.meta.version = v;
                    self.cluster = c;
                }
                ManagerWrite::PutRootCa { slot, root } => {
                    let ca = root.to_ca(CertPolicy::default()).unwrap();
                    match slot {
                        RootCaSlot::Current => self.current = ca,
                        RootCaSlot::Rotation => self.rotation = Some(ca),
                    }
                }
                ManagerWrite::DeleteRootCa { slot, .. } => {
                    assert_eq!(slot, RootCaSlot::Rotation, "the current root is replaced");
                    self.rotation = None;
                }
                other => return Err(format!("the node-step fixture holds no {other:?}")),
            }
        }
        Ok(())
    }
}

fn description(hostname: &str) -> Option<NodeDescription> {
    Some(NodeDescription {
        hostname: hostname.to_owned(),
        ..NodeDescription::default()
    })
}
