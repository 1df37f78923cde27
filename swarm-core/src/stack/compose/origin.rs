//! Where in the compose files a value was written.

use std::fmt;

/// A compose file and a field path in it, e.g. `docker-compose.yml` and
/// `services.web.secrets[0]`; shown as `docker-compose.yml: services.web.secrets[0]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Origin {
    /// The compose file, as its path was given to [`load`](crate::stack::load).
    pub file: String,
    /// The dotted field path, lists indexed as in that file.
    pub field: String,
}

impl Origin {
    /// The origin `field` of `file`.
    pub fn new(file: impl Into<String>, field: impl Into<String>) -> Self {
        Origin {
            file: file.into(),
            field: field.into(),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.field)
    }
}
