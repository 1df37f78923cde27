//! The openraft type configuration.

use crate::state::command::{BatchReply, WriteBatch};

openraft::declare_raft_types!(
    /// Types of the store's Raft group: one entry carries a batch of transactions; a term has at
    /// most one leader (standard Raft), so a log id is exactly a (term, index) pair. The
    /// runtime is tokio with randomness that a simulation can seed per member.
    pub(crate) StoreRaftTypes:
        D = WriteBatch,
        R = BatchReply,
        NodeId = u64,
        Node = openraft::BasicNode,
        LeaderId = openraft::impls::leader_id_std::LeaderId<u64, u64>,
        AsyncRuntime = super::runtime::StoreRuntime,
);

/// The store's Raft type configuration.
pub(crate) type C = StoreRaftTypes;
/// A log id: (term, index).
pub(crate) type LogId = openraft::LogId<openraft::vote::leader_id_std::CommittedLeaderId<u64>>;
/// A log entry.
pub(crate) type Entry = <C as openraft::RaftTypeConfig>::Entry;
/// A vote.
pub(crate) type Vote = <C as openraft::RaftTypeConfig>::Vote;
/// A membership config.
pub(crate) type Membership = openraft::Membership<u64, openraft::BasicNode>;
/// A membership config with the log id it was written at.
pub(crate) type StoredMembership = openraft::StoredMembership<
    openraft::vote::leader_id_std::CommittedLeaderId<u64>,
    u64,
    openraft::BasicNode,
>;
/// Snapshot metadata.
pub(crate) type SnapshotMeta = openraft::SnapshotMeta<
    openraft::vote::leader_id_std::CommittedLeaderId<u64>,
    u64,
    openraft::BasicNode,
>;
/// A snapshot whose data is the encoded document table.
pub(crate) type Snapshot = openraft::Snapshot<
    openraft::vote::leader_id_std::CommittedLeaderId<u64>,
    u64,
    openraft::BasicNode,
    bytes::Bytes,
>;
/// A log id from a storage position.
pub(crate) fn log_id(term: u64, index: u64) -> LogId {
    LogId::new_term_index(term, index)
}
