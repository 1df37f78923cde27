//! The compose file model: what the files say, typed, merged, before conversion.

pub(crate) mod deploy;
pub(crate) mod external;
pub(crate) mod file_object;
pub(crate) mod file_parse;
pub(crate) mod file_reference;
pub(crate) mod healthcheck;
pub(crate) mod merge;
pub(crate) mod network;
pub(crate) mod origin;
pub(crate) mod placement;
pub(crate) mod port;
pub(crate) mod project;
pub(crate) mod resources;
pub(crate) mod restart_policy;
pub(crate) mod service;
pub(crate) mod service_network;
pub(crate) mod service_options;
pub(crate) mod service_volume;
pub(crate) mod update_config;
pub(crate) mod volume;
