//! The snapshot image's format: its version header, its size limit and its decoding errors.
//!
//! An image is `MAGIC ‖ postcard(version: u32, revision, collections, dedup table)`. Images
//! written before the header existed are still read, each by its own explicit format, and a
//! legacy image must decode completely (no trailing bytes), so a damaged image of one format is
//! never taken for another one with a part silently dropped.

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
