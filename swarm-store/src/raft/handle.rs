//! The Raft handle's type: openraft's Raft over this crate's type configuration and state
//! machine. Apart from [`types`](super::types), so the types do not depend on the state
//! machine that uses them.

use super::state_machine::StateMachineAdapter;
use super::types::C;

/// The Raft handle.
pub(crate) type Raft = openraft::Raft<C, StateMachineAdapter>;
