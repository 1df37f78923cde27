//! The manager listener's handler: every call authorised by the caller's role, then served.
//!
//! | call | who may make it |
//! | --- | --- |
//! | store (Raft) traffic | managers (the store then requires a member, and checks the sender of every Raft message) |
//! | root CA, join | anyone, a node without a certificate included (the join token is the credential) |
//! | register, heartbeat, assignments, task status, renew | nodes of the cluster (workers and managers); a node is always the one its certificate names, so it reads only its own assignments and reports only its own tasks |
//! | log subscriptions, publish logs | nodes of the cluster; a node learns only the subscriptions it has a part in and publishes only its own tasks' output, to those (the log broker checks every message) |
//! | control (log calls included) | managers |
//! | forwarded dispatcher and log calls | managers |

use crate::model::NodeRole;
use crate::node::manager_core::ManagerCore;
use crate::node::peers::{ANONYMOUS_PEER, PeerInfo, PeerTable};
use crate::node::wire::{
    NodeCall, NodeReply, Origin, RefusalKind, TAG_NODE, TAG_STORE, encode_reply, refusal,
};
use bytes::Bytes;
use std::sync::{Arc, OnceLock, Weak};
use swarm_store::transport::RpcHandler;
use swarm_store::{MemberId, StoreRpc};

/// The handler a manager's listener serves.
#[derive(Clone)]
pub(crate) struct NodeRpc {
    store: StoreRpc,
    peers: PeerTable,
    /// Weak: the listener's connections must not keep a stopped manager (and its store's
    /// files) alive.
    core: Arc<OnceLock<Weak<ManagerCore>>>,
}

impl NodeRpc {
    pub(crate) fn new(store: StoreRpc, peers: PeerTable) -> Self {
        NodeRpc {
            store,
            peers,
            core: Arc::default(),
        }
    }

    /// Attaches the started manager; calls before it are refused as unavailable.
    pub(crate) fn attach(&self, core: &Arc<ManagerCore>) {
        let _ = self.core.set(Arc::downgrade(core));
    }

    async fn serve(&self, caller: Option<PeerInfo>, call: NodeCall) -> NodeReply {
        let Some(core) = self.core.get().and_then(Weak::upgrade) else {
            return refusal(
                RefusalKind::Unavailable,
                "this manager is starting or stopping",
            );
        };
        let denied = |what: &str, caller: &Option<PeerInfo>| {
            let who = caller.as_ref().map_or_else(
                || "a node without a certificate".to_owned(),
                |p| format!("{} {}", p.role, p.node),
            );
            refusal(
                RefusalKind::PermissionDenied,
                format!("{what} refused: {who} may not make this call"),
            )
        };
        match call {
            NodeCall::GetRootCa => core.root_ca_reply(),
            NodeCall::Join(join) => core.serve_join(join).await,
            NodeCall::Register { .. }
            | NodeCall::Heartbeat { .. }
            | NodeCall::Assignments { .. }
            | NodeCall::UpdateTaskStatus { .. }
            | NodeCall::Renew { .. }
            | NodeCall::LogSubscriptions { .. }
            | NodeCall::PublishLogs { .. } => {
                let Some(peer) = caller else {
                    return denied("a dispatcher call", &caller);
                };
                let origin = Origin {
                    node: peer.node,
                    role: peer.role,
                    addr: String::new(),
                };
                core.serve_dispatch(origin, call, true).await
            }
            NodeCall::Control(control) => match &caller {
                Some(p) if p.role == NodeRole::Manager => core.serve_control(control).await,
                _ => denied("a control call", &caller),
            },
            NodeCall::LeaderControl(control) => match &caller {
                Some(p) if p.role == NodeRole::Manager => core.serve_leader_control(control).await,
                _ => denied("a control call", &caller),
            },
            NodeCall::Forwarded { origin, call } => match &caller {
                Some(p) if p.role == NodeRole::Manager => {
                    core.serve_dispatch(origin, *call, false).await
                }
                _ => denied("a forwarded call", &caller),
            },
        }
    }
}

impl RpcHandler for NodeRpc {
    async fn handle(&self, from: MemberId, request: Bytes) -> Result<Bytes, String> {
        let Some(&tag) = request.first() else {
            return Err(format!("empty request from {from}"));
        };
        let caller = if from == ANONYMOUS_PEER {
            None
        } else {
            Some(
                self.peers
                    .get(from)
                    .ok_or_else(|| format!("caller {from} has no known certificate"))?,
            )
        };
        match tag {
            TAG_STORE => match &caller {
                Some(p) if p.role == NodeRole::Manager => {
                    self.store.handle(from, request.slice(1..)).await
                }
                Some(p) => Err(format!(
                    "Raft traffic from {} {} refused: only managers take part in Raft",
                    p.role, p.node
                )),
                None => Err("Raft traffic from a node without a certificate refused".into()),
            },
            TAG_NODE => {
                let call: NodeCall = postcard::from_bytes(&request[1..])
                    .map_err(|e| format!("undecodable call from {from}: {e}"))?;
                let reply = self.serve(caller, call).await;
                encode_reply(&reply)
            }
            other => Err(format!("unknown request tag {other} from {from}")),
        }
    }
}
