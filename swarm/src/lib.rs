//! # swarm
//!
//! Docker swarm mode's powers as embeddable Rust crates. This facade re-exports the parts:
//!
//! - [`core`]: the cluster model ([`core::model`]), validation ([`core::validate`]), the task
//!   state machine and the runtime trait ([`core::runtime`]), and [`core::mapping`], the one
//!   place that maps between the parts' node ids and roles;
//! - [`sched`]: the placement engine;
//! - [`store`]: the replicated Raft store;
//! - [`secrets`]: keys, envelope encryption, sealed delivery, join tokens and the cluster CA.
#![warn(missing_docs)]

pub use swarm_core as core;
pub use swarm_sched as sched;
pub use swarm_secrets as secrets;
pub use swarm_store as store;
