//! Memory sizes (`512M`, docker's `RAMInBytes`) and CPU counts (`"0.5"`, docker's `ParseCPUs`).

use crate::model::NANO_CPUS_PER_CPU;

/// Reads a memory size as docker's `units.RAMInBytes`: a decimal number, an optional space, an
/// optional `k`/`m`/`g`/`t`/`p` (any case, powers of 1024), an optional `i` and `b`. `"512M"`,
/// `"1.5GiB"`, `"100"` (bytes).
pub(crate) fn parse_ram_bytes(text: &str) -> Result<i64, String> {
    let bad = || format!("invalid size: {text:?}");
    let number_len = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(number_len);
    let valid_number = !number.is_empty()
        && !number.starts_with('.')
        && !number.ends_with('.')
        && number.matches('.').count() <= 1;
    if !valid_number {
        return Err(bad());
    }
    let suffix = suffix
        .strip_prefix(' ')
        .unwrap_or(suffix)
        .to_ascii_lowercase();
    let mut rest = suffix.as_str();
    let mut multiplier: f64 = 1.0;
    if let Some(c) = rest.chars().next() {
        let power = match c {
            'k' => Some(1),
            'm' => Some(2),
            'g' => Some(3),
            't' => Some(4),
            'p' => Some(5),
            _ => None,
        };
        if let Some(p) = power {
            multiplier = 1024f64.powi(p);
            rest = &rest[1..];
        }
    }
    rest = rest.strip_prefix('i').unwrap_or(rest);
    rest = rest.strip_prefix('b').unwrap_or(rest);
    if !rest.is_empty() {
        return Err(bad());
    }
    let value: f64 = number.parse().map_err(|_| bad())?;
    let bytes = value * multiplier;
    if !bytes.is_finite() || bytes >= i64::MAX as f64 {
        return Err(format!("size too large: {text:?}"));
    }
    // Truncation toward zero, as Go's int64(size).
    Ok(bytes as i64)
}

/// Reads a CPU count as docker's `opts.ParseCPUs`: a non-negative decimal number of CPUs,
/// returned in nano-CPUs; more than 9 decimal places is "too precise".
pub(crate) fn parse_nano_cpus(text: &str) -> Result<i64, String> {
    let bad = || format!("failed to parse {text:?} as a rational number");
    let t = text.trim();
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) {
        return Err(bad());
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > 9 {
        return Err(format!("{text:?}: value is too precise"));
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let mut frac_nanos: i64 = 0;
    let mut scale = NANO_CPUS_PER_CPU;
    for d in frac.bytes() {
        scale /= 10;
        frac_nanos += i64::from(d - b'0') * scale;
    }
    whole
        .checked_mul(NANO_CPUS_PER_CPU)
        .and_then(|n| n.checked_add(frac_nanos))
        .ok_or_else(|| format!("{text:?}: too many CPUs"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sizes_as_docker() {
        assert_eq!(parse_ram_bytes("512M"), Ok(512 * 1024 * 1024));
        assert_eq!(parse_ram_bytes("512m"), Ok(512 * 1024 * 1024));
        assert_eq!(parse_ram_bytes("1.5GiB"), Ok(1536 * 1024 * 1024));
        assert_eq!(parse_ram_bytes("20 kb"), Ok(20 * 1024));
        assert_eq!(parse_ram_bytes("100"), Ok(100));
        assert!(parse_ram_bytes("12X").is_err());
        assert!(parse_ram_bytes("M").is_err());
        assert!(parse_ram_bytes("-1M").is_err());
    }

    #[test]
    fn reads_cpus_as_docker() {
        assert_eq!(parse_nano_cpus("0.5"), Ok(500_000_000));
        assert_eq!(parse_nano_cpus("2"), Ok(2_000_000_000));
        assert_eq!(parse_nano_cpus("0.001"), Ok(1_000_000));
        assert_eq!(parse_nano_cpus(".25"), Ok(250_000_000));
        assert!(
            parse_nano_cpus("0.0000000001")
                .unwrap_err()
                .contains("too precise")
        );
        assert!(parse_nano_cpus("half").is_err());
        assert!(parse_nano_cpus("-1").is_err());
    }
}
