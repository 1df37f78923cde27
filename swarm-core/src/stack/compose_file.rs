//! One compose file given to [`load`](crate::stack::load): its path and bytes.

use std::io;
use std::path::PathBuf;

/// A compose file: the path it is named by in messages (and, for the first file, whose
/// directory relative paths are read from) and its contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComposeFile {
    /// The file's path, as the caller names it.
    pub path: PathBuf,
    /// Its bytes (YAML).
    pub contents: Vec<u8>,
}

impl ComposeFile {
    /// A file with the given contents.
    pub fn new(path: impl Into<PathBuf>, contents: impl Into<Vec<u8>>) -> Self {
        ComposeFile {
            path: path.into(),
            contents: contents.into(),
        }
    }

    /// Reads the file at `path` from disk.
    pub fn read(path: impl Into<PathBuf>) -> io::Result<Self> {
        let path = path.into();
        let contents = std::fs::read(&path)?;
        Ok(ComposeFile { path, contents })
    }
}
