//! The snapshot image's format: its version header, its size limit and its decoding errors.
//!
//! An image is `MAGIC ‖ postcard(version: u32, revision, collections, dedup table)`. Images
//! written before the header existed are still read, each by its own explicit format, and a
//! legacy image must decode completely (no trailing bytes), so a damaged image of one format is
//! never taken for another one with a part silently dropped.
//!
//! [`SnapshotView::encode`] writes the current format; [`decode_image`] reads every format.

use super::dedup::{DedupTable, LegacyDedupTable};
use super::doc::Docs;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The first bytes of every versioned image. No legacy (unversioned) image starts with them:
/// a legacy image starts with its revision; revision 0 (a zero byte) means no document was ever
/// written, so its next byte (the number of collections) is 0, never `b'S'`.
pub(crate) const SNAPSHOT_MAGIC: [u8; 4] = [0, b'S', b'W', b'S'];

/// The format version written now.
pub(crate) const SNAPSHOT_FORMAT_VERSION: u32 = 2;

/// The largest snapshot image, in bytes, that a member builds, sends, accepts from a leader or
/// installs: the one limit on snapshot size in this crate.
///
/// The state machine is held in memory, and a snapshot is built, sent and received as one
/// buffer, so this is also the most memory a snapshot transfer takes on either side. A member
/// whose state would encode to more refuses to build the snapshot (the error names this
/// limit), so a leader never sends an image its followers refuse. The disk snapshot store
/// accepts any image of this size (checked at compile time against
/// [`storage::disk::MAX_SNAPSHOT_FILE_BYTES`](crate::storage::disk::MAX_SNAPSHOT_FILE_BYTES), which
/// bounds the sealed file with its metadata).
pub const MAX_SNAPSHOT_BYTES: u64 = 1024 * 1024 * 1024;

/// Room left in the disk store's file limit for the metadata, header and cipher overhead.
const DISK_OVERHEAD_BYTES: u64 = 64 * 1024 * 1024;

const _: () = assert!(
    MAX_SNAPSHOT_BYTES + DISK_OVERHEAD_BYTES <= crate::storage::disk::MAX_SNAPSHOT_FILE_BYTES,
    "the disk snapshot store must hold every image a member may build"
);

/// The snapshot formats this build reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SnapshotFormat {
    /// Unversioned, before the dedup table: revision and collections.
    V0,
    /// Unversioned: revision, collections and the first dedup table (replies plus an
    /// eviction mark per origin).
    V1,
    /// Versioned ([`SNAPSHOT_MAGIC`], version 2): revision, collections and the current dedup
    /// table.
    V2,
}

/// Why a snapshot image could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SnapshotDecodeError {
    /// The header names a format version this build does not read.
    #[error(
        "snapshot format version {found} is not supported (this build reads versions 0 to \
         {SNAPSHOT_FORMAT_VERSION})"
    )]
    UnsupportedVersion {
        /// The version in the header.
        found: u32,
    },
    /// The image has a header but its body does not decode.
    #[error("snapshot image of format {format:?} is malformed: {detail}")]
    Malformed {
        /// The format the header named.
        format: SnapshotFormat,
        /// The decoder's error.
        detail: String,
    },
    /// The image has no header and is not a complete image of any legacy format.
    #[error(
        "snapshot image has no format header and is neither a complete format 1 image ({v1}) \
         nor a complete format 0 image ({v0})"
    )]
    UnknownLegacy {
        /// Why it is not a format 1 image.
        v1: String,
        /// Why it is not a format 0 image.
        v0: String,
    },
    /// The image is larger than [`MAX_SNAPSHOT_BYTES`].
    #[error("snapshot image of {bytes} bytes exceeds the limit of {MAX_SNAPSHOT_BYTES} bytes")]
    TooLarge {
        /// Its size.
        bytes: u64,
    },
    /// The image decodes but its dedup table breaks the table's bounds or invariants.
    #[error("snapshot image's dedup table is invalid: {0}")]
    DedupTable(String),
}

/// Why a snapshot image could not be built.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SnapshotEncodeError {
    /// The encoder failed.
    #[error("cannot encode the snapshot image: {0}")]
    Encode(#[from] postcard::Error),
    /// The state encodes to more than [`MAX_SNAPSHOT_BYTES`].
    #[error(
        "the state machine encodes to {bytes} bytes, over the snapshot limit of \
         {MAX_SNAPSHOT_BYTES} bytes (MAX_SNAPSHOT_BYTES); delete documents to shrink it"
    )]
    TooLarge {
        /// The encoded size.
        bytes: u64,
    },
}

/// What a snapshot of format 2 holds after its header (the history is not part of it: watchers
/// older than a snapshot install must re-list; the dedup table is, so a member that installs it
/// deduplicates the same way).
#[derive(Deserialize)]
struct SnapshotImageV2 {
    revision: u64,
    collections: BTreeMap<String, Docs>,
    dedup: DedupTable,
}

/// Format 1 (unversioned): the first dedup table, converted on load without loss.
#[derive(Deserialize)]
struct SnapshotImageV1 {
    revision: u64,
    collections: BTreeMap<String, Docs>,
    dedup: LegacyDedupTable,
}

/// Format 0 (unversioned, before the dedup table): there was no table to lose, so it loads
/// with an empty one.
#[derive(Deserialize)]
struct SnapshotImageV0 {
    revision: u64,
    collections: BTreeMap<String, Docs>,
}

/// Decodes all of `bytes` as a `T`: trailing bytes are an error.
fn decode_exact<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, String> {
    let (value, rest) = postcard::take_from_bytes::<T>(bytes).map_err(|e| e.to_string())?;
    if rest.is_empty() {
        Ok(value)
    } else {
        Err(format!("{} trailing bytes", rest.len()))
    }
}

/// The table as of one revision, sharing the collections with it; encoded for a snapshot
/// without holding the table's lock.
pub(crate) struct SnapshotView {
    pub(super) revision: u64,
    pub(super) collections: BTreeMap<String, Docs>,
    pub(super) dedup: DedupTable,
}

/// Serializes collections as a map without copying them.
pub(super) struct CollectionsRef<'a>(pub(super) &'a BTreeMap<String, Docs>);

impl Serialize for CollectionsRef<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter())
    }
}

impl SnapshotView {
    /// Encodes the view in the current format ([`SNAPSHOT_FORMAT_VERSION`], read by
    /// [`decode_image`]); refuses an image over [`MAX_SNAPSHOT_BYTES`] before allocating it.
    pub(crate) fn encode(&self) -> Result<Vec<u8>, SnapshotEncodeError> {
        #[derive(Serialize)]
        struct ImageRef<'a> {
            magic: [u8; 4],
            version: u32,
            revision: u64,
            collections: CollectionsRef<'a>,
            dedup: &'a DedupTable,
        }
        let image = ImageRef {
            magic: SNAPSHOT_MAGIC,
            version: SNAPSHOT_FORMAT_VERSION,
            revision: self.revision,
            collections: CollectionsRef(&self.collections),
            dedup: &self.dedup,
        };
        let bytes = postcard::experimental::serialized_size(&image)? as u64;
        if bytes > MAX_SNAPSHOT_BYTES {
            return Err(SnapshotEncodeError::TooLarge { bytes });
        }
        // Written into a buffer of the exact size: no regrowth and no copies of a large image.
        let len = usize::try_from(bytes).map_err(|_| SnapshotEncodeError::TooLarge { bytes })?;
        let mut out = vec![0u8; len];
        let used = postcard::to_slice(&image, &mut out)?.len();
        out.truncate(used);
        Ok(out)
    }
}

/// Decodes a snapshot image of any format this build reads ([`SnapshotFormat`]): its format,
/// revision, collections and dedup table.
#[allow(clippy::type_complexity)]
pub(super) fn decode_image(
    bytes: &[u8],
) -> Result<(SnapshotFormat, u64, BTreeMap<String, Docs>, DedupTable), SnapshotDecodeError> {
    if bytes.len() as u64 > MAX_SNAPSHOT_BYTES {
        return Err(SnapshotDecodeError::TooLarge {
            bytes: bytes.len() as u64,
        });
    }
    if let Some(body) = bytes.strip_prefix(&SNAPSHOT_MAGIC[..]) {
        let (version, body) =
            postcard::take_from_bytes::<u32>(body).map_err(|e| SnapshotDecodeError::Malformed {
                format: SnapshotFormat::V2,
                detail: format!("unreadable version: {e}"),
            })?;
        return match version {
            2 => {
                let image = decode_exact::<SnapshotImageV2>(body).map_err(|detail| {
                    SnapshotDecodeError::Malformed {
                        format: SnapshotFormat::V2,
                        detail,
                    }
                })?;
                Ok((
                    SnapshotFormat::V2,
                    image.revision,
                    image.collections,
                    image.dedup,
                ))
            }
            found => Err(SnapshotDecodeError::UnsupportedVersion { found }),
        };
    }
    let v1 = match decode_exact::<SnapshotImageV1>(bytes) {
        Ok(image) => {
            return Ok((
                SnapshotFormat::V1,
                image.revision,
                image.collections,
                DedupTable::from_legacy(image.dedup),
            ));
        }
        Err(e) => e,
    };
    match decode_exact::<SnapshotImageV0>(bytes) {
        Ok(image) => Ok((
            SnapshotFormat::V0,
            image.revision,
            image.collections,
            DedupTable::default(),
        )),
        Err(v0) => Err(SnapshotDecodeError::UnknownLegacy { v1, v0 }),
    }
}
