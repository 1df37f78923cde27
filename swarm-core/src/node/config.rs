//! How a node is set up: addresses, data directory, runtime and every timing.

use crate::agent::AgentSessionConfig;
use crate::model::NodeAvailability;
use crate::node::network::NodeNetwork;
use crate::runtime::Runtime;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use swarm_secrets::UnlockKey;
use swarm_store::transport::tcp::TcpConfig;

/// Default Raft heartbeat between managers: 100 ms (SwarmKit: 1 s ticks).
pub const DEFAULT_RAFT_HEARTBEAT_PERIOD: Duration = Duration::from_millis(100);
/// Default shortest election timeout: 400 ms (SwarmKit: 10 ticks of 1 s). With 100 ms
/// heartbeats a follower tolerates three lost heartbeats in a row.
///
/// A follower keeps honouring the last leader's lease for the longest election timeout after
/// its last heartbeat (openraft's leader lease), and an election timer that fires inside it is
/// re-armed: a dead leader is replaced between `max` and `2 × max` after its last heartbeat,
/// plus one election round (0.7–1.4 s with these defaults; the cluster's ≤ 2 s target).
pub const DEFAULT_ELECTION_TIMEOUT_MIN: Duration = Duration::from_millis(400);
/// Default longest election timeout: 700 ms.
pub const DEFAULT_ELECTION_TIMEOUT_MAX: Duration = Duration::from_millis(700);
/// Default deadline of a store request (write, linearizable read, forwarded call).
pub const DEFAULT_STORE_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Default period of the manager's leader duties (leadership changes, expired heartbeats).
pub const DEFAULT_LEADER_TICK: Duration = Duration::from_millis(100);
/// Default period at which the leader reconciles manager statuses and Raft membership with
/// the node records.
pub const DEFAULT_RECONCILE_PERIOD: Duration = Duration::from_millis(500);

/// Raft timings of a manager. Every member of a cluster should use the same.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaftTimings {
    /// How often the leader sends heartbeats.
    pub heartbeat_period: Duration,
    /// Shortest time without a leader before a follower stands for election.
    pub election_timeout_min: Duration,
    /// Longest such time.
    pub election_timeout_max: Duration,
    /// Deadline of one store request.
    pub request_timeout: Duration,
    /// A snapshot every this many log entries.
    pub snapshot_every_entries: u64,
}

impl Default for RaftTimings {
    fn default() -> Self {
        RaftTimings {
            heartbeat_period: DEFAULT_RAFT_HEARTBEAT_PERIOD,
            election_timeout_min: DEFAULT_ELECTION_TIMEOUT_MIN,
            election_timeout_max: DEFAULT_ELECTION_TIMEOUT_MAX,
            request_timeout: DEFAULT_STORE_REQUEST_TIMEOUT,
            snapshot_every_entries: 10_000,
        }
    }
}

/// A node's settings. [`NodeConfig::new`] gives defaults for everything but the data
/// directory, the listen address and the runtime.
///
/// ```no_run
/// use std::sync::Arc;
/// use swarm_core::node::NodeConfig;
/// use swarm_core::runtime::mock::MockRuntime;
/// let config = NodeConfig::new(
///     "/var/lib/swarm/node-1",
///     "127.0.0.1:2377".parse().unwrap(),
///     Arc::new(MockRuntime::new()),
/// );
/// assert_eq!(config.advertise_addr, None); // the bound listen address is advertised
/// ```
#[derive(Clone)]
pub struct NodeConfig {
    /// Where the node keeps its state: its identity, and for a manager the Raft log and
    /// snapshots (encrypted at rest).
    pub data_dir: PathBuf,
    /// Where a manager listens (mutual TLS; Raft, dispatcher and control calls). Port 0 picks
    /// a free port. A worker listens only once promoted.
    pub listen_addr: SocketAddr,
    /// `host:port` other nodes reach this node at; `None`: the bound listen address.
    pub advertise_addr: Option<String>,
    /// The hostname to report instead of the runtime's.
    pub hostname: Option<String>,
    /// The availability to join with.
    pub availability: NodeAvailability,
    /// The runtime adapter that runs this node's tasks and describes the node.
    pub runtime: Arc<dyn Runtime>,
    /// Raft timings of a manager.
    pub raft: RaftTimings,
    /// How the node reaches the others: TCP with mutual TLS (the default) or an in-process
    /// network (tests, simulations; then `advertise_addr` names the node and must be set).
    pub network: NodeNetwork,
    /// Whether this manager, while it leads, runs the orchestration loop (orchestrators,
    /// allocator, scheduler; see `node::orchestration_loop`). On by default. Off, tasks are
    /// created and placed only by whoever writes them: an embedder with its own orchestrator,
    /// or a test of the dispatch path alone. Dispatch, agents and the control API work the same.
    pub orchestrate: bool,
    /// Transport settings (timeouts, reconnection).
    pub tcp: TcpConfig,
    /// How the node's agent retries its dispatcher session.
    pub agent: AgentSessionConfig,
    /// The unlock key of an autolocked manager, for [`Node::start`](super::Node::start).
    pub unlock_key: Option<UnlockKey>,
    /// Seeds the node's non-secret randomness (ids, jitter, manager choice); `None`: from the
    /// clock and the process. Secrets always come from the operating system.
    pub rng_seed: Option<u64>,
    /// Seeds a manager's Raft randomness (election timeouts) and runs its store's blocking
    /// work inline, so a simulation replays exactly; `None` (the default): the operating
    /// system's randomness. Only on a current-thread tokio runtime (the store refuses it on a
    /// multi-thread one). Give every start of a node its own seed.
    pub raft_rng_seed: Option<u64>,
    /// Period of the manager's leader duties.
    pub leader_tick: Duration,
    /// Period of the leader's reconciliation of manager statuses and membership.
    pub reconcile_period: Duration,
}

impl NodeConfig {
    /// Defaults for a node keeping its state in `data_dir`, listening on `listen_addr` and
    /// running tasks with `runtime`.
    pub fn new(
        data_dir: impl Into<PathBuf>,
        listen_addr: SocketAddr,
        runtime: Arc<dyn Runtime>,
    ) -> Self {
        NodeConfig {
            data_dir: data_dir.into(),
            listen_addr,
            advertise_addr: None,
            hostname: None,
            availability: NodeAvailability::Active,
            runtime,
            raft: RaftTimings::default(),
            network: NodeNetwork::Tcp,
            orchestrate: true,
            tcp: TcpConfig::default(),
            agent: AgentSessionConfig::default(),
            unlock_key: None,
            rng_seed: None,
            raft_rng_seed: None,
            leader_tick: DEFAULT_LEADER_TICK,
            reconcile_period: DEFAULT_RECONCILE_PERIOD,
        }
    }
}

impl std::fmt::Debug for NodeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeConfig")
            .field("data_dir", &self.data_dir)
            .field("listen_addr", &self.listen_addr)
            .field("advertise_addr", &self.advertise_addr)
            .field("raft", &self.raft)
            .field(
                "unlock_key",
                &self.unlock_key.as_ref().map(|_| "[REDACTED]"),
            )
            .finish_non_exhaustive()
    }
}
