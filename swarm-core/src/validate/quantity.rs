//! Quantities shown in validation messages, each in the unit people read it in.

use crate::model::NANO_CPUS_PER_CPU;
use std::fmt;
use std::time::Duration;

const KIB: i64 = 1024;
const MIB: i64 = 1024 * KIB;
const GIB: i64 = 1024 * MIB;

/// A value in a validation message.
///
/// ```
/// use std::time::Duration;
/// use swarm_core::validate::Quantity;
///
/// assert_eq!(Quantity::Bytes(4 * 1024 * 1024).to_string(), "4 MiB");
/// assert_eq!(Quantity::Bytes(1536).to_string(), "1536 bytes");
/// assert_eq!(Quantity::NanoCpus(5_000_000).to_string(), "0.005 CPU");
/// assert_eq!(Quantity::Duration(Duration::from_micros(500)).to_string(), "500µs");
/// assert_eq!(Quantity::Duration(Duration::from_secs(5400)).to_string(), "1h30m");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Quantity {
    /// Bytes, shown in the largest binary unit that divides them exactly.
    Bytes(i64),
    /// CPU in nano-CPUs, shown in CPUs.
    NanoCpus(i64),
    /// A duration.
    Duration(Duration),
    /// A count.
    Count(u64),
    /// A signed integer.
    Integer(i64),
    /// A port number.
    Port(u32),
    /// A plain number (ratios).
    Number(f64),
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Quantity::Bytes(n) => fmt_bytes(f, n),
            Quantity::NanoCpus(n) => fmt_cpus(f, n),
            Quantity::Duration(d) => fmt_duration(f, d),
            Quantity::Count(n) => write!(f, "{n}"),
            Quantity::Integer(n) => write!(f, "{n}"),
            Quantity::Port(n) => write!(f, "{n}"),
            Quantity::Number(x) => write!(f, "{x}"),
        }
    }
}

fn fmt_bytes(f: &mut fmt::Formatter<'_>, n: i64) -> fmt::Result {
    for (unit, name) in [(GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")] {
        if n != 0 && n % unit == 0 {
            return write!(f, "{} {name}", n / unit);
        }
    }
    if n == 1 {
        f.write_str("1 byte")
    } else {
        write!(f, "{n} bytes")
    }
}

/// Whole durations of a minute or more as `365d`, `1h30m`, `2m5s`; others as `1.5s`, `500µs`.
fn fmt_duration(f: &mut fmt::Formatter<'_>, d: Duration) -> fmt::Result {
    const MINUTE: u64 = 60;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    let secs = d.as_secs();
    if d.subsec_nanos() != 0 || secs < MINUTE {
        return write!(f, "{d:?}");
    }
    let mut rest = secs;
    for (unit, name) in [(DAY, "d"), (HOUR, "h"), (MINUTE, "m"), (1, "s")] {
        if rest >= unit {
            write!(f, "{}{name}", rest / unit)?;
            rest %= unit;
        }
    }
    Ok(())
}

fn fmt_cpus(f: &mut fmt::Formatter<'_>, n: i64) -> fmt::Result {
    let sign = if n < 0 { "-" } else { "" };
    let abs = n.unsigned_abs();
    let per = NANO_CPUS_PER_CPU.unsigned_abs();
    let whole = abs / per;
    let frac = abs % per;
    if frac == 0 {
        return write!(f, "{sign}{whole} CPU");
    }
    let digits = format!("{frac:09}");
    write!(f, "{sign}{whole}.{} CPU", digits.trim_end_matches('0'))
}
