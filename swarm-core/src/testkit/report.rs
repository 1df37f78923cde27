//! Outcomes of conformance checks.

use std::fmt;

/// A check that did not hold, with what was observed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckFailure {
    /// What went wrong (the step, what was expected and what was seen).
    pub message: String,
}

impl CheckFailure {
    /// A failure with this message.
    pub fn new(message: impl Into<String>) -> Self {
        CheckFailure {
            message: message.into(),
        }
    }
}

impl fmt::Display for CheckFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CheckFailure {}

/// How a check ended when it did not fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckOutcome {
    /// Every assertion held.
    Passed,
    /// The adapter opted out (e.g. it has no health checks); the reason says why.
    Skipped(&'static str),
}

/// The result of one conformance check.
pub type CheckResult = Result<CheckOutcome, CheckFailure>;

/// Turns a check result into a test outcome: panics with the check's name and message on
/// failure (so `cargo test` shows it), prints skips.
pub fn expect_passed(check: &str, result: CheckResult) {
    match result {
        Ok(CheckOutcome::Passed) => {}
        Ok(CheckOutcome::Skipped(why)) => eprintln!("conformance check {check} skipped: {why}"),
        Err(f) => panic!("conformance check {check} failed: {f}"),
    }
}

/// The results of a whole conformance run, in check order.
#[derive(Clone, Debug, Default)]
pub struct ConformanceReport {
    /// `(check name, result)` for every check run.
    pub results: Vec<(&'static str, CheckResult)>,
}

impl ConformanceReport {
    /// Checks that failed.
    pub fn failures(&self) -> Vec<(&'static str, &CheckFailure)> {
        self.results
            .iter()
            .filter_map(|(n, r)| r.as_ref().err().map(|f| (*n, f)))
            .collect()
    }

    /// Number of checks that passed.
    pub fn passed(&self) -> usize {
        self.results
            .iter()
            .filter(|(_, r)| matches!(r, Ok(CheckOutcome::Passed)))
            .count()
    }

    /// Number of checks skipped by the adapter.
    pub fn skipped(&self) -> usize {
        self.results
            .iter()
            .filter(|(_, r)| matches!(r, Ok(CheckOutcome::Skipped(_))))
            .count()
    }

    /// Panics listing every failed check, if any.
    pub fn assert_all_passed(&self) {
        let failures = self.failures();
        if !failures.is_empty() {
            let list: Vec<String> = failures
                .iter()
                .map(|(n, f)| format!("  {n}: {f}"))
                .collect();
            panic!(
                "{} of {} runtime conformance checks failed:\n{}",
                failures.len(),
                self.results.len(),
                list.join("\n")
            );
        }
    }
}

impl fmt::Display for ConformanceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, r) in &self.results {
            match r {
                Ok(CheckOutcome::Passed) => writeln!(f, "ok      {name}")?,
                Ok(CheckOutcome::Skipped(why)) => writeln!(f, "skipped {name}: {why}")?,
                Err(e) => writeln!(f, "FAILED  {name}: {e}")?,
            }
        }
        write!(
            f,
            "{} passed, {} skipped, {} failed",
            self.passed(),
            self.skipped(),
            self.failures().len()
        )
    }
}
