//! A running manager: its store, listener, dispatcher and the state its loops share.

use crate::manager::dispatcher::{Dispatcher, NodeStatusWrite};
use crate::manager::state::schema::node_from_store;
use crate::manager::state::{ManagerDataDir, ManagerStore, RootCaSlot, StoredRootCa};
use crate::manager::writes::{ManagerWrite, ManagerWrites};
use crate::model::{ClusterId, Node, NodeId};
use crate::node::config::NodeConfig;
use crate::node::error::{NodeError, secrets};
use crate::node::events::ClusterEvent;
use crate::node::network::{Link, LinkParts, Listener, NodeNetwork};
use crate::node::peers::{ANONYMOUS_PEER, PeerTable};
use crate::node::rng::NodeRng;
use crate::node::rpc::NodeRpc;
use crate::node::state_follower::FollowedState;
use crate::node::wire::ManagerAddr;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use swarm_secrets::tls::{LiveCredentials, LiveTrust};
use swarm_secrets::{CertPolicy, ClusterCa};
use swarm_store::storage::DiskLogOptions;
use swarm_store::transport::tcp::TcpServer;
use swarm_store::{MemberId, Store, StoreConfig, StoreRpc};
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tokio::time::Instant;

/// Attempts of a write that conflicts with a concurrent one before the conflict is returned.
pub const MAX_CONFLICT_RETRIES: usize = 5;

/// What every part of a running manager shares.
pub(crate) struct ManagerCore {
    pub(crate) node_id: NodeId,
    pub(crate) raft_id: MemberId,
    pub(crate) cluster_id: ClusterId,
    pub(crate) store: Store,
    pub(crate) state: ManagerStore,
    pub(crate) peers: PeerTable,
    pub(crate) store_transport: Arc<Link>,
    pub(crate) dispatcher: Mutex<Dispatcher>,
    /// Serialises this manager's read-decide-write control operations.
    pub(crate) control_lock: tokio::sync::Mutex<()>,
    /// The answers of the last joins, for a join request delivered twice.
    pub(crate) recent_joins: Mutex<crate::node::recent_joins::RecentJoins>,
    pub(crate) data: Mutex<ManagerDataDir>,
    pub(crate) rng: Arc<NodeRng>,
    pub(crate) started: Instant,
    /// The wall-clock time at `started`: with tokio's clock, [`ManagerCore::now`] follows a
    /// paused clock in simulations.
    pub(crate) started_wall: std::time::SystemTime,
    pub(crate) events: broadcast::Sender<ClusterEvent>,
    /// The managers, as the last sync of the node records saw them.
    pub(crate) managers: RwLock<Arc<Vec<ManagerAddr>>>,
    /// The roots nodes must trust (DER), as the last sync of the records saw them.
    pub(crate) trusted_roots: RwLock<Arc<Vec<Vec<u8>>>>,
    pub(crate) server: Mutex<Option<Listener>>,
    pub(crate) config: NodeConfig,
    /// This manager's copy of the orchestration state, followed from the store.
    pub(crate) cluster_state: FollowedState,
    /// What each node's last assignment calls found, kept across calls.
    pub(crate) assignment_memos: crate::node::assignment_memo::AssignmentMemos,
    /// The assignment set last sent to each node.
    pub(crate) sent_tasks: crate::node::sent_task_table::SentTaskTable,
    /// The log broker, served while this manager leads.
    pub(crate) logs: crate::node::log_hub::LogHub,
}

/// What starting a manager needs.
pub(crate) struct ManagerStart {
    pub(crate) config: NodeConfig,
    pub(crate) node_id: NodeId,
    pub(crate) raft_id: MemberId,
    pub(crate) cluster_id: ClusterId,
    pub(crate) advertise_addr: String,
    pub(crate) known_managers: Vec<ManagerAddr>,
    pub(crate) creds: LiveCredentials,
    pub(crate) trust: LiveTrust,
    pub(crate) data: ManagerDataDir,
    pub(crate) listener: Bound,
    /// `swarm init`: bootstrap the group and write the first state.
    pub(crate) bootstrap: Option<(StoredRootCa, ManagerWrites)>,
    pub(crate) force_new_cluster: bool,
    pub(crate) rng: Arc<NodeRng>,
    pub(crate) events: broadcast::Sender<ClusterEvent>,
}

/// Where a manager will be served: a bound TCP listener, or its in-process address.
pub(crate) enum Bound {
    Tcp(TcpListener),
    #[cfg(feature = "testkit")]
    InProc,
}

/// `host:port` as a socket address (a literal address at once, else a DNS lookup).
pub(crate) async fn resolve(addr: &str) -> Option<SocketAddr> {
    if let Ok(a) = addr.parse() {
        return Some(a);
    }
    tokio::net::lookup_host(addr).await.ok()?.next()
}

impl ManagerCore {
    /// Starts the listener and the store; the loops are started by the caller.
    pub(crate) async fn start(start: ManagerStart) -> Result<Arc<ManagerCore>, NodeError> {
        let ManagerStart {
            config,
            node_id,
            raft_id,
            cluster_id,
            advertise_addr,
            known_managers,
            creds,
            trust,
            data,
            listener,
            bootstrap,
            force_new_cluster,
            rng,
            events,
        } = start;
        let names = swarm_store::transport::tcp::MemberNames::new();
        let insert = |raft: u64, node: &NodeId| {
            names
                .insert(MemberId(raft), node.as_str())
                .map_err(|e| NodeError::Config {
                    field: "node id",
                    reason: e.to_string(),
                })
        };
        insert(raft_id.0, &node_id)?;
        for m in known_managers.iter().filter(|m| m.node != node_id) {
            insert(m.raft_id, &m.node)?;
        }
        let peers = PeerTable::new(trust.clone(), names.clone());
        let tcp_tls = match &config.network {
            NodeNetwork::Tcp => Some((
                swarm_secrets::tls::live_server_config_accepting_joins(&creds, &trust)
                    .map_err(secrets("the listener's TLS configuration"))?,
                swarm_secrets::tls::live_client_config(&creds, &trust)
                    .map_err(secrets("the store transport's TLS configuration"))?,
            )),
            #[cfg(feature = "testkit")]
            NodeNetwork::InProc(_) => None,
        };
        let store_transport = Arc::new(config.network.link(LinkParts {
            local: raft_id,
            tls: tcp_tls.as_ref().map(|(_, client)| client.clone()),
            identify: peers.store_identifier(),
            tcp: &config.tcp,
            advertise: &advertise_addr,
        })?);
        for m in known_managers.iter().filter(|m| m.node != node_id) {
            set_store_peer(&store_transport, m).await;
        }
        let store_rpc = StoreRpc::new();
        let rpc = NodeRpc::new(store_rpc.clone(), peers.clone());
        let server = match (listener, &config.network, tcp_tls) {
            (Bound::Tcp(listener), NodeNetwork::Tcp, Some((server_tls, _))) => {
                let mut tcp = config.tcp.clone();
                tcp.anonymous_peer = Some(ANONYMOUS_PEER);
                Listener::Tcp(
                    TcpServer::serve(
                        listener,
                        server_tls,
                        peers.server_identifier(),
                        tcp,
                        rpc.clone(),
                    )
                    .map_err(|source| NodeError::Io {
                        path: config.data_dir.clone(),
                        source,
                    })?,
                )
            }
            #[cfg(feature = "testkit")]
            (Bound::InProc, NodeNetwork::InProc(nodes), _) => Listener::InProc(nodes.serve(
                &advertise_addr,
                peers.server_identifier(),
                rpc.clone(),
            )),
            _ => {
                return Err(NodeError::Config {
                    field: "network",
                    reason: "the listener does not match the network".into(),
                });
            }
        };
        let mut store_config = StoreConfig::new(raft_id, advertise_addr.clone());
        store_config.cluster_name = cluster_id.to_string();
        store_config.heartbeat_period_ms = millis(config.raft.heartbeat_period);
        store_config.election_timeout_min_ms = millis(config.raft.election_timeout_min);
        store_config.election_timeout_max_ms = millis(config.raft.election_timeout_max);
        store_config.request_timeout_ms = millis(config.raft.request_timeout);
        store_config.snapshot_every_entries = config.raft.snapshot_every_entries;
        store_config.force_new_cluster = force_new_cluster;
        store_config.raft_rng_seed = config.raft_rng_seed;
        let link = crate::node::store_link::StoreLink(store_transport.clone());
        let store = match memory_disk(&config.network, data.dir()) {
            Some((log, snapshots)) => {
                Store::open(store_config, log, snapshots, link, &store_rpc).await?
            }
            None => {
                let log = open_log(&data).await?;
                let snapshots = data.open_snapshots()?;
                Store::open(store_config, log, snapshots, link, &store_rpc).await?
            }
        };
        let state = ManagerStore::new(store.clone());
        if let Some((root, writes)) = bootstrap {
            store.bootstrap().await?;
            state.initialize(&root, &writes).await?;
        }
        let core = Arc::new(ManagerCore {
            node_id,
            raft_id,
            cluster_id,
            store,
            state,
            peers,
            store_transport,
            dispatcher: Mutex::new(Dispatcher::new(&Default::default())),
            control_lock: tokio::sync::Mutex::new(()),
            recent_joins: Mutex::new(Default::default()),
            data: Mutex::new(data),
            rng,
            started: Instant::now(),
            started_wall: crate::clock::now(),
            cluster_state: FollowedState::new(events.clone()),
            assignment_memos: Default::default(),
            sent_tasks: Default::default(),
            events,
            managers: RwLock::new(Arc::new(known_managers)),
            trusted_roots: RwLock::new(Arc::new(Vec::new())),
            server: Mutex::new(Some(server)),
            config,
            logs: crate::node::log_hub::LogHub::new(),
        });
        rpc.attach(&core);
        Ok(core)
    }

    /// Milliseconds since this manager started (tokio's clock: paused in simulations).
    pub(crate) fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The time the orchestration steps are given: the wall-clock time at start plus tokio's
    /// elapsed time (so a paused clock pauses it too).
    pub(crate) fn now(&self) -> std::time::SystemTime {
        self.started_wall + self.started.elapsed()
    }

    /// Whether this manager leads now.
    pub(crate) fn is_leader(&self) -> bool {
        self.store.leader() == Some(self.raft_id)
    }

    /// The managers as last synced.
    pub(crate) fn managers(&self) -> Arc<Vec<ManagerAddr>> {
        self.managers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn dispatcher(&self) -> std::sync::MutexGuard<'_, Dispatcher> {
        self.dispatcher
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The CA that issues node certificates now (this manager's copy of the records): the
    /// cluster's root, or during a root rotation the new root.
    pub(crate) fn ca(&self) -> Result<ClusterCa, NodeError> {
        let slot = match self.local_cluster()? {
            Some(cluster) => RootCaSlot::issuing(&cluster),
            None => RootCaSlot::Current,
        };
        self.ca_in(slot)
    }

    /// The root CA record of `slot`.
    pub(crate) fn ca_in(&self, slot: RootCaSlot) -> Result<ClusterCa, NodeError> {
        let key = slot.key(&self.cluster_id);
        let record = self
            .state
            .collections()
            .root_ca
            .get_local(&key)?
            .ok_or_else(|| NodeError::Corrupt {
                path: self.config.data_dir.clone(),
                detail: format!("no root CA record {key}"),
            })?;
        record
            .value
            .to_ca(CertPolicy::default())
            .map_err(secrets("the cluster CA"))
    }

    /// This manager's copy of the cluster object.
    pub(crate) fn local_cluster(&self) -> Result<Option<crate::model::Cluster>, NodeError> {
        Ok(self
            .state
            .collections()
            .clusters
            .get_local(self.cluster_id.as_str())?
            .map(crate::manager::state::schema::cluster_from_store))
    }

    /// Applies a step's writes (the membership changes are the reconcile loop's).
    pub(crate) async fn apply(&self, writes: &ManagerWrites) -> Result<(), NodeError> {
        self.state.apply(writes).await?;
        Ok(())
    }

    /// This manager's copy of one node record.
    pub(crate) fn local_node(&self, id: &NodeId) -> Result<Option<Node>, NodeError> {
        Ok(self
            .state
            .collections()
            .nodes
            .get_local(id.as_str())?
            .map(node_from_store))
    }

    /// Applies a dispatcher status write to the node's current record, re-reading on a
    /// conflict. A node no longer in the store is skipped.
    pub(crate) async fn apply_status(&self, write: &NodeStatusWrite) -> Result<(), NodeError> {
        let mut last = None;
        for _ in 0..MAX_CONFLICT_RETRIES {
            let Some(node) = self.local_node(&write.node)? else {
                return Ok(());
            };
            let mut changed = node.clone();
            write.apply_to(&mut changed);
            if changed == node {
                return Ok(());
            }
            changed.meta.updated_at = crate::clock::now();
            let writes = ManagerWrites {
                writes: vec![ManagerWrite::UpdateNode {
                    node: changed,
                    expected_version: node.meta.version,
                }],
                membership: Vec::new(),
            };
            match self.state.apply(&writes).await {
                Ok(_) => return Ok(()),
                Err(e) if e.is_conflict() => {
                    last = Some(e);
                    // Let this manager's copy catch up with the write that won.
                    tokio::task::yield_now().await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(last.map_or(NodeError::Stopped, NodeError::from))
    }

    /// Stops the listener and the store.
    pub(crate) async fn shutdown(&self) {
        let server = self
            .server
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(server) = server {
            server.shutdown().await;
        }
        tracing::debug!(node = %self.node_id, "manager listener stopped");
        let _ = self.store.shutdown().await;
    }

    /// Closes every connection whose peer is no longer accepted (after a revocation).
    pub(crate) fn recheck_peers(&self) {
        if let Some(server) = self
            .server
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            server.recheck_peers();
        }
        self.store_transport.recheck_peers();
    }
}

/// Points the store transport at manager `m`.
pub(crate) async fn set_store_peer(transport: &Link, m: &ManagerAddr) {
    if let Err(e) = transport
        .set_peer(MemberId(m.raft_id), &m.addr, &m.node)
        .await
    {
        tracing::warn!(node = %m.node, addr = %m.addr, error = %e, "cannot reach a manager");
    }
}

/// The in-memory Raft storage of a manager on an in-process network that keeps it so
/// (simulations, with its disk fault switch); `None`: the files of the data directory.
#[cfg(feature = "testkit")]
fn memory_disk(
    network: &NodeNetwork,
    dir: &std::path::Path,
) -> Option<crate::node::network::MemoryDisk> {
    match network {
        NodeNetwork::Tcp => None,
        NodeNetwork::InProc(nodes) => nodes.memory_disk(dir),
    }
}

/// Without the in-process network (feature `testkit`) no disk is kept in memory: `None`, the
/// files of the data directory.
#[cfg(not(feature = "testkit"))]
fn memory_disk(
    network: &NodeNetwork,
    dir: &std::path::Path,
) -> Option<(
    swarm_store::storage::MemLogStorage,
    swarm_store::storage::MemSnapshotStore,
)> {
    let _ = (network, dir);
    None
}

/// Attempts to open the WAL while a stopped manager of this process still releases it.
const MAX_LOG_OPEN_ATTEMPTS: usize = 100;
/// Pause between those attempts.
const LOG_OPEN_RETRY: std::time::Duration = std::time::Duration::from_millis(20);

/// Opens the WAL; while another store of this process still holds its lock (a manager that
/// has just stopped releases it from its writer thread), waits up to
/// [`MAX_LOG_OPEN_ATTEMPTS`] × [`LOG_OPEN_RETRY`].
async fn open_log(
    data: &ManagerDataDir,
) -> Result<swarm_store::storage::DiskLogStorage, NodeError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match data.open_log(DiskLogOptions::default()) {
            Ok(log) => return Ok(log),
            Err(e) if attempt < MAX_LOG_OPEN_ATTEMPTS && is_locked_elsewhere(&e) => {
                tokio::time::sleep(LOG_OPEN_RETRY).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

fn is_locked_elsewhere(e: &crate::manager::state::DataDirError) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::WouldBlock {
                return true;
            }
        }
        source = err.source();
    }
    false
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
