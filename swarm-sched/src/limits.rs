//! Bounds on resource amounts that come from outside (node capacities, task reservations),
//! chosen so that the engine's accounting can never overflow `i64`.
//!
//! Every amount is checked against its limit where it enters the engine (`NodeAdded`,
//! `NodeUpdated`, `TaskPlaced`, and a [`TaskSpec`](crate::TaskSpec) given to `schedule`,
//! `explain` or `rebalance`); a larger one is refused with
//! [`SchedError::LimitExceeded`] naming the node or task and the field. On top of that, the
//! total a node has reserved for one resource is kept at most [`MAX_RESERVED_PER_NODE`], so
//! with capacities at most 2^50 a node's free amount stays in `[-2^62, 2^50]` and every
//! sum, difference and release of the accounting is exact.

use crate::error::SchedError;

/// Largest CPU amount, in nano-CPUs, of a node's capacity or a task's reservation:
/// 2^50 nano-CPUs, about 1.1 million CPUs.
pub const MAX_NANO_CPUS: u64 = 1 << 50;
/// Largest memory amount, in bytes, of a node's capacity or a task's reservation:
/// 2^50 bytes (1 PiB).
pub const MAX_MEMORY_BYTES: u64 = 1 << 50;
/// Largest count of one discrete generic resource entry (a node's advertised count or a
/// task's request): 2^40.
pub const MAX_GENERIC_COUNT: u64 = 1 << 40;
/// Largest total one node may have reserved of one resource (nano-CPUs, memory bytes or
/// units of one discrete generic kind) by the tasks the engine accounts on it: 2^62.
/// Recorded tasks may overcommit a node (its capacity can shrink under them), but not past
/// this bound; a `TaskPlaced` that would is refused.
pub const MAX_RESERVED_PER_NODE: i64 = 1 << 62;

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
    // Cannot fail: every limit of this module is below i64::MAX.
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
