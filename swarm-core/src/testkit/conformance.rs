//! The runtime conformance checks. Each one takes an adapter and verifies one part of the
//! [`Controller`] contract against a fresh runtime from it. [`run_all`](crate::testkit::run_all)
//! runs them all; [`runtime_conformance_tests!`](crate::runtime_conformance_tests) makes one test
//! of each.

use crate::model::{ConfigReference, FileTarget, SecretReference, Task, TaskSpec};
use crate::runtime::{
    Controller, ExitStatus, FileKind, HealthStatus, LogOptions, Runtime, RuntimeError, TaskFiles,
    collect_text,
};
use crate::testkit::adapter::{ConformanceAdapter, FileProbe};
use crate::testkit::report::{CheckFailure, CheckOutcome, CheckResult};
use futures::StreamExt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// The grace period the suite gives a task that honours its stop signal: long enough that a
/// forced kill can only mean the runtime did not deliver the signal.
pub const LONG_GRACE_PERIOD: Duration = Duration::from_secs(30);

/// Most log bytes a check reads while waiting for a line.
const MAX_SCAN_LOG_BYTES: usize = 64 * 1024;

/// The line the stop-ignoring task prints once it ignores its stop signal.
pub const READY_LINE: &str = "ready";

fn fail<T>(message: impl Into<String>) -> Result<T, CheckFailure> {
    Err(CheckFailure::new(message))
}

/// A fresh task id, unique across processes and runs (it may name files and containers).
pub fn unique_task_id(check: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let short: String = check
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(16)
        .collect();
    format!("conf-{short}-{}-{nanos:x}-{n}", std::process::id())
}

/// A task in state `new` for `spec`, with a fresh id.
pub fn task_for(check: &str, spec: TaskSpec) -> Task {
    Task::new(
        unique_task_id(check).into(),
        "conformance".into(),
        spec,
        SystemTime::now(),
    )
}

async fn within<T, F>(
    a: &(impl ConformanceAdapter + ?Sized),
    what: &str,
    fut: F,
) -> Result<T, CheckFailure>
where
    F: Future<Output = T>,
{
    match tokio::time::timeout(a.step_timeout(), fut).await {
        Ok(v) => Ok(v),
        Err(_) => fail(format!(
            "{what} did not return within {:?}",
            a.step_timeout()
        )),
    }
}

async fn ok<T>(
    a: &(impl ConformanceAdapter + ?Sized),
    what: &str,
    fut: impl Future<Output = Result<T, RuntimeError>>,
) -> Result<T, CheckFailure> {
    match within(a, what, fut).await? {
        Ok(v) => Ok(v),
        Err(e) => fail(format!("{what} failed: {e}")),
    }
}

/// Expects a permanent error, and returns it.
async fn refused<T: std::fmt::Debug>(
    a: &(impl ConformanceAdapter + ?Sized),
    what: &str,
    fut: impl Future<Output = Result<T, RuntimeError>>,
) -> Result<RuntimeError, CheckFailure> {
    match within(a, what, fut).await? {
        Ok(v) => fail(format!("{what} succeeded ({v:?}) but must be refused")),
        Err(e) if e.is_temporary() => fail(format!(
            "{what} was refused with a temporary error ({e}); it must be permanent"
        )),
        Err(e) => Ok(e),
    }
}

async fn controller(
    a: &(impl ConformanceAdapter + ?Sized),
    rt: &Arc<dyn Runtime>,
    task: &Task,
    files: TaskFiles,
) -> Result<Box<dyn Controller>, CheckFailure> {
    ok(a, "Runtime::controller", rt.controller(task, files)).await
}

async fn started(
    a: &(impl ConformanceAdapter + ?Sized),
    rt: &Arc<dyn Runtime>,
    task: &Task,
    files: TaskFiles,
) -> Result<Box<dyn Controller>, CheckFailure> {
    let ctl = controller(a, rt, task, files).await?;
    ok(a, "prepare", ctl.prepare()).await?;
    ok(a, "start", ctl.start()).await?;
    Ok(ctl)
}

async fn remove_and_check(
    a: &(impl ConformanceAdapter + ?Sized),
    ctl: &dyn Controller,
    task: &Task,
) -> Result<(), CheckFailure> {
    ok(a, "remove", ctl.remove()).await?;
    match within(a, "assert_removed", a.assert_removed(task)).await? {
        Ok(()) => Ok(()),
        Err(left) => fail(format!("after remove, task {} left: {left}", task.id)),
    }
}

async fn logs_text(
    a: &(impl ConformanceAdapter + ?Sized),
    ctl: &dyn Controller,
) -> Result<String, CheckFailure> {
    let stream = ok(a, "logs", ctl.logs(LogOptions::default())).await?;
    within(a, "reading logs", collect_text(stream)).await
}

/// Follows the logs until a line equal to `line` appears (or the output ends).
async fn wait_for_line(
    a: &(impl ConformanceAdapter + ?Sized),
    ctl: &dyn Controller,
    line: &str,
) -> Result<(), CheckFailure> {
    let mut stream = ok(
        a,
        "logs(follow)",
        ctl.logs(LogOptions {
            follow: true,
            tail_bytes: None,
        }),
    )
    .await?;
    let scan = async {
        let mut seen = Vec::new();
        while let Some(chunk) = stream.next().await {
            seen.extend_from_slice(&chunk.data);
            if String::from_utf8_lossy(&seen)
                .lines()
                .any(|l| l.trim() == line)
            {
                return true;
            }
            if seen.len() > MAX_SCAN_LOG_BYTES {
                let cut = seen.len() - MAX_SCAN_LOG_BYTES / 2;
                seen.drain(..cut);
            }
        }
        false
    };
    if within(a, &format!("waiting for the line `{line}`"), scan).await? {
        Ok(())
    } else {
        fail(format!("the task's output ended without the line `{line}`"))
    }
}

fn with_grace(mut spec: TaskSpec, grace: Duration) -> TaskSpec {
    spec.container.stop_grace_period = grace;
    spec
}

fn secret_ref(id: &str, target: &str, mode: u32) -> SecretReference {
    let mut t = FileTarget::new(target);
    t.mode = mode;
    SecretReference {
        secret_id: id.into(),
        secret_name: format!("{id}-name"),
        target: t,
    }
}

fn config_ref(id: &str, target: &str, mode: u32) -> ConfigReference {
    let mut t = FileTarget::new(target);
    t.mode = mode;
    ConfigReference {
        config_id: id.into(),
        config_name: format!("{id}-name"),
        target: t,
    }
}

/// `describe` reports a hostname, a platform and non-zero CPU and memory.
pub async fn describe_reports_node<A: ConformanceAdapter + ?Sized>(a: &A) -> CheckResult {
    let rt = a.runtime().await;
    let d = ok(a, "describe", rt.describe()).await?;
    if d.hostname.is_empty() {
        return fail("describe: empty hostname");
    }
    if d.platform.os.is_empty() || d.platform.architecture.is_empty() {
        return fail(format!("describe: incomplete platform {:?}", d.platform));
    }
    if d.resources.nano_cpus <= 0 || d.resources.memory_bytes <= 0 {
        return fail(format!(
            "describe: resources must be positive, got {} nano-CPUs and {} memory bytes",
            d.resources.nano_cpus, d.resources.memory_bytes
        ));
    }
    Ok(CheckOutcome::Passed)
}

async fn exit_code_check<A: ConformanceAdapter + ?Sized>(a: &A, code: i32) -> CheckResult {
    let rt = a.runtime().await;
    let task = task_for("exitcode", a.exits_with(code));
    let ctl = started(a, &rt, &task, TaskFiles::new()).await?;
    let status = ok(a, "wait", ctl.wait()).await?;
    if status != (ExitStatus::Exited { code }) {
        return fail(format!(
            "wait returned `{status}`, expected exit code {code}"
        ));
    }
    let expected = if code == 0 {
        crate::model::TaskState::Complete
    } else {
        crate::model::TaskState::Failed
    };
    if status.task_state() != expected {
        return fail(format!(
            "exit code {code} maps to {:?}",
            status.task_state()
        ));
    }
    let again = ok(a, "second wait", ctl.wait()).await?;
    if again != status {
        return fail(format!("second wait returned `{again}`, first `{status}`"));
    }
    // Stopping an exited task is a no-op.
    ok(a, "shutdown after exit", ctl.shutdown()).await?;
    ok(a, "terminate after exit", ctl.terminate()).await?;
    remove_and_check(a, ctl.as_ref(), &task).await?;
    let after = ok(a, "wait after remove", ctl.wait()).await?;
    if after != status {
        return fail(format!(
            "wait after remove returned `{after}`, expected `{status}`"
        ));
    }
    Ok(CheckOutcome::Passed)
}

/// prepare → start → wait of a task exiting 0 returns code 0 (complete), repeatably.
pub async fn exit_code_zero_completes<A: ConformanceAdapter + ?Sized>(a: &A) -> CheckResult {
    exit_code_check(a, 0).await
}

/// A task exiting 3 returns code 3 (failed), repeatably.
pub async fn exit_code_three_fails<A: ConformanceAdapter + ?Sized>(a: &A) -> CheckResult {
    exit_code_check(a, 3).await
}

/// `start` and `wait` before `prepare`, and `prepare`/`start` after `remove`, are refused with a
/// permanent [`RuntimeError::InvalidState`].
pub async fn calls_out_of_order_are_refused<A: ConformanceAdapter + ?Sized>(a: &A) -> CheckResult {
    let rt = a.runtime().await;
    let task = task_for("order", a.exits_with(0));
    let ctl = controller(a, &rt, &task, TaskFiles::new()).await?;
    for (what, e) in [
        (
            "start before prepare",
            refused(a, "start before prepare", ctl.start()).await?,
        ),
        (
            "wait before start",
            refused(a, "wait before start", ctl.wait()).await?,
        ),
    ] {
        if !matches!(e, RuntimeError::InvalidState { .. }) {
            return fail(format!("{what}: expected InvalidState, got {e}"));
        }
    }
    ok(a, "prepare", ctl.prepare()).await?;
    ok(a, "second prepare", ctl.prepare()).await?;
    if let e @ RuntimeError::InvalidState { .. } =
        refused(a, "wait before start", ctl.wait()).await?
    {
        let _ = e;
    } else {
        return fail("wait before start (prepared): expected InvalidState");
    }
    remove_and_check(a, ctl.as_ref(), &task).await?;
    for (what, e) in [
        (
            "prepare after remove",
            refused(a, "prepare after remove", ctl.prepare()).await?,
        ),
        (
            "start after remove",
            refused(a, "start after remove", ctl.start()).await?,
        ),
    ] {
        if !matches!(e, RuntimeError::InvalidState { .. }) {
            return fail(format!("{what}: expected InvalidState, got {e}"));
        }
    }
    Ok(CheckOutcome::Passed)
}

/// `shutdown` of a task that honours its stop signal ends it with that signal (no forced kill)
/// while another caller is blocked in `wait`; both return the same exit.
pub async fn shutdown_stops_long_task_gracefully<A: ConformanceAdapter + ?Sized>(
    a: &A,
) -> CheckResult {
    let rt = a.runtime().await;
    let task = task_for("graceful", with_grace(a.long_running(), LONG_GRACE_PERIOD));
    let ctl = started(a, &rt, &task, TaskFiles::new()).await?;
    let (waited, stopped) = tokio::join!(ok(a, "wait", ctl.wait()), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        ok(a, "shutdown", ctl.shutdown()).await
    });
    stopped?;
    let status = waited?;
    if status.is_forced_kill() {
        return fail(format!(
            "the task was force-killed (`{status}`) although it honours its stop signal and \
             the grace period is {LONG_GRACE_PERIOD:?}"
        ));
    }
    let again = ok(a, "wait after shutdown", ctl.wait()).await?;
    if again != status {
        return fail(format!(
            "wait after shutdown returned `{again}`, first `{status}`"
        ));
    }
    ok(a, "second shutdown", ctl.shutdown()).await?;
    remove_and_check(a, ctl.as_ref(), &task).await?;
    Ok(CheckOutcome::Passed)
}

/// `shutdown` of a task ignoring its stop signal kills it once the grace period is over.
pub async fn shutdown_kills_after_grace_period<A: ConformanceAdapter + ?Sized>(
    a: &A,
) -> CheckResult {
    let rt = a.runtime().await;
    let task = task_for(
        "grace",
        with_grace(a.ignores_stop_signal(), a.short_grace_period()),
    );
    let ctl = started(a, &rt, &task, TaskFiles::new()).await?;
    wait_for_line(a, ctl.as_ref(), READY_LINE).await?;
    ok(a, "shutdown", ctl.shutdown()).await?;
    let status = ok(a, "wait", ctl.wait()).await?;
    if !status.is_forced_kill() {
        return fail(format!(
            "a task ignoring its stop signal must be killed after the grace period, got `{status}`"
        ));
    }
    remove_and_check(a, ctl.as_ref(), &task).await?;
    Ok(CheckOutcome::Passed)
}

/// `terminate` kills a task that ignores its stop signal at once (grace period 30 s is not
/// waited for).
pub async fn terminate_kills_task_ignoring_stop_signal<A: ConformanceAdapter + ?Sized>(
    a: &A,
) -> CheckResult {
    let rt = a.runtime().await;
    let task = task_for(
        "terminate",
        with_grace(a.ignores_stop_signal(), LONG_GRACE_PERIOD),
    );
    let ctl = started(a, &rt, &task, TaskFiles::new()).await?;
    wait_for_line(a, ctl.as_ref(), READY_LINE).await?;
    ok(a, "terminate", ctl.terminate()).await?;
    let status = ok(a, "wait", ctl.wait()).await?;
    if !status.is_forced_kill() {
        return fail(format!("terminate must kill the task, got `{status}`"));
    }
    ok(a, "second terminate", ctl.terminate()).await?;
    ok(a, "shutdown after terminate", ctl.shutdown()).await?;
    remove_and_check(a, ctl.as_ref(), &task).await?;
    Ok(CheckOutcome::Passed)
}

/// `remove` of a running task kills it and leaves nothing; `wait` then reports the kill.
pub async fn remove_kills_running_task<A: ConformanceAdapter + ?Sized>(a: &A) -> CheckResult {
    let rt = a.runtime().await;
    let task = task_for("removerun", with_grace(a.long_running(), LONG_GRACE_PERIOD));
    let ctl = started(a, &rt, &task, TaskFiles::new()).await?;
    remove_and_check(a, ctl.as_ref(), &task).await?;
    let status = ok(a, "wait after remove", ctl.wait()).await?;
    if status.success() {
        return fail(format!("a task removed while running reported `{status}`"));
    }
    Ok(CheckOutcome::Passed)
}

/// On a prepared task that never started, `shutdown`, `terminate` and `remove` succeed, in any
/// order and repeatedly, and leave nothing.
pub async fn stop_and_remove_are_idempotent<A: ConformanceAdapter + ?Sized>(a: &A) -> CheckResult {
    let rt = a.runtime().await;
    let task = task_for("idempotent", a.long_running());
    let ctl = controller(a, &rt, &task, TaskFiles::new()).await?;
    ok(a, "shutdown before prepare", ctl.shutdown()).await?;
    ok(a, "prepare", ctl.prepare()).await?;
    ok(a, "shutdown before start", ctl.shutdown()).await?;
    ok(a, "second shutdown", ctl.shutdown()).await?;
    ok(a, "terminate", ctl.terminate()).await?;
    remove_and_check(a, ctl.as_ref(), &task).await?;
    ok(a, "second remove", ctl.remove()).await?;
    ok(a, "shutdown after remove", ctl.shutdown()).await?;
    ok(a, "terminate after remove", ctl.terminate()).await?;
    match within(a, "assert_removed", a.assert_removed(&task)).await? {
        Ok(()) => Ok(CheckOutcome::Passed),
        Err(left) => fail(format!("after a second remove: {left}")),
    }
}

/// A task sees its secret (bare target, mode 0400) and its config (absolute target, mode 0444)
/// with exact content and permission bits.
pub async fn secret_and_config_files_visible_with_mode<A: ConformanceAdapter + ?Sized>(
    a: &A,
) -> CheckResult {
    let rt = a.runtime().await;
    let probes = [
        FileProbe {
            kind: FileKind::Secret,
            target: "conformance_secret".into(),
        },
        FileProbe {
            kind: FileKind::Config,
            target: "/etc/swarm-conformance/app.conf".into(),
        },
    ];
    let mut spec = a.probes_files(&probes);
    spec.container.secrets = vec![secret_ref("sec-visible", "conformance_secret", 0o400)];
    spec.container.configs = vec![config_ref(
        "cfg-visible",
        "/etc/swarm-conformance/app.conf",
        0o444,
    )];
    let files = TaskFiles::new()
        .with_secret("sec-visible", b"s3cret-value-17".to_vec())
        .with_config("cfg-visible", b"listen=8080".to_vec());
    let task = task_for("visible", spec);
    let ctl = started(a, &rt, &task, files).await?;
    let status = ok(a, "wait", ctl.wait()).await?;
    let out = logs_text(a, ctl.as_ref()).await?;
    if !status.success() {
        return fail(format!("probe task ended with `{status}`; output:\n{out}"));
    }
    for expected in [
        probes[0].present_line(0o400, "s3cret-value-17"),
        probes[1].present_line(0o444, "listen=8080"),
    ] {
        if !out.lines().any(|l| l.trim_end() == expected) {
            return fail(format!(
                "expected the line `{expected}` in the output:\n{out}"
            ));
        }
    }
    remove_and_check(a, ctl.as_ref(), &task).await?;
    Ok(CheckOutcome::Passed)
}

/// A task never sees a secret it does not reference: neither one handed to its own controller
/// by mistake nor one that another running task references.
pub async fn unrequested_secret_never_visible<A: ConformanceAdapter + ?Sized>(
    a: &A,
) -> CheckResult {
    let rt = a.runtime().await;
    // Another task holding secret B at target `conformance_other`, running meanwhile.
    let mut other_spec = with_grace(a.long_running(), LONG_GRACE_PERIOD);
    other_spec.container.secrets = vec![secret_ref("sec-b", "conformance_other", 0o444)];
    let other = task_for("othertask", other_spec);
    let other_ctl = started(
        a,
        &rt,
        &other,
        TaskFiles::new().with_secret("sec-b", b"other-task-secret".to_vec()),
    )
    .await?;

    let probes = [
        FileProbe {
            kind: FileKind::Secret,
            target: "conformance_mine".into(),
        },
        FileProbe {
            kind: FileKind::Secret,
            target: "conformance_other".into(),
        },
        FileProbe {
            kind: FileKind::Secret,
            target: "conformance_extra".into(),
        },
    ];
    let mut spec = a.probes_files(&probes);
    spec.container.secrets = vec![secret_ref("sec-a", "conformance_mine", 0o444)];
    // Handed more than it references: sec-c must never materialise.
    let files = TaskFiles::new()
        .with_secret("sec-a", b"mine-only".to_vec())
        .with_secret("sec-c", b"never-visible-c".to_vec());
    let task = task_for("unrequested", spec);
    let ctl = started(a, &rt, &task, files).await?;
    let status = ok(a, "wait", ctl.wait()).await?;
    let out = logs_text(a, ctl.as_ref()).await?;
    if !status.success() {
        return fail(format!("probe task ended with `{status}`; output:\n{out}"));
    }
    let mine = probes[0].present_line(0o444, "mine-only");
    if !out.lines().any(|l| l.trim_end() == mine) {
        return fail(format!("expected `{mine}` in the output:\n{out}"));
    }
    for p in &probes[1..] {
        let missing = p.missing_line();
        if !out.lines().any(|l| l.trim_end() == missing) {
            return fail(format!(
                "the task must not see secret target `{}`; output:\n{out}",
                p.target
            ));
        }
    }
    if out.contains("other-task-secret") || out.contains("never-visible-c") {
        return fail(format!(
            "an unrequested secret leaked into the output:\n{out}"
        ));
    }
    remove_and_check(a, ctl.as_ref(), &task).await?;
    ok(a, "terminate other task", other_ctl.terminate()).await?;
    remove_and_check(a, other_ctl.as_ref(), &other).await?;
    Ok(CheckOutcome::Passed)
}

async fn refused_at_create_or_prepare<A: ConformanceAdapter + ?Sized>(
    a: &A,
    task: &Task,
    files: TaskFiles,
) -> Result<RuntimeError, CheckFailure> {
    let rt = a.runtime().await;
    let ctl = match within(a, "Runtime::controller", rt.controller(task, files)).await? {
        Err(e) if e.is_temporary() => {
            return fail(format!(
                "refused with a temporary error ({e}); it must be permanent"
            ));
        }
        Err(e) => return Ok(e),
        Ok(ctl) => ctl,
    };
    let e = refused(a, "prepare", ctl.prepare()).await?;
    refused(a, "start after a refused prepare", ctl.start()).await?;
    remove_and_check(a, ctl.as_ref(), task).await?;
    Ok(e)
}

/// A secret reference without data is refused (at controller creation or prepare) with a
/// permanent [`RuntimeError::MissingSecret`].
pub async fn missing_secret_data_is_refused<A: ConformanceAdapter + ?Sized>(a: &A) -> CheckResult {
    let mut spec = a.exits_with(0);
    spec.container.secrets = vec![secret_ref("sec-absent", "absent", 0o444)];
    let task = task_for("missingsecret", spec);
    let files = TaskFiles::new().with_secret("sec-unrelated", b"x".to_vec());
    match refused_at_create_or_prepare(a, &task, files).await? {
        RuntimeError::MissingSecret { secret, .. } if secret.as_str() == "sec-absent" => {
            Ok(CheckOutcome::Passed)
        }
        e => fail(format!("expected MissingSecret(sec-absent), got {e}")),
    }
}

/// A config reference without data is refused with a permanent [`RuntimeError::MissingConfig`].
pub async fn missing_config_data_is_refused<A: ConformanceAdapter + ?Sized>(a: &A) -> CheckResult {
    let mut spec = a.exits_with(0);
    spec.container.configs = vec![config_ref("cfg-absent", "/etc/absent.conf", 0o444)];
    let task = task_for("missingconfig", spec);
    match refused_at_create_or_prepare(a, &task, TaskFiles::new()).await? {
        RuntimeError::MissingConfig { config, .. } if config.as_str() == "cfg-absent" => {
            Ok(CheckOutcome::Passed)
        }
        e => fail(format!("expected MissingConfig(cfg-absent), got {e}")),
    }
}

/// A secret target escaping its directory (`../x`) is refused with a permanent
/// [`RuntimeError::InvalidSpec`] naming the field.
pub async fn invalid_file_target_is_refused<A: ConformanceAdapter + ?Sized>(a: &A) -> CheckResult {
    let mut spec = a.exits_with(0);
    spec.container.secrets = vec![secret_ref("sec-escape", "../escape", 0o444)];
    let task = task_for("badtarget", spec);
    let files = TaskFiles::new().with_secret("sec-escape", b"x".to_vec());
    match refused_at_create_or_prepare(a, &task, files).await? {
        RuntimeError::InvalidSpec { field, .. } if field.contains("secrets[0]") => {
            Ok(CheckOutcome::Passed)
        }
        e => fail(format!(
            "expected InvalidSpec naming container.secrets[0], got {e}"
        )),
    }
}

/// Output written by the task is served by `logs`, both as a snapshot and as a following
/// stream that ends once the task's output is closed.
pub async fn logs_capture_output<A: ConformanceAdapter + ?Sized>(a: &A) -> CheckResult {
    let rt = a.runtime().await;
    let line = "conformance-log-line-42";
    let task = task_for("logs", a.prints(line));
    let ctl = started(a, &rt, &task, TaskFiles::new()).await?;
    let status = ok(a, "wait", ctl.wait()).await?;
    if !status.success() {
        return fail(format!("printing task ended with `{status}`"));
    }
    let out = logs_text(a, ctl.as_ref()).await?;
    if !out.lines().any(|l| l.trim_end() == line) {
        return fail(format!("logs lack `{line}`:\n{out}"));
    }
    // A following stream of an exited task yields the output and ends.
    wait_for_line(a, ctl.as_ref(), line).await?;
    let tail = ok(
        a,
        "logs(tail)",
        ctl.logs(LogOptions {
            follow: false,
            tail_bytes: Some(4),
        }),
    )
    .await?;
    let tail = within(a, "reading tail", collect_text(tail)).await?;
    if tail.len() > 4 {
        return fail(format!("tail_bytes 4 returned {} bytes", tail.len()));
    }
    remove_and_check(a, ctl.as_ref(), &task).await?;
    Ok(CheckOutcome::Passed)
}

async fn health_check<A: ConformanceAdapter + ?Sized>(
    a: &A,
    spec: TaskSpec,
    target: HealthStatus,
) -> CheckResult {
    let rt = a.runtime().await;
    let task = task_for("health", with_grace(spec, LONG_GRACE_PERIOD));
    let ctl = started(a, &rt, &task, TaskFiles::new()).await?;
    let Some(mut rx) = ctl.health() else {
        return fail("a task with a health check returned no health channel");
    };
    let reached = within(a, &format!("waiting for {target}"), async {
        loop {
            let now = *rx.borrow_and_update();
            if now == target {
                return Ok(());
            }
            if rx.changed().await.is_err() {
                return Err(*rx.borrow());
            }
        }
    })
    .await?;
    if let Err(last) = reached {
        return fail(format!("health ended at {last}, never reached {target}"));
    }
    ok(a, "shutdown", ctl.shutdown()).await?;
    remove_and_check(a, ctl.as_ref(), &task).await?;
    Ok(CheckOutcome::Passed)
}

/// A task whose health check passes becomes healthy.
pub async fn health_reports_healthy<A: ConformanceAdapter + ?Sized>(a: &A) -> CheckResult {
    match a.healthy_task() {
        None => Ok(CheckOutcome::Skipped(
            "the adapter provides no healthy task",
        )),
        Some(spec) => health_check(a, spec, HealthStatus::Healthy).await,
    }
}

/// A task whose health check keeps failing becomes unhealthy.
pub async fn health_reports_unhealthy<A: ConformanceAdapter + ?Sized>(a: &A) -> CheckResult {
    match a.unhealthy_task() {
        None => Ok(CheckOutcome::Skipped(
            "the adapter provides no unhealthy task",
        )),
        Some(spec) => health_check(a, spec, HealthStatus::Unhealthy).await,
    }
}

/// A task that cannot run is refused with a permanent error at `prepare` or `start`, and
/// removing it leaves nothing.
pub async fn unrunnable_task_fails_permanently<A: ConformanceAdapter + ?Sized>(
    a: &A,
) -> CheckResult {
    let Some(spec) = a.unrunnable_task() else {
        return Ok(CheckOutcome::Skipped(
            "the adapter provides no unrunnable task",
        ));
    };
    let rt = a.runtime().await;
    let task = task_for("unrunnable", spec);
    let ctl = match within(
        a,
        "Runtime::controller",
        rt.controller(&task, TaskFiles::new()),
    )
    .await?
    {
        Err(e) if e.is_permanent() => return Ok(CheckOutcome::Passed),
        Err(e) => return fail(format!("controller refused with a temporary error: {e}")),
        Ok(c) => c,
    };
    let result = match within(a, "prepare", ctl.prepare()).await? {
        Err(e) => Err(e),
        Ok(()) => within(a, "start", ctl.start()).await?,
    };
    match result {
        Ok(()) => return fail("an unrunnable task was prepared and started"),
        Err(e) if e.is_temporary() => {
            return fail(format!(
                "refused with a temporary error ({e}); it must be permanent"
            ));
        }
        Err(_) => {}
    }
    remove_and_check(a, ctl.as_ref(), &task).await?;
    Ok(CheckOutcome::Passed)
}
