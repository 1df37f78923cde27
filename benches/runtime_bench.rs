//! Runtime lifecycle benchmark: one line per scenario.
//!
//! A lifecycle is `controller → prepare → start → wait → remove`. Scenarios: MockRuntime (pure
//! overhead of the trait objects, channels and the scripted task) and ProcessRuntime with a real
//! `/bin/true` (fork/exec, private tmpfs directory with one secret file, process-group cleanup),
//! sequentially (latency percentiles) and with many tasks in flight (throughput).
//!
//! Run: `cargo run --release -p benches --bin runtime_bench`

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use swarm_core::model::{FileTarget, SecretReference, Task, TaskSpec};
use swarm_core::runtime::mock::{MockRuntime, MockScript};
use swarm_core::runtime::process::ProcessRuntime;
use swarm_core::runtime::{Runtime, RuntimeError, TaskFiles};

/// Tasks per mock scenario.
const MOCK_TASKS: usize = 20_000;
/// Tasks per process scenario.
const PROCESS_TASKS: usize = 300;
/// Tasks in flight in the concurrent scenarios.
const IN_FLIGHT: usize = 32;

async fn lifecycle(rt: &dyn Runtime, task: &Task, files: TaskFiles) -> Result<(), RuntimeError> {
    let ctl = rt.controller(task, files).await?;
    ctl.prepare().await?;
    ctl.start().await?;
    let status = ctl.wait().await?;
    assert!(status.success(), "{status}");
    ctl.remove().await
}

fn task(prefix: &str, i: usize, spec: &TaskSpec) -> Task {
    let prefix: String = prefix
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    Task::new(
        format!("{prefix}-{i}").into(),
        "bench".into(),
        spec.clone(),
        SystemTime::now(),
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

async fn sequential(
    name: &str,
    rt: &dyn Runtime,
    n: usize,
    spec: &TaskSpec,
    files: impl Fn() -> TaskFiles,
) -> Result<(), RuntimeError> {
    let mut lat = Vec::with_capacity(n);
    let t0 = Instant::now();
    for i in 0..n {
        let t = task(name, i, spec);
        let s = Instant::now();
        lifecycle(rt, &t, files()).await?;
        lat.push(s.elapsed());
    }
    let total = t0.elapsed();
    lat.sort();
    println!(
        "{name:<28} {n:>6} lifecycles in {:>8.3}s  {:>9.0}/s  p50 {:>9.1?}  p99 {:>9.1?}",
        total.as_secs_f64(),
        n as f64 / total.as_secs_f64(),
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
    );
    Ok(())
}

async fn concurrent(
    name: &str,
    rt: Arc<dyn Runtime>,
    n: usize,
    spec: &TaskSpec,
    files: impl Fn() -> TaskFiles,
) -> Result<(), RuntimeError> {
    let t0 = Instant::now();
    let mut i = 0;
    while i < n {
        let batch: Vec<_> = (i..(i + IN_FLIGHT).min(n))
            .map(|k| {
                let rt = Arc::clone(&rt);
                let t = task(name, k, spec);
                let f = files();
                tokio::spawn(async move { lifecycle(rt.as_ref(), &t, f).await })
            })
            .collect();
        for handle in batch {
            handle.await.map_err(|e| {
                RuntimeError::permanent(swarm_core::runtime::LifecycleStep::Wait, e.to_string())
            })??;
        }
        i += IN_FLIGHT;
    }
    let total = t0.elapsed();
    println!(
        "{name:<28} {n:>6} lifecycles in {:>8.3}s  {:>9.0}/s  ({IN_FLIGHT} in flight)",
        total.as_secs_f64(),
        n as f64 / total.as_secs_f64(),
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), RuntimeError> {
    let mock = MockRuntime::new().with_default_script(MockScript::new());
    let mut mock_spec = TaskSpec::default();
    mock_spec.container.image = "bench".into();
    sequential(
        "mock sequential",
        &mock,
        MOCK_TASKS,
        &mock_spec,
        TaskFiles::new,
    )
    .await?;
    concurrent(
        "mock concurrent",
        Arc::new(mock),
        MOCK_TASKS,
        &mock_spec,
        TaskFiles::new,
    )
    .await?;

    let process = ProcessRuntime::new()?;
    let mut spec = TaskSpec::default();
    spec.container.image = "/bin/true".into();
    sequential(
        "process /bin/true",
        &process,
        PROCESS_TASKS,
        &spec,
        TaskFiles::new,
    )
    .await?;
    let mut with_secret = spec.clone();
    with_secret.container.secrets = vec![SecretReference {
        secret_id: "s".into(),
        secret_name: "s".into(),
        target: FileTarget::new("token"),
    }];
    let secret = || TaskFiles::new().with_secret("s", vec![7u8; 4096]);
    sequential(
        "process /bin/true + secret",
        &process,
        PROCESS_TASKS,
        &with_secret,
        secret,
    )
    .await?;
    concurrent(
        "process concurrent + secret",
        Arc::new(process),
        PROCESS_TASKS,
        &with_secret,
        secret,
    )
    .await?;
    Ok(())
}
