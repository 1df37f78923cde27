//! # swarm-store
//!
//! A replicated store of typed, versioned documents on Raft. Under construction: the storage
//! contracts ([`storage`]) come first.
#![warn(missing_docs)]

pub mod check;
pub mod storage;
pub mod transport;
