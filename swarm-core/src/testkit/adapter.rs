//! What an adapter provides to run the conformance suite against itself.

use crate::model::{Task, TaskSpec};
use crate::runtime::{FileKind, Runtime};
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

/// One file a probe task reports on (see [`ConformanceAdapter::probes_files`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileProbe {
    /// Secret or config.
    pub kind: FileKind,
    /// The target name exactly as written in the spec's `FileTarget::name` (a bare name or an
    /// absolute path); the adapter knows where that lands inside its tasks.
    pub target: String,
}

impl FileProbe {
    /// The line a probe task prints when the file exists: mode in octal as `stat -c %a` prints
    /// it (no leading zero) and the file's content as is (the suite only uses one-line ASCII).
    ///
    /// ```
    /// use swarm_core::runtime::FileKind;
    /// use swarm_core::testkit::FileProbe;
    ///
    /// let p = FileProbe { kind: FileKind::Secret, target: "db_pw".into() };
    /// assert_eq!(p.present_line(0o400, "s3cret"), "probe secret db_pw mode=400 content=s3cret");
    /// assert_eq!(p.missing_line(), "probe secret db_pw missing");
    /// ```
    pub fn present_line(&self, mode: u32, content: &str) -> String {
        format!(
            "probe {} {} mode={:o} content={}",
            self.kind.as_str(),
            self.target,
            mode,
            content
        )
    }

    /// The line a probe task prints when the file does not exist (or cannot be read).
    pub fn missing_line(&self) -> String {
        format!("probe {} {} missing", self.kind.as_str(), self.target)
    }
}

/// The adapter-specific half of the runtime conformance suite: a runtime factory, task specs
/// with well-defined behaviour in the adapter's terms, and a check that a removed task left
/// nothing behind.
///
/// The suite fills in secret and config references, stop grace periods and task ids itself; the
/// specs returned here only need to define *what runs*. Every task spec must behave as described
/// within a few seconds on a healthy machine.
#[async_trait]
pub trait ConformanceAdapter: Send + Sync {
    /// The runtime under test. Called once per check; returning the same runtime is fine.
    async fn runtime(&self) -> Arc<dyn Runtime>;

    /// A task that exits on its own promptly with exit code `code` (the suite uses 0 and 3).
    fn exits_with(&self, code: i32) -> TaskSpec;

    /// A task that writes `line` followed by a newline to its standard output, then exits 0.
    /// `line` is printable ASCII without quotes or backslashes.
    fn prints(&self, line: &str) -> TaskSpec;

    /// A task that runs until it is stopped and exits promptly when it receives its stop signal
    /// (SIGTERM).
    fn long_running(&self) -> TaskSpec;

    /// A task that ignores its stop signal (SIGTERM) and runs until it is killed.
    fn ignores_stop_signal(&self) -> TaskSpec;

    /// A task that prints one line per probe, in order, then exits 0:
    /// [`FileProbe::present_line`] if the file the probe names is visible to the task (with its
    /// permission bits and content), else [`FileProbe::missing_line`].
    fn probes_files(&self, probes: &[FileProbe]) -> TaskSpec;

    /// Checks that nothing of `task` remains after a successful `remove` (processes,
    /// containers, files, directories). Returns a description of what is left on failure.
    async fn assert_removed(&self, task: &Task) -> Result<(), String>;

    /// A long-running task with a health check that passes; `None` skips the health checks.
    fn healthy_task(&self) -> Option<TaskSpec> {
        None
    }

    /// A long-running task with a health check that always fails (with `retries` small enough
    /// to turn unhealthy within seconds); `None` skips that check.
    fn unhealthy_task(&self) -> Option<TaskSpec> {
        None
    }

    /// A task the runtime must refuse with a permanent error at `prepare` or `start` (for
    /// example a program or image that does not exist); `None` skips that check.
    fn unrunnable_task(&self) -> Option<TaskSpec> {
        None
    }

    /// The stop grace period the suite gives a task that ignores its stop signal (default 1 s;
    /// a container engine with whole-second granularity keeps the default).
    fn short_grace_period(&self) -> Duration {
        Duration::from_secs(1)
    }

    /// Upper bound on every single await of the suite, so that a broken adapter fails a check
    /// instead of hanging it (default 60 s). Never reached by a correct adapter.
    fn step_timeout(&self) -> Duration {
        Duration::from_secs(60)
    }
}
