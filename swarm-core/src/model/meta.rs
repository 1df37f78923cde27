//! Bookkeeping every stored object carries: its version and when it was created and last updated.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::SystemTime;

/// The store's version of an object: the index of the write that last changed it.
///
/// Versions grow with every write, so an update carrying an older version than the stored one is a
/// lost update and must be refused (optimistic concurrency, as SwarmKit's `Version.Index`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Version(pub u64);

impl Version {
    /// The version index as a number.
    pub fn index(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Metadata of a stored object.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use swarm_core::model::{Meta, Version};
///
/// let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let mut meta = Meta::new(Version(7), t0);
/// meta.touch(Version(9), t0 + Duration::from_secs(3));
/// assert_eq!(meta.version, Version(9));
/// assert_eq!(meta.created_at, t0);
/// assert!(meta.updated_at > meta.created_at);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Meta {
    /// The version of the last write to the object.
    pub version: Version,
    /// When the object was created.
    pub created_at: SystemTime,
    /// When the object was last changed.
    pub updated_at: SystemTime,
}

impl Meta {
    /// Metadata of an object created at `now` by the write with version `version`.
    pub fn new(version: Version, now: SystemTime) -> Self {
        Meta {
            version,
            created_at: now,
            updated_at: now,
        }
    }

    /// Records a write with version `version` at `now`; the creation time is kept.
    pub fn touch(&mut self, version: Version, now: SystemTime) {
        self.version = version;
        self.updated_at = now;
    }
}

impl Default for Meta {
    /// Version 0 at the Unix epoch: an object not yet stored.
    fn default() -> Self {
        Meta::new(Version(0), SystemTime::UNIX_EPOCH)
    }
}
