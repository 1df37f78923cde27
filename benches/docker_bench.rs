//! Bench of the Docker adapter against the local engine: one line per scenario.
//!
//! ```text
//! cargo run --release -p benches --bin docker_bench
//! ```
//!
//! Scenarios:
//! - `lifecycle`: one task at a time through controller → prepare → start → wait (exit 0) →
//!   remove; reports the median and the best of the per-task times.
//! - `start_N`: N long-running tasks prepared and started concurrently; time until every one is
//!   running (compare with SwarmKit's "create N replicas → all running"), then time to remove
//!   them all.
//! - `secret_task`: like `lifecycle`, with one secret written to tmpfs and bind-mounted.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use swarm_core::model::{ContainerSpec, FileTarget, SecretReference, Task, TaskSpec};
use swarm_core::runtime::{Controller, Runtime, TaskFiles};
use swarm_docker::{DockerConfig, DockerRuntime};

/// Tasks of the sequential scenarios.
const SEQUENTIAL_TASKS: usize = 20;
/// Sizes of the concurrent start scenarios.
const CONCURRENT_SIZES: [usize; 2] = [10, 50];

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

fn task(name: String, spec: TaskSpec) -> Task {
    Task::new(name.into(), "bench".into(), spec, SystemTime::now())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn lifecycle(
    rt: &Arc<dyn Runtime>,
    t: &Task,
    files: TaskFiles,
) -> Result<Duration, Box<dyn std::error::Error>> {
    let start = Instant::now();
    let ctl = rt.controller(t, files).await?;
    ctl.prepare().await?;
    ctl.start().await?;
    let status = ctl.wait().await?;
    if !status.success() {
        return Err(format!("task {} {status}", t.id).into());
    }
    ctl.remove().await?;
    Ok(start.elapsed())
}

async fn sequential(
    name: &str,
    rt: &Arc<dyn Runtime>,
    image: &str,
    with_secret: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut times = Vec::with_capacity(SEQUENTIAL_TASKS);
    for i in 0..SEQUENTIAL_TASKS {
        let mut s = spec(image, "exit 0");
        let mut files = TaskFiles::new();
        if with_secret {
            s.container.secrets = vec![SecretReference {
                secret_id: "s".into(),
                secret_name: "s".into(),
                target: FileTarget::new("token"),
            }];
            files = files.with_secret("s", b"bench-secret".to_vec());
        }
        let t = task(format!("{name}-{i}"), s);
        times.push(lifecycle(rt, &t, files).await?);
    }
    times.sort();
    println!(
        "{name}: {SEQUENTIAL_TASKS} tasks one at a time, median {:.1} ms, best {:.1} ms per task \
         (controller+prepare+start+wait+remove)",
        ms(times[times.len() / 2]),
        ms(times[0])
    );
    Ok(())
}

async fn concurrent(
    n: usize,
    rt: &Arc<dyn Runtime>,
    image: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let mut handles = Vec::with_capacity(n);
    for i in 0..n {
        let rt = rt.clone();
        let t = task(
            format!("start{n}-{i}"),
            spec(image, "trap 'exit 0' TERM; sleep 3600 & wait"),
        );
        handles.push(tokio::spawn(async move {
            let ctl = rt.controller(&t, TaskFiles::new()).await?;
            ctl.prepare().await?;
            ctl.start().await?;
            Ok::<_, swarm_core::runtime::RuntimeError>(ctl)
        }));
    }
    let mut ctls: Vec<Box<dyn Controller>> = Vec::with_capacity(n);
    for h in handles {
        ctls.push(h.await??);
    }
    let all_running = start.elapsed();
    let start = Instant::now();
    let mut handles = Vec::with_capacity(n);
    for ctl in ctls {
        handles.push(tokio::spawn(async move { ctl.remove().await }));
    }
    for h in handles {
        h.await??;
    }
    let removed = start.elapsed();
    println!(
        "start_{n}: {n} tasks concurrently, all running after {:.3} s, all removed after {:.3} s",
        all_running.as_secs_f64(),
        removed.as_secs_f64()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let image =
        std::env::var("SWARM_EXAMPLE_IMAGE").unwrap_or_else(|_| "swarm-test-busybox:latest".into());
    let config = DockerConfig {
        namespace: format!("bench-{}", std::process::id()),
        ..DockerConfig::default()
    };
    let docker = DockerRuntime::connect(config).await?;
    let rt: Arc<dyn Runtime> = Arc::new(docker);
    sequential("lifecycle", &rt, &image, false).await?;
    sequential("secret_task", &rt, &image, true).await?;
    for n in CONCURRENT_SIZES {
        concurrent(n, &rt, &image).await?;
    }
    Ok(())
}
