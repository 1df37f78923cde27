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
    alphanumeric_ends_with_inner(name, b"-_")
}

/// Non-empty, starts and ends with an ASCII letter or digit, and holds only letters, digits and
/// the bytes of `inner` in between.
fn alphanumeric_ends_with_inner(name: &str, inner: &[u8]) -> bool {
    let bytes = name.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || inner.contains(b))
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
    alphanumeric_ends_with_inner(name, b"-_.")
}

/// A required service or network name.
pub(crate) fn check_dns_label_name(r: &mut Report, field: &str, name: &str) {
    check_required_name(r, field, name, MAX_DNS_LABEL_CHARS, is_dns_label, |value| {
        Rule::NotDnsLabel { value }
    });
}

/// A required secret or config name.
pub(crate) fn check_object_name(r: &mut Report, field: &str, name: &str) {
    check_required_name(
        r,
        field,
        name,
        MAX_OBJECT_NAME_CHARS,
        is_object_name,
        |value| Rule::InvalidObjectName { value },
    );
}

/// A required name of at most `maximum` characters that `is_valid` accepts; `invalid` builds
/// the rule reported (with the name) when it does not.
fn check_required_name(
    r: &mut Report,
    field: &str,
    name: &str,
    maximum: usize,
    is_valid: fn(&str) -> bool,
    invalid: fn(String) -> Rule,
) {
    if name.is_empty() {
        r.push(field, Rule::Empty);
        return;
    }
    let length = name.chars().count();
    if length > maximum {
        r.push(field, Rule::TooLong { length, maximum });
    }
    if !is_valid(name) {
        r.push(field, invalid(name.to_owned()));
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
