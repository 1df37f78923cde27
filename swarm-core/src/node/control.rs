//! The control API as a Rust handle.

use crate::manager::control::{
    ClusterUpdate, NodeFilter, NodeUpdate, SecretInfo, ServiceFilter, TaskFilter,
};
use crate::manager::dispatcher::render_node_ls;
use crate::manager::logbroker::{LogRequest, LogTarget};
use crate::model::{
    Cluster, Config, ConfigId, ConfigSpec, Network, NetworkId, NetworkSpec, Node, NodeAvailability,
    NodeRole, SecretId, SecretSpec, Service, ServiceId, ServiceSpec, Task, Version,
};
use crate::node::error::NodeError;
use crate::node::error::secrets;
use crate::node::log_messages::LogMessages;
use crate::node::manager_core::{MAX_CONFLICT_RETRIES, ManagerCore};
use crate::node::network::{Link, LinkParts, NodeNetwork};
use crate::node::node::credentials_of;
use crate::node::peers::{PeerTable, link_id};
use crate::node::state_file::NodeState;
use crate::node::wire::{ControlCall, ControlReply, LogCall, ManagerAddr, NodeCall, NodeReply};
use std::sync::{Arc, Weak};
use swarm_store::MemberId;
use zeroize::Zeroizing;

/// The control API of a manager (`docker node …`, `docker swarm …`, `docker service …`,
/// `docker secret …`, `docker config …`, `docker network …`).
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

/// How long a control call on a manager keeps trying while the store has no leader (an
/// election under way: the leader stepped down, stopped or lost its quorum for a moment).
/// The store says such a write certainly did not take effect
/// ([`StoreError::is_retryable`](swarm_store::StoreError::is_retryable)), so the call runs
/// again from the start; after this long the error is returned. Worst case: a call answers
/// this much later.
pub const NO_LEADER_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// How often a control call tries again during [`NO_LEADER_WAIT`].
pub const NO_LEADER_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// Whether `e` says the store applied nothing of the failing write and may accept it later.
fn not_applied(e: &NodeError) -> bool {
    // The store's contract: a retryable error certainly did not take effect (no leader, not
    // the leader, the old leader's address refusing the forwarded write, a timeout before
    // the write left).
    match e {
        NodeError::Store(s) => s.is_retryable(),
        NodeError::State(crate::manager::state::StateError::Store(s)) => s.is_retryable(),
        _ => false,
    }
}

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
                let deadline = tokio::time::Instant::now() + NO_LEADER_WAIT;
                loop {
                    match core.exec_control(call.clone()).await {
                        Err(e) if not_applied(&e) && tokio::time::Instant::now() < deadline => {
                            tokio::time::sleep(NO_LEADER_POLL).await;
                        }
                        other => return other,
                    }
                }
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

    /// `service create`: the new service's id. The spec is validated, the networks, secrets
    /// and configs it names (by id or name) must exist and are stored by id, and its published
    /// ports must be free (see [`create_service`](crate::manager::control::create_service)).
    pub async fn create_service(&self, spec: &ServiceSpec) -> Result<ServiceId, NodeError> {
        let reply = self
            .call(ControlCall::CreateService(Box::new(spec.clone())))
            .await?;
        created(reply).map(ServiceId::new)
    }

    /// `service ls`: the services that pass `filter`, in id order.
    pub async fn services(&self, filter: &ServiceFilter) -> Result<Vec<Service>, NodeError> {
        match self.call(ControlCall::ListServices(filter.clone())).await? {
            ControlReply::Services(services) => Ok(services),
            other => Err(unexpected(other)),
        }
    }

    /// `service inspect`: a service by id, name or unique id prefix.
    pub async fn service(&self, query: &str) -> Result<Service, NodeError> {
        match self
            .call(ControlCall::InspectService(query.to_owned()))
            .await?
        {
            ControlReply::Service(service) => Ok(*service),
            other => Err(unexpected(other)),
        }
    }

    /// `service update`: the whole new spec, for the version the caller read (refused naming
    /// the service when it changed since; the name and the kind of mode cannot change).
    pub async fn update_service(
        &self,
        query: &str,
        version: Version,
        spec: &ServiceSpec,
    ) -> Result<(), NodeError> {
        self.call(ControlCall::UpdateService {
            query: query.to_owned(),
            version,
            spec: Box::new(spec.clone()),
        })
        .await
        .map(drop)
    }

    /// `service scale`: the replicas of a replicated service, the total completions of a
    /// replicated job.
    pub async fn scale_service(&self, query: &str, replicas: u64) -> Result<(), NodeError> {
        self.call(ControlCall::ScaleService {
            query: query.to_owned(),
            replicas,
        })
        .await
        .map(drop)
    }

    /// `service rollback`: back to the previous spec (refused naming the service when it has
    /// none), rolled out with the service's rollback config; the update status says
    /// `rollback_started` ("manually requested rollback") until the rollback completes (see
    /// [`rollback_service`](crate::manager::control::rollback_service)).
    pub async fn rollback_service(&self, query: &str) -> Result<(), NodeError> {
        self.call(ControlCall::RollbackService(query.to_owned()))
            .await
            .map(drop)
    }

    /// `service rm`: the orchestrators stop and remove its tasks.
    pub async fn remove_service(&self, query: &str) -> Result<(), NodeError> {
        self.call(ControlCall::RemoveService(query.to_owned()))
            .await
            .map(drop)
    }

    /// `service ps` / `node ps`: the tasks that pass `filter`, in id order.
    pub async fn tasks(&self, filter: &TaskFilter) -> Result<Vec<Task>, NodeError> {
        match self.call(ControlCall::ListTasks(filter.clone())).await? {
            ControlReply::Tasks(tasks) => Ok(tasks),
            other => Err(unexpected(other)),
        }
    }

    /// `service ls` as the docker CLI prints it (replicas running / desired, allocated
    /// ports).
    pub async fn service_ls(&self) -> Result<String, NodeError> {
        let services = self.services(&ServiceFilter::default()).await?;
        let tasks = self.tasks(&TaskFilter::default()).await?;
        Ok(crate::manager::control::render_service_ls(
            &services, &tasks,
        ))
    }

    /// `service ps <service>` as the docker CLI prints it, with each slot's history.
    pub async fn service_ps(&self, query: &str) -> Result<String, NodeError> {
        let service = self.service(query).await?;
        let filter = TaskFilter {
            services: vec![service.id.to_string()],
            ..TaskFilter::default()
        };
        let tasks = self.tasks(&filter).await?;
        let nodes = self.nodes(&NodeFilter::default()).await?;
        Ok(crate::manager::control::render_service_ps(
            &[service],
            &tasks,
            &nodes,
            crate::clock::now(),
        ))
    }

    /// A task by id or unique id prefix.
    pub async fn task(&self, query: &str) -> Result<Task, NodeError> {
        match self
            .call(ControlCall::InspectTask(query.to_owned()))
            .await?
        {
            ControlReply::Task(task) => Ok(*task),
            other => Err(unexpected(other)),
        }
    }

    /// `secret create`: the new secret's id.
    pub async fn create_secret(&self, spec: &SecretSpec) -> Result<SecretId, NodeError> {
        let reply = self.call(ControlCall::CreateSecret(spec.clone())).await?;
        created(reply).map(SecretId::new)
    }

    /// `secret ls`: every secret, never with its value.
    pub async fn secrets(&self) -> Result<Vec<SecretInfo>, NodeError> {
        match self.call(ControlCall::ListSecrets).await? {
            ControlReply::Secrets(secrets) => Ok(secrets),
            other => Err(unexpected(other)),
        }
    }

    /// `secret inspect`: a secret by id, name or unique id prefix, never with its value.
    pub async fn secret(&self, query: &str) -> Result<SecretInfo, NodeError> {
        match self
            .call(ControlCall::InspectSecret(query.to_owned()))
            .await?
        {
            ControlReply::Secret(secret) => Ok(secret),
            other => Err(unexpected(other)),
        }
    }

    /// `secret update`: the labels of a secret (by id, name or unique id prefix), for the
    /// version the caller read; `spec` carries the secret's name and value unchanged, or an
    /// empty value for "unchanged" (refused naming the secret otherwise: only labels may
    /// change, as docker's `stack deploy` finds when a stack's secret file changed).
    pub async fn update_secret(
        &self,
        query: &str,
        version: Version,
        spec: &SecretSpec,
    ) -> Result<(), NodeError> {
        self.call(ControlCall::UpdateSecret {
            query: query.to_owned(),
            version,
            spec: spec.clone(),
        })
        .await
        .map(drop)
    }

    /// `secret rm`: refused while a service uses the secret, naming the services.
    pub async fn remove_secret(&self, query: &str) -> Result<(), NodeError> {
        self.call(ControlCall::RemoveSecret(query.to_owned()))
            .await
            .map(drop)
    }

    /// `config create`: the new config's id.
    pub async fn create_config(&self, spec: &ConfigSpec) -> Result<ConfigId, NodeError> {
        let reply = self.call(ControlCall::CreateConfig(spec.clone())).await?;
        created(reply).map(ConfigId::new)
    }

    /// `config ls`: every config, with its data.
    pub async fn configs(&self) -> Result<Vec<Config>, NodeError> {
        match self.call(ControlCall::ListConfigs).await? {
            ControlReply::Configs(configs) => Ok(configs),
            other => Err(unexpected(other)),
        }
    }

    /// `config inspect`: a config by id, name or unique id prefix.
    pub async fn config(&self, query: &str) -> Result<Config, NodeError> {
        match self
            .call(ControlCall::InspectConfig(query.to_owned()))
            .await?
        {
            ControlReply::Config(config) => Ok(*config),
            other => Err(unexpected(other)),
        }
    }

    /// `config update`: the labels of a config (by id, name or unique id prefix), for the
    /// version the caller read; `spec` carries the config's name and data unchanged, or empty
    /// data for "unchanged" (refused naming the config otherwise: only labels may change).
    pub async fn update_config(
        &self,
        query: &str,
        version: Version,
        spec: &ConfigSpec,
    ) -> Result<(), NodeError> {
        self.call(ControlCall::UpdateConfig {
            query: query.to_owned(),
            version,
            spec: spec.clone(),
        })
        .await
        .map(drop)
    }

    /// `config rm`: refused while a service uses the config, naming the services.
    pub async fn remove_config(&self, query: &str) -> Result<(), NodeError> {
        self.call(ControlCall::RemoveConfig(query.to_owned()))
            .await
            .map(drop)
    }

    /// `network create`: the new overlay network's id (its subnet from the spec or the
    /// default address pool).
    pub async fn create_network(&self, spec: &NetworkSpec) -> Result<NetworkId, NodeError> {
        let reply = self
            .call(ControlCall::CreateNetwork(Box::new(spec.clone())))
            .await?;
        created(reply).map(NetworkId::new)
    }

    /// `network ls`: every network.
    pub async fn networks(&self) -> Result<Vec<Network>, NodeError> {
        match self.call(ControlCall::ListNetworks).await? {
            ControlReply::Networks(networks) => Ok(networks),
            other => Err(unexpected(other)),
        }
    }

    /// `network inspect`: a network by id, name or unique id prefix.
    pub async fn network(&self, query: &str) -> Result<Network, NodeError> {
        match self
            .call(ControlCall::InspectNetwork(query.to_owned()))
            .await?
        {
            ControlReply::Network(network) => Ok(*network),
            other => Err(unexpected(other)),
        }
    }

    /// `network rm`: refused while services or running tasks use it, naming them.
    pub async fn remove_network(&self, query: &str) -> Result<(), NodeError> {
        self.call(ControlCall::RemoveNetwork(query.to_owned()))
            .await
            .map(drop)
    }

    /// The addresses `name` (a service, an alias, `<service>.<slot>`) has on `network`, as
    /// the cluster's DNS answers (see [`resolve`](crate::manager::allocator::resolve)).
    pub async fn resolve(
        &self,
        network: &str,
        name: &str,
    ) -> Result<Vec<std::net::IpAddr>, NodeError> {
        match self
            .call(ControlCall::Resolve {
                network: network.to_owned(),
                name: name.to_owned(),
            })
            .await?
        {
            ControlReply::Addresses(addresses) => Ok(addresses),
            other => Err(unexpected(other)),
        }
    }

    /// `service logs`: the output of the tasks of the service named by `query` (id, name or
    /// unique id prefix), as `request` asks (follow, tail, since, timestamps). The stream
    /// ends once every node that runs one of its tasks has sent its part (see
    /// [`LogMessages`]); following, it goes on with tasks started later until dropped.
    ///
    /// ```no_run
    /// # async fn demo(control: swarm_core::node::Control) -> Result<(), swarm_core::node::NodeError> {
    /// use futures::StreamExt;
    /// use swarm_core::manager::logbroker::LogRequest;
    ///
    /// let request = LogRequest { tail: Some(10), ..LogRequest::default() };
    /// let mut logs = control.service_logs("web", &request).await?;
    /// while let Some(message) = logs.next().await {
    ///     println!("{}", message?.render(request.timestamps));
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn service_logs(
        &self,
        query: &str,
        request: &LogRequest,
    ) -> Result<LogMessages, NodeError> {
        let target = LogTarget {
            services: vec![query.to_owned()],
            ..LogTarget::default()
        };
        self.logs(&target, request).await
    }

    /// `task logs`: the output of the task named by `query` (id or unique id prefix), as
    /// [`Control::service_logs`].
    pub async fn task_logs(
        &self,
        query: &str,
        request: &LogRequest,
    ) -> Result<LogMessages, NodeError> {
        let target = LogTarget {
            tasks: vec![query.to_owned()],
            ..LogTarget::default()
        };
        self.logs(&target, request).await
    }

    /// The output of every task `target` names (services, tasks, nodes), as `request` asks.
    /// A name that does not resolve is refused before anything is read.
    pub async fn logs(
        &self,
        target: &LogTarget,
        request: &LogRequest,
    ) -> Result<LogMessages, NodeError> {
        let call = LogCall::Subscribe {
            target: target.clone(),
            request: request.clone(),
        };
        match self.log_call(call).await? {
            ControlReply::LogSubscribed(id) => Ok(LogMessages::new(self.clone(), id)),
            other => Err(unexpected(other)),
        }
    }

    /// A call to the leader's log broker.
    pub(crate) async fn log_call(&self, call: LogCall) -> Result<ControlReply, NodeError> {
        self.call(ControlCall::Logs(call)).await
    }

    /// The managers' store of this (in-process) manager, for tests that drive the manager
    /// steps whose loops are not running yet. [`NodeError::Stopped`] once the manager has
    /// stopped or for a remote handle.
    #[cfg(feature = "testkit")]
    pub fn manager_store(&self) -> Result<crate::manager::state::ManagerStore, NodeError> {
        match &self.target {
            Target::Local(core) => core
                .upgrade()
                .map(|core| core.state.clone())
                .ok_or(NodeError::Stopped),
            Target::Remote(_) => Err(NodeError::Stopped),
        }
    }
}

/// The id a create answered.
fn created(reply: ControlReply) -> Result<String, NodeError> {
    match reply {
        ControlReply::Created(id) => Ok(id),
        other => Err(unexpected(other)),
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
