//! Skipping a test loudly when the host lacks what it needs, or failing it under CI.

use std::io::Write;
use std::sync::Mutex;

/// The environment variable CI services set (`CI=true`): when it is set (to anything but empty,
/// `0` or `false`), a missing engine or busybox fails the test instead of skipping it, so that a
/// broken CI machine cannot pass by running nothing.
pub const CI_VAR: &str = "CI";

/// Whether the tests run under CI (see [`CI_VAR`]).
pub fn in_ci() -> bool {
    match std::env::var(CI_VAR) {
        Ok(value) => {
            let value = value.trim();
            !(value.is_empty() || value == "0" || value.eq_ignore_ascii_case("false"))
        }
        Err(_) => false,
    }
}

/// Reports that the calling test cannot run because `reason`: prints `!!! SKIPPED: <reason>`
/// and returns (the test then passes without checking anything), or panics under CI.
pub fn skip(reason: &str) {
    if in_ci() {
        panic!(
            "{reason}; {CI_VAR} is set, so this is a failure, not a skip (unset {CI_VAR} to skip \
             the tests that need a Docker engine)"
        );
    }
    let line = format!("!!! SKIPPED: {reason}");
    eprintln!("{line}");
    // Each distinct reason once per test binary, straight to the process's stderr: the test
    // harness hides what passing tests print, and a skip must be seen in CI logs.
    static PRINTED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut printed = PRINTED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !printed.contains(&line) {
        let _ = writeln!(std::io::stderr(), "{line}");
        printed.push(line);
    }
}
