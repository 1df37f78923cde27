//! Shared helpers of the Docker adapter's integration tests: engine detection (tests skip
//! loudly when no engine can be reached, and fail under CI), the busybox test image (built by
//! the tests when the engine lacks it), task specs in busybox terms, cluster networks on free
//! subnets and the "nothing left" check.
#![allow(dead_code, unreachable_pub)]

mod cluster_network;
mod skip;
mod static_busybox;
mod tar_writer;
mod test_image;

// Only the networks tests use it; each test binary compiles this module on its own.
#[allow(unused_imports)]
pub use cluster_network::ClusterNet;
pub use skip::skip;
pub use test_image::TEST_IMAGE;

use bollard::query_parameters::{ListContainersOptionsBuilder, ListNetworksOptionsBuilder};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};
use swarm_core::model::{ContainerSpec, HealthCheck, Task, TaskId, TaskSpec};
use swarm_docker::{DockerConfig, DockerError, DockerRuntime};
use swarm_docker::{LABEL_NAMESPACE, LABEL_TASK_ID};
use test_image::{ImageUnavailable, ensure_test_image};

/// A namespace no other test (or test run) uses, so orphan clean-ups never cross.
pub fn unique_namespace(what: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "test-{what}-{}-{nanos:x}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A config for tests: its own namespace, fast health polling.
pub fn test_config(what: &str) -> DockerConfig {
    DockerConfig {
        namespace: unique_namespace(what),
        health_poll_period: Duration::from_millis(100),
        ..DockerConfig::default()
    }
}

/// A runtime for one test. When dropped (also when the test panics) it removes every container,
/// file and local network of its namespace, so a failed test leaves nothing on the engine.
pub struct TestRuntime {
    runtime: DockerRuntime,
}

impl std::ops::Deref for TestRuntime {
    type Target = DockerRuntime;
    fn deref(&self) -> &DockerRuntime {
        &self.runtime
    }
}

impl Drop for TestRuntime {
    fn drop(&mut self) {
        let config = self.runtime.config().clone();
        // A fresh runtime (no live controllers) on its own thread: Drop cannot await.
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime for the clean-up");
            rt.block_on(async {
                let docker = DockerRuntime::connect(config).await?;
                let mut report = docker.cleanup_orphans(&Default::default()).await?;
                // A container whose removal a dropped controller started is left to it by a
                // sweep, and its network stays while it goes: sweep again until nothing of the
                // namespace is left.
                for _ in 1..CLEANUP_SWEEPS {
                    if !namespace_has_leftovers(&docker).await {
                        break;
                    }
                    tokio::time::sleep(CLEANUP_RETRY_PERIOD).await;
                    let more = docker.cleanup_orphans(&Default::default()).await?;
                    report.containers.extend(more.containers);
                    report.networks.extend(more.networks);
                }
                Ok::<_, DockerError>(report)
            })
        });
        match cleanup.join() {
            Ok(Ok(report)) if !report.containers.is_empty() => {
                eprintln!(
                    "test clean-up removed leftover containers {:?}",
                    report.containers
                )
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => eprintln!("test clean-up failed: {e}"),
            Err(_) => eprintln!("test clean-up panicked"),
        }
    }
}

/// Most orphan sweeps of a test runtime's clean-up (worst case about
/// `CLEANUP_SWEEPS × CLEANUP_RETRY_PERIOD` plus the sweeps themselves).
const CLEANUP_SWEEPS: usize = 20;

/// Pause between two sweeps of a test runtime's clean-up.
const CLEANUP_RETRY_PERIOD: Duration = Duration::from_millis(250);

/// Whether a container or a local network of `docker`'s namespace is still on the engine.
async fn namespace_has_leftovers(docker: &DockerRuntime) -> bool {
    let label = format!("{LABEL_NAMESPACE}={}", docker.config().namespace);
    let filters = HashMap::from([("label", vec![label])]);
    let containers = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    let networks = ListNetworksOptionsBuilder::default()
        .filters(&filters)
        .build();
    let client = docker.client();
    // An engine that cannot answer has nothing more to be swept by us.
    client
        .list_containers(Some(containers))
        .await
        .is_ok_and(|c| !c.is_empty())
        || client
            .list_networks(Some(networks))
            .await
            .is_ok_and(|n| !n.is_empty())
}

/// Connects and makes sure the engine has [`TEST_IMAGE`] (building it once per test process
/// when it is absent). Returns `None` after a loud `!!! SKIPPED` message when no engine can be
/// reached or the image is absent and the host has no static busybox to build it from; under
/// CI (`CI=true`) both panic instead. Any other failure (the secrets root not on tmpfs, the
/// engine failing the build) panics.
pub async fn connect(config: DockerConfig) -> Option<TestRuntime> {
    match DockerRuntime::connect(config).await {
        Ok(runtime) => match ensure_test_image(runtime.client()).await {
            Ok(()) => Some(TestRuntime { runtime }),
            Err(ImageUnavailable::Missing(why)) => {
                skip(&format!(
                    "the test image {TEST_IMAGE} is absent and cannot be built: {why}"
                ));
                None
            }
            Err(ImageUnavailable::BuildFailed(why)) => panic!("{why}"),
        },
        Err(DockerError::EngineUnreachable { socket, message }) => {
            skip_no_engine(&socket, &message);
            None
        }
        Err(e) => panic!("connecting to the Docker engine failed: {e}"),
    }
}

/// Skips (or fails under CI) a test that found no engine at `socket`.
pub fn skip_no_engine(socket: &str, message: &str) {
    skip(&format!(
        "no Docker engine at {socket} ({message}); run .ci/docker-up to install and start one"
    ));
}

/// A spec running `script` with busybox sh.
pub fn sh(script: &str) -> TaskSpec {
    TaskSpec {
        container: ContainerSpec {
            image: TEST_IMAGE.to_owned(),
            command: vec!["/bin/sh".to_owned(), "-c".to_owned(), script.to_owned()],
            ..ContainerSpec::default()
        },
        ..TaskSpec::default()
    }
}

/// Runs until stopped; exits 0 at once on SIGTERM (`wait` is interrupted by the trap).
pub const LONG_RUNNING: &str = "trap 'exit 0' TERM; sleep 3600 & wait";

/// Ignores SIGTERM, says so, and runs until killed.
pub const IGNORES_TERM: &str = "trap '' TERM; echo ready; while true; do sleep 1; done";

/// A health check running `cmd` every 200 ms, unhealthy after 2 failures. The timeout is
/// generous: on a loaded machine the engine's exec of the check itself can take seconds, and a
/// check that times out counts as a failure.
pub fn check(cmd: &str) -> HealthCheck {
    HealthCheck {
        test: vec!["CMD-SHELL".to_owned(), cmd.to_owned()],
        interval: Duration::from_millis(200),
        timeout: Duration::from_secs(10),
        retries: 2,
        start_period: Duration::ZERO,
    }
}

static TASKS: AtomicU64 = AtomicU64::new(0);

/// A task with a fresh id for `spec`.
pub fn task(what: &str, spec: TaskSpec) -> Task {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let id = format!(
        "{what}-{}-{nanos:x}-{}",
        std::process::id(),
        TASKS.fetch_add(1, Ordering::Relaxed)
    );
    Task::new(TaskId::new(id), "svc-test".into(), spec, SystemTime::now())
}

/// `Ok` when neither a container of `task` nor its files directory remains.
pub async fn assert_removed(rt: &DockerRuntime, task: &Task) -> Result<(), String> {
    let mut left = Vec::new();
    let name = rt.container_name(&task.id);
    match rt.client().inspect_container(&name, None).await {
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => {}
        Ok(_) => left.push(format!("container {name}")),
        Err(e) => return Err(format!("inspecting {name}: {e}")),
    }
    let mut filters = HashMap::new();
    filters.insert("label", vec![format!("{LABEL_TASK_ID}={}", task.id)]);
    let opts = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    match rt.client().list_containers(Some(opts)).await {
        Ok(list) if list.is_empty() => {}
        Ok(list) => left.push(format!(
            "{} container(s) labelled with the task",
            list.len()
        )),
        Err(e) => return Err(format!("listing containers: {e}")),
    }
    let dir = rt.task_files_dir(&task.id);
    if dir.exists() {
        left.push(format!("directory {}", dir.display()));
    }
    if left.is_empty() {
        Ok(())
    } else {
        Err(left.join(", "))
    }
}
