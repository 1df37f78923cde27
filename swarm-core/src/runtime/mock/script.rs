//! Scripted behaviour of a mock task.

use crate::runtime::error::{ErrorKind, LifecycleStep};
use crate::runtime::exit::ExitStatus;
use crate::runtime::files::FileKind;
use crate::runtime::health::HealthStatus;
use crate::runtime::logs::LogStreamKind;
use std::collections::HashMap;
use std::time::Duration;

/// Most scripted output lines, health steps or probes per script.
pub const MAX_SCRIPT_STEPS: usize = 4096;

/// How a scripted task ends on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MockRun {
    /// Exits with `code` after `after` (measured from `start`).
    ExitAfter {
        /// Time from start to exit.
        after: Duration,
        /// The exit code.
        code: i32,
    },
    /// Is killed by signal `signal` (named `name`) after `after`, e.g. a crash.
    SignaledAfter {
        /// Time from start to the signal.
        after: Duration,
        /// Signal number.
        signal: i32,
        /// Signal name.
        name: String,
    },
    /// Runs until stopped.
    UntilStopped,
}

/// A scripted failure of one lifecycle step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MockFailure {
    /// Temporary or permanent.
    pub kind: ErrorKind,
    /// How many calls of the step fail before it succeeds (`u32::MAX`: always).
    pub times: u32,
}

/// The health a scripted task reports over time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MockHealth {
    /// `(delay since the previous step, status)`; the first delay counts from start.
    pub steps: Vec<(Duration, HealthStatus)>,
    /// Start over after the last step (for flapping).
    pub repeat: bool,
}

/// What a mock task does, built step by step. Every delay runs on tokio's clock, so scripts work
/// under `tokio::time::pause()` (simulated time) as well as in real time.
///
/// ```
/// use std::time::Duration;
/// use swarm_core::runtime::mock::MockScript;
/// use swarm_core::runtime::{ErrorKind, LifecycleStep};
///
/// let flaky_start = MockScript::new()
///     .start_delay(Duration::from_millis(50))
///     .fail_at(LifecycleStep::Start, ErrorKind::Temporary, 2)
///     .prints("hello")
///     .exit_after(Duration::from_secs(1), 0);
/// let flapping = MockScript::new()
///     .run_until_stopped()
///     .health_flapping(Duration::from_secs(2), Duration::from_secs(1));
/// # let _ = (flaky_start, flapping);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MockScript {
    pub(crate) prepare_delay: Duration,
    pub(crate) start_delay: Duration,
    pub(crate) run: MockRun,
    pub(crate) ignore_stop_signal: bool,
    pub(crate) stop_delay: Duration,
    pub(crate) failures: HashMap<LifecycleStep, MockFailure>,
    pub(crate) health: Option<MockHealth>,
    pub(crate) output: Vec<(Duration, LogStreamKind, Vec<u8>)>,
    pub(crate) probes: Vec<(FileKind, String)>,
}

impl Default for MockScript {
    fn default() -> Self {
        MockScript::new()
    }
}

impl MockScript {
    /// A task that starts at once and exits 0 at once.
    pub fn new() -> Self {
        MockScript {
            prepare_delay: Duration::ZERO,
            start_delay: Duration::ZERO,
            run: MockRun::ExitAfter {
                after: Duration::ZERO,
                code: 0,
            },
            ignore_stop_signal: false,
            stop_delay: Duration::ZERO,
            failures: HashMap::new(),
            health: None,
            output: Vec::new(),
            probes: Vec::new(),
        }
    }

    /// `prepare` takes this long (an image pull).
    pub fn prepare_delay(mut self, delay: Duration) -> Self {
        self.prepare_delay = delay;
        self
    }

    /// `start` takes this long.
    pub fn start_delay(mut self, delay: Duration) -> Self {
        self.start_delay = delay;
        self
    }

    /// Exits with `code` after `after`.
    pub fn exit_after(mut self, after: Duration, code: i32) -> Self {
        self.run = MockRun::ExitAfter { after, code };
        self
    }

    /// Dies from a signal after `after` (e.g. `11`, `"SIGSEGV"`).
    pub fn signaled_after(mut self, after: Duration, signal: i32, name: &str) -> Self {
        self.run = MockRun::SignaledAfter {
            after,
            signal,
            name: name.to_owned(),
        };
        self
    }

    /// Runs until stopped.
    pub fn run_until_stopped(mut self) -> Self {
        self.run = MockRun::UntilStopped;
        self
    }

    /// Ignores the stop signal: only a kill (after the grace period, or `terminate`) ends it.
    pub fn ignore_stop_signal(mut self) -> Self {
        self.ignore_stop_signal = true;
        self
    }

    /// Takes this long to exit after receiving the stop signal (a slow graceful stop; beyond
    /// the grace period it is killed).
    pub fn stop_delay(mut self, delay: Duration) -> Self {
        self.stop_delay = delay;
        self
    }

    /// The first `times` calls of `step` fail with an error of `kind` (`u32::MAX`: always).
    pub fn fail_at(mut self, step: LifecycleStep, kind: ErrorKind, times: u32) -> Self {
        self.failures.insert(step, MockFailure { kind, times });
        self
    }

    /// Reports these health steps (each after its delay since the previous one), optionally
    /// starting over after the last one. A repeating list whose delays are all zero does not
    /// repeat.
    pub fn health_steps(mut self, steps: Vec<(Duration, HealthStatus)>, repeat: bool) -> Self {
        let mut steps = steps;
        steps.truncate(MAX_SCRIPT_STEPS);
        self.health = Some(MockHealth { steps, repeat });
        self
    }

    /// Healthy after `healthy_after`, staying healthy.
    pub fn healthy_after(self, healthy_after: Duration) -> Self {
        self.health_steps(vec![(healthy_after, HealthStatus::Healthy)], false)
    }

    /// Unhealthy after `unhealthy_after`, staying unhealthy.
    pub fn unhealthy_after(self, unhealthy_after: Duration) -> Self {
        self.health_steps(vec![(unhealthy_after, HealthStatus::Unhealthy)], false)
    }

    /// Alternates healthy for `healthy_for` and unhealthy for `unhealthy_for`, forever.
    pub fn health_flapping(self, healthy_for: Duration, unhealthy_for: Duration) -> Self {
        self.health_steps(
            vec![
                (Duration::ZERO, HealthStatus::Healthy),
                (healthy_for, HealthStatus::Unhealthy),
                (unhealthy_for, HealthStatus::Healthy),
            ],
            true,
        )
    }

    /// Writes `line` and a newline to stdout right after start.
    pub fn prints(self, line: &str) -> Self {
        let mut data = line.as_bytes().to_vec();
        data.push(b'\n');
        self.output_after(Duration::ZERO, LogStreamKind::Stdout, data)
    }

    /// Writes `data` to `stream` `after` the previous output (or start).
    pub fn output_after(mut self, after: Duration, stream: LogStreamKind, data: Vec<u8>) -> Self {
        if self.output.len() < MAX_SCRIPT_STEPS {
            self.output.push((after, stream, data));
        }
        self
    }

    /// Right after start, prints one line per probe describing the file the task sees at that
    /// target: `probe <secret|config> <target> mode=<octal> content=<content>` or
    /// `probe <secret|config> <target> missing` (the conformance suite's protocol).
    pub fn probes_files(mut self, probes: Vec<(FileKind, String)>) -> Self {
        let mut probes = probes;
        probes.truncate(MAX_SCRIPT_STEPS);
        self.probes = probes;
        self
    }
}

/// The line a probe prints: `probe <kind> <target> mode=<octal> content=<content>` when the file
/// is visible (`Some((mode, content))`), `probe <kind> <target> missing` otherwise.
pub fn probe_line(kind: FileKind, target: &str, file: Option<(u32, &[u8])>) -> String {
    match file {
        Some((mode, content)) => format!(
            "probe {} {} mode={:o} content={}",
            kind.as_str(),
            target,
            mode,
            String::from_utf8_lossy(content)
        ),
        None => format!("probe {} {} missing", kind.as_str(), target),
    }
}

/// The status a mock reports when its stop signal ends it.
pub(crate) fn sigterm_status() -> ExitStatus {
    ExitStatus::Signaled {
        signal: 15,
        name: "SIGTERM".to_owned(),
    }
}

/// The status a mock reports when it is killed.
pub(crate) fn sigkill_status() -> ExitStatus {
    ExitStatus::Signaled {
        signal: 9,
        name: "SIGKILL".to_owned(),
    }
}
