//! The node id each member's certificate carries.

use crate::transport::MemberId;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The most bytes of a node id: a DNS label.
const MAX_NODE_ID_BYTES: usize = 63;

/// The role names a certificate carries as DNS names: never a node id, or a peer address
/// naming one would match every node of that role.
const ROLE_NAMES: [&str; 2] = ["swarm-manager", "swarm-worker"];

/// A node id refused by [`MemberNames::insert`] or [`PeerAddress::new`](super::PeerAddress::new).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NodeIdError {
    /// Not a node id as the cluster CA issues them: a DNS label of 1 to 63 lowercase ASCII
    /// letters, digits and '-', not starting or ending with '-', not a role name. Upper case
    /// is refused, never folded (TLS names ignore case, so `Node-1` and `node-1` would be one
    /// TLS peer and two ids).
    #[error("node id {node_id:?} refused: {reason}")]
    Invalid {
        /// The id given.
        node_id: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Another member already has this node id.
    #[error("node id {node_id:?} already names {member}")]
    Taken {
        /// The id given.
        node_id: String,
        /// The member it names.
        member: MemberId,
    },
}

/// Checks that `node_id` is a node id as swarm-secrets' CA issues them (lowercase DNS label,
/// not a role name).
pub(crate) fn check_node_id(node_id: &str) -> Result<(), NodeIdError> {
    let invalid = |reason| {
        Err(NodeIdError::Invalid {
            node_id: node_id.to_owned(),
            reason,
        })
    };
    if node_id.is_empty() || node_id.len() > MAX_NODE_ID_BYTES {
        return invalid("a node id has 1 to 63 bytes");
    }
    if node_id.bytes().any(|b| b.is_ascii_uppercase()) {
        return invalid("node ids are lowercase (TLS names ignore case: one spelling only)");
    }
    if !node_id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return invalid("a node id holds only lowercase ASCII letters, digits and '-'");
    }
    if node_id.starts_with('-') || node_id.ends_with('-') {
        return invalid("a node id does not start or end with '-'");
    }
    if ROLE_NAMES.contains(&node_id) {
        return invalid("a role name is not a node id");
    }
    Ok(())
}

#[derive(Default)]
struct Table {
    by_node_id: BTreeMap<String, MemberId>,
    by_member: BTreeMap<MemberId, String>,
}

/// Which member each node id is: the table [`node_id_identifier`](super::node_id_identifier)
/// maps a certificate's node id through. One node id per member and one member per node id.
/// Clones share the table, so the server, the transport and the code that changes the
/// membership can all hold it.
///
/// ```
/// use swarm_store::MemberId;
/// use swarm_store::transport::tcp::MemberNames;
/// let names = MemberNames::new();
/// names.insert(MemberId(1), "k3v8x2")?;
/// assert_eq!(names.member("k3v8x2"), Some(MemberId(1)));
/// assert!(names.insert(MemberId(2), "k3v8x2").is_err()); // taken
/// assert!(names.insert(MemberId(2), "Node-2").is_err()); // upper case
/// # Ok::<(), swarm_store::transport::tcp::NodeIdError>(())
/// ```
#[derive(Clone, Default)]
pub struct MemberNames {
    table: Arc<RwLock<Table>>,
}

impl std::fmt::Debug for MemberNames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.read().by_member.iter()).finish()
    }
}

impl MemberNames {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> RwLockReadGuard<'_, Table> {
        self.table
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Table> {
        self.table
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Names `member` by `node_id` (replacing its previous node id). Refuses an invalid node id
    /// and one another member has.
    pub fn insert(&self, member: MemberId, node_id: &str) -> Result<(), NodeIdError> {
        check_node_id(node_id)?;
        let mut table = self.write();
        if let Some(other) = table.by_node_id.get(node_id) {
            if *other != member {
                return Err(NodeIdError::Taken {
                    node_id: node_id.to_owned(),
                    member: *other,
                });
            }
        }
        if let Some(previous) = table.by_member.insert(member, node_id.to_owned()) {
            table.by_node_id.remove(&previous);
        }
        table.by_node_id.insert(node_id.to_owned(), member);
        Ok(())
    }

    /// Forgets `member`; returns its node id.
    pub fn remove(&self, member: MemberId) -> Option<String> {
        let mut table = self.write();
        let node_id = table.by_member.remove(&member)?;
        table.by_node_id.remove(&node_id);
        Some(node_id)
    }

    /// The member `node_id` names (exact comparison: node ids are lowercase).
    pub fn member(&self, node_id: &str) -> Option<MemberId> {
        self.read().by_node_id.get(node_id).copied()
    }

    /// The node id of `member`.
    pub fn node_id(&self, member: MemberId) -> Option<String> {
        self.read().by_member.get(&member).cloned()
    }
}
