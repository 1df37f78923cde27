//! A newcomer's tour of `ProcessRuntime`: four real OS processes driven through their
//! lifecycle, printing every state change with its time since the start of the demo.
//!
//! - `batch-ok` completes (exit 0);
//! - `batch-fail` fails with exit code 3;
//! - `web` runs until the demo shuts it down gracefully (it handles SIGTERM), and reports its
//!   health check on the way;
//! - `secret-reader` reads its secret file and prints the file's mode and SHA-256 digest —
//!   never the secret itself.
//!
//! Run it with `cargo run --example process_demo` (about 3 seconds).

use std::sync::Arc;
use std::time::{Duration, SystemTime};
use swarm::core::model::{FileTarget, HealthCheck, SecretReference, Task, TaskSpec, TaskState};
use swarm::core::runtime::collect_text;
use swarm::core::runtime::process::ProcessRuntime;
use swarm::core::runtime::{LogOptions, Runtime, RuntimeError, TaskFiles};
use tokio::time::Instant;

/// Prints one line: elapsed time, task name, event.
fn event(t0: Instant, name: &str, what: impl std::fmt::Display) {
    println!("[{:>7.3}s] {name:<14} {what}", t0.elapsed().as_secs_f64());
}

fn shell(script: &str) -> TaskSpec {
    let mut spec = TaskSpec::default();
    spec.container.command = vec!["/bin/sh".into(), "-c".into(), script.into()];
    spec
}

/// Drives one task: prepare → start → (wait | shutdown after `stop_after`) → remove.
async fn drive(
    runtime: Arc<ProcessRuntime>,
    t0: Instant,
    name: &'static str,
    spec: TaskSpec,
    files: TaskFiles,
    stop_after: Option<Duration>,
) -> Result<(), RuntimeError> {
    let task = Task::new(
        format!("demo-{name}").into(),
        "demo".into(),
        spec,
        SystemTime::now(),
    );
    let ctl = runtime.controller(&task, files).await?;
    event(t0, name, TaskState::Preparing);
    ctl.prepare().await?;
    event(t0, name, TaskState::Ready);
    event(t0, name, TaskState::Starting);
    ctl.start().await?;
    event(t0, name, TaskState::Running);

    // Report health changes while the task runs.
    let health_watch = ctl.health().map(|mut rx| {
        tokio::spawn(async move {
            let mut last = *rx.borrow_and_update();
            event(t0, name, format!("  health: {last}"));
            while rx.changed().await.is_ok() {
                let now = *rx.borrow_and_update();
                if now != last {
                    event(t0, name, format!("  health: {last} -> {now}"));
                    last = now;
                }
            }
        })
    });

    let final_state = match stop_after {
        None => {
            let status = ctl.wait().await?;
            event(t0, name, format!("{} ({status})", status.task_state()));
            status.task_state()
        }
        Some(after) => {
            tokio::time::sleep(after).await;
            event(
                t0,
                name,
                format!(
                    "  desired state shutdown: stop signal, grace {:?}",
                    task.spec.container.stop_grace_period
                ),
            );
            ctl.shutdown().await?;
            let status = ctl.wait().await?;
            event(t0, name, format!("{} ({status})", TaskState::Shutdown));
            TaskState::Shutdown
        }
    };
    if let Some(h) = health_watch {
        h.abort();
    }
    let output = collect_text(ctl.logs(LogOptions::default()).await?).await;
    for line in output.lines() {
        event(t0, name, format!("  | {line}"));
    }
    let dir = runtime.task_dir(&task.id);
    ctl.remove().await?;
    event(
        t0,
        name,
        format!(
            "removed after {final_state}; private directory gone: {}",
            !dir.exists()
        ),
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), RuntimeError> {
    let t0 = Instant::now();
    let runtime = Arc::new(ProcessRuntime::new()?);
    let node = runtime.describe().await?;
    println!(
        "node {} ({}/{}): {} CPUs, {} MiB, engine {}, secrets on {} under {}",
        node.hostname,
        node.platform.os,
        node.platform.architecture,
        node.resources.nano_cpus / 1_000_000_000,
        node.resources.memory_bytes >> 20,
        node.engine.engine_version,
        runtime.secret_storage().as_str(),
        runtime.state_dir().display(),
    );

    let ok = shell("echo computing; sleep 0.3; echo done");
    let fail = shell("echo 'about to fail' >&2; sleep 0.6; exit 3");

    let mut web = shell(
        "trap 'echo got SIGTERM, draining; sleep 0.2; exit 0' TERM; \
         echo serving; while :; do sleep 0.05; done",
    );
    web.container.stop_grace_period = Duration::from_secs(5);
    web.container.healthcheck = Some(HealthCheck {
        test: vec!["CMD-SHELL".into(), "test -d \"$SWARM_TASK_DIR\"".into()],
        interval: Duration::from_millis(250),
        timeout: Duration::from_secs(1),
        retries: 3,
        start_period: Duration::ZERO,
    });

    let mut reader = shell(
        "f=\"$SWARM_SECRETS_DIR/db_password\"; \
         echo \"secret file mode $(stat -c %a \"$f\"), $(wc -c < \"$f\") bytes, \
         sha256 $(sha256sum \"$f\" | cut -c1-16)…\"",
    );
    let mut target = FileTarget::new("db_password");
    target.mode = 0o400;
    reader.container.secrets = vec![SecretReference {
        secret_id: "sec-db".into(),
        secret_name: "db_password".into(),
        target,
    }];
    // The runtime gets exactly the plaintext this task references; `Debug` never shows it.
    let files = TaskFiles::new().with_secret("sec-db", b"correct horse battery staple".to_vec());
    println!("secret handed to the runtime: {files:?}");

    let (a, b, c, d) = tokio::join!(
        drive(runtime.clone(), t0, "batch-ok", ok, TaskFiles::new(), None),
        drive(
            runtime.clone(),
            t0,
            "batch-fail",
            fail,
            TaskFiles::new(),
            None
        ),
        drive(
            runtime.clone(),
            t0,
            "web",
            web,
            TaskFiles::new(),
            Some(Duration::from_millis(1500))
        ),
        drive(runtime.clone(), t0, "secret-reader", reader, files, None),
    );
    a?;
    b?;
    c?;
    d?;
    println!(
        "all tasks removed in {:.3}s; live tasks left: {}",
        t0.elapsed().as_secs_f64(),
        runtime.live_tasks().len()
    );
    Ok(())
}
