//! What can go wrong reading compose files and turning them into a stack.

use std::path::PathBuf;

/// An error reading compose files or converting them; each names the file and the field.
///
/// The `Display` form is `<file>: <field>: <what is wrong>`, e.g.
/// `docker-compose.yml: services.web.ports[1]: invalid port "80:abc": invalid containerPort: abc`.
/// Every variant is fatal for the files given: fixing the files (or the environment) is the only
/// way forward, retrying the same input gives the same error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StackError {
    /// `load` was given no file.
    #[error("no compose file given")]
    NoFiles,
    /// More files than [`MAX_COMPOSE_FILES`](crate::stack::MAX_COMPOSE_FILES).
    #[error("{count} compose files given, at most {limit} are read")]
    TooManyFiles {
        /// Files given.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A compose, env or secret file is larger than its limit.
    #[error("{file}: {field}: {size_bytes} bytes, more than the {limit_bytes} bytes allowed")]
    TooLarge {
        /// The compose file.
        file: String,
        /// The field that names the large file (empty for the compose file itself).
        field: String,
        /// Its size.
        size_bytes: usize,
        /// The limit it broke.
        limit_bytes: usize,
    },
    /// The file is not YAML (the message carries the line and column).
    #[error("{file}: invalid YAML: {message}")]
    Yaml {
        /// The compose file.
        file: String,
        /// The parser's message.
        message: String,
    },
    /// The file's `version` is not one `docker stack deploy` reads (3 to 3.13).
    #[error("{file}: unsupported Compose file version: {version}")]
    UnsupportedVersion {
        /// The compose file.
        file: String,
        /// The version it declares.
        version: String,
    },
    /// Two files declare different versions (docker refuses to merge them).
    #[error("{file}: version mismatched between two composefiles : {first} and {second}")]
    VersionMismatch {
        /// The file whose version differs from the first file's.
        file: String,
        /// The first file's version.
        first: String,
        /// This file's version.
        second: String,
    },
    /// Service options docker refuses outright (`extends`, `volumes_from`, `mem_limit`, …), each
    /// with docker's explanation, sorted.
    #[error("{file}: compose file contains unsupported options:\n\n{}", .properties.join("\n\n"))]
    Forbidden {
        /// The compose file.
        file: String,
        /// `name: explanation` per option.
        properties: Vec<String>,
    },
    /// A field's value is wrong (type, syntax, reference to something undefined, …).
    #[error("{file}: {field}: {message}")]
    Invalid {
        /// The compose file (several, comma-separated, when the value comes from merged files).
        file: String,
        /// The field's path, e.g. `services.web.ports[1]`.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A file a field names (`env_file`, `secrets.x.file`) could not be read.
    #[error("{file}: {field}: cannot read {}: {source}", .path.display())]
    Read {
        /// The compose file.
        file: String,
        /// The field that names the file.
        field: String,
        /// The path that was read.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The stack name is empty (or only quotes and spaces), as docker refuses.
    #[error("invalid stack name: {0:?}")]
    InvalidStackName(String),
}
