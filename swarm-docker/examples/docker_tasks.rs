//! Runs a few swarm tasks as real containers through the Docker adapter and prints their
//! lifecycle: a task reading a secret, a batch task that fails, a service stopped gracefully, and
//! a task whose health check passes.
//!
//! ```text
//! .ci/docker-up                     # installs and starts dockerd, builds the busybox test image
//! cargo run -p swarm-mode-docker --example docker_tasks
//! ```
//!
//! The image defaults to `swarm-test-busybox:latest` (what `.ci/docker-up` builds); set
//! `SWARM_EXAMPLE_IMAGE` to any image with `/bin/sh`.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use swarm_core::model::{
    ContainerSpec, FileTarget, HealthCheck, SecretReference, Task, TaskId, TaskSpec, TaskState,
};
use swarm_core::runtime::collect_text;
use swarm_core::runtime::{Controller, HealthStatus, LogOptions, Runtime, TaskFiles};
use swarm_docker::{DockerConfig, DockerError, DockerRuntime};

fn spec(image: &str, script: &str) -> TaskSpec {
    TaskSpec {
        container: ContainerSpec {
            image: image.to_owned(),
            command: vec!["/bin/sh".into(), "-c".into(), script.into()],
            ..ContainerSpec::default()
        },
        ..TaskSpec::default()
    }
}

struct Clock(Instant);

impl Clock {
    fn log(&self, task: &TaskId, what: impl std::fmt::Display) {
        println!(
            "[{:>7.3}s] {:<14} {what}",
            self.0.elapsed().as_secs_f64(),
            task.as_str()
        );
    }
}

async fn run(
    clock: &Clock,
    rt: &Arc<dyn Runtime>,
    task: &Task,
    files: TaskFiles,
    stop_after: Option<Duration>,
) -> Result<(), Box<dyn std::error::Error>> {
    let ctl: Box<dyn Controller> = rt.controller(task, files).await?;
    clock.log(&task.id, "accepted");
    ctl.prepare().await?;
    clock.log(&task.id, "prepared (container created, secrets on tmpfs)");
    ctl.start().await?;
    clock.log(&task.id, "running");
    if let Some(mut health) = ctl.health() {
        while *health.borrow_and_update() != HealthStatus::Healthy {
            health.changed().await?;
            clock.log(&task.id, format!("health: {}", *health.borrow()));
        }
    }
    if let Some(after) = stop_after {
        tokio::time::sleep(after).await;
        clock.log(&task.id, "shutdown requested");
        ctl.shutdown().await?;
    }
    let status = ctl.wait().await?;
    // An agent reports a task it stopped on request as `shutdown`, whatever its exit code.
    let state = if stop_after.is_some() {
        TaskState::Shutdown
    } else {
        status.task_state()
    };
    clock.log(&task.id, format!("{status} -> task state {state:?}"));
    let out = collect_text(ctl.logs(LogOptions::default()).await?).await;
    for line in out.lines() {
        clock.log(&task.id, format!("  | {line}"));
    }
    ctl.remove().await?;
    clock.log(&task.id, "removed (container and secret files gone)");
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let image =
        std::env::var("SWARM_EXAMPLE_IMAGE").unwrap_or_else(|_| "swarm-test-busybox:latest".into());
    let config = DockerConfig {
        namespace: format!("example-{}", std::process::id()),
        health_poll_period: Duration::from_millis(100),
        ..DockerConfig::default()
    };
    let docker = match DockerRuntime::connect(config).await {
        Ok(d) => d,
        Err(e @ DockerError::EngineUnreachable { .. }) => {
            eprintln!("{e}\nstart an engine first, e.g. with .ci/docker-up");
            std::process::exit(2);
        }
        Err(e) => return Err(e.into()),
    };
    let node = docker.describe().await?;
    println!(
        "node {} ({}/{}), {} CPUs, {} MiB, engine {}",
        node.hostname,
        node.platform.os,
        node.platform.architecture,
        node.resources.nano_cpus / 1_000_000_000,
        node.resources.memory_bytes >> 20,
        node.engine.engine_version
    );
    let rt: Arc<dyn Runtime> = Arc::new(docker);
    let clock = Clock(Instant::now());
    let now = SystemTime::now();

    // 1. A task reading its secret, mounted read-only from tmpfs at /run/secrets/db_password.
    let mut with_secret = spec(
        &image,
        "echo \"secret mode $(stat -c %a /run/secrets/db_password), \
         $(wc -c < /run/secrets/db_password) bytes, from $(grep /run/secrets/db_password /proc/mounts \
         | cut -d' ' -f3)\"",
    );
    let mut target = FileTarget::new("db_password");
    target.mode = 0o400;
    with_secret.container.secrets = vec![SecretReference {
        secret_id: "sec-db".into(),
        secret_name: "db_password".into(),
        target,
    }];
    let t1 = Task::new("reads-secret".into(), "web".into(), with_secret, now);
    let files = TaskFiles::new().with_secret("sec-db", b"correct horse battery staple".to_vec());

    // 2. A batch task that fails with exit code 3.
    let t2 = Task::new(
        "batch-fails".into(),
        "batch".into(),
        spec(&image, "echo working; exit 3"),
        now,
    );

    // 3. A service stopped gracefully: it traps SIGTERM and exits 0 within its grace period.
    let mut long = spec(
        &image,
        "trap 'echo got SIGTERM, cleaning up; exit 0' TERM; echo serving; sleep 3600 & wait",
    );
    long.container.stop_grace_period = Duration::from_secs(5);
    let t3 = Task::new("stops-nicely".into(), "api".into(), long, now);

    // 4. A task with a health check that passes.
    let mut healthy = spec(&image, "trap 'exit 0' TERM; sleep 3600 & wait");
    healthy.container.healthcheck = Some(HealthCheck {
        test: vec!["CMD-SHELL".into(), "true".into()],
        interval: Duration::from_millis(200),
        timeout: Duration::from_secs(2),
        retries: 2,
        start_period: Duration::ZERO,
    });
    let t4 = Task::new("health-checked".into(), "cache".into(), healthy, now);

    let (r1, r2, r3, r4) = tokio::join!(
        run(&clock, &rt, &t1, files, None),
        run(&clock, &rt, &t2, TaskFiles::new(), None),
        run(
            &clock,
            &rt,
            &t3,
            TaskFiles::new(),
            Some(Duration::from_millis(500))
        ),
        run(&clock, &rt, &t4, TaskFiles::new(), Some(Duration::ZERO)),
    );
    for r in [r1, r2, r3, r4] {
        r?;
    }
    println!("all tasks done in {:.3}s", clock.0.elapsed().as_secs_f64());
    Ok(())
}
