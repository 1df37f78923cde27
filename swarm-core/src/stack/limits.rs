//! Bounds on what reading compose files may take.

/// At most this many compose files are merged in one `load` (docker has no limit; a stack is
/// usually 1 to 3).
pub const MAX_COMPOSE_FILES: usize = 64;

/// A compose file may be at most 4 MiB: the YAML parser holds the whole document, and alias
/// expansion is bounded by serde_norway to 100 times the document's events.
pub const MAX_COMPOSE_FILE_BYTES: usize = 4 * 1024 * 1024;

/// An `env_file` may be at most 1 MiB.
pub const MAX_ENV_FILE_BYTES: usize = 1024 * 1024;
