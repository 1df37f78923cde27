//! Identifiers for nodes, tasks and services: shared strings (`Arc<str>`), so cloning one
//! is a reference-count increment. Equality, order and hash are the string's, so maps keyed
//! by an ID can be queried with a `&str`.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

#[derive(Clone)]
struct Repr(Arc<str>);

impl Repr {
    fn new(s: &str) -> Self {
        Repr(Arc::from(s))
    }

    #[inline]
    fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    #[inline]
    fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(Repr);

        impl $name {
            /// Creates the identifier from any string.
            pub fn new(id: impl AsRef<str>) -> Self {
                Self(Repr::new(id.as_ref()))
            }

            /// The identifier as a string slice.
            #[inline]
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
        }

        impl PartialEq for $name {
            #[inline]
            fn eq(&self, other: &Self) -> bool {
                self.0.bytes() == other.0.bytes()
            }
        }

        impl Eq for $name {}

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $name {
            fn cmp(&self, other: &Self) -> Ordering {
                self.0.bytes().cmp(other.0.bytes())
            }
        }

        impl Hash for $name {
            #[inline]
            fn hash<H: Hasher>(&self, state: &mut H) {
                self.as_str().hash(state)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", self.as_str())
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self::new(s)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self::new(s)
            }
        }

        impl From<&String> for $name {
            fn from(s: &String) -> Self {
                Self::new(s)
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                self.as_str()
            }
        }
    };
}

id_type!(
    /// Identifier of a node (SwarmKit's node ID).
    NodeId
);
id_type!(
    /// Identifier of a task.
    TaskId
);
id_type!(
    /// Identifier of a service; tasks of one service are counted together for spreading.
    ServiceId
);

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn ids_behave_as_strings() {
        let short = TaskId::new("task00001.00002");
        let long = TaskId::new("x".repeat(40));
        assert_eq!(short.as_str(), "task00001.00002");
        assert_eq!(long.as_str().len(), 40);
        let mut m: HashMap<TaskId, u32> = HashMap::new();
        m.insert(short.clone(), 1);
        m.insert(long.clone(), 2);
        assert_eq!(m.get("task00001.00002"), Some(&1));
        assert_eq!(m.get(long.as_str()), Some(&2));
        assert!(TaskId::new("a") < TaskId::new("b"));
        assert!(TaskId::new("ab") > TaskId::new("a"));
        assert_eq!(TaskId::new("é✓").as_str(), "é✓");
        assert_eq!(
            format!("{short} {short:?}"),
            "task00001.00002 \"task00001.00002\""
        );
    }
}

#[cfg(feature = "serde")]
mod serde_impls {
    use super::{NodeId, ServiceId, TaskId};

    macro_rules! as_string {
        ($name:ident) => {
            impl serde::Serialize for $name {
                fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    s.serialize_str(self.as_str())
                }
            }

            impl<'de> serde::Deserialize<'de> for $name {
                fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                    Ok(Self::new(s))
                }
            }
        };
    }

    as_string!(NodeId);
    as_string!(TaskId);
    as_string!(ServiceId);
}
