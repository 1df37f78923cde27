//! What nodes send each other on the manager's listener, besides the store's own Raft traffic.
//!
//! Every request frame starts with one tag byte: [`TAG_STORE`] followed by a swarm-store RPC
//! (served by the store, from managers only), or [`TAG_NODE`] followed by the postcard encoding
//! of a [`NodeCall`]. Replies to node calls are a postcard [`NodeReply`]. Decoding is bounded by
//! the transport's frame limit; a call that does not decode is refused, naming the peer.

use crate::manager::control::{
    ClusterUpdate, NodeFilter, NodeUpdate, SecretInfo, ServiceFilter, TaskFilter,
};
use crate::manager::dispatcher::{Assignments, HeartbeatReply, HeldItem, SessionId, StatusRefusal};
use crate::manager::logbroker::{
    LogBatch, LogMessage, LogRequest, LogSubscription, LogSubscriptionId, LogTarget,
};
use crate::model::{
    Cluster, Config, ConfigSpec, Network, NetworkSpec, Node, NodeAvailability, NodeDescription,
    NodeId, NodeRole, SecretSpec, Service, ServiceSpec, Task, TaskId, TaskStatus, Version,
};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// Tag of a request carrying a swarm-store RPC.
pub(crate) const TAG_STORE: u8 = 0;
/// Tag of a request carrying a [`NodeCall`].
pub(crate) const TAG_NODE: u8 = 1;

/// The most managers a join answer or a node's state file lists (the dispatcher's bound).
pub const MAX_LISTED_MANAGERS: usize = crate::manager::dispatcher::MAX_MANAGERS;

/// A manager as other nodes reach it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagerAddr {
    /// Its node id (the CN of its certificate).
    pub node: NodeId,
    /// Its Raft member id.
    pub raft_id: u64,
    /// `host:port` of its listener.
    pub addr: String,
}

/// A joining node's request.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct JoinCall {
    pub(crate) token: String,
    pub(crate) csr_der: Vec<u8>,
    pub(crate) advertise_addr: String,
    pub(crate) availability: NodeAvailability,
    pub(crate) description: Option<NodeDescription>,
}

impl std::fmt::Debug for JoinCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinCall")
            .field("token", &"[REDACTED]")
            .field("advertise_addr", &self.advertise_addr)
            .finish_non_exhaustive()
    }
}

/// What the cluster tells a node about itself with every dispatcher answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct NodeDirective {
    /// The role the cluster wants the node to have.
    pub(crate) role: NodeRole,
    /// Its Raft id when it is (to be) a manager.
    pub(crate) raft_id: Option<u64>,
    /// The managers, with their Raft ids, for the node's state file and its store transport.
    pub(crate) managers: Vec<ManagerAddr>,
    /// Renew the certificate now (a root rotation: it is on the old root).
    pub(crate) renew_now: bool,
    /// The roots to trust (DER): the cluster's, and during a rotation both.
    pub(crate) trusted_roots: Vec<Vec<u8>>,
}

/// A control API request (managers only).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum ControlCall {
    ListNodes(NodeFilter),
    InspectNode(String),
    UpdateNode {
        query: String,
        update: NodeUpdate,
    },
    SetRole {
        query: String,
        role: NodeRole,
    },
    RemoveNode {
        query: String,
        force: bool,
    },
    InspectCluster,
    UpdateCluster(ClusterUpdate),
    RotateJoinToken(NodeRole),
    RotateUnlockKey,
    UnlockKey,
    RotateRootCa,
    Leave {
        node: NodeId,
        force: bool,
    },
    CreateService(Box<ServiceSpec>),
    ListServices(ServiceFilter),
    InspectService(String),
    UpdateService {
        query: String,
        version: Version,
        spec: Box<ServiceSpec>,
    },
    ScaleService {
        query: String,
        replicas: u64,
    },
    RollbackService(String),
    RemoveService(String),
    ListTasks(TaskFilter),
    InspectTask(String),
    CreateSecret(SecretSpec),
    ListSecrets,
    InspectSecret(String),
    UpdateSecret {
        query: String,
        version: Version,
        spec: SecretSpec,
    },
    RemoveSecret(String),
    CreateConfig(ConfigSpec),
    ListConfigs,
    InspectConfig(String),
    UpdateConfig {
        query: String,
        version: Version,
        spec: ConfigSpec,
    },
    RemoveConfig(String),
    CreateNetwork(Box<NetworkSpec>),
    ListNetworks,
    InspectNetwork(String),
    RemoveNetwork(String),
    Resolve {
        network: String,
        name: String,
    },
    /// `service logs` / `task logs`: served by the leader's log broker (followers pass it on).
    Logs(LogCall),
}

/// A client's call to the leader's log broker.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum LogCall {
    /// A new subscription (answered with its id).
    Subscribe {
        target: LogTarget,
        request: LogRequest,
    },
    /// The next messages (at most `max`), waiting up to
    /// [`LOGS_NEXT_WAIT`](crate::node::LOGS_NEXT_WAIT) for some.
    Next {
        subscription: LogSubscriptionId,
        max: u32,
    },
    /// The client stopped reading.
    Cancel { subscription: LogSubscriptionId },
}

impl ControlCall {
    /// Whether the call creates, changes or removes a service, secret, config or network:
    /// those run on the leader, one at a time, so that the uniqueness of names and the "in
    /// use" checks hold across managers.
    pub(crate) fn runs_on_leader(&self) -> bool {
        matches!(
            self,
            ControlCall::CreateService(_)
                | ControlCall::UpdateService { .. }
                | ControlCall::ScaleService { .. }
                | ControlCall::RemoveService(_)
                | ControlCall::CreateSecret(_)
                | ControlCall::UpdateSecret { .. }
                | ControlCall::RemoveSecret(_)
                | ControlCall::CreateConfig(_)
                | ControlCall::UpdateConfig { .. }
                | ControlCall::RemoveConfig(_)
                | ControlCall::CreateNetwork(_)
                | ControlCall::RemoveNetwork(_)
        )
    }
}

/// A control API answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum ControlReply {
    Nodes(Vec<Node>),
    Node(Box<Node>),
    Cluster(Box<Cluster>),
    UnlockKey(Option<String>),
    Done,
    /// The id of the object a create made.
    Created(String),
    Services(Vec<Service>),
    Service(Box<Service>),
    Tasks(Vec<Task>),
    Task(Box<Task>),
    Secrets(Vec<SecretInfo>),
    Secret(SecretInfo),
    Configs(Vec<Config>),
    Config(Box<Config>),
    Networks(Vec<Network>),
    Network(Box<Network>),
    Addresses(Vec<std::net::IpAddr>),
    /// A new log subscription.
    LogSubscribed(LogSubscriptionId),
    /// Messages of a log subscription, and its end once it ended.
    Logs(LogBatch),
}

/// Who a forwarded dispatcher call comes from: the follower that received it vouches for the
/// certificate it verified.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Origin {
    pub(crate) node: NodeId,
    pub(crate) role: NodeRole,
    pub(crate) addr: String,
}

/// A request to a manager.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum NodeCall {
    /// The root CA certificate (anyone; a joining node checks it against its token).
    GetRootCa,
    /// Join with a token and a CSR (nodes without a certificate).
    Join(JoinCall),
    /// Start a dispatcher session (any node of the cluster).
    Register { description: NodeDescription },
    /// Keep a session alive.
    Heartbeat { session: SessionId },
    /// The node's assignment set, answered at once when it differs from `known_generation`
    /// or items are missing from `held` (at most
    /// [`MAX_HELD_ITEMS`](crate::manager::dispatcher::MAX_HELD_ITEMS)), else after the next
    /// change or the long-poll bound (`AssignmentsUnchanged`).
    Assignments {
        session: SessionId,
        known_generation: u64,
        held: Vec<HeldItem>,
    },
    /// Task status reports of the node's tasks (at most
    /// [`MAX_STATUS_UPDATES_PER_CALL`](crate::manager::dispatcher::MAX_STATUS_UPDATES_PER_CALL)).
    UpdateTaskStatus {
        session: SessionId,
        updates: Vec<(TaskId, TaskStatus)>,
    },
    /// A new certificate for the caller's key, with the role the cluster gives it now.
    Renew { csr_der: Vec<u8> },
    /// The log subscriptions the node is to publish to, answered at once when they differ
    /// from `known` (at most
    /// [`MAX_LOG_SUBSCRIPTIONS`](crate::manager::logbroker::MAX_LOG_SUBSCRIPTIONS) ids), else
    /// after the next change or the long-poll bound (`LogSubscriptionsUnchanged`).
    LogSubscriptions {
        session: SessionId,
        known: Vec<LogSubscriptionId>,
    },
    /// Output of the node's tasks for a subscription (bounded by the broker), and whether the
    /// node's part is complete.
    PublishLogs {
        session: SessionId,
        subscription: LogSubscriptionId,
        messages: Vec<LogMessage>,
        close: bool,
    },
    /// A control API call (managers only).
    Control(ControlCall),
    /// A dispatcher, renewal or log call a follower passes on to the leader (managers only).
    Forwarded { origin: Origin, call: Box<NodeCall> },
    /// A control call a follower passes on to the leader because it must run there
    /// ([`ControlCall::runs_on_leader`]); the leader runs it without passing it on again
    /// (managers only).
    LeaderControl(ControlCall),
}

/// Why a manager refused a call, as sent over the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct RemoteRefusal {
    /// What kind of refusal.
    pub kind: RefusalKind,
    /// What the manager said, naming the object and the rule.
    pub message: String,
}

/// Kinds of [`RemoteRefusal`], for callers that act on them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum RefusalKind {
    /// The caller's role (from its certificate) may not make this call.
    PermissionDenied,
    /// No leader is known right now (retryable).
    Unavailable,
    /// The object named does not exist.
    NotFound,
    /// A version check failed or the object changed meanwhile (re-read and retry).
    Conflict,
    /// The request breaks a rule (quorum, last manager, invalid spec...).
    Refused,
    /// The join token is wrong, rotated or of another cluster.
    BadToken,
    /// The dispatcher refused: the payload says which way.
    Dispatcher(crate::manager::dispatcher::DispatcherError),
    /// The manager failed internally (storage, encoding).
    Internal,
}

/// An answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum NodeReply {
    RootCa {
        cert_der: Vec<u8>,
    },
    Joined {
        node: NodeId,
        role: NodeRole,
        raft_id: Option<u64>,
        cert_der: Vec<u8>,
        ca_cert_der: Vec<u8>,
        trusted_roots: Vec<Vec<u8>>,
        managers: Vec<ManagerAddr>,
    },
    Registered {
        session: SessionId,
        reply: HeartbeatReply,
        directive: NodeDirective,
    },
    Heartbeat {
        reply: HeartbeatReply,
        directive: NodeDirective,
    },
    Renewed {
        cert_der: Vec<u8>,
        ca_cert_der: Vec<u8>,
        trusted_roots: Vec<Vec<u8>>,
        role: NodeRole,
    },
    /// The node's assignment set (it changed, or items were missing): whole, or only its
    /// changes when the call named the generation this leader last sent the node.
    Assignments(Box<Assignments>),
    /// Nothing changed within the long-poll bound.
    AssignmentsUnchanged {
        generation: u64,
    },
    /// The reports were taken: applied, or refused for the reasons listed.
    TaskStatusUpdated {
        refused: Vec<StatusRefusal>,
    },
    /// The log subscriptions the node is to publish to.
    LogSubscriptions(Vec<LogSubscription>),
    /// They did not change within the long-poll bound.
    LogSubscriptionsUnchanged,
    /// A publication was taken (`false`: the subscription's buffer stayed full for
    /// [`LOG_PUBLISH_WAIT`](crate::node::LOG_PUBLISH_WAIT); send it again).
    LogsPublished {
        taken: bool,
    },
    Control(ControlReply),
    Refused(RemoteRefusal),
}

/// A node call as a request frame.
pub(crate) fn encode_call(call: &NodeCall) -> Result<Bytes, postcard::Error> {
    let mut out = vec![TAG_NODE];
    out.extend(postcard::to_allocvec(call)?);
    Ok(Bytes::from(out))
}

/// A store RPC as a request frame.
pub(crate) fn encode_store(request: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(request.len() + 1);
    out.push(TAG_STORE);
    out.extend_from_slice(request);
    Bytes::from(out)
}

/// A reply as a response frame.
pub(crate) fn encode_reply(reply: &NodeReply) -> Result<Bytes, String> {
    postcard::to_allocvec(reply)
        .map(Bytes::from)
        .map_err(|e| format!("cannot encode the answer: {e}"))
}

/// A response frame as a reply.
pub(crate) fn decode_reply(bytes: &[u8]) -> Result<NodeReply, postcard::Error> {
    postcard::from_bytes(bytes)
}

/// A refusal reply.
pub(crate) fn refusal(kind: RefusalKind, message: impl Into<String>) -> NodeReply {
    NodeReply::Refused(RemoteRefusal {
        kind,
        message: message.into(),
    })
}
