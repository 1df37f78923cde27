//! Times as the Engine API writes them: RFC 3339 in UTC with up to nine fractional digits,
//! trailing zeros dropped (Go's `time.RFC3339Nano`), and durations as nanoseconds.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `2026-12-06T15:28:40.443720732Z`. Times before 1970 are written as the epoch.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = since.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let mut out = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    );
    let nanos = since.subsec_nanos();
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// Howard Hinnant's days-to-civil: the Gregorian date `days` after 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A duration as the API's nanosecond count (saturating at `i64::MAX`).
pub(crate) fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// A nanosecond count as a duration (negative counts are zero).
pub(crate) fn duration(nanos: i64) -> Duration {
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_go_rfc3339_nano() {
        let t = UNIX_EPOCH + Duration::new(1_796_570_920, 443_720_732);
        assert_eq!(rfc3339(t), "2026-12-06T15:28:40.443720732Z");
        let t = UNIX_EPOCH + Duration::new(1_796_570_921, 49_423_150);
        assert_eq!(rfc3339(t), "2026-12-06T15:28:41.04942315Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn nanos_round_trip() {
        assert_eq!(nanos(Duration::from_secs(5)), 5_000_000_000);
        assert_eq!(duration(1_000_000_000), Duration::from_secs(1));
        assert_eq!(duration(-3), Duration::ZERO);
    }
}
