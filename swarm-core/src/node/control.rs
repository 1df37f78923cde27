//! The control API as a Rust handle.

use crate::manager::control::{ClusterUpdate, NodeFilter, NodeUpdate};
use crate::manager::dispatcher::render_node_ls;
use crate::model::{Cluster, Node, NodeAvailability, NodeRole};
use crate::node::error::NodeError;
use crate::node::error::secrets;
use crate::node::manager_core::{MAX_CONFLICT_RETRIES, ManagerCore};
use crate::node::network::{Link, LinkParts, NodeNetwork};
use crate::node::node::credentials_of;
use crate::node::peers::{PeerTable, link_id};
use crate::node::state_file::NodeState;
use crate::node::wire::{ControlCall, ControlReply, ManagerAddr, NodeCall, NodeReply};
use std::sync::{Arc, Weak};
use swarm_store::MemberId;
use zeroize::Zeroizing;

/// The control API of a manager (`docker node …`, `docker swarm …`).
///
/// * In process: [`Node::control`](super::Node::control). Every call is served by that
///   manager, whether it leads or follows (the store carries writes and linearizable reads to
///   the leader), so reads see every write acknowledged before them. The handle does not keep
///   the manager alive: once the node stops (or is demoted), calls fail with
///   [`NodeError::Stopped`].
/// * From another process: [`Control::connect`] with a manager's data directory, as the
///   docker CLI talks to its local engine: the calls go over mutual TLS with that manager's
///   certificate to the managers it knows, the node's own listener first, the others if it
///   does not answer.
///
/// Refusals are typed: [`NodeError::Control`] names the node or the cluster and the rule (in
/// process), [`NodeError::Remote`] carries the same message and a [`RefusalKind`] (remote).
///
/// [`RefusalKind`]: super::RefusalKind
#[derive(Clone)]
pub struct Control {
    target: Target,
    node: crate::model::NodeId,
}

#[derive(Clone)]
enum Target {
    Local(Weak<ManagerCore>),
    Remote(Arc<RemoteManagers>),
}

/// A remote control handle's way to the managers.
struct RemoteManagers {
    link: Link,
    /// (transport id, address) of each manager, the node's own first.
    managers: Vec<(MemberId, String)>,
    timeout: std::time::Duration,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("manager", &self.node)
            .field("remote", &matches!(self.target, Target::Remote(_)))
            .finish()
    }
}

/// Longest wait for one remote control call (a write goes through Raft; a linearizable read
/// waits for the leader's confirmation).
pub const REMOTE_CONTROL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl Control {
    pub(crate) fn new(core: &Arc<ManagerCore>) -> Self {
        Control {
            target: Target::Local(Arc::downgrade(core)),
            node: core.node_id.clone(),
        }
    }

    /// A control handle for another process on a manager's host: reads the manager's identity
    /// (certificate, key, trusted roots, known managers) from its data directory `data_dir`
    /// and calls the managers over mutual TLS. [`NodeError::NotAManager`] if that node is a
    /// worker; [`NodeError::NotInitialized`] if the directory holds no node. The certificate
    /// read is the one on disk now: after the manager renews it, connect again.
    pub async fn connect(data_dir: impl AsRef<std::path::Path>) -> Result<Control, NodeError> {
        let state = NodeState::load(data_dir.as_ref())?;
        if state.role != NodeRole::Manager {
            return Err(NodeError::NotAManager);
        }
        let (creds, trust) = credentials_of(&state, swarm_secrets::RevocationList::new())?;
        let tls = swarm_secrets::tls::client_config(&creds, &trust)
            .map_err(secrets("the control connection"))?;
        let peers = PeerTable::new(
            swarm_secrets::tls::LiveTrust::new(trust),
            swarm_store::transport::tcp::MemberNames::new(),
        );
        let link = NodeNetwork::Tcp.link(LinkParts {
            local: MemberId(0),
            tls: Some(tls),
            identify: peers.manager_link_identifier(),
            tcp: &swarm_store::transport::tcp::TcpConfig::default(),
            advertise: &state.advertise_addr,
        })?;
        let mut ordered: Vec<&ManagerAddr> = state.managers.iter().collect();
        ordered.sort_by_key(|m| m.node != state.node_id);
        let mut managers = Vec::new();
        for m in ordered {
            let id = link_id(&m.node);
            link.set_peer(id, &m.addr, &m.node).await?;
            managers.push((id, m.addr.clone()));
        }
        Ok(Control {
            target: Target::Remote(Arc::new(RemoteManagers {
                link,
                managers,
                timeout: REMOTE_CONTROL_TIMEOUT,
            })),
            node: state.node_id.clone(),
        })
    }

    async fn call(&self, call: ControlCall) -> Result<ControlReply, NodeError> {
        match &self.target {
            Target::Local(core) => {
                let core = core.upgrade().ok_or(NodeError::Stopped)?;
                core.exec_control(call).await
            }
            Target::Remote(remote) => remote.call(call).await,
        }
    }
    /// `node ls`: the nodes that pass `filter`, in id order.
    pub async fn nodes(&self, filter: &NodeFilter) -> Result<Vec<Node>, NodeError> {
        match self.call(ControlCall::ListNodes(filter.clone())).await? {
            ControlReply::Nodes(nodes) => Ok(nodes),
            other => Err(unexpected(other)),
        }
    }

    /// `node inspect`: a node by id, name or unique id prefix.
    pub async fn node(&self, query: &str) -> Result<Node, NodeError> {
        match self
            .call(ControlCall::InspectNode(query.to_owned()))
            .await?
        {
            ControlReply::Node(node) => Ok(*node),
            other => Err(unexpected(other)),
        }
    }

    /// `node ls` as the docker CLI prints it, this manager marked with `*`.
    pub async fn node_ls(&self) -> Result<String, NodeError> {
        let nodes = self.nodes(&NodeFilter::default()).await?;
        Ok(render_node_ls(&nodes, Some(&self.node)))
    }

    /// `node update`: the whole spec, at the version the caller read.
    pub async fn update_node(&self, query: &str, update: NodeUpdate) -> Result<(), NodeError> {
        self.call(ControlCall::UpdateNode {
            query: query.to_owned(),
            update,
        })
        .await
        .map(drop)
    }

    /// `node update --availability`: reads the node and changes only its availability,
    /// re-reading after a concurrent change.
    pub async fn set_availability(
        &self,
        query: &str,
        availability: NodeAvailability,
    ) -> Result<(), NodeError> {
        self.edit_spec(query, |spec| spec.availability = availability)
            .await
    }

    /// `node update --label-add key=value`.
    pub async fn add_label(&self, query: &str, key: &str, value: &str) -> Result<(), NodeError> {
        self.edit_spec(query, |spec| {
            spec.labels.insert(key.to_owned(), value.to_owned());
        })
        .await
    }

    async fn edit_spec(
        &self,
        query: &str,
        edit: impl Fn(&mut crate::model::NodeSpec),
    ) -> Result<(), NodeError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let node = self.node(query).await?;
            let mut spec = node.spec.clone();
            edit(&mut spec);
            let update = NodeUpdate {
                version: node.meta.version,
                spec,
            };
            match self.update_node(node.id.as_str(), update).await {
                Err(NodeError::Control(e)) if e.is_conflict() && attempt < MAX_CONFLICT_RETRIES => {
                }
                Err(NodeError::State(e)) if e.is_conflict() && attempt < MAX_CONFLICT_RETRIES => {}
                other => return other,
            }
        }
    }

    /// `node promote`: the node becomes a manager (it renews its certificate, then the leader
    /// adds it to the Raft group). Refused when it would lose quorum.
    pub async fn promote(&self, query: &str) -> Result<(), NodeError> {
        self.set_role(query, NodeRole::Manager).await
    }

    /// `node demote`: the node leaves the Raft group and becomes a worker. Refused for the
    /// last manager or when it would lose quorum.
    pub async fn demote(&self, query: &str) -> Result<(), NodeError> {
        self.set_role(query, NodeRole::Worker).await
    }

    async fn set_role(&self, query: &str, role: NodeRole) -> Result<(), NodeError> {
        self.call(ControlCall::SetRole {
            query: query.to_owned(),
            role,
        })
        .await
        .map(drop)
    }

    /// `node rm [--force]`: a down node, or any worker with `force`; its certificate is
    /// revoked (its connections are cut and it cannot come back).
    pub async fn remove_node(&self, query: &str, force: bool) -> Result<(), NodeError> {
        self.call(ControlCall::RemoveNode {
            query: query.to_owned(),
            force,
        })
        .await
        .map(drop)
    }

    /// `swarm inspect`: the cluster object.
    pub async fn cluster(&self) -> Result<Cluster, NodeError> {
        match self.call(ControlCall::InspectCluster).await? {
            ControlReply::Cluster(c) => Ok(*c),
            other => Err(unexpected(other)),
        }
    }

    /// `swarm update`: the whole spec at the version read (heartbeat period, task history,
    /// certificate expiry, autolock...).
    pub async fn update_cluster(&self, update: ClusterUpdate) -> Result<(), NodeError> {
        self.call(ControlCall::UpdateCluster(update))
            .await
            .map(drop)
    }

    /// `swarm join-token <role>`.
    pub async fn join_token(&self, role: NodeRole) -> Result<Zeroizing<String>, NodeError> {
        let cluster = self.cluster().await?;
        Ok(crate::manager::control::join_token(&cluster, role)?)
    }

    /// `swarm join-token --rotate <role>`: the new token (the old one is refused from now on,
    /// naming the rotation).
    pub async fn rotate_join_token(&self, role: NodeRole) -> Result<Zeroizing<String>, NodeError> {
        self.call(ControlCall::RotateJoinToken(role)).await?;
        self.join_token(role).await
    }

    /// `swarm ca --rotate`: a new root CA for the cluster. Both roots are trusted meanwhile;
    /// every node renews its certificate from the new root at its next heartbeat answer, and
    /// the leader finishes the rotation (the old root retired, join tokens re-pinned to the new
    /// root with fresh secrets) once every node has. Refused while another rotation runs.
    pub async fn rotate_root_ca(&self) -> Result<(), NodeError> {
        self.call(ControlCall::RotateRootCa).await.map(drop)
    }

    /// `swarm unlock-key`: `None` when autolock is off.
    pub async fn unlock_key(&self) -> Result<Option<Zeroizing<String>>, NodeError> {
        match self.call(ControlCall::UnlockKey).await? {
            ControlReply::UnlockKey(k) => Ok(k.map(Zeroizing::new)),
            other => Err(unexpected(other)),
        }
    }

    /// `swarm unlock-key --rotate`: the new key.
    pub async fn rotate_unlock_key(&self) -> Result<Option<Zeroizing<String>>, NodeError> {
        self.call(ControlCall::RotateUnlockKey).await?;
        self.unlock_key().await
    }
}

impl RemoteManagers {
    /// Sends `call` to the first manager that answers.
    async fn call(&self, call: ControlCall) -> Result<ControlReply, NodeError> {
        let call = NodeCall::Control(call);
        let mut last = NodeError::Stopped;
        for (id, addr) in &self.managers {
            match self.link.call_node(*id, addr, &call, self.timeout).await {
                Ok(NodeReply::Control(reply)) => return Ok(reply),
                Ok(NodeReply::Refused(r)) => return Err(NodeError::Remote(r)),
                Ok(other) => {
                    return Err(NodeError::Protocol {
                        peer: addr.clone(),
                        detail: format!("unexpected answer {other:?}"),
                    });
                }
                // Not reachable: try the next manager.
                Err(e @ NodeError::Transport { .. }) => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }
}

fn unexpected(reply: ControlReply) -> NodeError {
    NodeError::Protocol {
        peer: "this manager".into(),
        detail: format!("unexpected answer {reply:?}"),
    }
}
