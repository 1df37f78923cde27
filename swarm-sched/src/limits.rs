//! Every named bound of the engine, in one place. Constants only: this module depends on
//! nothing, and the checks that refuse input past a bound are in `checks.rs`.
//!
//! Two kinds of bound:
//!
//! * **Counts** (lists from outside, the engine's own tables): a node's labels, generic
//!   resources and host ports; a task spec's constraints, preferences, platforms, host ports
//!   and generic requests; nodes held, tasks accounted, tasks per group, moves per plan,
//!   failure records kept per node, and the length of one constraint.
//! * **Amounts** (node capacities, task reservations), chosen so that the engine's
//!   accounting can never overflow `i64`. Every amount is checked against its limit where it
//!   enters the engine (`NodeAdded`, `NodeUpdated`, `TaskPlaced`, and a
//!   [`TaskSpec`](crate::TaskSpec) given to `schedule`, `explain` or `rebalance`); a larger
//!   one is refused with [`SchedError::LimitExceeded`](crate::SchedError::LimitExceeded)
//!   naming the node or task and the field. On top of that, the total a node has reserved for
//!   one resource is kept at most [`MAX_RESERVED_PER_NODE`], so with capacities at most 2^50 a
//!   node's free amount stays in `[-2^62, 2^50]` and every sum, difference and release of the
//!   accounting is exact.

// --- Amounts -------------------------------------------------------------------------------

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

// --- Per node ------------------------------------------------------------------------------

/// Most labels (node plus engine) a node may carry.
pub const MAX_LABELS_PER_NODE: usize = 1024;
/// Most generic resource entries a node may advertise.
pub const MAX_GENERIC_PER_NODE: usize = 4096;
/// Most pre-bound host ports a node may report.
pub const MAX_STATIC_PORTS_PER_NODE: usize = 65_536;
/// Failure records kept per node (oldest dropped first).
pub const MAX_FAILURE_RECORDS_PER_NODE: usize = 256;

// --- Per task spec -------------------------------------------------------------------------

/// Longest constraint accepted, in bytes.
pub const MAX_CONSTRAINT_LEN: usize = 1024;
/// Most constraints one task spec may carry.
pub const MAX_CONSTRAINTS_PER_TASK: usize = 64;
/// Most spread preferences (tree levels) one task spec may carry.
pub const MAX_PREFERENCES: usize = 8;
/// Most platforms one task spec may list.
pub const MAX_PLATFORMS_PER_TASK: usize = 64;
/// Most host-mode published ports one task may bind.
pub const MAX_HOST_PORTS_PER_TASK: usize = 1024;
/// Most generic resource requests one task may carry.
pub const MAX_GENERIC_PER_TASK: usize = 64;

// --- Per engine and per call ---------------------------------------------------------------

/// Most nodes one engine holds.
pub const MAX_NODES: usize = 1 << 20;
/// Most tasks one engine accounts at a time (the task index's 24-bit record numbers).
pub const MAX_TASKS: usize = (1 << 24) - 3;
/// Most tasks one group may hold.
pub const MAX_TASKS_PER_GROUP: usize = 10_000_000;
/// Most moves one plan may propose.
pub const MAX_REBALANCE_MOVES: usize = 10_000;

// --- Internal tables -----------------------------------------------------------------------

/// Most preference trees the engine keeps between groups (one per distinct list of spread
/// preferences in use; the least recently used is dropped, and rebuilt when used again).
/// Each costs memory linear in the nodes and a little work on every delta.
pub(crate) const MAX_CACHED_TREES: usize = 8;
