//! Swarm's placement-constraint language: `key==value` / `key!=value`, several ANDed.
//!
//! Keys: `node.id`, `node.hostname`, `node.role`, `node.ip` (address or CIDR),
//! `node.platform.os`, `node.platform.arch`, `node.labels.<k>`, `engine.labels.<k>`.
//! Key prefixes are case-insensitive, label names are exact, values compare
//! case-insensitively, and a missing label equals the empty string (so
//! `node.labels.ssd!=true` holds on a node without an `ssd` label).

use crate::limits::MAX_CONSTRAINT_LEN;
use crate::node::normalize_arch;
use std::fmt;
use std::net::IpAddr;

/// What a constraint looks at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ConstraintKey {
    /// `node.id`
    NodeId,
    /// `node.hostname`
    Hostname,
    /// `node.role` (`manager` or `worker`)
    Role,
    /// `node.ip`
    Ip,
    /// `node.platform.os`
    PlatformOs,
    /// `node.platform.arch` (normalised: `x86_64` = `amd64`)
    PlatformArch,
    /// `node.labels.<name>`
    NodeLabel(String),
    /// `engine.labels.<name>`
    EngineLabel(String),
}

impl fmt::Display for ConstraintKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConstraintKey::NodeId => f.write_str("node.id"),
            ConstraintKey::Hostname => f.write_str("node.hostname"),
            ConstraintKey::Role => f.write_str("node.role"),
            ConstraintKey::Ip => f.write_str("node.ip"),
            ConstraintKey::PlatformOs => f.write_str("node.platform.os"),
            ConstraintKey::PlatformArch => f.write_str("node.platform.arch"),
            ConstraintKey::NodeLabel(k) => write!(f, "node.labels.{k}"),
            ConstraintKey::EngineLabel(k) => write!(f, "engine.labels.{k}"),
        }
    }
}

/// Comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl Operator {
    /// `==` or `!=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Eq => "==",
            Operator::Ne => "!=",
        }
    }
}

/// An address or a CIDR block that `node.ip` is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpMatch {
    /// Network address.
    pub addr: IpAddr,
    /// Prefix length (32/128 for a single address). A value wider than the address is treated as
    /// the full width (32 for IPv4, 128 for IPv6); the parser never produces one.
    pub prefix_len: u8,
}

impl IpMatch {
    /// Whether `ip` lies in this block. IPv4-mapped IPv6 addresses match IPv4 blocks.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                prefix_eq(&net.octets(), &a.octets(), self.prefix_len)
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                prefix_eq(&net.octets(), &a.octets(), self.prefix_len)
            }
            _ => false,
        }
    }
}

/// Compares the first `prefix_len` bits of `a` and `b`. A `prefix_len` wider than the address
/// (possible through [`IpMatch`]'s public fields) is clamped to the address width, so it means
/// "the whole address" instead of reading past the octets.
fn prefix_eq(a: &[u8], b: &[u8], prefix_len: u8) -> bool {
    let width_bits = a.len().min(b.len()).saturating_mul(8);
    let prefix_len = usize::from(prefix_len).min(width_bits);
    let full = prefix_len / 8;
    let rem = prefix_len % 8;
    if a[..full] != b[..full] {
        return false;
    }
    if rem == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rem);
    (a[full] & mask) == (b[full] & mask)
}

/// Why a constraint did not parse.
///
/// New kinds may be added in minor releases (the language may grow): match with a wildcard
/// arm.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConstraintErrorKind {
    /// Longer than [`MAX_CONSTRAINT_LEN`].
    TooLong,
    /// Neither `==` nor `!=` found.
    MissingOperator,
    /// A single `=` where `==` was meant.
    SingleEquals,
    /// Nothing before the operator.
    EmptyKey,
    /// Nothing after the operator.
    EmptyValue,
    /// A character not allowed in a key.
    InvalidKeyChar(char),
    /// A character not allowed in a value.
    InvalidValueChar(char),
    /// A key that is not one of the known ones.
    UnknownKey(String),
    /// `node.labels.` or `engine.labels.` without a label name.
    EmptyLabelName,
    /// A second operator after the first.
    SecondOperator,
    /// `node.ip` value that is neither an address nor a CIDR block.
    InvalidIp(String),
}

impl fmt::Display for ConstraintErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong => write!(f, "longer than {MAX_CONSTRAINT_LEN} bytes"),
            Self::MissingOperator => f.write_str("expected operator \"==\" or \"!=\""),
            Self::SingleEquals => f.write_str("expected operator \"==\" or \"!=\", found \"=\""),
            Self::EmptyKey => f.write_str("empty key before the operator"),
            Self::EmptyValue => f.write_str("empty value after the operator"),
            Self::InvalidKeyChar(c) => write!(f, "character {c:?} is not allowed in a key"),
            Self::InvalidValueChar(c) => write!(f, "character {c:?} is not allowed in a value"),
            Self::UnknownKey(k) => write!(
                f,
                "unknown key {k:?} (expected node.id, node.hostname, node.role, node.ip, node.platform.os, node.platform.arch, node.labels.<name> or engine.labels.<name>)"
            ),
            Self::EmptyLabelName => f.write_str("label name missing after \"labels.\""),
            Self::SecondOperator => {
                f.write_str("a second operator; combine constraints as separate list items")
            }
            Self::InvalidIp(v) => write!(f, "{v:?} is neither an IP address nor a CIDR block"),
        }
    }
}

/// A constraint that did not parse: which one, where (0-based byte offset) and why.
///
/// ```
/// let err = swarm_sched::Constraint::parse("node.labels.zone=eu").unwrap_err();
/// assert_eq!(err.position, 16);
/// assert_eq!(
///     err.to_string(),
///     "invalid constraint \"node.labels.zone=eu\" at position 16: expected operator \"==\" or \"!=\", found \"=\""
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid constraint {constraint:?} at position {position}: {kind}")]
pub struct ConstraintError {
    /// The constraint as written.
    pub constraint: String,
    /// 0-based byte offset of the problem.
    pub position: usize,
    /// What is wrong.
    pub kind: ConstraintErrorKind,
}

/// One parsed constraint.
///
/// ```
/// use swarm_sched::{Constraint, ConstraintKey, Operator};
/// let c = Constraint::parse(" node.labels.zone == EU ").unwrap();
/// assert_eq!(c.key, ConstraintKey::NodeLabel("zone".into()));
/// assert_eq!(c.op, Operator::Eq);
/// assert_eq!(c.to_string(), "node.labels.zone==EU");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Constraint {
    /// What is compared.
    pub key: ConstraintKey,
    /// How.
    pub op: Operator,
    /// The value as written (trimmed).
    pub value: String,
    /// For `node.ip`: the parsed address or block.
    pub ip: Option<IpMatch>,
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.key, self.op.as_str(), self.value)
    }
}

fn key_char_ok(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')
}

fn value_char_ok(c: char) -> bool {
    c.is_alphanumeric()
        || c == ' '
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
                | '@'
                | ','
        )
}

impl Constraint {
    /// Parses one constraint.
    pub fn parse(text: &str) -> Result<Self, ConstraintError> {
        let err = |position: usize, kind| ConstraintError {
            constraint: text.to_owned(),
            position,
            kind,
        };
        if text.len() > MAX_CONSTRAINT_LEN {
            return Err(err(MAX_CONSTRAINT_LEN, ConstraintErrorKind::TooLong));
        }
        let eq = text.find("==");
        let ne = text.find("!=");
        let (op_pos, op) = match (eq, ne) {
            (Some(a), Some(b)) if a < b => (a, Operator::Eq),
            (Some(a), None) => (a, Operator::Eq),
            (_, Some(b)) => (b, Operator::Ne),
            (None, None) => {
                return Err(match text.find('=') {
                    Some(p) => err(p, ConstraintErrorKind::SingleEquals),
                    None => err(text.len(), ConstraintErrorKind::MissingOperator),
                });
            }
        };
        let raw_key = &text[..op_pos];
        let key_start = raw_key.len() - raw_key.trim_start().len();
        let key = raw_key.trim();
        if key.is_empty() {
            return Err(err(key_start.min(op_pos), ConstraintErrorKind::EmptyKey));
        }
        if let Some((i, c)) = key.char_indices().find(|&(_, c)| !key_char_ok(c)) {
            return Err(err(key_start + i, ConstraintErrorKind::InvalidKeyChar(c)));
        }
        let value_area_start = op_pos + 2;
        let raw_value = &text[value_area_start..];
        let value_start = value_area_start + (raw_value.len() - raw_value.trim_start().len());
        let value = raw_value.trim();
        if value.is_empty() {
            return Err(err(value_area_start, ConstraintErrorKind::EmptyValue));
        }
        for pat in ["==", "!="] {
            if let Some(p) = value.find(pat) {
                return Err(err(value_start + p, ConstraintErrorKind::SecondOperator));
            }
        }
        if let Some((i, c)) = value.char_indices().find(|&(_, c)| !value_char_ok(c)) {
            return Err(err(
                value_start + i,
                ConstraintErrorKind::InvalidValueChar(c),
            ));
        }
        let lower = key.to_ascii_lowercase();
        let parsed_key = match lower.as_str() {
            "node.id" => ConstraintKey::NodeId,
            "node.hostname" => ConstraintKey::Hostname,
            "node.role" => ConstraintKey::Role,
            "node.ip" => ConstraintKey::Ip,
            "node.platform.os" => ConstraintKey::PlatformOs,
            "node.platform.arch" => ConstraintKey::PlatformArch,
            _ => {
                if let Some(label) = label_name(key, "node.labels.") {
                    if label.is_empty() {
                        return Err(err(
                            key_start + key.len(),
                            ConstraintErrorKind::EmptyLabelName,
                        ));
                    }
                    ConstraintKey::NodeLabel(label.to_owned())
                } else if let Some(label) = label_name(key, "engine.labels.") {
                    if label.is_empty() {
                        return Err(err(
                            key_start + key.len(),
                            ConstraintErrorKind::EmptyLabelName,
                        ));
                    }
                    ConstraintKey::EngineLabel(label.to_owned())
                } else {
                    return Err(err(
                        key_start,
                        ConstraintErrorKind::UnknownKey(key.to_owned()),
                    ));
                }
            }
        };
        let ip = if parsed_key == ConstraintKey::Ip {
            Some(parse_ip_match(value).ok_or_else(|| {
                err(
                    value_start,
                    ConstraintErrorKind::InvalidIp(value.to_owned()),
                )
            })?)
        } else {
            None
        };
        Ok(Self {
            key: parsed_key,
            op,
            value: value.to_owned(),
            ip,
        })
    }

    /// Parses a list of constraints (all must hold). Stops at the first error.
    ///
    /// ```
    /// let cs = swarm_sched::Constraint::parse_all(["node.role==worker", "node.labels.ssd==true"]).unwrap();
    /// assert_eq!(cs.len(), 2);
    /// ```
    pub fn parse_all<I, S>(texts: I) -> Result<Vec<Self>, ConstraintError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        texts.into_iter().map(|t| Self::parse(t.as_ref())).collect()
    }

    /// The value in the form nodes are compared with: lower case, architectures normalised.
    pub(crate) fn normalized_value(&self) -> String {
        match self.key {
            ConstraintKey::PlatformArch => normalize_arch(&self.value),
            _ => self.value.to_lowercase(),
        }
    }
}

fn label_name<'a>(key: &'a str, prefix: &str) -> Option<&'a str> {
    if key.len() >= prefix.len()
        && key.is_char_boundary(prefix.len())
        && key[..prefix.len()].eq_ignore_ascii_case(prefix)
    {
        Some(&key[prefix.len()..])
    } else {
        None
    }
}

fn parse_ip_match(value: &str) -> Option<IpMatch> {
    match value.split_once('/') {
        None => {
            let addr: IpAddr = value.parse().ok()?;
            let prefix_len = if addr.is_ipv4() { 32 } else { 128 };
            Some(IpMatch { addr, prefix_len })
        }
        Some((a, p)) => {
            let addr: IpAddr = a.parse().ok()?;
            let prefix_len: u8 = p.parse().ok()?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            (prefix_len <= max).then_some(IpMatch { addr, prefix_len })
        }
    }
}

/// Key a spread preference groups nodes by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PreferenceKey {
    /// `node.labels.<name>`
    NodeLabel(String),
    /// `engine.labels.<name>`
    EngineLabel(String),
}

/// A placement preference: spread tasks evenly over the values of a label
/// (nodes without the label form one group of their own).
///
/// ```
/// let p = swarm_sched::SpreadPreference::parse("spread=node.labels.zone").unwrap();
/// assert_eq!(p.to_string(), "node.labels.zone");
/// assert!(swarm_sched::SpreadPreference::parse("node.hostname").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SpreadPreference {
    /// The label.
    pub key: PreferenceKey,
}

impl fmt::Display for SpreadPreference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            PreferenceKey::NodeLabel(k) => write!(f, "node.labels.{k}"),
            PreferenceKey::EngineLabel(k) => write!(f, "engine.labels.{k}"),
        }
    }
}

/// A spread preference that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid placement preference {preference:?}: expected spread=node.labels.<name> or spread=engine.labels.<name>"
)]
pub struct PreferenceError {
    /// The preference as written.
    pub preference: String,
}

impl SpreadPreference {
    /// Parses `node.labels.X`, `engine.labels.X`, optionally prefixed by `spread=`.
    pub fn parse(text: &str) -> Result<Self, PreferenceError> {
        let err = || PreferenceError {
            preference: text.to_owned(),
        };
        let t = text.trim();
        let t = label_name(t, "spread=").unwrap_or(t).trim();
        let key = if let Some(l) = label_name(t, "node.labels.") {
            PreferenceKey::NodeLabel(l.to_owned())
        } else if let Some(l) = label_name(t, "engine.labels.") {
            PreferenceKey::EngineLabel(l.to_owned())
        } else {
            return Err(err());
        };
        match &key {
            PreferenceKey::NodeLabel(l) | PreferenceKey::EngineLabel(l)
                if l.is_empty() || !l.chars().all(key_char_ok) =>
            {
                Err(err())
            }
            _ => Ok(Self { key }),
        }
    }

    /// A spread over `node.labels.<name>`.
    pub fn node_label(name: impl Into<String>) -> Self {
        Self {
            key: PreferenceKey::NodeLabel(name.into()),
        }
    }
}

/// Constraints and preferences travel as the text users write (`node.labels.zone==eu`),
/// parsed again (and so validated) when read.
#[cfg(feature = "serde")]
mod serde_impls {
    use super::{Constraint, SpreadPreference};

    impl serde::Serialize for Constraint {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_str(self)
        }
    }

    impl<'de> serde::Deserialize<'de> for Constraint {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
            Constraint::parse(&s).map_err(serde::de::Error::custom)
        }
    }

    impl serde::Serialize for SpreadPreference {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_str(self)
        }
    }

    impl<'de> serde::Deserialize<'de> for SpreadPreference {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
            SpreadPreference::parse(&s).map_err(serde::de::Error::custom)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(s: &str) -> String {
        Constraint::parse(s).unwrap_err().to_string()
    }

    #[test]
    fn parses_every_key() {
        let cases = [
            ("node.id==abc", ConstraintKey::NodeId),
            ("node.hostname!=h1", ConstraintKey::Hostname),
            ("NODE.ROLE==manager", ConstraintKey::Role),
            ("node.ip==10.0.0.0/8", ConstraintKey::Ip),
            ("node.platform.os==linux", ConstraintKey::PlatformOs),
            ("node.platform.arch==x86_64", ConstraintKey::PlatformArch),
            (
                "node.labels.Zone==eu",
                ConstraintKey::NodeLabel("Zone".into()),
            ),
            (
                "engine.labels.storage==ssd",
                ConstraintKey::EngineLabel("storage".into()),
            ),
        ];
        for (text, key) in cases {
            assert_eq!(Constraint::parse(text).unwrap().key, key, "{text}");
        }
        assert_eq!(
            Constraint::parse("node.platform.arch==x86_64")
                .unwrap()
                .normalized_value(),
            "amd64"
        );
        let ip = Constraint::parse("node.ip!=192.168.1.7").unwrap();
        assert_eq!(ip.op, Operator::Ne);
        assert_eq!(ip.ip.unwrap().prefix_len, 32);
    }

    #[test]
    fn exact_error_messages() {
        assert_eq!(
            e("node.labels.zone=eu"),
            "invalid constraint \"node.labels.zone=eu\" at position 16: expected operator \"==\" or \"!=\", found \"=\""
        );
        assert_eq!(
            e("node.labels.zone"),
            "invalid constraint \"node.labels.zone\" at position 16: expected operator \"==\" or \"!=\""
        );
        assert_eq!(
            e("  ==x"),
            "invalid constraint \"  ==x\" at position 2: empty key before the operator"
        );
        assert_eq!(
            e("node.role== "),
            "invalid constraint \"node.role== \" at position 11: empty value after the operator"
        );
        assert_eq!(
            e("node.lab#els.x==1"),
            "invalid constraint \"node.lab#els.x==1\" at position 8: character '#' is not allowed in a key"
        );
        assert_eq!(
            e("node.role==a;b"),
            "invalid constraint \"node.role==a;b\" at position 12: character ';' is not allowed in a value"
        );
        assert_eq!(
            e("node.name==x"),
            "invalid constraint \"node.name==x\" at position 0: unknown key \"node.name\" (expected node.id, node.hostname, node.role, node.ip, node.platform.os, node.platform.arch, node.labels.<name> or engine.labels.<name>)"
        );
        assert_eq!(
            e("node.labels.==x"),
            "invalid constraint \"node.labels.==x\" at position 12: label name missing after \"labels.\""
        );
        assert_eq!(
            e("node.role==worker==x"),
            "invalid constraint \"node.role==worker==x\" at position 17: a second operator; combine constraints as separate list items"
        );
        assert_eq!(
            e("node.ip==10.0.0.0/33"),
            "invalid constraint \"node.ip==10.0.0.0/33\" at position 9: \"10.0.0.0/33\" is neither an IP address nor a CIDR block"
        );
        let long = format!("node.labels.a=={}", "x".repeat(MAX_CONSTRAINT_LEN));
        assert_eq!(
            Constraint::parse(&long).unwrap_err().kind,
            ConstraintErrorKind::TooLong
        );
    }

    #[test]
    fn cidr_matching() {
        let m = parse_ip_match("10.1.0.0/16").unwrap();
        assert!(m.contains("10.1.200.3".parse().unwrap()));
        assert!(!m.contains("10.2.0.1".parse().unwrap()));
        assert!(m.contains("::ffff:10.1.0.9".parse().unwrap()));
        let m6 = parse_ip_match("fd00::/8").unwrap();
        assert!(m6.contains("fd12::1".parse().unwrap()));
        assert!(!m6.contains("fe80::1".parse().unwrap()));
        let one = parse_ip_match("192.168.0.5").unwrap();
        assert!(one.contains("192.168.0.5".parse().unwrap()));
        assert!(!one.contains("192.168.0.6".parse().unwrap()));
        assert!(
            parse_ip_match("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
    }

    #[test]
    fn preferences() {
        assert_eq!(
            SpreadPreference::parse("node.labels.zone").unwrap(),
            SpreadPreference::node_label("zone")
        );
        assert_eq!(
            SpreadPreference::parse("spread=engine.labels.rack")
                .unwrap()
                .key,
            PreferenceKey::EngineLabel("rack".into())
        );
        assert!(SpreadPreference::parse("node.labels.").is_err());
        assert_eq!(
            SpreadPreference::parse("zone").unwrap_err().to_string(),
            "invalid placement preference \"zone\": expected spread=node.labels.<name> or spread=engine.labels.<name>"
        );
    }

    #[test]
    fn ip_match_with_oversized_prefix_is_clamped_not_a_panic() {
        let v4 = IpMatch {
            addr: "10.1.2.3".parse().unwrap(),
            prefix_len: 40,
        };
        assert!(v4.contains("10.1.2.3".parse().unwrap()));
        assert!(!v4.contains("10.1.2.4".parse().unwrap()));
        assert!(v4.contains("::ffff:10.1.2.3".parse().unwrap()));
        let v4_max = IpMatch {
            prefix_len: u8::MAX,
            ..v4
        };
        assert!(v4_max.contains("10.1.2.3".parse().unwrap()));
        assert!(!v4_max.contains("10.1.2.2".parse().unwrap()));
        let v6 = IpMatch {
            addr: "fd00::1".parse().unwrap(),
            prefix_len: 200,
        };
        assert!(v6.contains("fd00::1".parse().unwrap()));
        assert!(!v6.contains("fd00::2".parse().unwrap()));
        let v6_max = IpMatch {
            prefix_len: u8::MAX,
            ..v6
        };
        assert!(v6_max.contains("fd00::1".parse().unwrap()));
        assert!(!v6_max.contains("10.1.2.3".parse().unwrap()));
    }
}
