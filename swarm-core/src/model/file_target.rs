//! Where and how a secret or config file appears inside a task.

use serde::{Deserialize, Serialize};

/// Where and how a secret or config appears as a file inside the task.
///
/// Missing `uid`, `gid` and `mode` take Docker's defaults (`"0"`, `"0"`, `0o444`) when
/// deserialized.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FileTarget {
    /// File name or absolute path. A bare name is placed under the runtime's secrets (or configs)
    /// directory, `/run/secrets/<name>` for secrets as in Docker.
    pub name: String,
    /// Owner user id, as a string as in SwarmKit (`"0"` by default).
    pub uid: String,
    /// Owner group id (`"0"` by default).
    pub gid: String,
    /// Permission bits; SwarmKit's default is `0o444`.
    pub mode: u32,
}

impl FileTarget {
    /// A read-only file owned by root with mode `0o444`, as Docker creates by default.
    pub fn new(name: impl Into<String>) -> Self {
        FileTarget {
            name: name.into(),
            uid: "0".to_owned(),
            gid: "0".to_owned(),
            mode: 0o444,
        }
    }
}

impl Default for FileTarget {
    /// An unnamed target with Docker's default owner and mode.
    fn default() -> Self {
        FileTarget::new("")
    }
}
