//! Typed identifiers for every object in the cluster.
//!
//! Identifiers are opaque strings (SwarmKit uses 25 base-36 characters); the newtypes keep a
//! node id from being passed where a task id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// Wraps an existing identifier string.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The identifier as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        // Derived `Eq`, `Ord` and `Hash` are the inner string's, so maps keyed by the id can
        // be searched with a `&str`.
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }
    };
}

id_type!(
    /// Identifies a node (manager or worker).
    NodeId
);
id_type!(
    /// Identifies a service.
    ServiceId
);
id_type!(
    /// Identifies a task (one scheduled instance of a service).
    TaskId
);
id_type!(
    /// Identifies a secret.
    SecretId
);
id_type!(
    /// Identifies a config.
    ConfigId
);
id_type!(
    /// Identifies a network.
    NetworkId
);
id_type!(
    /// Identifies the cluster.
    ClusterId
);
