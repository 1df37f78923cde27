//! Test kit for runtime adapters (cargo feature `testkit`): the runtime conformance suite.
//!
//! Every [`Runtime`](crate::runtime::Runtime) implementation should pass it. An adapter
//! implements [`ConformanceAdapter`] (a runtime factory, a few task specs in its own terms and a
//! "nothing left after remove" check) and runs the checks, either all at once with
//! [`run_all`] or one test per check with [`runtime_conformance_tests!`](crate::runtime_conformance_tests).
//!
//! Enable it from a dev-dependency:
//!
//! ```toml
//! [dev-dependencies]
//! swarm-core = { path = "...", features = ["testkit"] }
//! ```
//!
//! (`swarm-core` enables it for its own tests through a dev-dependency on itself.)
//!
//! The checks cover the [`Controller`](crate::runtime::Controller) contract: exit codes 0 and 3
//! through `prepare → start → wait`; graceful `shutdown` of a long task; forced kill of a task
//! ignoring its stop signal, by `shutdown` after the grace period and by `terminate`; `remove`
//! of a running task; idempotent `shutdown`/`terminate`/`remove`; refusal of calls out of order;
//! secret and config files visible with their content and mode; an unrequested secret never
//! visible; missing secret/config data and escaping targets refused with permanent typed
//! errors; logs served as a snapshot, a tail and a following stream; health reaching healthy and
//! unhealthy; a permanent error for an unrunnable task.

mod adapter;
pub mod conformance;
mod report;

pub use adapter::{ConformanceAdapter, FileProbe};
pub use report::{CheckFailure, CheckOutcome, CheckResult, ConformanceReport, expect_passed};

/// Names of every check, in the order [`run_all`] runs them.
pub const CHECK_NAMES: &[&str] = {
    macro_rules! names {
        ($($check:ident),* $(,)?) => {
            &[$(stringify!($check)),*]
        };
    }
    crate::__conformance_checks!([] names)
};

/// Runs every check in order and collects the results.
pub async fn run_all<A: ConformanceAdapter + ?Sized>(a: &A) -> ConformanceReport {
    let mut report = ConformanceReport::default();
    macro_rules! run {
        ($($check:ident),* $(,)?) => {
            $( report.results.push((stringify!($check), conformance::$check(a).await)); )*
        };
    }
    crate::__conformance_checks!([] run);
    report
}

/// The one list of conformance checks, in the order they run: expands to `$callback! { check, … }`
/// so that [`CHECK_NAMES`], [`run_all`] and [`runtime_conformance_tests!`](crate::runtime_conformance_tests)
/// can never disagree. Called as `__conformance_checks!([tokens] callback)`; the bracketed tokens
/// go before the list. Not part of the API.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_checks {
    ([$($before:tt)*] $($callback:tt)+) => {
        $($callback)+! {
            $($before)*
            describe_reports_node,
            exit_code_zero_completes,
            exit_code_three_fails,
            calls_out_of_order_are_refused,
            shutdown_stops_long_task_gracefully,
            shutdown_kills_after_grace_period,
            terminate_kills_task_ignoring_stop_signal,
            remove_kills_running_task,
            stop_and_remove_are_idempotent,
            secret_and_config_files_visible_with_mode,
            unrequested_secret_never_visible,
            missing_secret_data_is_refused,
            missing_config_data_is_refused,
            invalid_file_target_is_refused,
            logs_capture_output,
            health_reports_healthy,
            health_reports_unhealthy,
            unrunnable_task_fails_permanently
        }
    };
}

/// Expands to one test function per conformance check, each running it against a fresh
/// adapter built by the given expression. Put the test attribute first, then `;`.
///
/// ```ignore
/// swarm_core::runtime_conformance_tests!(#[tokio::test]; MyAdapter::new());
/// // or, for an adapter living on tokio's paused clock:
/// swarm_core::runtime_conformance_tests!(#[tokio::test(start_paused = true)]; MyAdapter::new());
/// ```
#[macro_export]
macro_rules! runtime_conformance_tests {
    ($(#[$attr:meta])* ; $adapter:expr) => {
        $crate::__conformance_checks!(
            [@each [$(#[$attr])*] ($adapter);] $crate::runtime_conformance_tests
        );
    };
    (@each $attrs:tt ($adapter:expr); $($check:ident),*) => {
        $( $crate::runtime_conformance_tests!(@one $attrs $check ($adapter)); )*
    };
    (@one [$($attr:tt)*] $check:ident ($adapter:expr)) => {
        $($attr)*
        async fn $check() {
            let adapter = $adapter;
            $crate::testkit::expect_passed(
                stringify!($check),
                $crate::testkit::conformance::$check(&adapter).await,
            );
        }
    };
}
