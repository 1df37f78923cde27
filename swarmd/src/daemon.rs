//! The daemon's one node: none until `swarm init` or `swarm join`, resumed from the data
//! directory after a restart, gone again after `swarm leave`.

use crate::api_error::{ApiError, NOT_IN_SWARM, SWARM_LOCKED};
use crate::event_log::EventLog;
use crate::task_runtime::TaskRuntime;
use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use swarm_core::model::TaskId;
use swarm_core::model::{ClusterSpec, NodeAvailability, NodeRole};
use swarm_core::node::{Control, MANAGER_DIR, NODE_STATE_FILE, Node, NodeConfig, NodeError};
use swarm_secrets::UnlockKey;
use tokio::sync::Mutex;

/// dockerd's refusal of `swarm unlock` on a node that runs (its `notLockedError`, 409).
pub(crate) const NOT_LOCKED: &str = "swarm is not locked";
/// dockerd's refusal of `swarm unlock` with another key than the manager's (401).
pub(crate) const INVALID_UNLOCK_KEY: &str = "swarm could not be unlocked: invalid key provided";
/// dockerd's refusal of `swarm leave` without `--force` on a locked node.
pub(crate) const LEAVE_LOCKED: &str = "Swarm is encrypted and locked. Please unlock it first or use `--force` to ignore this message.";
/// dockerd's refusal of `swarm init` or `join` on a node that is in a swarm.
const ALREADY_IN_SWARM: &str = "This node is already part of a swarm. Use \"docker swarm leave\" to leave this swarm and join another one.";

/// Longest wait, after a node was resumed, for its agent to apply its first assignment set
/// before the orphan sweep (which keeps the tasks that set holds). Worst case the sweep is
/// skipped after this long, leaving stale containers until the next init, join or leave.
const RESUME_SWEEP_WAIT: Duration = Duration::from_secs(60);
/// Pause between two looks at the agent while waiting for its first assignment set.
const RESUME_SWEEP_POLL: Duration = Duration::from_millis(250);

/// The cluster port `docker swarm init` and `join` send when the user gave none; a daemon
/// started with `--listen-addr` uses its own address instead.
pub(crate) const CLI_DEFAULT_LISTEN_ADDR: &str = "0.0.0.0:2377";

/// What the daemon was started with.
#[derive(Clone)]
pub(crate) struct DaemonConfig {
    /// Where the node keeps its state.
    pub(crate) data_dir: PathBuf,
    /// The cluster port to use when the CLI sends its default (`--listen-addr`).
    pub(crate) listen_addr: Option<SocketAddr>,
    /// The address to advertise when the CLI sends none (`--advertise-addr`).
    pub(crate) advertise_addr: Option<String>,
    /// The hostname the node reports (`--hostname`).
    pub(crate) hostname: Option<String>,
    /// The runtime tasks run on.
    pub(crate) tasks: TaskRuntime,
}

/// What `/info` says about the node.
#[derive(Clone, Debug, Default)]
pub(crate) struct NodeFacts {
    /// The node's id.
    pub(crate) node_id: String,
    /// Its advertised `host:port`.
    pub(crate) advertise_addr: String,
    /// Its role now.
    pub(crate) role: Option<NodeRole>,
    /// The managers it knows: (node id, address).
    pub(crate) managers: Vec<(String, String)>,
}

/// The daemon: its settings and, once in a swarm, its node.
pub(crate) struct Daemon {
    pub(crate) config: DaemonConfig,
    node: Mutex<Option<Node>>,
    /// Whether the data directory holds an autolocked manager that waits for
    /// `swarm unlock` (then `node` is `None`). Only changed under the `node` lock.
    locked: std::sync::atomic::AtomicBool,
    /// The key `swarm unlock` last unlocked the node with (kept in memory only, as dockerd
    /// keeps its node's key): `--force-new-cluster` restarts the node with it.
    unlocked_with: std::sync::Mutex<Option<UnlockKey>>,
    /// The node's events, for `/events`.
    pub(crate) events: Arc<EventLog>,
    /// Why the node could not be resumed at start, shown in `/info` (`Swarm.Error`).
    start_error: std::sync::Mutex<String>,
}

/// How the cluster port of an init or join is chosen.
pub(crate) struct Addresses {
    pub(crate) listen: SocketAddr,
    pub(crate) advertise: Option<String>,
}

impl Daemon {
    /// A daemon with no node yet.
    pub(crate) fn new(config: DaemonConfig) -> Arc<Daemon> {
        Arc::new(Daemon {
            config,
            node: Mutex::new(None),
            locked: std::sync::atomic::AtomicBool::new(false),
            unlocked_with: std::sync::Mutex::new(None),
            events: EventLog::new(),
            start_error: std::sync::Mutex::new(String::new()),
        })
    }

    /// Resumes the node the data directory holds, if any. An autolocked manager stays locked
    /// (nothing of it runs) until [`Daemon::unlock`] gives its key.
    pub(crate) async fn resume(&self) {
        if !self.config.data_dir.join(NODE_STATE_FILE).exists() {
            return;
        }
        let mut slot = self.node.lock().await;
        match Node::start(self.resume_config(None)).await {
            Ok(node) => {
                tracing::info!(node = %node.id(), role = %node.role(), "resumed the node of the data directory");
                self.follow_events(&node);
                *slot = Some(node);
            }
            Err(NodeError::Locked) => {
                tracing::warn!(
                    "the manager of the data directory is autolocked: waiting for `docker swarm unlock`"
                );
                self.set_locked(true);
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot resume the node of the data directory");
                if let Ok(mut s) = self.start_error.lock() {
                    *s = e.to_string();
                }
            }
        }
    }

    /// The configuration that resumes the node of the data directory, with `unlock_key`.
    fn resume_config(&self, unlock_key: Option<UnlockKey>) -> NodeConfig {
        let listen = self
            .config
            .listen_addr
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
        let mut config = self.node_config(listen, None, NodeAvailability::Active);
        config.unlock_key = unlock_key;
        config
    }

    /// Whether the node waits for `swarm unlock`.
    pub(crate) fn is_locked(&self) -> bool {
        self.locked.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn set_locked(&self, locked: bool) {
        self.locked
            .store(locked, std::sync::atomic::Ordering::SeqCst);
    }

    /// `swarm unlock`: starts the autolocked manager of the data directory with `key`, without
    /// restarting the daemon. Refused as dockerd refuses: 409 when the node runs, 503 outside
    /// a swarm, 400 for a text that is no unlock key, 401 for another key (the node stays
    /// locked and nothing on disk changes).
    pub(crate) async fn unlock(self: &Arc<Self>, key: &str) -> Result<(), ApiError> {
        let mut slot = self.node.lock().await;
        if slot.is_some() {
            return Err(ApiError::new(hyper::StatusCode::CONFLICT, NOT_LOCKED));
        }
        if !self.is_locked() {
            return Err(ApiError::unavailable("This node is not part of a swarm"));
        }
        let key =
            UnlockKey::parse(key).map_err(|e| ApiError::bad_request(format!("UnlockKey: {e}")))?;
        match Node::start(self.resume_config(Some(key.clone()))).await {
            Ok(node) => {
                tracing::info!(node = %node.id(), "unlocked: the manager of the data directory runs");
                self.set_locked(false);
                if let Ok(mut k) = self.unlocked_with.lock() {
                    *k = Some(key);
                }
                self.follow_events(&node);
                *slot = Some(node);
                drop(slot);
                tokio::spawn(self.clone().sweep_after_resume());
                Ok(())
            }
            Err(NodeError::WrongUnlockKey | NodeError::Locked) => Err(ApiError::new(
                hyper::StatusCode::UNAUTHORIZED,
                INVALID_UNLOCK_KEY,
            )),
            Err(e) => Err(ApiError::new(
                hyper::StatusCode::INTERNAL_SERVER_ERROR,
                format!("swarm component could not be started: {e}"),
            )),
        }
    }

    fn node_config(
        &self,
        listen: SocketAddr,
        advertise: Option<String>,
        availability: NodeAvailability,
    ) -> NodeConfig {
        let mut c = NodeConfig::new(
            self.config.data_dir.clone(),
            listen,
            self.config.tasks.runtime(),
        );
        c.advertise_addr = advertise;
        c.hostname = self.config.hostname.clone();
        c.availability = availability;
        c
    }

    /// The listen and advertise addresses of an init or join request.
    pub(crate) fn addresses(&self, listen: &str, advertise: &str) -> Result<Addresses, ApiError> {
        let listen = match (listen, self.config.listen_addr) {
            ("" | CLI_DEFAULT_LISTEN_ADDR, Some(own)) => own,
            ("", None) => parse_listen(CLI_DEFAULT_LISTEN_ADDR)?,
            (given, _) => parse_listen(given)?,
        };
        let listen = with_free_port(listen)?;
        let advertise = if advertise.is_empty() {
            self.config.advertise_addr.clone()
        } else {
            Some(advertise.to_owned())
        };
        let advertise = match advertise {
            Some(a) if a.parse::<SocketAddr>().is_ok() => Some(a),
            Some(a) if a.parse::<IpAddr>().is_ok() || !a.contains(':') => {
                Some(format!("{a}:{}", listen.port()))
            }
            Some(a) => Some(a),
            None if listen.ip().is_unspecified() => {
                return Err(ApiError::bad_request(
                    "could not choose an IP address to advertise: use --advertise-addr (or start swarmd with --advertise-addr)",
                ));
            }
            None => None,
        };
        Ok(Addresses { listen, advertise })
    }

    /// `swarm init`.
    pub(crate) async fn init(
        &self,
        addrs: Addresses,
        availability: NodeAvailability,
        spec: ClusterSpec,
    ) -> Result<String, ApiError> {
        let mut slot = self.node.lock().await;
        if slot.is_some() || self.is_locked() {
            return Err(ApiError::unavailable(ALREADY_IN_SWARM));
        }
        // A new node holds no task: whatever its namespace holds on the engine is left over.
        self.config.tasks.sweep(&HashSet::new()).await;
        let node = Node::init(
            self.node_config(addrs.listen, addrs.advertise, availability),
            spec,
        )
        .await?;
        let id = node.id().to_string();
        tracing::info!(node = %id, addr = %node.advertise_addr(), "swarm initialized");
        self.follow_events(&node);
        *slot = Some(node);
        Ok(id)
    }

    /// `swarm init --force-new-cluster`: the manager of the data directory restarts as the only
    /// member of a new Raft group, keeping every record (swarm-core's
    /// `Node::force_new_cluster`; the node keeps its addresses, the request's are not used).
    /// `None` when the data directory holds no node: then it is a plain init, as dockerd.
    /// Refused on a worker (dockerd's 503) and while locked (unlock first). An autolocked
    /// manager restarts with the cluster's key (read before it stops) or else the key it was
    /// unlocked with; without either it stays stopped and locked until `swarm unlock`.
    pub(crate) async fn force_new_cluster(&self) -> Result<Option<String>, ApiError> {
        let mut slot = self.node.lock().await;
        if self.is_locked() {
            return Err(ApiError::unavailable(SWARM_LOCKED));
        }
        let mut key = None;
        match slot.take() {
            Some(node) if node.role() != NodeRole::Manager => {
                *slot = Some(node);
                return Err(ApiError::from(NodeError::NotAManager));
            }
            Some(node) => {
                if let Ok(control) = node.control() {
                    if let Ok(Some(text)) = control.unlock_key().await {
                        key = UnlockKey::parse(&text).ok();
                    }
                }
                self.events.stop();
                node.shutdown().await;
            }
            None if !self.config.data_dir.join(NODE_STATE_FILE).exists() => return Ok(None),
            None => {}
        }
        if key.is_none() {
            key = self.unlocked_with.lock().ok().and_then(|k| k.clone());
        }
        let node = match Node::force_new_cluster(self.resume_config(key)).await {
            Ok(node) => node,
            Err(NodeError::Locked | NodeError::WrongUnlockKey) => {
                self.set_locked(true);
                return Err(ApiError::unavailable(SWARM_LOCKED));
            }
            Err(e) => return Err(e.into()),
        };
        let id = node.id().to_string();
        tracing::info!(node = %id, "forced a new cluster: the only manager now");
        self.follow_events(&node);
        *slot = Some(node);
        Ok(Some(id))
    }

    /// `swarm join`: tries each remote address in turn.
    pub(crate) async fn join(
        &self,
        addrs: Addresses,
        availability: NodeAvailability,
        remotes: &[String],
        token: &str,
    ) -> Result<(), ApiError> {
        let mut slot = self.node.lock().await;
        if slot.is_some() || self.is_locked() {
            return Err(ApiError::unavailable(ALREADY_IN_SWARM));
        }
        if remotes.is_empty() {
            return Err(ApiError::bad_request(
                "RemoteAddrs: at least one address is needed",
            ));
        }
        self.config.tasks.sweep(&HashSet::new()).await;
        let mut last = None;
        for remote in remotes {
            let config = self.node_config(addrs.listen, addrs.advertise.clone(), availability);
            match Node::join(config, remote, token).await {
                Ok(node) => {
                    tracing::info!(node = %node.id(), role = %node.role(), via = %remote, "joined the swarm");
                    self.follow_events(&node);
                    *slot = Some(node);
                    return Ok(());
                }
                Err(e) => {
                    tracing::warn!(via = %remote, error = %e, "join failed");
                    last = Some(e);
                }
            }
        }
        Err(last
            .map(ApiError::from)
            .unwrap_or_else(|| ApiError::bad_request("join failed")))
    }

    /// `swarm leave`: a manager only with `force` (as dockerd); the node's state is deleted
    /// so that it can init or join again. A locked manager leaves only with `force` too,
    /// without telling the cluster (it cannot reach it).
    pub(crate) async fn leave(&self, force: bool) -> Result<(), ApiError> {
        let mut slot = self.node.lock().await;
        if slot.is_none() && self.is_locked() {
            if !force {
                return Err(ApiError::unavailable(LEAVE_LOCKED));
            }
            self.forget_state()?;
            self.set_locked(false);
            self.config.tasks.sweep(&HashSet::new()).await;
            tracing::info!("left the swarm while locked");
            return Ok(());
        }
        let Some(node) = slot.take() else {
            return Err(ApiError::unavailable("This node is not part of a swarm"));
        };
        if node.role() == NodeRole::Manager && !force {
            *slot = Some(node);
            return Err(ApiError::unavailable(
                "You are attempting to leave the swarm on a node that is participating as a manager. Removing this node leaves the remaining managers without this one. Use `--force` to ignore this message.",
            ));
        }
        let id = node.id().to_string();
        self.events.stop();
        if let Err(e) = node.leave(force).await {
            tracing::warn!(error = %e, "leave refused by the cluster; stopping anyway");
        }
        self.forget_state()?;
        self.config.tasks.sweep(&HashSet::new()).await;
        tracing::info!(node = %id, "left the swarm");
        Ok(())
    }

    /// Deletes what the node wrote in the data directory (its state file and Raft data).
    fn forget_state(&self) -> Result<(), ApiError> {
        let dir = &self.config.data_dir;
        let io = |e: std::io::Error| {
            ApiError::new(
                hyper::StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot remove the node's state in {}: {e}", dir.display()),
            )
        };
        match std::fs::remove_file(dir.join(NODE_STATE_FILE)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
            _ => {}
        }
        match std::fs::remove_dir_all(dir.join(MANAGER_DIR)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(e)),
            _ => Ok(()),
        }
    }

    /// The control API of the node: 503 outside a swarm, while locked or on a worker.
    pub(crate) async fn control(&self) -> Result<Control, ApiError> {
        let slot = self.node.lock().await;
        let node = slot.as_ref().ok_or_else(|| {
            ApiError::unavailable(if self.is_locked() {
                SWARM_LOCKED
            } else {
                NOT_IN_SWARM
            })
        })?;
        Ok(node.control()?)
    }

    /// The root CA certificate (DER) of the node's certificate; `None` outside a swarm.
    pub(crate) async fn root_ca_der(&self) -> Option<Vec<u8>> {
        self.node.lock().await.as_ref().map(Node::root_ca_der)
    }

    /// What `/info` reports about the node; `None` outside a swarm.
    pub(crate) async fn facts(&self) -> Option<NodeFacts> {
        let slot = self.node.lock().await;
        let node = slot.as_ref()?;
        Some(NodeFacts {
            node_id: node.id().to_string(),
            advertise_addr: node.advertise_addr(),
            role: Some(node.role()),
            managers: node
                .managers()
                .into_iter()
                .map(|m| (m.node.to_string(), m.addr))
                .collect(),
        })
    }

    /// After a resume: once the node's agent applied its first assignment set, removes what
    /// the runtime's namespace holds for tasks that do not run (containers of tasks that were
    /// reported lost because the daemon stopped while they ran, or that ended meanwhile). Gives up after [`RESUME_SWEEP_WAIT`].
    pub(crate) async fn sweep_after_resume(self: Arc<Self>) {
        if !self.config.tasks.keeps_leftovers() {
            return;
        }
        let deadline = tokio::time::Instant::now() + RESUME_SWEEP_WAIT;
        loop {
            let snapshot = {
                let slot = self.node.lock().await;
                match slot.as_ref() {
                    Some(node) => node.agent_snapshot(),
                    None => return,
                }
            };
            if snapshot.generation > 0 {
                // The tasks the agent tracks include those it reported lost (the daemon died
                // while they ran): their containers are the orphans. Tasks being prepared or
                // started have a controller of the runtime, which the sweep keeps too.
                let live: HashSet<TaskId> = snapshot.running_tasks.into_iter().collect();
                self.config.tasks.sweep(&live).await;
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!(
                    "no assignment set within {RESUME_SWEEP_WAIT:?} of the resume: orphan sweep skipped"
                );
                return;
            }
            tokio::time::sleep(RESUME_SWEEP_POLL).await;
        }
    }

    /// Why the node could not be resumed at start (empty if it was, or there was none).
    pub(crate) fn start_error(&self) -> String {
        self.start_error
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// Feeds `/events` from `node`'s events stream (a manager's: a worker's stays empty).
    fn follow_events(&self, node: &Node) {
        self.events.follow(node.events(), node.control().ok());
    }

    /// Stops the node (graceful shutdown of the daemon); its state is kept.
    pub(crate) async fn shutdown(&self) {
        self.events.stop();
        if let Some(node) = self.node.lock().await.take() {
            node.shutdown().await;
        }
    }
}

fn parse_listen(s: &str) -> Result<SocketAddr, ApiError> {
    let s = if let Some(port) = s.strip_prefix(':') {
        format!("0.0.0.0:{port}")
    } else {
        s.to_owned()
    };
    s.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "ListenAddr: {s:?} is not an IP:port (interface names are not supported by swarmd)"
        ))
    })
}

/// Port 0 becomes a free port now, so that the advertised address can name it.
fn with_free_port(addr: SocketAddr) -> Result<SocketAddr, ApiError> {
    if addr.port() != 0 {
        return Ok(addr);
    }
    let probe = TcpListener::bind(addr)
        .and_then(|l| l.local_addr())
        .map_err(|e| ApiError::bad_request(format!("ListenAddr: cannot listen on {addr}: {e}")))?;
    Ok(SocketAddr::new(addr.ip(), probe.port()))
}
