//! Rules for placement constraints, preferences and platforms.

use crate::model::constraint::{Constraint, ConstraintKey};
use crate::model::placement::{Placement, PlacementPreference};
use crate::model::service_mode::ServiceMode;
use crate::validate::error::{Report, Rule};

pub(crate) fn check_placement(
    r: &mut Report,
    path: &str,
    p: &Placement,
    mode: Option<&ServiceMode>,
) {
    for (i, expr) in p.constraints.iter().enumerate() {
        if let Err(e) = Constraint::parse(expr) {
            r.push(format!("{path}.constraints[{i}]"), e);
        }
    }
    for (i, pref) in p.preferences.iter().enumerate() {
        match pref {
            PlacementPreference::Spread { spread_descriptor } => {
                let field = format!("{path}.preferences[{i}].spread.spread_descriptor");
                if spread_descriptor.is_empty() {
                    r.push(field, Rule::Empty);
                } else if ConstraintKey::parse(spread_descriptor).is_none() {
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
        if let Some(mode) = mode.filter(|m| !matches!(m, ServiceMode::Replicated { .. })) {
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
