//! Go's `time.ParseDuration`, the syntax of every compose duration (`10s`, `1m30s`, `1.5h`).

use std::time::Duration;

/// Nanoseconds per unit, longest suffix first so `ms` is not read as `m`.
const UNITS: [(&str, u128); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),
    ("\u{3bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Reads a Go duration: an optional `+`, then one or more `<decimal><unit>` (units `ns`, `us`,
/// `µs`, `ms`, `s`, `m`, `h`), or a bare `0`. Negative durations are refused (no compose
/// duration may be negative). The error says what is wrong.
pub(crate) fn parse_go_duration(text: &str) -> Result<Duration, &'static str> {
    let rest = text.strip_prefix('+').unwrap_or(text);
    if rest.starts_with('-') {
        return Err("must not be negative");
    }
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err("empty duration");
    }
    let mut total_ns: u128 = 0;
    let mut s = rest;
    while !s.is_empty() {
        let number_len = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let (number, after) = s.split_at(number_len);
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err("expected a number");
        }
        let (unit, unit_ns) = UNITS
            .iter()
            .filter(|(u, _)| after.starts_with(u))
            .max_by_key(|(u, _)| u.len())
            .ok_or("missing or unknown unit (use ns, us, ms, s, m or h)")?;
        let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| "number too large")?
        };
        let mut part_ns = whole.checked_mul(*unit_ns).ok_or("duration too large")?;
        // The fraction, digit by digit, truncated below a nanosecond as Go does.
        let mut scale = *unit_ns;
        for digit in frac.bytes() {
            scale /= 10;
            part_ns += u128::from(digit - b'0') * scale;
        }
        total_ns = total_ns.checked_add(part_ns).ok_or("duration too large")?;
        s = &after[unit.len()..];
    }
    let secs = u64::try_from(total_ns / 1_000_000_000).map_err(|_| "duration too large")?;
    let nanos = u32::try_from(total_ns % 1_000_000_000).map_err(|_| "duration too large")?;
    Ok(Duration::new(secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_go_durations() {
        let ms = |n| Duration::from_millis(n);
        assert_eq!(parse_go_duration("10s"), Ok(ms(10_000)));
        assert_eq!(parse_go_duration("1m30s"), Ok(ms(90_000)));
        assert_eq!(parse_go_duration("1.5h"), Ok(ms(5_400_000)));
        assert_eq!(parse_go_duration("250ms"), Ok(ms(250)));
        assert_eq!(parse_go_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_go_duration("1us"), Ok(Duration::from_nanos(1_000)));
        assert_eq!(parse_go_duration(".5s"), Ok(ms(500)));
        assert!(parse_go_duration("10").is_err());
        assert!(parse_go_duration("-1s").is_err());
        assert!(parse_go_duration("1x").is_err());
        assert!(parse_go_duration("").is_err());
        assert!(parse_go_duration("1..2s").is_err());
    }
}
