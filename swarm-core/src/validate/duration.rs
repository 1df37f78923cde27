//! The upper bound every duration of a spec obeys.

use crate::validate::error::{Report, Rule};
use crate::validate::quantity::Quantity;
use std::time::Duration;

/// Longest duration a spec may hold (delays, windows, monitors, grace periods, health check
/// timings): 365 days. Far beyond any useful setting, and far enough below the clock's range that
/// adding it to a timestamp can never overflow.
pub const MAX_SPEC_DURATION: Duration = Duration::from_secs(365 * 24 * 60 * 60);

pub(crate) fn check_duration(r: &mut Report, field: &str, d: Duration) {
    if d > MAX_SPEC_DURATION {
        r.push(
            field,
            Rule::AboveMaximum {
                value: Quantity::Duration(d),
                maximum: Quantity::Duration(MAX_SPEC_DURATION),
            },
        );
    }
}
