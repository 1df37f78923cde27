//! # swarm-sched
//!
//! The placement engine of swarm: decides which node runs each task. Sans-IO (no async,
//! no clock, no randomness) and deterministic: the same calls give the same answers.
//!
//! * **State kept between calls** — nodes (role, address, availability, readiness, platform,
//!   labels, engine labels, CPU, memory, generic discrete and named resources, host ports in
//!   use, tasks per service, recent failures per service), updated by [`Delta`]s without
//!   rebuilding.
//! * **Task groups** — tasks of one service and spec version are placed as one batch
//!   ([`group_pending`], [`Engine::schedule`]).
//! * **Filters**, cheapest first (see [`Filter`]): availability, platform, constraints
//!   ([`Constraint`]: swarm's language), resources, host ports, max replicas per node.
//! * **Ranking** by a [`Strategy`]: `Spread` (SwarmKit's semantics: hierarchical spread over
//!   placement preferences, then fewest tasks of the service, then fewest in total; a node
//!   with too many recent failures of the service goes last) or `Binpack` (most allocated
//!   first, Nomad's score).
//! * **Explainable** — an unplaced group carries an [`Unschedulable`] reason counting, per
//!   filter, the nodes it excluded; [`Engine::explain`] gives each node's first rejecting filter.
//! * **Rebalance planner** — [`Engine::plan_rebalance`] proposes bounded moves back to an even
//!   spread.
//!
//! ```
//! use std::sync::Arc;
//! use swarm_sched::{Constraint, Delta, Engine, NodeSpec, TaskGroup, TaskSpec};
//!
//! let mut engine = Engine::default();
//! for (i, zone) in ["eu", "eu", "us"].iter().enumerate() {
//!     let node = NodeSpec::new(format!("node{i}"), format!("host{i}"))
//!         .with_capacity(4.0, 8 << 30)
//!         .with_label("zone", *zone);
//!     engine.apply(Delta::NodeAdded(node)).unwrap();
//! }
//! let spec = TaskSpec::default()
//!     .with_reservation(1.0, 1 << 30)
//!     .with_constraint(Constraint::parse("node.labels.zone==eu").unwrap());
//! let group = TaskGroup {
//!     service: "api".into(),
//!     spec_version: 1,
//!     spec: Arc::new(spec),
//!     tasks: (0..10).map(|i| format!("api.{i}").into()).collect(),
//! };
//! let out = engine.schedule(group).unwrap();
//! assert_eq!(out.assignments.len(), 8); // 2 eu nodes x 4 CPU
//! assert_eq!(
//!     out.reason.unwrap().to_string(),
//!     "no suitable node (2 nodes lack 1 CPU; 1 node fails constraint node.labels.zone==eu)"
//! );
//! ```
#![warn(missing_docs)]

// Declared in layers: a module uses only modules of the layers above it (ARCHITECTURE.md
// describes them). Leaves import nothing of the crate; the vocabulary and the tables come
// next; then the node table, the filter chain with its reasons, the algorithms, and the
// engine on top.
mod config;
mod hash;
mod heap;
mod ids;
mod index;
mod limits;
mod probe;
mod scratch;

mod demand;
mod intern;
mod node;
mod services;
mod task_index;

mod constraint;

mod error;
mod task;

mod checks;
mod delta;
mod rejection;

mod node_slot;
mod unschedulable;
mod verdict;

mod node_table;
mod outcome;

mod filters;
mod tree;

mod tree_cache;

mod placement;
mod rebalance;

mod engine;

pub use config::{EngineConfig, Strategy};
pub use constraint::{
    Constraint, ConstraintError, ConstraintErrorKind, ConstraintKey, IpMatch, Operator,
    PreferenceError, PreferenceKey, SpreadPreference,
};
pub use delta::Delta;
pub use engine::Engine;
pub use error::SchedError;
pub use ids::{NodeId, ServiceId, TaskId};
pub use limits::{
    MAX_CONSTRAINT_LEN, MAX_CONSTRAINTS_PER_TASK, MAX_FAILURE_RECORDS_PER_NODE, MAX_GENERIC_COUNT,
    MAX_GENERIC_PER_NODE, MAX_GENERIC_PER_TASK, MAX_HOST_PORTS_PER_TASK, MAX_LABELS_PER_NODE,
    MAX_MEMORY_BYTES, MAX_NANO_CPUS, MAX_NODES, MAX_PLATFORMS_PER_TASK, MAX_PREFERENCES,
    MAX_REBALANCE_MOVES, MAX_RESERVED_PER_NODE, MAX_STATIC_PORTS_PER_NODE, MAX_TASKS,
    MAX_TASKS_PER_GROUP,
};
pub use node::{
    Availability, GenericResource, HostPort, NodeResources, NodeSpec, Platform, Protocol,
    Readiness, Role, cores_to_nanos, normalize_arch,
};
pub use outcome::{Assignment, GroupOutcome, NamedClaim};
pub use rebalance::Move;
pub use rejection::{Filter, Rejection};
pub use task::{GenericRequest, PendingTask, PlacedTask, TaskGroup, TaskSpec, group_pending};
pub use unschedulable::{RejectionCount, Unschedulable};
pub use verdict::NodeVerdict;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
