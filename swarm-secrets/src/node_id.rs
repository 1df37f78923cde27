//! Node and cluster identifiers and node roles as they appear in certificates.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Result, SecretsError};
use crate::limits::MAX_ID_BYTES;

/// Checks the canonical form of an id: a DNS label in lowercase.
///
/// Upper case is refused, not folded: TLS matches DNS names without regard to case, so
/// `Node-1` and `node-1` would name the same TLS peer while comparing unequal as ids (a
/// revocation of one would miss the other). With one spelling per id, every comparison in this
/// crate (revocation list, certificate identity, verifiers, sealed-delivery recipients) is an
/// exact byte comparison. SwarmKit's ids are lowercase base 36, so they all pass.
fn validate_label(field: &'static str, s: &str) -> Result<()> {
    if s.is_empty() || s.len() > MAX_ID_BYTES {
        return Err(SecretsError::invalid(
            field,
            format!("must be 1..={MAX_ID_BYTES} bytes, got {}", s.len()),
        ));
    }
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(SecretsError::invalid(
            field,
            format!(
                "{s:?} has upper case: ids are lowercase (TLS names ignore case, so only one spelling is accepted)"
            ),
        ));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(SecretsError::invalid(
            field,
            format!("{s:?} may hold only lowercase ASCII letters, digits and '-'"),
        ));
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err(SecretsError::invalid(
            field,
            format!("{s:?} may not start or end with '-'"),
        ));
    }
    Ok(())
}

macro_rules! label_id {
    ($(#[$doc:meta])* $name:ident, $field:literal, $reserved:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps an id: 1 to 63 lowercase ASCII letters, digits or '-', not
            /// starting or ending with '-' (a DNS label, so it can also be a certificate DNS
            /// name). Upper case is refused ([`SecretsError::InvalidInput`]), never folded: TLS
            /// names ignore case, so an id has exactly one accepted spelling and ids compare
            /// exactly everywhere. Deserializing goes through this check too.
            pub fn new(id: impl Into<String>) -> Result<Self> {
                let id = id.into();
                validate_label($field, &id)?;
                let reserved: &[&str] = $reserved;
                if reserved.contains(&id.as_str()) {
                    return Err(SecretsError::invalid(
                        $field,
                        format!("{id:?} is reserved (a role's name in certificates)"),
                    ));
                }
                Ok($name(id))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = SecretsError;
            fn try_from(s: String) -> Result<Self> {
                $name::new(s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = SecretsError;
            fn from_str(s: &str) -> Result<Self> {
                $name::new(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    };
}

label_id!(
    /// A node's id: the common name (CN) of its certificate.
    ///
    /// ```
    /// use swarm_secrets::NodeId;
    /// assert!(NodeId::new("node-1").is_ok());
    /// assert!(NodeId::new("bad id").is_err());
    /// assert!(NodeId::new("Node-1").is_err()); // one spelling only: TLS names ignore case
    /// assert!(NodeId::new("swarm-manager").is_err()); // a role's DNS name, reserved
    /// ```
    ///
    /// The role names `swarm-manager` and `swarm-worker` are refused: every certificate
    /// carries its node id and its role as DNS names, so a node id equal to a role name would
    /// answer for that role's server name.
    NodeId,
    "node id",
    &[Role::Manager.as_ou(), Role::Worker.as_ou()]
);

label_id!(
    /// A cluster's id: the organization (O) of every certificate the cluster CA issues.
    ClusterId,
    "cluster id",
    &[]
);

/// A node's role: the organizational unit (OU) of its certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    /// A manager: runs Raft, the control API, the CA and the dispatcher.
    Manager,
    /// A worker: runs tasks.
    Worker,
}

impl Role {
    /// The certificate organizational unit for this role (`swarm-manager` / `swarm-worker`),
    /// also used as a DNS name in the certificate so a client can ask for "any manager".
    pub fn as_ou(self) -> &'static str {
        match self {
            Role::Manager => "swarm-manager",
            Role::Worker => "swarm-worker",
        }
    }

    /// Parses an organizational unit back into a role.
    pub fn from_ou(ou: &str) -> Result<Role> {
        match ou {
            "swarm-manager" => Ok(Role::Manager),
            "swarm-worker" => Ok(Role::Worker),
            other => Err(SecretsError::Certificate(format!(
                "unknown role OU {other:?} (expected swarm-manager or swarm-worker)"
            ))),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_ou())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_validated_with_field_names() {
        assert!(NodeId::new("a").is_ok());
        assert!(NodeId::new("x".repeat(63)).is_ok());
        let e = NodeId::new("x".repeat(64)).unwrap_err().to_string();
        assert!(e.contains("node id"), "{e}");
        assert!(
            ClusterId::new("-a")
                .unwrap_err()
                .to_string()
                .contains("cluster id")
        );
        assert!(NodeId::new("a.b").is_err());
        assert!(NodeId::new("").is_err());
    }

    #[test]
    fn ids_are_lowercase_and_node_ids_are_not_role_names() {
        for bad in ["Node-1", "NODE", "a-B"] {
            let e = NodeId::new(bad).unwrap_err().to_string();
            assert!(e.contains("node id") && e.contains("lowercase"), "{e}");
        }
        assert!(ClusterId::new("Prod").is_err());
        for role in [Role::Manager, Role::Worker] {
            let e = NodeId::new(role.as_ou()).unwrap_err().to_string();
            assert!(e.contains("reserved"), "{e}");
            assert!(ClusterId::new(role.as_ou()).is_ok());
        }
        assert!(NodeId::new("swarm-managers").is_ok());
    }

    #[test]
    fn role_ou_round_trips() {
        for r in [Role::Manager, Role::Worker] {
            assert_eq!(Role::from_ou(r.as_ou()).unwrap(), r);
        }
        assert!(Role::from_ou("admin").is_err());
    }
}
