//! Rules for the runtime part of a task template.

use crate::model::{ContainerSpec, FileTarget, HealthCheck, Mount, MountType};
use crate::validate::duration::check_duration;
use crate::validate::error::{Report, Rule};
use crate::validate::names::{check_labels, is_object_name};
use crate::validate::quantity::Quantity;
use std::time::Duration;

/// Shortest health check interval, timeout or start period when set: 1 ms, as SwarmKit.
pub const MIN_HEALTHCHECK_DURATION: Duration = Duration::from_millis(1);
/// Largest file mode of a secret or config file.
pub const MAX_FILE_MODE: u32 = 0o777;

/// Signal names a stop signal may use, without the `SIG` prefix (Linux).
const SIGNAL_NAMES: &[&str] = &[
    "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT", "KILL",
    "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM", "TRAP", "TSTP",
    "TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ",
];
/// Highest signal number (Linux, real-time signals included).
const MAX_SIGNAL_NUMBER: u32 = 64;
/// Real-time signals available above `SIGRTMIN` / below `SIGRTMAX`.
const REALTIME_SIGNAL_SPAN: u32 = 30;

pub(crate) fn check_container(r: &mut Report, path: &str, c: &ContainerSpec) {
    if c.image.is_empty() {
        r.push(format!("{path}.image"), Rule::Empty);
    }
    check_labels(r, &format!("{path}.labels"), &c.labels);
    for (i, entry) in c.env.iter().enumerate() {
        // A bare `KEY` (no `=`) unsets the variable, as Docker does: the CLI and compose
        // send one for a variable that is unset where they run.
        let key = entry.split_once('=').map_or(entry.as_str(), |(k, _)| k);
        if key.is_empty() {
            r.push(
                format!("{path}.env[{i}]"),
                Rule::EnvEmptyKey {
                    entry: entry.clone(),
                },
            );
        }
    }
    if let Some(workdir) = &c.workdir {
        check_absolute(r, &format!("{path}.workdir"), workdir);
    }
    if c.user.as_deref() == Some("") {
        r.push(format!("{path}.user"), Rule::Empty);
    }
    check_mounts(r, &format!("{path}.mounts"), &c.mounts);
    let secrets: Vec<(&str, &str, &FileTarget)> = c
        .secrets
        .iter()
        .map(|s| (s.secret_id.as_str(), s.secret_name.as_str(), &s.target))
        .collect();
    check_file_refs(r, &format!("{path}.secrets"), "secret", &secrets);
    let configs: Vec<(&str, &str, &FileTarget)> = c
        .configs
        .iter()
        .map(|s| (s.config_id.as_str(), s.config_name.as_str(), &s.target))
        .collect();
    check_file_refs(r, &format!("{path}.configs"), "config", &configs);
    if let Some(hc) = &c.healthcheck {
        check_healthcheck(r, &format!("{path}.healthcheck"), hc);
    }
    check_duration(r, &format!("{path}.stop_grace_period"), c.stop_grace_period);
    if let Some(signal) = &c.stop_signal {
        if !is_known_signal(signal) {
            r.push(
                format!("{path}.stop_signal"),
                Rule::UnknownSignal {
                    value: signal.clone(),
                },
            );
        }
    }
}

fn check_absolute(r: &mut Report, field: &str, value: &str) {
    if value.is_empty() {
        r.push(field, Rule::Empty);
    } else if !is_absolute_path(value) {
        r.push(
            field,
            Rule::NotAbsolutePath {
                value: value.to_owned(),
            },
        );
    }
}

/// A Unix absolute path (`/data`), or a Windows one (`C:\data`, `C:/data`, `\\server\share`):
/// a spec is platform-neutral, the node running the task decides which kind applies.
fn is_absolute_path(path: &str) -> bool {
    let b = path.as_bytes();
    let windows_drive =
        b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'\\' | b'/');
    path.starts_with('/') || windows_drive || path.starts_with("\\\\")
}

fn check_mounts(r: &mut Report, path: &str, mounts: &[Mount]) {
    for (i, m) in mounts.iter().enumerate() {
        let field = format!("{path}[{i}]");
        check_absolute(r, &format!("{field}.target"), &m.target);
        if let Some(first) = mounts[..i]
            .iter()
            .position(|e| !m.target.is_empty() && e.target == m.target)
        {
            r.push(
                format!("{field}.target"),
                Rule::DuplicateMount {
                    target: m.target.clone(),
                    first,
                },
            );
        }
        match m.kind {
            MountType::Bind => check_absolute(r, &format!("{field}.source"), &m.source),
            MountType::Volume => {}
            MountType::Tmpfs if !m.source.is_empty() => r.push(
                format!("{field}.source"),
                Rule::TmpfsWithSource {
                    value: m.source.clone(),
                },
            ),
            MountType::Tmpfs => {}
        }
    }
}

/// Secret or config references: `(id, name, target)`.
fn check_file_refs(
    r: &mut Report,
    path: &str,
    kind: &'static str,
    refs: &[(&str, &str, &FileTarget)],
) {
    for (i, (id, name, target)) in refs.iter().enumerate() {
        let field = format!("{path}[{i}]");
        if id.is_empty() {
            r.push(format!("{field}.{kind}_id"), Rule::Empty);
        }
        if name.is_empty() {
            r.push(format!("{field}.{kind}_name"), Rule::Empty);
        } else if !is_object_name(name) {
            r.push(
                format!("{field}.{kind}_name"),
                Rule::InvalidObjectName {
                    value: (*name).to_owned(),
                },
            );
        }
        let tfield = format!("{field}.target");
        if target.name.is_empty() {
            r.push(format!("{tfield}.name"), Rule::Empty);
        } else {
            if target.name.split(['/', '\\']).any(|part| part == "..") {
                r.push(
                    format!("{tfield}.name"),
                    Rule::PathEscapes {
                        value: target.name.clone(),
                    },
                );
            }
            if let Some((_, first_name, _)) =
                refs[..i].iter().find(|(_, _, t)| t.name == target.name)
            {
                r.push(
                    format!("{tfield}.name"),
                    Rule::DuplicateTarget {
                        kind,
                        first: (*first_name).to_owned(),
                        second: (*name).to_owned(),
                        target: target.name.clone(),
                    },
                );
            }
        }
        for (what, id) in [("uid", &target.uid), ("gid", &target.gid)] {
            if id.is_empty()
                || !id.bytes().all(|b| b.is_ascii_digit())
                || id.parse::<u32>().is_err()
            {
                r.push(
                    format!("{tfield}.{what}"),
                    Rule::NotNumericId { value: id.clone() },
                );
            }
        }
        if target.mode > MAX_FILE_MODE {
            r.push(
                format!("{tfield}.mode"),
                Rule::InvalidFileMode { mode: target.mode },
            );
        }
    }
}

fn check_healthcheck(r: &mut Report, path: &str, hc: &HealthCheck) {
    let well_formed = match hc.test.first().map(String::as_str) {
        None => true, // inherit the image's health check
        Some("NONE") => hc.test.len() == 1,
        Some("CMD") => hc.test.len() >= 2,
        Some("CMD-SHELL") => hc.test.len() == 2,
        Some(_) => false,
    };
    if !well_formed {
        r.push(
            format!("{path}.test"),
            Rule::InvalidHealthTest {
                test: hc.test.clone(),
            },
        );
    }
    for (name, d) in [
        ("interval", hc.interval),
        ("timeout", hc.timeout),
        ("start_period", hc.start_period),
    ] {
        check_duration(r, &format!("{path}.{name}"), d);
        if !d.is_zero() && d < MIN_HEALTHCHECK_DURATION {
            r.push(
                format!("{path}.{name}"),
                Rule::BelowMinimum {
                    value: Quantity::Duration(d),
                    minimum: Quantity::Duration(MIN_HEALTHCHECK_DURATION),
                },
            );
        }
    }
}

/// Accepts `SIGTERM`, `TERM`, `sigterm`, `15`, `SIGRTMIN+3`, `RTMAX-1` (as Docker).
fn is_known_signal(signal: &str) -> bool {
    if let Ok(n) = signal.parse::<u32>() {
        return (1..=MAX_SIGNAL_NUMBER).contains(&n);
    }
    let upper = signal.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if SIGNAL_NAMES.contains(&name) || name == "RTMIN" || name == "RTMAX" {
        return true;
    }
    let offset = name
        .strip_prefix("RTMIN+")
        .or_else(|| name.strip_prefix("RTMAX-"));
    matches!(offset.map(str::parse::<u32>), Some(Ok(n)) if (1..=REALTIME_SIGNAL_SPAN).contains(&n))
}
