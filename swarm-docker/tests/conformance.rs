//! The runtime conformance suite of `swarm_core::testkit`, run against a real Docker engine.
//! Each check is its own test (they run in parallel, each with its own namespace); every test
//! skips with a loud message when no engine can be reached (fails under `CI=true`).

mod common;

use async_trait::async_trait;
use common::{
    IGNORES_TERM, LONG_RUNNING, TEST_IMAGE, TestRuntime, check, connect, sh, test_config,
};
use std::sync::Arc;
use swarm_core::model::{Task, TaskSpec};
use swarm_core::runtime::{FileKind, Runtime};
use swarm_core::testkit::{ConformanceAdapter, FileProbe};
use swarm_docker::DockerRuntime;

struct DockerAdapter {
    runtime: TestRuntime,
}

#[async_trait]
impl ConformanceAdapter for DockerAdapter {
    async fn runtime(&self) -> Arc<dyn Runtime> {
        Arc::new(DockerRuntime::clone(&self.runtime))
    }

    fn exits_with(&self, code: i32) -> TaskSpec {
        sh(&format!("exit {code}"))
    }

    fn prints(&self, line: &str) -> TaskSpec {
        sh(&format!("echo '{line}'"))
    }

    fn long_running(&self) -> TaskSpec {
        sh(LONG_RUNNING)
    }

    fn ignores_stop_signal(&self) -> TaskSpec {
        sh(IGNORES_TERM)
    }

    fn probes_files(&self, probes: &[FileProbe]) -> TaskSpec {
        let mut script = String::new();
        for p in probes {
            // Where Docker puts a bare name: /run/secrets/<name> or /<name>.
            let path = if p.target.starts_with('/') {
                p.target.clone()
            } else {
                match p.kind {
                    FileKind::Secret => format!("/run/secrets/{}", p.target),
                    FileKind::Config => format!("/{}", p.target),
                }
            };
            let prefix = format!("probe {} {}", p.kind.as_str(), p.target);
            script.push_str(&format!(
                "if [ -f '{path}' ]; then echo \"{prefix} mode=$(stat -c %a '{path}') \
                 content=$(cat '{path}')\"; else echo '{prefix} missing'; fi\n"
            ));
        }
        sh(&script)
    }

    async fn assert_removed(&self, task: &Task) -> Result<(), String> {
        common::assert_removed(&self.runtime, task).await
    }

    fn healthy_task(&self) -> Option<TaskSpec> {
        let mut spec = sh(LONG_RUNNING);
        spec.container.healthcheck = Some(check("true"));
        Some(spec)
    }

    fn unhealthy_task(&self) -> Option<TaskSpec> {
        let mut spec = sh(LONG_RUNNING);
        spec.container.healthcheck = Some(check("false"));
        Some(spec)
    }

    fn unrunnable_task(&self) -> Option<TaskSpec> {
        let mut spec = sh("exit 0");
        spec.container.image = format!("{TEST_IMAGE}-does-not-exist");
        Some(spec)
    }
}

macro_rules! docker_conformance {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let Some(runtime) = connect(test_config(stringify!($check))).await else {
                    return;
                };
                let adapter = DockerAdapter { runtime };
                swarm_core::testkit::expect_passed(
                    stringify!($check),
                    swarm_core::testkit::conformance::$check(&adapter).await,
                );
            }
        )*
        /// Every check of the suite has a test here.
        #[test]
        fn every_check_is_run() {
            let ours: &[&str] = &[$(stringify!($check)),*];
            for name in swarm_core::testkit::CHECK_NAMES {
                assert!(ours.contains(name), "conformance check {name} is not run");
            }
        }
    };
}

docker_conformance!(
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
    unrunnable_task_fails_permanently,
);
