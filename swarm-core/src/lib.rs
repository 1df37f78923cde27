//! # swarm-core
//!
//! The orchestrator of swarm: the cluster model, validation, the task state machine and the
//! runtime trait that adapters implement to run tasks.
#![warn(missing_docs)]

pub mod agent;
pub(crate) mod clock;
pub mod manager;
pub mod mapping;
pub mod model;
pub mod node;
pub mod runtime;
mod sabotage;
#[cfg(feature = "testkit")]
pub mod sim;
pub mod stack;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod validate;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
