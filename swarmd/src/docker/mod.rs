//! The mapping layer: the Engine API's JSON (PascalCase, Docker's field names, RFC 3339 times,
//! `Version{Index}`) to swarm-core's model and back, one module per object kind.
//!
//! Rule for fields the model lacks (engine-api-notes item 1): a field is *modeled* (mapped
//! both ways), or *carried* only at its default value (`Init: false`, `DNSConfig: {}`,
//! `Isolation: "default"`: accepted and written back the same), or *refused* with a 400 that
//! names it. Unknown fields are refused too (`deny_unknown_fields`): nothing is dropped
//! silently, so an edit-and-post-back by the CLI never loses a setting.

pub(crate) mod cluster;
pub(crate) mod config;
pub(crate) mod event;
pub(crate) mod mapping_error;
pub(crate) mod meta;
pub(crate) mod network;
pub(crate) mod node;
pub(crate) mod secret;
pub(crate) mod service;
pub(crate) mod task;
pub(crate) mod task_spec;
pub(crate) mod time_text;
pub(crate) mod tls_info;
pub(crate) mod unmodeled;
