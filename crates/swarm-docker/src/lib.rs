//! # swarm-docker
//!
//! Not built yet: this crate is empty. It will hold the Docker Engine runtime adapter.
#![warn(missing_docs)]
