//! The allocator (contract step 2, SwarmKit's `manager/allocator`), as a pure step: network
//! subnets, service endpoints (published ports, virtual IPs) and the network attachments of
//! new tasks, all recomputed from the [`ClusterState`](super::cluster_state::ClusterState) at
//! every call.
//!
//! | item | what |
//! | --- | --- |
//! | [`allocate`] | one pass: subnets, then endpoints, then tasks in `New` moved to `Pending` |
//! | [`published_port_conflict`] | the one rule of which published ports two services cannot share (the control steps use it too) |
//! | [`network_ipam`] | a network's subnets: its spec's, or a free /24 of [`DEFAULT_ADDRESS_POOL`] |
//! | [`resolve`] | the addresses a service name (or alias, or `<service>.<slot>`) has on a network |
//!
//! ```
//! use std::time::SystemTime;
//! use swarm_core::manager::allocator::allocate;
//! use swarm_core::manager::cluster_state::ClusterState;
//!
//! let state = ClusterState::new();
//! assert!(allocate(&state, SystemTime::UNIX_EPOCH).is_empty());
//! ```

mod address_book;
mod allocate;
mod endpoint_allocation;
mod network_ipam;
mod port_conflict;
mod resolve;
mod task_allocation;

#[cfg(test)]
mod allocator_tests;

pub use allocate::allocate;
pub(crate) use allocate::holds_addresses;
pub use network_ipam::{DEFAULT_ADDRESS_POOL, DEFAULT_SUBNET_PREFIX, network_ipam};
pub(crate) use port_conflict::ports_of_others;
pub use port_conflict::{
    DYNAMIC_PORT_END, DYNAMIC_PORT_START, PortConflict, published_port_conflict,
};
pub use resolve::resolve;
pub use task_allocation::PENDING_MESSAGE;
