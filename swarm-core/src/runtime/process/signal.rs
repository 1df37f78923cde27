//! Parsing stop signals by name or number.

use crate::runtime::error::RuntimeError;
use nix::sys::signal::Signal;
use std::str::FromStr;

/// Parses a stop signal as Docker accepts it: a name with or without the `SIG` prefix, in any
/// case (`"SIGTERM"`, `"term"`), or a number (`"15"`).
///
/// ```
/// use nix::sys::signal::Signal;
/// use swarm_core::runtime::process::parse_signal;
///
/// assert_eq!(parse_signal("SIGINT").unwrap(), Signal::SIGINT);
/// assert_eq!(parse_signal("quit").unwrap(), Signal::SIGQUIT);
/// assert_eq!(parse_signal("9").unwrap(), Signal::SIGKILL);
/// assert!(parse_signal("SIGFOO").is_err());
/// ```
pub fn parse_signal(text: &str) -> Result<Signal, RuntimeError> {
    let field = "container.stop_signal";
    let t = text.trim();
    if t.is_empty() {
        return Err(RuntimeError::invalid_spec(field, "empty signal"));
    }
    if let Ok(n) = t.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| {
            RuntimeError::invalid_spec(field, format!("`{t}` is not a valid signal number"))
        });
    }
    let upper = t.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    Signal::from_str(&name)
        .map_err(|_| RuntimeError::invalid_spec(field, format!("unknown signal `{t}`")))
}

/// The name of signal number `n` (e.g. `"SIGTERM"`), or the number as text if unknown.
pub fn signal_name(n: i32) -> String {
    Signal::try_from(n).map_or_else(|_| format!("signal {n}"), |s| s.as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(parse_signal("SIGTERM").unwrap(), Signal::SIGTERM);
        assert_eq!(parse_signal("sigusr1").unwrap(), Signal::SIGUSR1);
        assert_eq!(parse_signal(" HUP ").unwrap(), Signal::SIGHUP);
        assert_eq!(parse_signal("2").unwrap(), Signal::SIGINT);
        for bad in ["", "0", "999", "-1", "SIG", "TERMINATE"] {
            let e = parse_signal(bad).unwrap_err();
            assert!(
                e.to_string().contains("container.stop_signal"),
                "{bad}: {e}"
            );
        }
        assert_eq!(signal_name(15), "SIGTERM");
        assert_eq!(signal_name(200), "signal 200");
    }
}
