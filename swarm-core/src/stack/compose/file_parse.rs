//! What reading one compose file needs and collects besides its sections.

use crate::stack::compose::origin::Origin;
use crate::stack::error::StackError;
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};

/// The reader of files that compose files name (`env_file`, `secrets.x.file`).
pub(crate) type ReadFile<'a> = &'a dyn Fn(&Path) -> io::Result<Vec<u8>>;

/// Warnings and lists gathered while reading files, kept in the project.
#[derive(Debug, Default)]
pub(crate) struct Notes {
    /// Docker's load-time warnings (`network.external.name is deprecated…`, ignored port IPs).
    pub(crate) warnings: Vec<String>,
    /// Service options docker ignores with a warning.
    pub(crate) ignored: BTreeSet<String>,
    /// Deprecated service options docker ignores with a warning.
    pub(crate) deprecated: BTreeSet<String>,
    /// Uses of options the model cannot express yet.
    pub(crate) not_supported: BTreeSet<Origin>,
}

/// One file being read: its name, the project directory, the caller's environment and file
/// reader, and the notes gathered so far.
pub(crate) struct FileParse<'a> {
    /// The compose file, as given.
    pub(crate) file: &'a str,
    /// Its normalized version (`3.7`; `3.13` when absent, as docker).
    pub(crate) version: String,
    /// The directory relative paths are read from (the first file's, as docker).
    pub(crate) working_dir: &'a Path,
    /// The caller's environment.
    pub(crate) env: &'a BTreeMap<String, String>,
    /// The caller's file reader.
    pub(crate) read_file: ReadFile<'a>,
    /// Notes gathered.
    pub(crate) notes: Notes,
}

/// Whether `p` is absolute on Unix or Windows (`/x`, `C:\x`, `C:/x`, `\\server\x`).
pub(crate) fn is_absolute_anywhere(p: &str) -> bool {
    let b = p.as_bytes();
    p.starts_with('/')
        || p.starts_with("\\\\")
        || (b.len() >= 3
            && b[0].is_ascii_alphabetic()
            && b[1] == b':'
            && (b[2] == b'\\' || b[2] == b'/'))
}

/// `path` with `.` components dropped and `..` applied lexically, as Go's `filepath.Clean`
/// (so `./secrets/db.txt` in the project directory `""` is `secrets/db.txt`).
pub(crate) fn clean_path(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

impl FileParse<'_> {
    /// `path` as docker reads it: `~` is `$HOME` from the caller's environment, an absolute path
    /// stays, anything else is relative to the project directory.
    pub(crate) fn resolve(&self, path: &str) -> PathBuf {
        let expanded = match (path.strip_prefix('~'), self.env.get("HOME")) {
            (Some(rest), Some(home)) => format!("{home}{rest}"),
            _ => path.to_owned(),
        };
        if is_absolute_anywhere(&expanded) && !expanded.starts_with('/') {
            // A Windows path read on any host: kept as written.
            PathBuf::from(expanded)
        } else {
            clean_path(&self.working_dir.join(expanded))
        }
    }

    /// Reads the file `path` names (resolved), at most `limit_bytes` long; errors name `field`.
    pub(crate) fn read(
        &self,
        field: &str,
        path: &str,
        limit_bytes: usize,
    ) -> Result<Vec<u8>, StackError> {
        let resolved = self.resolve(path);
        let bytes = (self.read_file)(&resolved).map_err(|source| StackError::Read {
            file: self.file.to_owned(),
            field: field.to_owned(),
            path: resolved.clone(),
            source,
        })?;
        if bytes.len() > limit_bytes {
            return Err(StackError::TooLarge {
                file: self.file.to_owned(),
                field: field.to_owned(),
                size_bytes: bytes.len(),
                limit_bytes,
            });
        }
        Ok(bytes)
    }

    /// Records a use of an option the model cannot express.
    pub(crate) fn not_supported(&mut self, field: &str) {
        self.notes
            .not_supported
            .insert(Origin::new(self.file, field));
    }

    /// Whether this file's version is at least `3.minor`.
    pub(crate) fn version_at_least(&self, minor: u32) -> bool {
        self.version
            .strip_prefix("3.")
            .and_then(|m| m.parse::<u32>().ok())
            .is_some_and(|m| m >= minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_paths_as_go() {
        let clean = |p: &str| clean_path(Path::new(p));
        assert_eq!(clean("./secrets/db.txt"), PathBuf::from("secrets/db.txt"));
        assert_eq!(clean("/srv/app/../x/./y"), PathBuf::from("/srv/x/y"));
        assert_eq!(clean("../up"), PathBuf::from("../up"));
        assert_eq!(clean("/.."), PathBuf::from("/"));
        assert_eq!(clean("."), PathBuf::from("."));
    }
}
