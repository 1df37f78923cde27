//! The cluster model: nodes, services, tasks, secrets, configs and networks.
//!
//! Every type is plain data (serde) so that it can be stored in `swarm-store`, sent over the wire
//! and fed to pure reconcile functions.

pub mod container;
pub mod ids;
pub mod resources;
pub mod task;

pub use container::*;
pub use ids::*;
pub use resources::*;
pub use task::*;
