//! Rules for update and rollback configs.

use crate::model::{FailureAction, UpdateConfig};
use crate::validate::duration::check_duration;
use crate::validate::error::{Report, Rule};
use crate::validate::quantity::Quantity;

pub(crate) fn check_update_config(r: &mut Report, path: &str, u: &UpdateConfig, is_rollback: bool) {
    check_duration(r, &format!("{path}.delay"), u.delay);
    check_duration(r, &format!("{path}.monitor"), u.monitor);
    // `contains` is false for NaN too.
    if !(0.0..=1.0).contains(&u.max_failure_ratio) {
        r.push(
            format!("{path}.max_failure_ratio"),
            Rule::OutOfRange {
                value: Quantity::Number(u.max_failure_ratio),
                minimum: Quantity::Number(0.0),
                maximum: Quantity::Number(1.0),
            },
        );
    }
    if is_rollback && u.failure_action == FailureAction::Rollback {
        r.push(
            format!("{path}.failure_action"),
            Rule::RollbackOnRollbackFailure,
        );
    }
}
