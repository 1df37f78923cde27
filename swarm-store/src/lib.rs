//! # swarm-store
//!
//! A replicated store of typed, versioned documents on Raft (openraft inside, never in the public
//! API). Collections of serde documents with compare-and-swap, transactions, linearizable and
//! stale reads, a global revision and resumable watches; membership changes with a quorum guard
//! and force-new-cluster recovery; durable storage ([`storage`]) and a mutual-TLS TCP transport
//! ([`transport`]). See the crate README for a tour.
//!
//! Test support is behind the cargo feature `testkit` and never in a production build: the
//! storage and transport conformance suites, an in-process transport with seeded faults, a
//! linearizability checker, a test cipher, a test CA and a TCP cluster fixture (`testkit`).
#![warn(missing_docs)]

mod background;
mod blob;
mod collection;
mod config;
mod error;
pub mod fifo_watch;
mod member;
mod membership;
mod proposer;
mod raft;
mod request_ids;
// Without `testkit`, only the Raft runtime's seeded randomness uses the generator.
#[cfg_attr(not(feature = "testkit"), allow(dead_code, unreachable_pub))]
mod rng;
mod rpc;
mod state;
pub mod storage;
mod store;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod transport;
mod txn;
mod watch;
mod watch_position;

pub use collection::{Collection, Listing, Versioned};
pub use config::{
    MAX_APPENDS_IN_FLIGHT_LIMIT, MAX_BATCH_BYTES_LIMIT, MAX_COMMIT_NOTICE_HOLD_MS,
    MAX_ENTRIES_PER_APPEND, ReadPolicy, StoreConfig,
};
pub use error::StoreError;
pub use membership::{MemberRole, MemberStatus, Role, StoreStatus};
pub use rpc::StoreRpc;
pub use state::dedup::{
    MAX_DEDUP_GAPS_PER_ORIGIN, MAX_DEDUP_ORIGINS, MAX_DEDUP_REPLY_BYTES, MAX_DEDUP_RETIRED_ORIGINS,
    MAX_DEDUP_SEQS_PER_ORIGIN,
};
pub use state::snapshot_format::MAX_SNAPSHOT_BYTES;
pub use store::Store;
pub use transport::MemberId;
pub use txn::{
    MAX_COLLECTION_BYTES, MAX_KEY_BYTES, MAX_TXN_BYTES, MAX_TXN_OPS, MAX_VALUE_BYTES, Precondition,
    Txn, TxnOutcome,
};
pub use watch::{WATCH_FETCH_MAX_CHANGES, Watch, WatchEvent, WatchEventKind};
pub use watch_position::WatchPosition;
