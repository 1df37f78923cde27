//! The Engine API handlers, one module per object kind; each reads the request, calls the
//! node's control API and answers with the `docker` mapping.

pub(crate) mod configs;
pub(crate) mod events;
pub(crate) mod logs;
pub(crate) mod networks;
pub(crate) mod nodes;
pub(crate) mod secrets;
pub(crate) mod services;
pub(crate) mod swarm;
pub(crate) mod system;
pub(crate) mod tasks;
pub(crate) mod unsupported;
