//! Rules for names and labels.

use crate::validate::error::{Report, Rule};
use std::collections::BTreeMap;

/// Longest DNS label: 63 characters (RFC 1035), the limit of service and network names.
pub const MAX_DNS_LABEL_CHARS: usize = 63;
/// Longest DNS name: 253 characters.
pub const MAX_DNS_NAME_CHARS: usize = 253;
/// Longest secret or config name: 64 characters, as SwarmKit.
pub const MAX_OBJECT_NAME_CHARS: usize = 64;

/// Docker's rule for service and network names: `^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$`, i.e.
/// letters, digits, `-` and `_`, starting and ending with a letter or digit (length not checked).
///
/// ```
/// use swarm_core::validate::is_dns_label;
///
/// assert!(is_dns_label("nerd-dinner_web2"));
/// assert!(!is_dns_label("-web"));
/// assert!(!is_dns_label("web.app"));
/// ```
pub fn is_dns_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        }
        _ => false,
    }
}

/// A host name: dot-separated [`is_dns_label`] labels of at most 63 characters, at most 253 in
/// all.
pub fn is_dns_name(name: &str) -> bool {
    name.len() <= MAX_DNS_NAME_CHARS
        && name
            .split('.')
            .all(|label| label.len() <= MAX_DNS_LABEL_CHARS && is_dns_label(label))
}

/// SwarmKit's rule for secret and config names: `^[a-zA-Z0-9]+(?:[a-zA-Z0-9-_.]*[a-zA-Z0-9])?$`
/// (length not checked).
pub fn is_object_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// A required service or network name.
pub(crate) fn check_dns_label_name(r: &mut Report, field: &str, name: &str) {
    if name.is_empty() {
        r.push(field, Rule::Empty);
        return;
    }
    let length = name.chars().count();
    if length > MAX_DNS_LABEL_CHARS {
        r.push(
            field,
            Rule::TooLong {
                length,
                maximum: MAX_DNS_LABEL_CHARS,
            },
        );
    }
    if !is_dns_label(name) {
        r.push(
            field,
            Rule::NotDnsLabel {
                value: name.to_owned(),
            },
        );
    }
}

/// A required secret or config name.
pub(crate) fn check_object_name(r: &mut Report, field: &str, name: &str) {
    if name.is_empty() {
        r.push(field, Rule::Empty);
        return;
    }
    let length = name.chars().count();
    if length > MAX_OBJECT_NAME_CHARS {
        r.push(
            field,
            Rule::TooLong {
                length,
                maximum: MAX_OBJECT_NAME_CHARS,
            },
        );
    }
    if !is_object_name(name) {
        r.push(
            field,
            Rule::InvalidObjectName {
                value: name.to_owned(),
            },
        );
    }
}

/// An optional host name or alias.
pub(crate) fn check_dns_name(r: &mut Report, field: &str, name: &str) {
    if name.is_empty() {
        r.push(field, Rule::Empty);
    } else if !is_dns_name(name) {
        r.push(
            field,
            Rule::NotDnsName {
                value: name.to_owned(),
            },
        );
    }
}

/// Label keys must not be empty.
pub(crate) fn check_labels(r: &mut Report, field: &str, labels: &BTreeMap<String, String>) {
    if labels.contains_key("") {
        r.push(field, Rule::EmptyLabelKey);
    }
}
