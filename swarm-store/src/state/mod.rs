//! The replicated state machine's data, free of I/O: documents, the global revision and the
//! recent-change history that feeds watches. The Raft layer applies committed batches to it.

pub(crate) mod command;
pub(crate) mod dedup;
pub(crate) mod doc;
pub(crate) mod doc_table;
pub(crate) mod history;
pub(crate) mod paged_map;
pub(crate) mod shared;
pub(crate) mod snapshot_format;
