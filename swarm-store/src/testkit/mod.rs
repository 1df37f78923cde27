//! Test support (cargo feature `testkit`), never in a production build.
//!
//! - [`storage_conformance`]: the suites every [`LogStorage`](crate::storage::LogStorage) and
//!   [`SnapshotStore`](crate::storage::SnapshotStore) implementation must pass;
//!   [`transport_conformance`]: the suite of the [`Transport`](crate::transport::Transport)
//!   contract.
//! - [`inproc`]: an in-process network with seeded, per-link fault injection (partitions, loss,
//!   delay, duplication, crashes) for simulations under tokio's paused clock.
//! - [`check`]: a linearizability checker for histories of register operations.
//! - [`FaultyLogStorage`]: the in-memory log with injected disk faults (a failed write, slow
//!   appends) switched by its [`DiskFaults`], for simulations.
//! - [`SplitMix64`]: the seeded generator simulations draw from.
//! - [`TestCipher`]: a real AEAD (ChaCha20-Poly1305) for tests and benches of at-rest
//!   encryption.
//! - [`TestCa`] and [`TcpCluster`]: a certificate authority issuing member certificates (with
//!   the member id as common name, read by [`common_name_identifier`], or shaped as
//!   swarm-secrets' CA issues them: node id and role) and mutual-TLS configurations, and
//!   members over TCP with mutual TLS on disk storage (node certificates, identified by
//!   [`manager_identifier`](crate::transport::tcp::manager_identifier));
//!   [`agreed_leader`] waits until a cluster's members agree on a leader.
//!
//! Enable it from a dev-dependency:
//!
//! ```toml
//! [dev-dependencies]
//! swarm-store = { version = "...", features = ["testkit"] }
//! ```
//!
//! (`swarm-store` enables it for its own tests through a dev-dependency on itself.)

mod agreed_leader;
pub mod check;
mod cipher;
mod common_name;
mod disk_faults;
mod faulty_log;
pub mod inproc;
pub mod storage_conformance;
mod tcp_cluster;
mod test_ca;
pub mod transport_conformance;

pub use crate::rng::SplitMix64;
pub use agreed_leader::agreed_leader;
pub use cipher::TestCipher;
pub use common_name::{common_name_identifier, member_id_from_common_name};
pub use disk_faults::{DiskFaults, MAX_SLOW_SYNC_MS};
pub use faulty_log::FaultyLogStorage;
pub use tcp_cluster::TcpCluster;
pub use test_ca::{TestCa, TestIdentity};
