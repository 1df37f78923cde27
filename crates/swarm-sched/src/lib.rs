//! # swarm-sched
//!
//! Not built yet: this crate is empty. See the repository README for the plan.
#![warn(missing_docs)]
