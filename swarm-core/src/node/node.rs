//! A node of the cluster: init, join, restart, and the parts it runs.

use crate::manager::ca_server::new_cluster_id;
use crate::manager::control::{InitRequest, init_cluster};
use crate::manager::raft_membership::after_force_new_cluster;
use crate::manager::state::{ManagerDataDir, StoredRootCa};
use crate::model::{ClusterId, ClusterSpec, NodeDescription, NodeId, NodeRole};
use crate::node::agent_link::AgentLink;
use crate::node::agent_loop::agent_loop;
use crate::node::agent_snapshot::AgentSnapshot;
use crate::node::config::NodeConfig;
use crate::node::control::Control;
use crate::node::error::{NodeError, secrets};
use crate::node::events::{ClusterEvent, MAX_BUFFERED_EVENTS};
use crate::node::join_client::{Admission, join_cluster};
use crate::node::manager_core::{Bound, MAX_CONFLICT_RETRIES, ManagerCore, ManagerStart};
use crate::node::manager_loops::{leader_loop, sync_loop};
use crate::node::network::{Link, LinkParts, NodeNetwork};
use crate::node::orchestration_loop::orchestration_loop;
use crate::node::peers::PeerTable;
use crate::node::rng::NodeRng;
use crate::node::state_file::NodeState;
use crate::node::task_runner::task_runner;
use crate::node::wire::{ManagerAddr, NodeReply};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use swarm_secrets::tls::{ClusterTrust, LiveCredentials, LiveTrust};
use swarm_secrets::{
    CertPolicy, ClusterCa, NodeCredentials, NodeKey, NodeSealKey, RevocationList, UnlockKey,
};
use swarm_store::fifo_watch as watch;
use swarm_store::{MemberId, StoreStatus};
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The folder of a manager's Raft data (keys file, WAL, snapshots) in the data directory.
pub const MANAGER_DIR: &str = "manager";

/// How often, and how long each time, a stopping manager waits for its last handles.
const MAX_RELEASE_WAITS: usize = 100;
/// How long a stopping manager's loops may take to notice the stop before they are aborted
/// (worst case of [`Node::shutdown`] for the loops: this, then their abort).
pub const MANAGER_STOP_GRACE: std::time::Duration = std::time::Duration::from_millis(500);
const RELEASE_WAIT: std::time::Duration = std::time::Duration::from_millis(20);

/// A manager role running on this node.
pub(crate) struct ManagerRole {
    pub(crate) core: Arc<ManagerCore>,
    pub(crate) stop: CancellationToken,
    pub(crate) tasks: Vec<JoinHandle<()>>,
}

/// What the parts of a running node share.
pub(crate) struct NodeShared {
    pub(crate) config: NodeConfig,
    pub(crate) node_id: NodeId,
    pub(crate) cluster_id: ClusterId,
    pub(crate) state: Mutex<NodeState>,
    pub(crate) rng: Arc<NodeRng>,
    pub(crate) events: broadcast::Sender<ClusterEvent>,
    pub(crate) manager: RwLock<Option<ManagerRole>>,
    /// The node's transport to managers' listeners (dispatcher calls), rebuilt when its
    /// certificate changes.
    pub(crate) link: RwLock<Arc<Link>>,
    pub(crate) stop: CancellationToken,
    pub(crate) description: NodeDescription,
    pub(crate) started: tokio::time::Instant,
    pub(crate) revocations: RevocationList,
    /// The node's certificate, read by every TLS handshake (replaced on renewal).
    pub(crate) creds: LiveCredentials,
    /// The roots the node trusts, read by every TLS handshake (replaced in a root rotation).
    pub(crate) trust: LiveTrust,
    /// The node's key for sealed secret deliveries: made when the node starts, in memory only
    /// (its public half is in `description`, which registration writes to the node record).
    pub(crate) seal_key: NodeSealKey,
    /// The agent's current manager and session, for the task runner.
    pub(crate) agent_link: watch::Sender<Option<AgentLink>>,
    /// What the task runner holds, for [`Node::agent_snapshot`].
    pub(crate) agent_view: Mutex<AgentSnapshot>,
}

impl NodeShared {
    pub(crate) fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub(crate) fn state(&self) -> std::sync::MutexGuard<'_, NodeState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn link(&self) -> Arc<Link> {
        self.link
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn core(&self) -> Option<Arc<ManagerCore>> {
        self.manager
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|m| m.core.clone())
    }

    /// The node's credentials and trust from its state.
    #[cfg(test)]
    pub(crate) fn credentials(&self) -> Result<(NodeCredentials, ClusterTrust), NodeError> {
        let state = self.state();
        credentials_of(&state, self.revocations.clone())
    }

    /// A sending side to managers presenting the node's current certificate.
    pub(crate) fn new_link(&self) -> Result<Arc<Link>, NodeError> {
        let state = self.state();
        new_link(&state, &self.creds, &self.trust, &self.config)
    }

    /// Installs the credentials and trust of the node's state in the live cells every TLS
    /// handshake reads (after a renewal or a change of the trusted roots), and registers the
    /// certificate on an in-process network.
    pub(crate) fn install_credentials(&self) -> Result<(), NodeError> {
        let (creds, trust) = {
            let state = self.state();
            credentials_of(&state, self.revocations.clone())?
        };
        self.creds
            .replace(&creds)
            .map_err(secrets("the renewed certificate"))?;
        self.trust
            .replace(trust)
            .map_err(secrets("the trusted roots"))?;
        #[cfg(feature = "testkit")]
        if let NodeNetwork::InProc(nodes) = &self.config.network {
            nodes.set_certificate(&self.state().advertise_addr, creds.cert_der().clone());
        }
        Ok(())
    }

    /// Starts the manager role: listener, store, loops.
    pub(crate) async fn start_manager(
        self: &Arc<Self>,
        data: ManagerDataDir,
        listener: Bound,
        bootstrap: Option<(StoredRootCa, crate::manager::writes::ManagerWrites)>,
        force_new_cluster: bool,
    ) -> Result<Arc<ManagerCore>, NodeError> {
        let (creds, trust) = (self.creds.clone(), self.trust.clone());
        let (raft_id, advertise_addr, known) = {
            let s = self.state();
            let raft_id = s.raft_id.ok_or_else(|| NodeError::Config {
                field: "raft id",
                reason: "a manager needs a Raft id".into(),
            })?;
            (raft_id, s.advertise_addr.clone(), s.managers.clone())
        };
        let core = ManagerCore::start(ManagerStart {
            config: self.config.clone(),
            node_id: self.node_id.clone(),
            raft_id: MemberId(raft_id),
            cluster_id: self.cluster_id.clone(),
            advertise_addr,
            known_managers: known,
            creds,
            trust,
            data,
            listener,
            bootstrap,
            force_new_cluster,
            rng: self.rng.clone(),
            events: self.events.clone(),
        })
        .await?;
        let stop = self.stop.child_token();
        let mut tasks = vec![
            tokio::spawn(sync_loop(core.clone(), stop.clone())),
            tokio::spawn(leader_loop(core.clone(), stop.clone())),
            tokio::spawn(orchestration_loop(core.clone(), stop.clone())),
        ];
        tasks.extend(core.cluster_state.follow(core.state.collections(), &stop));
        *self.manager.write().unwrap_or_else(PoisonError::into_inner) = Some(ManagerRole {
            core: core.clone(),
            stop,
            tasks,
        });
        Ok(core)
    }

    /// Stops the manager role, if it runs.
    pub(crate) async fn stop_manager(&self) {
        let role = self
            .manager
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(role) = role {
            role.stop.cancel();
            // A loop sees `stop` between its steps; one waiting on a write that cannot commit
            // (its quorum stopped first) would wait a request timeout per write: it is
            // aborted after the grace. Every loop keeps its state in the store, so an abort
            // loses nothing a restart would not recompute.
            let deadline = tokio::time::Instant::now() + MANAGER_STOP_GRACE;
            let mut aborted = 0usize;
            for mut t in role.tasks {
                if tokio::time::timeout_at(deadline, &mut t).await.is_err() {
                    aborted += 1;
                    t.abort();
                    let _ = t.await;
                }
            }
            tracing::debug!(node = %self.node_id, aborted, "manager loops stopped");
            role.core.shutdown().await;
            tracing::debug!(node = %self.node_id, "manager listener and store stopped");
            // The store's files are released once the last handle is gone: wait (bounded)
            // for calls still being served to finish, so a restart in this process can open
            // them again.
            let mut core = role.core;
            for _ in 0..MAX_RELEASE_WAITS {
                match Arc::try_unwrap(core) {
                    Ok(released) => {
                        drop(released);
                        return;
                    }
                    Err(shared) => core = shared,
                }
                tokio::time::sleep(RELEASE_WAIT).await;
            }
            tracing::warn!(node = %self.node_id, "the stopped manager is still referenced; its files stay open");
        }
    }

    pub(crate) fn save_state(&self) -> Result<(), NodeError> {
        self.state().save(&self.config.data_dir)
    }
}

pub(crate) fn credentials_of(
    state: &NodeState,
    revocations: RevocationList,
) -> Result<(NodeCredentials, ClusterTrust), NodeError> {
    let key = NodeKey::from_pkcs8_der(&state.key_pkcs8).map_err(secrets("the node key"))?;
    let creds = NodeCredentials::new(&key, &state.cert_der, &state.ca_cert_der)
        .map_err(secrets("the node certificate"))?;
    let cluster = swarm_secrets::ClusterId::new(state.cluster_id.as_str())
        .map_err(secrets("the cluster id"))?;
    let mut trust = ClusterTrust::new(&state.ca_cert_der, cluster, revocations)
        .map_err(secrets("the cluster CA"))?;
    for root in &state.extra_roots {
        trust = trust
            .with_additional_root(root)
            .map_err(secrets("a trusted root"))?;
    }
    Ok((creds, trust))
}

fn new_link(
    state: &NodeState,
    creds: &LiveCredentials,
    trust: &LiveTrust,
    config: &NodeConfig,
) -> Result<Arc<Link>, NodeError> {
    #[cfg(feature = "testkit")]
    if let NodeNetwork::InProc(nodes) = &config.network {
        nodes.set_certificate(&state.advertise_addr, creds.cert_der());
    }
    let tls = match &config.network {
        NodeNetwork::Tcp => Some(
            swarm_secrets::tls::live_client_config(creds, trust)
                .map_err(secrets("the node's TLS configuration"))?,
        ),
        #[cfg(feature = "testkit")]
        NodeNetwork::InProc(_) => None,
    };
    let peers = PeerTable::new(
        trust.clone(),
        swarm_store::transport::tcp::MemberNames::new(),
    );
    Ok(Arc::new(config.network.link(LinkParts {
        local: MemberId(0),
        tls,
        identify: peers.manager_link_identifier(),
        tcp: &config.tcp,
        advertise: &state.advertise_addr,
    })?))
}

/// A node of a swarm cluster: a manager (Raft member, dispatcher, control API, CA) or a
/// worker, each running an agent that keeps a session with the managers.
///
/// * [`Node::init`] starts a new cluster with this node as its first manager;
/// * [`Node::join`] joins one with a join token (the token decides the role);
/// * [`Node::start`] restarts a node from its data directory, without a token;
/// * [`Node::force_new_cluster`] restarts a manager as the only member of a new Raft group
///   that keeps all state (after quorum is lost for good).
///
/// Everything is wired by the library: certificates come from the cluster CA, managers learn
/// each other from the node records, and every call on the listener is authorised by the
/// caller's role in its certificate.
pub struct Node {
    pub(crate) shared: Arc<NodeShared>,
    /// The agent loop and the task runner.
    agent: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("id", &self.shared.node_id)
            .field("role", &self.role())
            .finish()
    }
}

/// The node's description from its runtime, with a fresh seal key's public half: a node
/// starting (or restarting) gets a new key, which its registration publishes.
async fn describe(config: &NodeConfig) -> Result<(NodeDescription, NodeSealKey), NodeError> {
    let seal_key = NodeSealKey::generate().map_err(secrets("the node's seal key"))?;
    let mut description = config
        .runtime
        .describe()
        .await
        .map_err(|e| NodeError::Config {
            field: "runtime",
            reason: format!("the runtime cannot describe the node: {e}"),
        })?;
    if let Some(hostname) = &config.hostname {
        description.hostname.clone_from(hostname);
    }
    description.seal_public_key = Some(seal_key.public_key().as_bytes().to_vec());
    Ok((description, seal_key))
}

fn ensure_fresh(dir: &std::path::Path) -> Result<(), NodeError> {
    match NodeState::load(dir) {
        Err(NodeError::NotInitialized { .. }) => Ok(()),
        Ok(_) | Err(NodeError::Corrupt { .. }) => Err(NodeError::AlreadyInitialized {
            path: NodeState::path(dir),
        }),
        Err(e) => Err(e),
    }
}

/// The address to listen on: the configured one, except that a node configured with port 0
/// (any free port) that already advertised an address listens there again, so the address
/// the cluster recorded stays right across restarts and promotions.
pub(crate) fn listen_addr_for(config: &NodeConfig, advertised: Option<&str>) -> SocketAddr {
    if config.listen_addr.port() != 0 {
        return config.listen_addr;
    }
    advertised
        .and_then(|a| a.parse::<SocketAddr>().ok())
        .filter(|a| a.ip() == config.listen_addr.ip() || config.listen_addr.ip().is_unspecified())
        .unwrap_or(config.listen_addr)
}

pub(crate) async fn bind(
    config: &NodeConfig,
    advertised: Option<&str>,
) -> Result<(Bound, String), NodeError> {
    #[cfg(feature = "testkit")]
    if let NodeNetwork::InProc(_) = &config.network {
        let advertise = config.advertise_addr.clone().ok_or(NodeError::Config {
            field: "advertise_addr",
            reason: "a node on an in-process network is named by its advertise address".into(),
        })?;
        return Ok((Bound::InProc, advertise));
    }
    let addr = listen_addr_for(config, advertised);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| NodeError::Config {
            field: "listen_addr",
            reason: format!("cannot listen on {addr}: {e}"),
        })?;
    let local = listener.local_addr().map_err(|e| NodeError::Config {
        field: "listen_addr",
        reason: e.to_string(),
    })?;
    let advertise = config
        .advertise_addr
        .clone()
        .unwrap_or_else(|| local.to_string());
    Ok((Bound::Tcp(listener), advertise))
}

impl Node {
    fn shared(
        config: NodeConfig,
        state: NodeState,
        rng: Arc<NodeRng>,
        (description, seal_key): (NodeDescription, NodeSealKey),
    ) -> Result<Arc<NodeShared>, NodeError> {
        let revocations = RevocationList::new();
        let (creds, trust) = credentials_of(&state, revocations.clone())?;
        let creds = LiveCredentials::new(&creds).map_err(secrets("the node certificate"))?;
        let trust = LiveTrust::new(trust);
        let link = new_link(&state, &creds, &trust, &config)?;
        let (events, _) = broadcast::channel(MAX_BUFFERED_EVENTS);
        Ok(Arc::new(NodeShared {
            node_id: state.node_id.clone(),
            cluster_id: ClusterId::new(state.cluster_id.as_str()),
            state: Mutex::new(state),
            rng,
            events,
            manager: RwLock::new(None),
            link: RwLock::new(link),
            stop: CancellationToken::new(),
            description,
            started: tokio::time::Instant::now(),
            revocations,
            creds,
            trust,
            seal_key,
            agent_link: watch::channel(None).0,
            agent_view: Mutex::new(AgentSnapshot::default()),
            config,
        }))
    }

    fn assemble(shared: Arc<NodeShared>) -> Node {
        let agent = tokio::spawn(agent_loop(shared.clone()));
        let runner = tokio::spawn(task_runner(shared.clone()));
        Node {
            shared,
            agent: Mutex::new(vec![agent, runner]),
        }
    }

    /// `swarm init`: a new cluster (its id, root CA, join tokens, cluster object with `spec`)
    /// with this node as its first manager, leading a one-member Raft group. With autolock on
    /// in `spec.encryption`, the manager's data is locked under the cluster's unlock key from
    /// the start (read it with [`Control::unlock_key`]).
    pub async fn init(config: NodeConfig, spec: ClusterSpec) -> Result<Node, NodeError> {
        ensure_fresh(&config.data_dir)?;
        let rng = Arc::new(NodeRng::new(config.rng_seed));
        let described = describe(&config).await?;
        let (listener, advertise) = bind(&config, None).await?;
        let cluster_id = new_cluster_id(&mut || rng.next());
        let ca = ClusterCa::generate(
            swarm_secrets::ClusterId::new(cluster_id.as_str())
                .map_err(secrets("the cluster id"))?,
            CertPolicy::default(),
        )
        .map_err(secrets("the cluster root CA"))?;
        let key = NodeKey::generate().map_err(secrets("the node key"))?;
        let csr_der = key.csr_der().map_err(secrets("a certificate request"))?;
        let decision = init_cluster(
            &ca,
            &InitRequest {
                spec,
                csr_der,
                advertise_addr: advertise.clone(),
                availability: config.availability,
                description: Some(described.0.clone()),
            },
            crate::clock::now(),
            &mut || rng.next(),
        )?;
        let unlock = match &decision.cluster.unlock_key {
            Some(text) => Some(UnlockKey::parse(&text.0).map_err(secrets("the unlock key"))?),
            None => None,
        };
        let data = ManagerDataDir::create(config.data_dir.join(MANAGER_DIR), unlock.as_ref())?;
        let raft_id = decision
            .node
            .manager_status
            .as_ref()
            .map(|m| m.raft_id)
            .ok_or_else(|| NodeError::Config {
                field: "raft id",
                reason: "the founding manager has none".into(),
            })?;
        let mut state = NodeState::new(
            decision.node.id.clone(),
            cluster_id.to_string(),
            NodeRole::Manager,
        );
        state.raft_id = Some(raft_id);
        state.key_pkcs8 = key.to_pkcs8_der().to_vec();
        state.cert_der = decision.certificate.cert_der.to_vec();
        state.ca_cert_der = ca.cert_der().to_vec();
        state.advertise_addr = advertise.clone();
        state.managers = vec![ManagerAddr {
            node: decision.node.id.clone(),
            raft_id,
            addr: advertise,
        }];
        let shared = Self::shared(config, state, rng, described)?;
        shared
            .start_manager(
                data,
                listener,
                Some((StoredRootCa::from_ca(&ca), decision.writes)),
                false,
            )
            .await?;
        shared.save_state()?;
        Ok(Self::assemble(shared))
    }

    /// `swarm join --token <token> <addr>`: downloads the cluster's root CA from the manager at
    /// `addr`, checks it against the digest the token pins, and presents the token with a CSR;
    /// the certificate it gets carries the role the token grants. A manager then starts its
    /// store and is brought into the Raft group (as a learner, then a voter) by the leader.
    /// A wrong, rotated or other-cluster token is refused with [`NodeError::JoinRefused`]
    /// saying which.
    pub async fn join(config: NodeConfig, addr: &str, token: &str) -> Result<Node, NodeError> {
        ensure_fresh(&config.data_dir)?;
        let rng = Arc::new(NodeRng::new(config.rng_seed));
        let described = describe(&config).await?;
        let (listener, advertise) = bind(&config, None).await?;
        let Admission { key, reply, trust } =
            join_cluster(&config, addr, token, &advertise, described.0.clone()).await?;
        let NodeReply::Joined {
            node,
            role,
            raft_id,
            cert_der,
            ca_cert_der,
            trusted_roots,
            managers,
        } = reply
        else {
            return Err(NodeError::JoinRefused {
                addr: addr.to_owned(),
                reason: "unexpected answer".into(),
            });
        };
        let mut state = NodeState::new(node, trust.cluster_id().to_string(), role);
        state.raft_id = raft_id;
        state.key_pkcs8 = key.to_pkcs8_der().to_vec();
        state.cert_der = cert_der;
        state.extra_roots = trusted_roots
            .into_iter()
            .filter(|r| *r != ca_cert_der)
            .collect();
        state.ca_cert_der = ca_cert_der;
        state.advertise_addr = advertise;
        state.managers = managers;
        let shared = Self::shared(config, state, rng, described)?;
        if role == NodeRole::Manager {
            let data = ManagerDataDir::create(shared.config.data_dir.join(MANAGER_DIR), None)?;
            shared.start_manager(data, listener, None, false).await?;
        } else {
            drop(listener);
        }
        shared.save_state()?;
        Ok(Self::assemble(shared))
    }

    /// Restarts the node kept in `config.data_dir`, with the identity and certificate it had:
    /// no token is needed. An autolocked manager needs `config.unlock_key`
    /// ([`NodeError::Locked`] without it, [`NodeError::WrongUnlockKey`] with another key;
    /// nothing on disk changes either way).
    pub async fn start(config: NodeConfig) -> Result<Node, NodeError> {
        Self::restart(config, false).await
    }

    /// Restarts a manager as the only member of a new Raft group (`swarm init
    /// --force-new-cluster`), keeping every record: for a cluster that lost its quorum for
    /// good. The other managers' records become workers'; they join again to be managers.
    pub async fn force_new_cluster(config: NodeConfig) -> Result<Node, NodeError> {
        Self::restart(config, true).await
    }

    async fn restart(config: NodeConfig, force_new_cluster: bool) -> Result<Node, NodeError> {
        let state = NodeState::load(&config.data_dir)?;
        let role = state.role;
        if force_new_cluster && role != NodeRole::Manager {
            return Err(NodeError::NotAManager);
        }
        let rng = Arc::new(NodeRng::new(config.rng_seed));
        let described = describe(&config).await?;
        let manager = if role == NodeRole::Manager {
            let mut data = ManagerDataDir::open(config.data_dir.join(MANAGER_DIR))?;
            if data.is_locked() {
                let key = config.unlock_key.as_ref().ok_or(NodeError::Locked)?;
                data.unlock(key)?;
            }
            let (listener, _) = bind(&config, Some(&state.advertise_addr)).await?;
            Some((data, listener))
        } else {
            None
        };
        let shared = Self::shared(config, state, rng, described)?;
        if let Some((data, listener)) = manager {
            let core = shared
                .start_manager(data, listener, None, force_new_cluster)
                .await?;
            if force_new_cluster {
                core.store.wait_for_leader().await?;
                // The new leader's dispatcher writes node records too (it marks the lost
                // managers down): a conflict re-reads and rewrites, a bounded number of times.
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    let nodes = core.state.nodes().await?;
                    let writes =
                        after_force_new_cluster(&nodes, &shared.node_id, crate::clock::now());
                    match core.apply(&writes).await {
                        Err(NodeError::State(e))
                            if e.is_conflict() && attempt < MAX_CONFLICT_RETRIES =>
                        {
                            tokio::task::yield_now().await;
                        }
                        other => break other?,
                    }
                }
                let mut state = shared.state();
                state.managers.retain(|m| m.node == shared.node_id);
                drop(state);
                shared.save_state()?;
            }
        }
        Ok(Self::assemble(shared))
    }

    /// The node's id (its certificate's CN).
    pub fn id(&self) -> &NodeId {
        &self.shared.node_id
    }

    /// The cluster's id.
    pub fn cluster_id(&self) -> &ClusterId {
        &self.shared.cluster_id
    }

    /// The role of the node's current certificate.
    pub fn role(&self) -> NodeRole {
        self.shared.state().role
    }

    /// Where the manager listens (`None` on a worker).
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        let core = self.shared.core()?;
        let server = core.server.lock().unwrap_or_else(PoisonError::into_inner);
        server.as_ref().and_then(|s| s.local_addr())
    }

    /// `host:port` other nodes reach this node at.
    pub fn advertise_addr(&self) -> String {
        self.shared.state().advertise_addr.clone()
    }

    /// The data directory.
    pub fn data_dir(&self) -> &PathBuf {
        &self.shared.config.data_dir
    }

    /// The root CA certificate (DER) that issued this node's certificate: the cluster's root,
    /// or the new one once a root rotation re-issued the certificate. Public data: the Engine
    /// API's `TLSInfo.TrustRoot` and `docker swarm ca` show it.
    pub fn root_ca_der(&self) -> Vec<u8> {
        self.shared.state().ca_cert_der.clone()
    }

    /// The managers this node knows of.
    pub fn managers(&self) -> Vec<ManagerAddr> {
        self.shared.state().managers.clone()
    }

    /// The control API, on a manager; [`NodeError::NotAManager`] on a worker (as the docker
    /// CLI says on a worker).
    pub fn control(&self) -> Result<Control, NodeError> {
        self.shared
            .core()
            .map(|core| Control::new(&core))
            .ok_or(NodeError::NotAManager)
    }

    /// Whether this node is the manager leading the Raft group now.
    pub fn is_leader(&self) -> bool {
        self.shared.core().is_some_and(|c| c.is_leader())
    }

    /// The store's view of the Raft group, on a manager.
    pub fn store_status(&self) -> Option<StoreStatus> {
        self.shared.core().map(|c| c.store.status())
    }

    /// The events stream (node changes as this manager's store sees them). Subscribe before
    /// the change to see it; on a worker the stream stays empty.
    pub fn events(&self) -> broadcast::Receiver<ClusterEvent> {
        self.shared.events.subscribe()
    }

    /// `swarm leave`: a worker stops (the managers mark it down; remove it with `node rm`);
    /// a manager must be demoted first unless `force`
    /// ([`ControlError::ManagerNotDemoted`](crate::manager::control::ControlError::ManagerNotDemoted)),
    /// which records it as a worker that left, so the leader removes it from the Raft group,
    /// and stops it.
    pub async fn leave(self, force: bool) -> Result<(), NodeError> {
        if let Some(core) = self.shared.core() {
            core.exec_control(crate::node::wire::ControlCall::Leave {
                node: self.shared.node_id.clone(),
                force,
            })
            .await?;
        }
        self.shutdown().await;
        Ok(())
    }

    /// Stops the node: its agent, and a manager's loops, listener and store. Its data
    /// directory is kept; [`Node::start`] brings it back.
    pub async fn shutdown(self) {
        self.shared.stop.cancel();
        let parts = std::mem::take(&mut *self.agent.lock().unwrap_or_else(PoisonError::into_inner));
        for part in parts {
            part.abort();
            let _ = part.await;
        }
        self.shared.stop_manager().await;
    }

    /// What this node's agent holds now: the tasks it runs and the secrets and configs it
    /// was given (ids only), and the generation of the last assignment set it applied.
    pub fn agent_snapshot(&self) -> AgentSnapshot {
        self.shared
            .agent_view
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.shared.stop.cancel();
        for part in self
            .agent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            part.abort();
        }
    }
}
