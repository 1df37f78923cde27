//! The building blocks of docker's compose override rules.

use std::collections::BTreeMap;

/// A value a later file sets replaces the earlier one.
pub(crate) fn over<T>(base: &mut Option<T>, later: Option<T>) {
    if later.is_some() {
        *base = later;
    }
}

/// Maps merge by key, later values winning.
pub(crate) fn extend_map<V>(base: &mut BTreeMap<String, V>, later: BTreeMap<String, V>) {
    base.extend(later);
}

/// A section both files set merges field by field (`merge`); one only the later file sets is
/// taken whole.
pub(crate) fn merge_optional<T>(
    base: &mut Option<T>,
    later: Option<T>,
    merge: impl FnOnce(&mut T, T),
) {
    match (base.as_mut(), later) {
        (Some(b), Some(l)) => merge(b, l),
        (None, Some(l)) => *base = Some(l),
        (_, None) => {}
    }
}

/// Lists docker appends (constraints, `dns`, `extra_hosts`, …) are the earlier items then the
/// later ones; a command replaces the earlier one only when it is not empty.
pub(crate) fn over_non_empty<T>(base: &mut Option<Vec<T>>, later: Option<Vec<T>>) {
    if later.as_ref().is_some_and(|l| !l.is_empty()) {
        *base = later;
    }
}
