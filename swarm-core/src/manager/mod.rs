//! The manager's decisions, as pure steps: state in, decision and writes out.
//!
//! Every rule of the managers lives in a step that reads a view of the cluster state (the
//! cluster object, the node records, the cluster CA), takes the time and a seeded random
//! source as arguments, and returns what to do as data: [`writes::ManagerWrite`]s for the
//! store and [`writes::MembershipChange`]s for Raft. No step does I/O, reads a clock or keeps
//! state, so the same code runs in the managers' loops, in one-process tests and in seeded
//! simulations.
//!
//! * [`ca_server`]: joining with a token (certificate issue, the node record, a manager's
//!   membership changes), certificate renewal of an authenticated node, and the joining
//!   node's check of the downloaded CA.
//! * [`control`]: the control API's rules: cluster init and update, join token show and
//!   rotation, node ls/inspect, update, promote/demote, rm and leave; services (create, ls,
//!   inspect, update, scale, rm), tasks (ls, inspect), secrets, configs and networks.
//! * [`allocator`]: network subnets, service endpoints (published ports, virtual IPs) and the
//!   network attachments that move new tasks to `Pending`; name resolution on a network.
//! * [`root_rotation`]: `swarm ca --rotate`: start, progress, finish, and which roots to
//!   trust meanwhile.
//! * [`dispatcher`]: the leader's side of agent sessions: registration, heartbeats, grace
//!   deadlines, nodes marked down, the longer grace after a leader change.
//! * [`logbroker`]: `service logs` / `task logs`: subscriptions routed to the nodes that run
//!   the selected tasks, their output published back in bounded batches, the ends counted.
//! * [`raft_membership`]: the Raft group follows the node records (joins, promotions,
//!   demotions carried out one membership change at a time by the leader).
//! * [`manager_statuses`]: the Leader / Reachable / Unreachable column of `node ls` follows
//!   the leader's view of the group.
//! * [`scheduler`]: pending tasks get a node from swarm-sched's engine (kept between rounds
//!   as a cache, answering as a fresh one would), or keep a reason in `status.err`.
//! * [`cluster_state`]: every stored object in memory with the task indexes, the view the
//!   orchestration steps read; it applies writes as the store will.
//! * [`orchestrator`]: the orchestrators: replicated and global services and jobs, restarts,
//!   node failures, the constraint enforcer and the task reaper, run as one round by
//!   [`orchestrator::orchestrate`].
//! * [`commit_group`]: which writes of a round must share a transaction (the writes of one
//!   task slot).
//! * [`state`]: where the writes land: the store collections, the writes applied as one
//!   transaction, and the data directory encrypted at rest, with optional autolock.
//!
//! Randomness is a `&mut dyn FnMut() -> u64` (e.g. a seeded splitmix64): ids come from it.
//! Secrets (join tokens, certificate serials) come from the operating system's random source
//! through swarm-secrets, never from it.

pub mod allocator;
pub mod ca_server;
pub mod cli_table;
pub mod cluster_state;
pub mod commit_group;
pub mod control;
pub mod dispatcher;
pub mod logbroker;
pub mod manager_statuses;
mod node_changes;
pub mod orchestrator;
pub mod raft_membership;
pub mod root_rotation;
pub mod round_plan;
pub mod scheduler;
pub mod state;
#[cfg(test)]
pub(crate) mod step_fixture;
pub mod write_fusion;
pub mod writes;
