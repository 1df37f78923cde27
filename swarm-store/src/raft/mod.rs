//! The adapters between openraft and this crate's byte-level contracts. Nothing of openraft
//! leaves this module's siblings: the public API speaks in [`MemberId`](crate::MemberId),
//! [`StoreError`](crate::StoreError) and plain status structs.

pub(crate) mod append_pipeline;
pub(crate) mod entry_cache;
pub(crate) mod handle;
pub(crate) mod log_store;
pub(crate) mod network;
pub(crate) mod peer_errors;
pub(crate) mod runtime;
pub(crate) mod snapshot_saver;
pub(crate) mod snapshot_store;
pub(crate) mod state_machine;
#[cfg(test)]
pub(crate) mod test_entries;
pub(crate) mod types;
pub(crate) mod wire;
