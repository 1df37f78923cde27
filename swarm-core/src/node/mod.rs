//! A node of the cluster, running: the loops around the manager's steps and the agent's
//! session, over one mutual-TLS listener per manager.
//!
//! A program builds a [`NodeConfig`] and calls [`Node::init`] (the first manager),
//! [`Node::join`] (with a join token) or [`Node::start`] (a restart). The library does the
//! wiring: the node's certificate comes from the cluster CA, managers learn each other from
//! the node records, and every call on a manager's listener is authorised by the role in the
//! caller's certificate (see the table in `rpc.rs`): a worker cannot make Raft or control
//! calls, a node without a certificate can only fetch the root CA and join.
//!
//! | part | what it does |
//! | --- | --- |
//! | [`Node`] | init / join / start / force-new-cluster, the parts below, shutdown |
//! | [`Control`] | the control API: node ls / inspect / update / promote / demote / rm, cluster inspect / update, join tokens, unlock key; services, tasks, secrets, configs, networks, name resolution; service and task logs ([`LogMessages`]) |
//! | [`ClusterEvent`] | the events stream ([`Node::events`]) |
//! | manager loops | sync (wiring follows the records), leader (dispatcher, node down, statuses, Raft membership) |
//! | agent loop | the dispatcher session, the manager list, role changes (renewal, then the manager part started or stopped) |
//! | task runner | the node's assignment set (long poll through the agent's manager), its tasks run through the node's runtime, their states reported in batches ([`Node::agent_snapshot`]); its log subscriptions (long poll), its tasks' output published to the leader's log broker |
//! | log broker | on the leader: logs subscriptions routed to the nodes that run the selected tasks, their output buffered (bounded) for the client |
//!
//! ```no_run
//! use std::sync::Arc;
//! use swarm_core::model::{ClusterSpec, NodeRole};
//! use swarm_core::node::{Node, NodeConfig};
//! use swarm_core::runtime::mock::MockRuntime;
//! # async fn demo() -> Result<(), swarm_core::node::NodeError> {
//! let runtime = Arc::new(MockRuntime::new());
//! let first = Node::init(
//!     NodeConfig::new("/tmp/m1", "127.0.0.1:0".parse().unwrap(), runtime.clone()),
//!     ClusterSpec::default(),
//! )
//! .await?;
//! let control = first.control()?;
//! let token = control.join_token(NodeRole::Worker).await?;
//! let addr = first.advertise_addr();
//! let worker = Node::join(
//!     NodeConfig::new("/tmp/w1", "127.0.0.1:0".parse().unwrap(), runtime),
//!     &addr,
//!     &token,
//! )
//! .await?;
//! println!("{}", control.node_ls().await?);
//! # drop(worker); Ok(()) }
//! ```

mod agent_link;
mod agent_loop;
mod agent_snapshot;
mod assignment_memo;
mod assignment_service;
mod config;
mod control;
mod control_service;
mod dispatch_service;
mod error;
mod events;
mod join_client;
mod join_service;
mod known_managers;
mod log_hub;
mod log_messages;
mod log_publisher;
mod log_service;
mod log_sources;
mod manager_core;
mod manager_loops;
mod network;
#[allow(clippy::module_inception)]
mod node;
mod orchestration_loop;
mod peers;
#[cfg(test)]
mod probe_tests;
mod recent_joins;
mod renew_service;
pub(crate) mod rng;
mod rpc;
mod sent_task_table;
mod state_file;
mod state_follower;
mod store_link;
mod task_driver;
mod task_log_reader;
mod task_runner;
#[cfg(feature = "testkit")]
mod testkit_hooks;
mod wire;

pub use agent_link::AGENT_CALL_RETRY_DELAY;
pub use agent_snapshot::{AgentSnapshot, MAX_UNREFERENCED_SECRETS};
pub use assignment_service::{ASSIGNMENT_WAIT_PERIODS, STATUS_CONFLICT_WAIT};
pub use config::{
    DEFAULT_ELECTION_TIMEOUT_MAX, DEFAULT_ELECTION_TIMEOUT_MIN, DEFAULT_LEADER_TICK,
    DEFAULT_RAFT_HEARTBEAT_PERIOD, DEFAULT_RECONCILE_PERIOD, DEFAULT_STORE_REQUEST_TIMEOUT,
    NodeConfig, RaftTimings,
};
pub use control::{Control, NO_LEADER_POLL, NO_LEADER_WAIT, REMOTE_CONTROL_TIMEOUT};
pub use dispatch_service::{FORWARD_SHARE, LEADER_POLL};
pub use error::NodeError;
pub use events::{ClusterEvent, MAX_BUFFERED_EVENTS, node_events, service_event, task_event};
pub use log_messages::{LOG_READ_BATCH, LogMessages};
pub use log_publisher::MAX_PENDING_LOG_LINES;
pub use log_service::{LOG_PUBLISH_WAIT, LOGS_NEXT_WAIT};
pub use manager_core::MAX_CONFLICT_RETRIES;
pub use manager_loops::SYNC_FALLBACK_PERIOD;
#[cfg(feature = "testkit")]
pub use network::InProcNodes;
pub use network::NodeNetwork;
pub use node::{MANAGER_DIR, MANAGER_STOP_GRACE, Node};
pub use orchestration_loop::{
    MAX_BUSY_ROUNDS, MAX_ROUND_COALESCE, ORCHESTRATION_FALLBACK_PERIOD, ROUND_COALESCE,
};
pub use peers::MAX_PEERS;
pub use state_file::{MAX_NODE_STATE_BYTES, NODE_STATE_FILE};
pub use state_follower::FOLLOW_RETRY_DELAY;
pub use task_driver::{
    MAX_RUNTIME_ATTEMPTS, RUNTIME_RETRY_DELAY, STOP_MARGIN, TERMINATE_TIMEOUT, UNHEALTHY_ERROR,
};
pub use task_log_reader::MAX_LOG_HISTORY_BYTES;
pub use task_runner::{MAX_DRIVER_EVENTS, STATUS_FLUSH_INTERVAL};
pub use wire::{MAX_LISTED_MANAGERS, ManagerAddr, RefusalKind, RemoteRefusal};
