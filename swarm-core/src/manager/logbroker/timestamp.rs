//! RFC 3339 timestamps in UTC with nanoseconds, as `docker logs --timestamps` prints them.

use std::time::SystemTime;

/// `time` as `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` (UTC). Times before 1970 print as the epoch.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use swarm_core::manager::logbroker::rfc3339_nanos;
///
/// let t = SystemTime::UNIX_EPOCH + Duration::new(1_700_000_000, 42);
/// assert_eq!(rfc3339_nanos(t), "2023-11-14T22:13:20.000000042Z");
/// ```
pub fn rfc3339_nanos(time: SystemTime) -> String {
    let since = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        since.subsec_nanos()
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn leap_days_and_year_ends_are_dated_right() {
        let at = |secs: u64| rfc3339_nanos(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00.000000000Z");
        assert_eq!(at(1_709_251_199), "2024-02-29T23:59:59.000000000Z");
        assert_eq!(at(1_735_689_599), "2024-12-31T23:59:59.000000000Z");
    }
}
