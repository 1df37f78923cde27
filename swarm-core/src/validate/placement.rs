//! Rules for placement constraints, preferences and platforms.
//!
//! Constraints and spread preferences are read by swarm-sched's parser, the one home of the
//! constraint language; this module adds the rules of the cluster schema on top (a role is
//! `manager` or `worker`).

use crate::model::ServiceMode;
use crate::model::{Placement, PlacementPreference};
use crate::validate::error::{Report, Rule};
use swarm_sched::{Constraint, ConstraintKey, SpreadPreference};

pub(crate) fn check_placement(
    r: &mut Report,
    path: &str,
    p: &Placement,
    mode: Option<&ServiceMode>,
) {
    for (i, expr) in p.constraints.iter().enumerate() {
        let field = format!("{path}.constraints[{i}]");
        match Constraint::parse(expr) {
            Err(e) => r.push(field, e),
            Ok(c) if c.key == ConstraintKey::Role && !is_role_name(&c.value) => r.push(
                field,
                Rule::ConstraintRole {
                    expr: expr.clone(),
                    value: c.value,
                },
            ),
            Ok(_) => {}
        }
    }
    for (i, pref) in p.preferences.iter().enumerate() {
        match pref {
            PlacementPreference::Spread { spread_descriptor } => {
                let field = format!("{path}.preferences[{i}].spread.spread_descriptor");
                if spread_descriptor.is_empty() {
                    r.push(field, Rule::Empty);
                } else if SpreadPreference::parse(spread_descriptor).is_err() {
                    r.push(
                        field,
                        Rule::UnknownSpreadDescriptor {
                            value: spread_descriptor.clone(),
                        },
                    );
                }
            }
        }
    }
    if p.max_replicas > 0 {
        if let Some(mode) = mode.filter(|m| {
            !matches!(
                m,
                ServiceMode::Replicated { .. } | ServiceMode::ReplicatedJob { .. }
            )
        }) {
            r.push(
                format!("{path}.max_replicas"),
                Rule::MaxReplicasNotReplicated {
                    mode: mode.to_string(),
                },
            );
        }
    }
    for (i, platform) in p.platforms.iter().enumerate() {
        if platform.os.is_empty() {
            r.push(format!("{path}.platforms[{i}].os"), Rule::Empty);
        }
    }
}

/// Whether `value` names a node role, as constraints compare it (ignoring case).
fn is_role_name(value: &str) -> bool {
    value.eq_ignore_ascii_case("manager") || value.eq_ignore_ascii_case("worker")
}
