//! MockRuntime: the runtime conformance suite (on tokio's paused clock) and scripted behaviour.

use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;
use swarm_core::model::{Task, TaskSpec};
use swarm_core::runtime::mock::{MockScript, task_for_image};
use swarm_core::runtime::{
    ErrorKind, ExitStatus, FileKind, HealthStatus, LifecycleStep, LogOptions, Runtime,
    RuntimeError, TaskFiles, collect_text, mock::MockRuntime,
};
use swarm_core::testkit::{ConformanceAdapter, FileProbe};

struct MockAdapter {
    mock: MockRuntime,
}

impl MockAdapter {
    fn new() -> Self {
        let mock = MockRuntime::new()
            .with_script(
                "long",
                MockScript::new()
                    .run_until_stopped()
                    .stop_delay(Duration::from_millis(100)),
            )
            .with_script(
                "stubborn",
                MockScript::new()
                    .run_until_stopped()
                    .ignore_stop_signal()
                    .prints("ready"),
            )
            .with_script(
                "healthy",
                MockScript::new()
                    .run_until_stopped()
                    .healthy_after(Duration::from_millis(300)),
            )
            .with_script(
                "unhealthy",
                MockScript::new()
                    .run_until_stopped()
                    .unhealthy_after(Duration::from_millis(300)),
            );
        MockAdapter { mock }
    }

    fn spec(image: &str) -> TaskSpec {
        let mut spec = TaskSpec::default();
        spec.container.image = image.to_owned();
        spec
    }
}

#[async_trait]
impl ConformanceAdapter for MockAdapter {
    async fn runtime(&self) -> Arc<dyn Runtime> {
        Arc::new(self.mock.clone())
    }

    fn exits_with(&self, code: i32) -> TaskSpec {
        let image = format!("exit-{code}");
        self.mock.register(
            image.clone(),
            MockScript::new().exit_after(Duration::from_millis(50), code),
        );
        Self::spec(&image)
    }

    fn prints(&self, line: &str) -> TaskSpec {
        let image = format!("print-{line}");
        self.mock.register(
            image.clone(),
            MockScript::new()
                .prints(line)
                .exit_after(Duration::from_millis(10), 0),
        );
        Self::spec(&image)
    }

    fn long_running(&self) -> TaskSpec {
        Self::spec("long")
    }

    fn ignores_stop_signal(&self) -> TaskSpec {
        Self::spec("stubborn")
    }

    fn probes_files(&self, probes: &[FileProbe]) -> TaskSpec {
        let image = format!(
            "probe-{}",
            probes
                .iter()
                .map(|p| p.target.as_str())
                .collect::<Vec<_>>()
                .join(",")
        );
        self.mock.register(
            image.clone(),
            MockScript::new()
                .probes_files(probes.iter().map(|p| (p.kind, p.target.clone())).collect())
                .exit_after(Duration::from_millis(10), 0),
        );
        Self::spec(&image)
    }

    async fn assert_removed(&self, task: &Task) -> Result<(), String> {
        if self.mock.is_live(&task.id) {
            return Err(format!(
                "the mock still holds the task ({} files)",
                self.mock.visible_files(&task.id).len()
            ));
        }
        if self.mock.running_tasks().contains(&task.id) {
            return Err("the task still runs".into());
        }
        Ok(())
    }

    fn healthy_task(&self) -> Option<TaskSpec> {
        Some(Self::spec("healthy"))
    }

    fn unhealthy_task(&self) -> Option<TaskSpec> {
        Some(Self::spec("unhealthy"))
    }

    fn unrunnable_task(&self) -> Option<TaskSpec> {
        Some(Self::spec("no-such-image"))
    }
}

// One test per check, all on tokio's paused clock (grace periods of 30 s take no real time).
swarm_core::runtime_conformance_tests!(#[tokio::test(start_paused = true)]; MockAdapter::new());

#[tokio::test(start_paused = true)]
async fn whole_suite_passes_in_one_run() {
    let report = swarm_core::testkit::run_all(&MockAdapter::new()).await;
    report.assert_all_passed();
    assert_eq!(report.results.len(), swarm_core::testkit::CHECK_NAMES.len());
    assert_eq!(report.skipped(), 0);
}

#[tokio::test(start_paused = true)]
async fn scripted_temporary_failure_then_success() {
    let mock = MockRuntime::new().with_script(
        "flaky",
        MockScript::new()
            .fail_at(LifecycleStep::Start, ErrorKind::Temporary, 2)
            .exit_after(Duration::from_secs(1), 0),
    );
    let ctl = mock
        .controller(&task_for_image("t", "flaky"), TaskFiles::new())
        .await
        .unwrap();
    ctl.prepare().await.unwrap();
    for _ in 0..2 {
        let e = ctl.start().await.unwrap_err();
        assert!(e.is_retryable(), "{e}");
        assert!(matches!(
            e,
            RuntimeError::Temporary {
                step: LifecycleStep::Start,
                ..
            }
        ));
    }
    ctl.start().await.unwrap();
    assert!(ctl.wait().await.unwrap().success());
    ctl.remove().await.unwrap();
    let steps = mock.calls_for(&"t".into());
    assert_eq!(
        steps,
        vec![
            LifecycleStep::Create,
            LifecycleStep::Prepare,
            LifecycleStep::Start,
            LifecycleStep::Start,
            LifecycleStep::Start,
            LifecycleStep::Wait,
            LifecycleStep::Remove
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn scripted_permanent_failure_at_prepare() {
    let mock = MockRuntime::new().with_script(
        "broken",
        MockScript::new().fail_at(LifecycleStep::Prepare, ErrorKind::Permanent, u32::MAX),
    );
    let ctl = mock
        .controller(&task_for_image("t", "broken"), TaskFiles::new())
        .await
        .unwrap();
    for _ in 0..3 {
        assert!(ctl.prepare().await.unwrap_err().is_permanent());
    }
    assert!(matches!(
        ctl.start().await.unwrap_err(),
        RuntimeError::InvalidState { .. }
    ));
    ctl.remove().await.unwrap();
    assert!(mock.live_tasks().is_empty());
}

#[tokio::test(start_paused = true)]
async fn timings_follow_the_paused_clock() {
    let mock = MockRuntime::new().with_script(
        "slow",
        MockScript::new()
            .prepare_delay(Duration::from_secs(20))
            .start_delay(Duration::from_secs(3))
            .exit_after(Duration::from_secs(60), 7),
    );
    let t0 = tokio::time::Instant::now();
    let ctl = mock
        .controller(&task_for_image("t", "slow"), TaskFiles::new())
        .await
        .unwrap();
    ctl.prepare().await.unwrap();
    assert_eq!(t0.elapsed(), Duration::from_secs(20));
    ctl.start().await.unwrap();
    assert_eq!(t0.elapsed(), Duration::from_secs(23));
    assert_eq!(ctl.wait().await.unwrap(), ExitStatus::Exited { code: 7 });
    assert_eq!(t0.elapsed(), Duration::from_secs(83));
    ctl.remove().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn health_flaps_on_schedule() {
    let mock = MockRuntime::new().with_script(
        "flappy",
        MockScript::new()
            .run_until_stopped()
            .health_flapping(Duration::from_secs(2), Duration::from_secs(1)),
    );
    let ctl = mock
        .controller(&task_for_image("t", "flappy"), TaskFiles::new())
        .await
        .unwrap();
    ctl.prepare().await.unwrap();
    let mut rx = ctl.health().unwrap();
    assert_eq!(*rx.borrow(), HealthStatus::Starting);
    ctl.start().await.unwrap();
    let t0 = tokio::time::Instant::now();
    let mut seen = Vec::new();
    while seen.len() < 5 {
        rx.changed().await.unwrap();
        seen.push((*rx.borrow(), t0.elapsed().as_secs()));
    }
    assert_eq!(
        seen,
        vec![
            (HealthStatus::Healthy, 0),
            (HealthStatus::Unhealthy, 2),
            (HealthStatus::Healthy, 3),
            (HealthStatus::Unhealthy, 5),
            (HealthStatus::Healthy, 6),
        ]
    );
    ctl.terminate().await.unwrap();
    ctl.remove().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn graceful_stop_slower_than_grace_is_killed() {
    let mock = MockRuntime::new().with_script(
        "slowstop",
        MockScript::new()
            .run_until_stopped()
            .stop_delay(Duration::from_secs(15)),
    );
    let mut task = task_for_image("t", "slowstop");
    task.spec.container.stop_grace_period = Duration::from_secs(5);
    let ctl = mock.controller(&task, TaskFiles::new()).await.unwrap();
    ctl.prepare().await.unwrap();
    ctl.start().await.unwrap();
    let t0 = tokio::time::Instant::now();
    ctl.shutdown().await.unwrap();
    assert_eq!(t0.elapsed(), Duration::from_secs(5));
    assert!(ctl.wait().await.unwrap().is_forced_kill());
    ctl.remove().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn files_are_exactly_the_referenced_ones_and_dropped_on_remove() {
    use swarm_core::model::{FileTarget, SecretReference};
    let mock = MockRuntime::new().with_default_script(MockScript::new().run_until_stopped());
    let mut task = task_for_image("t", "anything");
    task.spec.container.secrets = vec![SecretReference {
        secret_id: "s1".into(),
        secret_name: "db".into(),
        target: FileTarget::new("db_password"),
    }];
    let files = TaskFiles::new()
        .with_secret("s1", b"pw".to_vec())
        .with_secret("s2", b"other".to_vec());
    let ctl = mock.controller(&task, files).await.unwrap();
    assert!(mock.visible_files(&task.id).is_empty());
    ctl.prepare().await.unwrap();
    let seen = mock.visible_files(&task.id);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].kind, FileKind::Secret);
    assert_eq!(seen[0].mode, 0o444);
    assert_eq!(seen[0].data.expose(), b"pw");
    assert!(!format!("{seen:?}").contains("pw\""));
    ctl.start().await.unwrap();
    ctl.remove().await.unwrap();
    assert!(mock.visible_files(&task.id).is_empty());
    assert!(mock.live_tasks().is_empty());
}

#[tokio::test(start_paused = true)]
async fn dropped_controller_leaves_nothing() {
    let mock = MockRuntime::new().with_default_script(MockScript::new().run_until_stopped());
    {
        let ctl = mock
            .controller(&task_for_image("t", "x"), TaskFiles::new())
            .await
            .unwrap();
        ctl.prepare().await.unwrap();
        ctl.start().await.unwrap();
        assert_eq!(mock.running_tasks().len(), 1);
    }
    assert!(mock.live_tasks().is_empty());
}

#[tokio::test(start_paused = true)]
async fn logs_follow_scripted_output() {
    let mock = MockRuntime::new().with_script(
        "talker",
        MockScript::new()
            .prints("one")
            .output_after(
                Duration::from_secs(1),
                swarm_core::runtime::LogStreamKind::Stderr,
                b"two\n".to_vec(),
            )
            .exit_after(Duration::from_secs(2), 0),
    );
    let ctl = mock
        .controller(&task_for_image("t", "talker"), TaskFiles::new())
        .await
        .unwrap();
    ctl.prepare().await.unwrap();
    ctl.start().await.unwrap();
    let follow = ctl
        .logs(LogOptions {
            follow: true,
            tail_bytes: None,
        })
        .await
        .unwrap();
    assert_eq!(collect_text(follow).await, "one\ntwo\n");
    ctl.remove().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// The suite is not vacuous: broken adapters fail the checks that target their defect.

/// Wraps the mock adapter, breaking one thing.
struct Broken {
    base: MockAdapter,
    defect: Defect,
}

#[derive(Clone, Copy, PartialEq)]
enum Defect {
    /// The "long-running" task ignores its stop signal (as if the runtime never delivered it).
    StopSignalLost,
    /// Tasks exit with the wrong code.
    WrongExitCode,
    /// Something survives `remove`.
    LeftoversAfterRemove,
    /// The runtime exposes every secret it is handed, referenced or not.
    LeaksSecrets,
}

/// A runtime that materialises every secret it receives (a leak the suite must catch).
struct LeakyRuntime(MockRuntime);

#[async_trait]
impl Runtime for LeakyRuntime {
    async fn describe(&self) -> Result<swarm_core::model::NodeDescription, RuntimeError> {
        self.0.describe().await
    }

    async fn controller(
        &self,
        task: &Task,
        files: TaskFiles,
    ) -> Result<Box<dyn swarm_core::runtime::Controller>, RuntimeError> {
        use swarm_core::model::{FileTarget, SecretReference};
        let mut task = task.clone();
        for id in files.secrets.keys() {
            if !task
                .spec
                .container
                .secrets
                .iter()
                .any(|r| &r.secret_id == id)
            {
                task.spec.container.secrets.push(SecretReference {
                    secret_id: id.clone(),
                    secret_name: id.to_string(),
                    target: FileTarget::new("conformance_extra"),
                });
            }
        }
        self.0.controller(&task, files).await
    }
}

#[async_trait]
impl ConformanceAdapter for Broken {
    async fn runtime(&self) -> Arc<dyn Runtime> {
        if self.defect == Defect::LeaksSecrets {
            Arc::new(LeakyRuntime(self.base.mock.clone()))
        } else {
            self.base.runtime().await
        }
    }
    fn exits_with(&self, code: i32) -> TaskSpec {
        if self.defect == Defect::WrongExitCode {
            self.base.exits_with(code + 1)
        } else {
            self.base.exits_with(code)
        }
    }
    fn prints(&self, line: &str) -> TaskSpec {
        self.base.prints(line)
    }
    fn long_running(&self) -> TaskSpec {
        if self.defect == Defect::StopSignalLost {
            self.base.ignores_stop_signal()
        } else {
            self.base.long_running()
        }
    }
    fn ignores_stop_signal(&self) -> TaskSpec {
        self.base.ignores_stop_signal()
    }
    fn probes_files(&self, probes: &[FileProbe]) -> TaskSpec {
        self.base.probes_files(probes)
    }
    async fn assert_removed(&self, task: &Task) -> Result<(), String> {
        if self.defect == Defect::LeftoversAfterRemove {
            return Err("a stray file".into());
        }
        self.base.assert_removed(task).await
    }
}

#[tokio::test(start_paused = true)]
async fn broken_adapters_fail_the_relevant_checks() {
    for (defect, must_fail) in [
        (
            Defect::StopSignalLost,
            &["shutdown_stops_long_task_gracefully"][..],
        ),
        (
            Defect::WrongExitCode,
            &["exit_code_zero_completes", "exit_code_three_fails"][..],
        ),
        (
            Defect::LeftoversAfterRemove,
            &[
                "exit_code_zero_completes",
                "remove_kills_running_task",
                "stop_and_remove_are_idempotent",
            ][..],
        ),
        (
            Defect::LeaksSecrets,
            &["unrequested_secret_never_visible"][..],
        ),
    ] {
        let adapter = Broken {
            base: MockAdapter::new(),
            defect,
        };
        let report = swarm_core::testkit::run_all(&adapter).await;
        let failed: Vec<&str> = report.failures().iter().map(|(n, _)| *n).collect();
        for name in must_fail {
            assert!(
                failed.contains(name),
                "defect {} not caught by {name}; report:\n{report}",
                match defect {
                    Defect::StopSignalLost => "stop signal lost",
                    Defect::WrongExitCode => "wrong exit code",
                    Defect::LeftoversAfterRemove => "leftovers",
                    Defect::LeaksSecrets => "leaks secrets",
                }
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn one_controller_per_task_id() {
    let mock = MockRuntime::new().with_default_script(MockScript::new());
    let t = task_for_image("t", "x");
    let first = mock.controller(&t, TaskFiles::new()).await.unwrap();
    assert!(matches!(
        mock.controller(&t, TaskFiles::new()).await,
        Err(RuntimeError::InvalidState { .. })
    ));
    first.remove().await.unwrap();
    let second = mock.controller(&t, TaskFiles::new()).await.unwrap();
    drop(second);
    mock.controller(&t, TaskFiles::new()).await.unwrap();
}
