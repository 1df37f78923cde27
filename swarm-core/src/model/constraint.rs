//! Placement constraints: `key==value` / `key!=value` expressions over node attributes.
//!
//! The syntax and the rules for keys and values are SwarmKit's; unlike SwarmKit, a key that
//! names no node attribute is an error here instead of a constraint that silently never matches.

use crate::validate::cidr::Cidr;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The node attribute a constraint (or a spread preference) looks at.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintKey {
    /// `node.id`.
    NodeId,
    /// `node.hostname`.
    NodeHostname,
    /// `node.role`: `manager` or `worker`.
    NodeRole,
    /// `node.ip`: the node's address, or a CIDR it falls in.
    NodeIp,
    /// `node.platform.os`.
    PlatformOs,
    /// `node.platform.arch`.
    PlatformArch,
    /// `node.labels.<name>`: an operator label of the node.
    NodeLabel(String),
    /// `engine.labels.<name>`: a label of the node's engine.
    EngineLabel(String),
}

/// The prefix of keys naming an operator label of a node.
pub const NODE_LABEL_PREFIX: &str = "node.labels.";
/// The prefix of keys naming a label of a node's engine.
pub const ENGINE_LABEL_PREFIX: &str = "engine.labels.";

impl ConstraintKey {
    /// Reads an attribute name. The fixed names and the label prefixes are matched without
    /// regard to case, label names keep theirs. `None` if it names no attribute.
    pub fn parse(key: &str) -> Option<ConstraintKey> {
        let lower = key.to_ascii_lowercase();
        let fixed = match lower.as_str() {
            "node.id" => Some(ConstraintKey::NodeId),
            "node.hostname" => Some(ConstraintKey::NodeHostname),
            "node.role" => Some(ConstraintKey::NodeRole),
            "node.ip" => Some(ConstraintKey::NodeIp),
            "node.platform.os" => Some(ConstraintKey::PlatformOs),
            "node.platform.arch" => Some(ConstraintKey::PlatformArch),
            _ => None,
        };
        if fixed.is_some() {
            return fixed;
        }
        if lower.starts_with(NODE_LABEL_PREFIX) && key.len() > NODE_LABEL_PREFIX.len() {
            return Some(ConstraintKey::NodeLabel(
                key[NODE_LABEL_PREFIX.len()..].to_owned(),
            ));
        }
        if lower.starts_with(ENGINE_LABEL_PREFIX) && key.len() > ENGINE_LABEL_PREFIX.len() {
            return Some(ConstraintKey::EngineLabel(
                key[ENGINE_LABEL_PREFIX.len()..].to_owned(),
            ));
        }
        None
    }
}

impl fmt::Display for ConstraintKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConstraintKey::NodeId => f.write_str("node.id"),
            ConstraintKey::NodeHostname => f.write_str("node.hostname"),
            ConstraintKey::NodeRole => f.write_str("node.role"),
            ConstraintKey::NodeIp => f.write_str("node.ip"),
            ConstraintKey::PlatformOs => f.write_str("node.platform.os"),
            ConstraintKey::PlatformArch => f.write_str("node.platform.arch"),
            ConstraintKey::NodeLabel(l) => write!(f, "{NODE_LABEL_PREFIX}{l}"),
            ConstraintKey::EngineLabel(l) => write!(f, "{ENGINE_LABEL_PREFIX}{l}"),
        }
    }
}

/// Equality or inequality.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintOp {
    /// `==`: the attribute equals the value (ignoring case).
    Eq,
    /// `!=`: the attribute differs from the value (ignoring case).
    NotEq,
}

impl ConstraintOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            ConstraintOp::Eq => "==",
            ConstraintOp::NotEq => "!=",
        }
    }
}

/// A parsed placement constraint.
///
/// ```
/// use swarm_core::model::{Constraint, ConstraintKey, ConstraintOp};
///
/// let c = Constraint::parse("node.labels.zone == eu-1").unwrap();
/// assert_eq!(c.key, ConstraintKey::NodeLabel("zone".into()));
/// assert_eq!(c.op, ConstraintOp::Eq);
/// assert_eq!(c.value, "eu-1");
/// assert_eq!(
///     Constraint::parse("node.role=manager").unwrap_err().to_string(),
///     r#""node.role=manager" must be of the form key==value or key!=value"#,
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Constraint {
    /// The attribute compared.
    pub key: ConstraintKey,
    /// `==` or `!=`.
    pub op: ConstraintOp,
    /// The value compared with (surrounding spaces removed).
    pub value: String,
}

/// Why a constraint expression is invalid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConstraintError {
    /// No `==` or `!=` in the expression.
    #[error("{expr:?} must be of the form key==value or key!=value")]
    MissingOperator {
        /// The expression.
        expr: String,
    },
    /// The key has characters SwarmKit does not allow (`[A-Za-z_][A-Za-z0-9._-]+`).
    #[error("{expr:?} has an invalid key {key:?}")]
    InvalidKey {
        /// The expression.
        expr: String,
        /// The key.
        key: String,
    },
    /// The key names no node attribute.
    #[error(
        "{expr:?} has an unknown key {key:?} (use node.id, node.hostname, node.role, node.ip, node.platform.os, node.platform.arch, node.labels.<name> or engine.labels.<name>)"
    )]
    UnknownKey {
        /// The expression.
        expr: String,
        /// The key.
        key: String,
    },
    /// The value is empty or has characters SwarmKit does not allow.
    #[error("{expr:?} has an invalid value {value:?}")]
    InvalidValue {
        /// The expression.
        expr: String,
        /// The value.
        value: String,
    },
    /// `node.ip` compared with something that is neither an IP address nor a CIDR subnet.
    #[error(
        "{expr:?} compares node.ip with {value:?}, which is neither an IP address nor a CIDR subnet"
    )]
    InvalidIp {
        /// The expression.
        expr: String,
        /// The value.
        value: String,
    },
    /// `node.role` compared with something else than `manager` or `worker`.
    #[error("{expr:?} compares node.role with {value:?}, which is neither manager nor worker")]
    InvalidRole {
        /// The expression.
        expr: String,
        /// The value.
        value: String,
    },
}

impl ConstraintError {
    /// Always `false`: the expression must be fixed.
    pub fn is_retryable(&self) -> bool {
        false
    }
}

impl Constraint {
    /// Parses `key==value` or `key!=value`; spaces around key and value are ignored.
    pub fn parse(expr: &str) -> Result<Constraint, ConstraintError> {
        // SwarmKit looks for `==` first, then `!=`.
        let (op, (raw_key, raw_value)) = if let Some(parts) = expr.split_once("==") {
            (ConstraintOp::Eq, parts)
        } else if let Some(parts) = expr.split_once("!=") {
            (ConstraintOp::NotEq, parts)
        } else {
            return Err(ConstraintError::MissingOperator {
                expr: expr.to_owned(),
            });
        };
        let key = raw_key.trim();
        if !is_valid_key(key) {
            return Err(ConstraintError::InvalidKey {
                expr: expr.to_owned(),
                key: key.to_owned(),
            });
        }
        let value = raw_value.trim();
        if !is_valid_value(value) {
            return Err(ConstraintError::InvalidValue {
                expr: expr.to_owned(),
                value: value.to_owned(),
            });
        }
        let Some(parsed_key) = ConstraintKey::parse(key) else {
            return Err(ConstraintError::UnknownKey {
                expr: expr.to_owned(),
                key: key.to_owned(),
            });
        };
        if parsed_key == ConstraintKey::NodeRole
            && !value.eq_ignore_ascii_case("manager")
            && !value.eq_ignore_ascii_case("worker")
        {
            return Err(ConstraintError::InvalidRole {
                expr: expr.to_owned(),
                value: value.to_owned(),
            });
        }
        if parsed_key == ConstraintKey::NodeIp
            && value.parse::<std::net::IpAddr>().is_err()
            && Cidr::parse(value).is_none()
        {
            return Err(ConstraintError::InvalidIp {
                expr: expr.to_owned(),
                value: value.to_owned(),
            });
        }
        Ok(Constraint {
            key: parsed_key,
            op,
            value: value.to_owned(),
        })
    }
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.key, self.op.as_str(), self.value)
    }
}

/// SwarmKit's key rule: `^(?i)[a-z_][a-z0-9\-_.]+$`.
fn is_valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_')
        && key.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// SwarmKit's value rule: `^(?i)[a-z0-9:\-_\s\.\*\(\)\?\+\[\]\\\^\$\|\/]+$` (no operators like
/// `<`, `>`, `~`, `=` or `!`).
fn is_valid_value(value: &str) -> bool {
    !value.is_empty()
        && value.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || c.is_ascii_whitespace()
                || matches!(
                    c,
                    ':' | '-'
                        | '_'
                        | '.'
                        | '*'
                        | '('
                        | ')'
                        | '?'
                        | '+'
                        | '['
                        | ']'
                        | '\\'
                        | '^'
                        | '$'
                        | '|'
                        | '/'
                )
        })
}
