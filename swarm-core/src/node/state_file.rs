//! The node's own state on disk: its identity, certificate and key, and the managers it knows.
//!
//! One file, [`NODE_STATE_FILE`] in the data directory, written whole (a temporary file with
//! mode 0600, fsync, rename, directory fsync), so a crash leaves the old or the new file. A
//! restarted node reads it to rejoin without a token. The private key is in it in the clear,
//! protected by the file mode: autolock encrypts the managers' Raft data, not this key.

use crate::model::{NodeId, NodeRole};
use crate::node::error::NodeError;
use crate::node::wire::{MAX_LISTED_MANAGERS, ManagerAddr};
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The file name of a node's state in its data directory.
pub const NODE_STATE_FILE: &str = "node-state";
const NODE_STATE_TMP_FILE: &str = "node-state.tmp";
/// The largest state file read: a key, two certificates and [`MAX_LISTED_MANAGERS`] managers
/// take a few KiB.
pub const MAX_NODE_STATE_BYTES: usize = 256 * 1024;
/// The format written; another is refused.
const FORMAT: u32 = 1;

/// What a node keeps about itself.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct NodeState {
    pub(crate) format: u32,
    pub(crate) node_id: NodeId,
    pub(crate) cluster_id: String,
    pub(crate) role: NodeRole,
    pub(crate) raft_id: Option<u64>,
    pub(crate) key_pkcs8: Vec<u8>,
    pub(crate) cert_der: Vec<u8>,
    /// The root that issued `cert_der`.
    pub(crate) ca_cert_der: Vec<u8>,
    /// Other roots to trust (the other root of a rotation in progress).
    pub(crate) extra_roots: Vec<Vec<u8>>,
    pub(crate) advertise_addr: String,
    pub(crate) managers: Vec<ManagerAddr>,
}

impl Drop for NodeState {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.key_pkcs8);
    }
}

impl std::fmt::Debug for NodeState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeState")
            .field("node_id", &self.node_id)
            .field("role", &self.role)
            .field("raft_id", &self.raft_id)
            .field("managers", &self.managers)
            .finish_non_exhaustive()
    }
}

impl NodeState {
    pub(crate) fn new(node_id: NodeId, cluster_id: String, role: NodeRole) -> Self {
        NodeState {
            format: FORMAT,
            node_id,
            cluster_id,
            role,
            raft_id: None,
            key_pkcs8: Vec::new(),
            cert_der: Vec::new(),
            ca_cert_der: Vec::new(),
            extra_roots: Vec::new(),
            advertise_addr: String::new(),
            managers: Vec::new(),
        }
    }

    /// The path of the state file in `dir`.
    pub(crate) fn path(dir: &Path) -> PathBuf {
        dir.join(NODE_STATE_FILE)
    }

    /// Reads the state file of `dir`.
    pub(crate) fn load(dir: &Path) -> Result<NodeState, NodeError> {
        let path = Self::path(dir);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(NodeError::NotInitialized { path });
            }
            Err(source) => return Err(NodeError::Io { path, source }),
        };
        let mut bytes = Zeroizing::new(Vec::new());
        file.take(MAX_NODE_STATE_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| NodeError::Io {
                path: path.clone(),
                source,
            })?;
        if bytes.len() > MAX_NODE_STATE_BYTES {
            return Err(NodeError::Corrupt {
                path,
                detail: format!("larger than {MAX_NODE_STATE_BYTES} bytes"),
            });
        }
        let state: NodeState = postcard::from_bytes(&bytes).map_err(|e| NodeError::Corrupt {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        if state.format != FORMAT {
            return Err(NodeError::Corrupt {
                path,
                detail: format!("format {} is not {FORMAT}", state.format),
            });
        }
        if state.managers.len() > MAX_LISTED_MANAGERS {
            return Err(NodeError::Corrupt {
                path,
                detail: format!("more than {MAX_LISTED_MANAGERS} managers"),
            });
        }
        Ok(state)
    }

    /// Writes the state file of `dir` durably, replacing the old one whole.
    pub(crate) fn save(&self, dir: &Path) -> Result<(), NodeError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| NodeError::Io { path, source }
        };
        fs::create_dir_all(dir).map_err(io(dir))?;
        let bytes =
            Zeroizing::new(postcard::to_allocvec(self).map_err(|e| NodeError::Corrupt {
                path: Self::path(dir),
                detail: format!("cannot encode: {e}"),
            })?);
        let tmp = dir.join(NODE_STATE_TMP_FILE);
        let _ = fs::remove_file(&tmp);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut out = options.open(&tmp).map_err(io(&tmp))?;
        out.write_all(&bytes).map_err(io(&tmp))?;
        out.sync_all().map_err(io(&tmp))?;
        drop(out);
        let path = Self::path(dir);
        fs::rename(&tmp, &path).map_err(io(&path))?;
        File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads_whole_and_refuses_damage() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            NodeState::load(dir.path()),
            Err(NodeError::NotInitialized { .. })
        ));
        let mut state = NodeState::new(NodeId::new("abc"), "c1".into(), NodeRole::Manager);
        state.raft_id = Some(7);
        state.managers.push(ManagerAddr {
            node: NodeId::new("abc"),
            raft_id: 7,
            addr: "127.0.0.1:2377".into(),
        });
        state.save(dir.path()).unwrap();
        let back = NodeState::load(dir.path()).unwrap();
        assert_eq!(back.raft_id, Some(7));
        assert_eq!(back.managers, state.managers);
        fs::write(NodeState::path(dir.path()), b"\xff\xff").unwrap();
        assert!(matches!(
            NodeState::load(dir.path()),
            Err(NodeError::Corrupt { .. })
        ));
    }
}
