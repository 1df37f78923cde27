//! The invariants of a simulated run, one file each: a name, when it must hold, and a check
//! of an [`Observation`] that names what broke it.
//!
//! | invariant | holds |
//! | --- | --- |
//! | [`one_leader_per_term`] | always |
//! | [`acknowledged_writes_kept`] | once converged |
//! | [`replicas_exact`] | once converged |
//! | [`global_one_per_node`] | once converged |
//! | [`no_task_on_unavailable_node`] | once converged |
//! | [`secret_only_where_referenced`] | once converged |
//! | [`pending_has_reason`] | once converged |
//! | [`slot_runs_once`] | always |
//! | [`restart_limits_hold`] | always |
//! | [`update_status_ends`] | once converged |
//! | [`no_task_lost`] | once converged |
//! | [`jobs_complete_exactly`] | at most the total: always; exactly: once converged |

pub mod acknowledged_writes_kept;
#[cfg(test)]
pub(crate) mod fixture;
pub mod global_one_per_node;
pub mod jobs_complete_exactly;
pub mod no_task_lost;
pub mod no_task_on_unavailable_node;
pub mod one_leader_per_term;
pub mod pending_has_reason;
pub mod replicas_exact;
pub mod restart_limits_hold;
pub mod secret_only_where_referenced;
pub mod slot_runs_once;
pub mod update_status_ends;

use crate::sim::observe::Observation;

/// When an invariant must hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// At every observation, faults or not.
    Always,
    /// Once the faults stopped and the cluster converged (the liveness phase waits for every
    /// such invariant to hold at once, within the deadline).
    Converged,
}

/// One invariant.
#[derive(Clone, Copy, Debug)]
pub struct Invariant {
    /// Its name (its file's; the always-checked half of a file with two checks adds
    /// `_bound`).
    pub name: &'static str,
    /// When it must hold.
    pub when: When,
    /// The check: `Err` describes the violation.
    pub check: fn(&Observation) -> Result<(), String>,
}

/// Every invariant.
pub const ALL: &[Invariant] = &[
    Invariant {
        name: "one_leader_per_term",
        when: When::Always,
        check: one_leader_per_term::check,
    },
    Invariant {
        name: "acknowledged_writes_kept",
        when: When::Converged,
        check: acknowledged_writes_kept::check,
    },
    Invariant {
        name: "replicas_exact",
        when: When::Converged,
        check: replicas_exact::check,
    },
    Invariant {
        name: "global_one_per_node",
        when: When::Converged,
        check: global_one_per_node::check,
    },
    Invariant {
        name: "no_task_on_unavailable_node",
        when: When::Converged,
        check: no_task_on_unavailable_node::check,
    },
    Invariant {
        name: "secret_only_where_referenced",
        when: When::Converged,
        check: secret_only_where_referenced::check,
    },
    Invariant {
        name: "pending_has_reason",
        when: When::Converged,
        check: pending_has_reason::check,
    },
    Invariant {
        name: "slot_runs_once",
        when: When::Always,
        check: slot_runs_once::check,
    },
    Invariant {
        name: "restart_limits_hold",
        when: When::Always,
        check: restart_limits_hold::check,
    },
    Invariant {
        name: "update_status_ends",
        when: When::Converged,
        check: update_status_ends::check,
    },
    Invariant {
        name: "no_task_lost",
        when: When::Converged,
        check: no_task_lost::check,
    },
    Invariant {
        name: "jobs_complete_exactly_bound",
        when: When::Always,
        check: jobs_complete_exactly::check_bounded,
    },
    Invariant {
        name: "jobs_complete_exactly",
        when: When::Converged,
        check: jobs_complete_exactly::check,
    },
];

/// The leader's state, or the violation "no leader".
pub(crate) fn leader_state(
    obs: &Observation,
) -> Result<&crate::manager::cluster_state::ClusterState, String> {
    obs.state
        .as_ref()
        .ok_or_else(|| "no manager leads, so nothing converged".to_owned())
}

/// Whether the tasks of a service with `image` can run for good (a crashing image, or one
/// that turns unhealthy, never converges; its restart policy gives up).
pub(crate) fn image_can_run(image: &str) -> bool {
    image != crate::sim::cluster::IMAGE_CRASHES
        && image != crate::sim::cluster::IMAGE_TURNS_UNHEALTHY
}

/// A node's hostname (the simulation's node name), or its id before it described itself.
pub(crate) fn node_name(node: &crate::model::Node) -> &str {
    node.description
        .as_ref()
        .map_or(node.id.as_str(), |d| d.hostname.as_str())
}
