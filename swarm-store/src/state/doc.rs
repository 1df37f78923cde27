//! One stored document, and the documents of one collection.

use super::paged_map::PagedMap;
use crate::blob::Blob;
use serde::{Deserialize, Serialize};

/// One stored document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Doc {
    /// The encoded document.
    pub(crate) value: Blob,
    /// 1 when created, +1 on every update; compare-and-swap checks it.
    pub(crate) version: u64,
    /// The revision that created the document.
    pub(crate) create_revision: u64,
    /// The revision of its last change.
    pub(crate) mod_revision: u64,
}

/// The documents of one collection, by key.
pub(crate) type Docs = PagedMap<Doc>;
