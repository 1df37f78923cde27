//! The checks that refuse input past a bound of `limits.rs`, each with
//! [`SchedError::LimitExceeded`] naming the node or task and the field.

use crate::error::SchedError;
use crate::limits::{
    MAX_GENERIC_COUNT, MAX_GENERIC_PER_NODE, MAX_LABELS_PER_NODE, MAX_MEMORY_BYTES, MAX_NANO_CPUS,
    MAX_RESERVED_PER_NODE, MAX_STATIC_PORTS_PER_NODE,
};
use crate::node::{GenericResource, NodeSpec};

/// Checks a count (`value` items of a list, or entries of a table) against `max`.
pub(crate) fn count(field: impl Into<String>, value: usize, max: usize) -> Result<(), SchedError> {
    if value > max {
        Err(SchedError::LimitExceeded {
            field: field.into(),
            value: value as u64,
            limit: max as u64,
        })
    } else {
        Ok(())
    }
}

/// Checks `value` against `limit` and converts it; `field` is only built on error.
pub(crate) fn amount(
    value: u64,
    limit: u64,
    field: impl FnOnce() -> String,
) -> Result<i64, SchedError> {
    if value > limit {
        return Err(SchedError::LimitExceeded {
            field: field(),
            value,
            limit,
        });
    }
    // Cannot fail: every amount limit is below i64::MAX.
    Ok(i64::try_from(value).unwrap_or(i64::MAX))
}

/// Checks that a node's reservation of one resource, `reserved + add`, stays within
/// [`MAX_RESERVED_PER_NODE`], and returns the new total.
pub(crate) fn reserve(
    reserved: i64,
    add: i64,
    field: impl FnOnce() -> String,
) -> Result<i64, SchedError> {
    match reserved.checked_add(add) {
        Some(total) if total <= MAX_RESERVED_PER_NODE => Ok(total),
        _ => Err(SchedError::LimitExceeded {
            field: field(),
            value: u64::try_from(reserved.saturating_add(add)).unwrap_or(u64::MAX),
            limit: MAX_RESERVED_PER_NODE as u64,
        }),
    }
}

/// An amount as the engine's `i64` accounting holds it (saturating; amounts that passed
/// their check are far below `i64::MAX`).
pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Checks a node spec's lists and amounts (`NodeAdded`, `NodeUpdated`).
pub(crate) fn node_spec(spec: &NodeSpec) -> Result<(), SchedError> {
    let n = &spec.id;
    count(
        format!("node {n}: labels"),
        spec.labels.len() + spec.engine_labels.len(),
        MAX_LABELS_PER_NODE,
    )?;
    count(
        format!("node {n}: generic resources"),
        spec.resources.generic.len(),
        MAX_GENERIC_PER_NODE,
    )?;
    count(
        format!("node {n}: host ports in use"),
        spec.host_ports_in_use.len(),
        MAX_STATIC_PORTS_PER_NODE,
    )?;
    let r = &spec.resources;
    amount(r.nano_cpus, MAX_NANO_CPUS, || {
        format!("node {n}: nano_cpus")
    })?;
    amount(r.memory_bytes, MAX_MEMORY_BYTES, || {
        format!("node {n}: memory_bytes")
    })?;
    for g in &r.generic {
        if let GenericResource::Discrete { kind, count } = g {
            amount(*count, MAX_GENERIC_COUNT, || {
                format!("node {n}: generic resource {kind:?} count")
            })?;
        }
    }
    Ok(())
}
