//! `MockRuntime`: scripted tasks for tests and simulation.
//!
//! Each task's behaviour is a [`MockScript`] chosen by the task's `container.image` (register
//! scripts with [`MockRuntime::with_script`]/[`MockRuntime::register`]; an image without a script
//! falls back to the default script if one is set, and otherwise fails `prepare` permanently,
//! like an image that cannot be pulled). Secrets and configs are "materialised" in memory: the
//! mock keeps, per task, exactly the files its spec references (see
//! [`MockRuntime::visible_files`]) and drops them on `remove`. Every delay uses tokio's clock, so
//! a whole cluster can run on `tokio::time::pause()`.
//!
//! ```
//! use std::time::Duration;
//! use swarm_core::runtime::mock::{task_for_image, MockRuntime, MockScript};
//! use swarm_core::runtime::{Runtime, TaskFiles};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), swarm_core::runtime::RuntimeError> {
//! tokio::time::pause();
//! let mock = MockRuntime::new().with_script(
//!     "web",
//!     MockScript::new().run_until_stopped().healthy_after(Duration::from_secs(5)),
//! );
//! let ctl = mock.controller(&task_for_image("t1", "web"), TaskFiles::new()).await?;
//! ctl.prepare().await?;
//! ctl.start().await?;
//! let mut health = ctl.health().expect("the script has a health timeline");
//! health.changed().await.expect("the controller is alive");
//! assert_eq!(*health.borrow(), swarm_core::runtime::HealthStatus::Healthy);
//! ctl.shutdown().await?;
//! assert_eq!(ctl.wait().await?.to_string(), "killed by signal SIGTERM");
//! ctl.remove().await?;
//! assert!(mock.live_tasks().is_empty());
//! # Ok(())
//! # }
//! ```

mod controller;
mod script;

pub use script::{MAX_SCRIPT_STEPS, MockFailure, MockHealth, MockRun, MockScript, probe_line};

use crate::model::{
    EngineDescription, NodeDescription, Resources, ServiceId, Task, TaskId, TaskSpec,
};
use crate::runtime::controller::Controller;
use crate::runtime::error::{LifecycleStep, RuntimeError};
use crate::runtime::files::{FileKind, FilePayload, TaskFiles};
use crate::runtime::host;
use crate::runtime::logs::DEFAULT_LOG_BUFFER_BYTES;
use async_trait::async_trait;
use controller::MockController;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

/// Most entries kept in the call log ([`MockRuntime::calls`]); older ones are dropped.
pub const MAX_MOCK_CALL_LOG: usize = 65_536;

/// The engine version a mock reports.
pub const MOCK_ENGINE_VERSION: &str = concat!("swarm-mock/", env!("CARGO_PKG_VERSION"));

/// A secret or config file as a mock task sees it.
#[derive(Clone, Debug)]
pub struct MockFile {
    /// Secret or config.
    pub kind: FileKind,
    /// The target name from the spec.
    pub target: String,
    /// Permission bits.
    pub mode: u32,
    /// Owner uid.
    pub uid: u32,
    /// Owner gid.
    pub gid: u32,
    /// Content (redacted in `Debug`).
    pub data: FilePayload,
}

/// One recorded lifecycle call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MockCall {
    /// The task.
    pub task: TaskId,
    /// The call.
    pub step: LifecycleStep,
}

#[derive(Default)]
pub(crate) struct TaskRecord {
    pub(crate) files: Vec<MockFile>,
    pub(crate) running: bool,
    /// The spec the task was given (after the agent expanded its templates).
    pub(crate) spec: crate::model::TaskSpec,
}

pub(crate) struct MockInner {
    scripts: Mutex<HashMap<String, MockScript>>,
    default_script: Mutex<Option<MockScript>>,
    description: Mutex<NodeDescription>,
    pub(crate) tasks: Mutex<BTreeMap<TaskId, TaskRecord>>,
    /// Task ids with a controller that was not removed (or dropped).
    pub(crate) controllers: Mutex<std::collections::BTreeSet<TaskId>>,
    calls: Mutex<VecDeque<MockCall>>,
    log_buffer_bytes: usize,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section below leaves its data consistent before any call that could
    // panic, so a poisoned lock still holds valid data.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl MockInner {
    pub(crate) fn record_call(&self, task: &TaskId, step: LifecycleStep) {
        let mut calls = lock(&self.calls);
        if calls.len() >= MAX_MOCK_CALL_LOG {
            calls.pop_front();
        }
        calls.push_back(MockCall {
            task: task.clone(),
            step,
        });
    }
}

/// A runtime whose tasks follow scripts; for tests and simulation. Cheap to clone (shared
/// state).
#[derive(Clone)]
pub struct MockRuntime {
    inner: Arc<MockInner>,
}

impl std::fmt::Debug for MockRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockRuntime")
            .field("live_tasks", &self.live_tasks())
            .finish()
    }
}

impl Default for MockRuntime {
    fn default() -> Self {
        MockRuntime::new()
    }
}

impl MockRuntime {
    /// A mock node named `mock-node` with 4 CPUs and 8 GiB, no scripts.
    pub fn new() -> Self {
        let description = NodeDescription {
            hostname: "mock-node".to_owned(),
            platform: host::current_platform(),
            resources: Resources {
                nano_cpus: 4 * crate::model::NANO_CPUS_PER_CPU,
                memory_bytes: 8 << 30,
                generic: Vec::new(),
            },
            engine: EngineDescription {
                engine_version: MOCK_ENGINE_VERSION.to_owned(),
                labels: BTreeMap::new(),
            },
            seal_public_key: None,
        };
        MockRuntime {
            inner: Arc::new(MockInner {
                scripts: Mutex::new(HashMap::new()),
                default_script: Mutex::new(None),
                description: Mutex::new(description),
                tasks: Mutex::new(BTreeMap::new()),
                controllers: Mutex::new(std::collections::BTreeSet::new()),
                calls: Mutex::new(VecDeque::new()),
                log_buffer_bytes: DEFAULT_LOG_BUFFER_BYTES,
            }),
        }
    }

    /// Registers the script run by tasks whose image is `image` (builder form).
    pub fn with_script(self, image: impl Into<String>, script: MockScript) -> Self {
        self.register(image, script);
        self
    }

    /// Registers (or replaces) the script run by tasks whose image is `image`.
    pub fn register(&self, image: impl Into<String>, script: MockScript) {
        lock(&self.inner.scripts).insert(image.into(), script);
    }

    /// The script for images without one of their own (builder form).
    pub fn with_default_script(self, script: MockScript) -> Self {
        *lock(&self.inner.default_script) = Some(script);
        self
    }

    /// Replaces what [`Runtime::describe`](crate::runtime::Runtime::describe) reports (builder form).
    pub fn with_description(self, description: NodeDescription) -> Self {
        *lock(&self.inner.description) = description;
        self
    }

    /// Tasks prepared and not yet removed (they hold files, maybe a running "process").
    pub fn live_tasks(&self) -> Vec<TaskId> {
        lock(&self.inner.tasks).keys().cloned().collect()
    }

    /// `true` if `task` was prepared and not removed.
    pub fn is_live(&self, task: &TaskId) -> bool {
        lock(&self.inner.tasks).contains_key(task)
    }

    /// Tasks currently running.
    pub fn running_tasks(&self) -> Vec<TaskId> {
        lock(&self.inner.tasks)
            .iter()
            .filter(|(_, r)| r.running)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// The secret and config files `task` sees (empty before prepare and after remove).
    pub fn visible_files(&self, task: &TaskId) -> Vec<MockFile> {
        lock(&self.inner.tasks)
            .get(task)
            .map(|r| r.files.clone())
            .unwrap_or_default()
    }

    /// The spec `task` was prepared with, as the runtime received it (`None` before prepare
    /// and after remove).
    pub fn spec_of(&self, task: &TaskId) -> Option<crate::model::TaskSpec> {
        lock(&self.inner.tasks).get(task).map(|r| r.spec.clone())
    }

    /// The lifecycle calls made so far, oldest first (at most [`MAX_MOCK_CALL_LOG`]).
    pub fn calls(&self) -> Vec<MockCall> {
        lock(&self.inner.calls).iter().cloned().collect()
    }

    /// The lifecycle calls made for one task.
    pub fn calls_for(&self, task: &TaskId) -> Vec<LifecycleStep> {
        lock(&self.inner.calls)
            .iter()
            .filter(|c| &c.task == task)
            .map(|c| c.step)
            .collect()
    }

    fn script_for(&self, image: &str) -> Option<MockScript> {
        lock(&self.inner.scripts)
            .get(image)
            .cloned()
            .or_else(|| lock(&self.inner.default_script).clone())
    }
}

#[async_trait]
impl crate::runtime::Runtime for MockRuntime {
    async fn describe(&self) -> Result<NodeDescription, RuntimeError> {
        Ok(lock(&self.inner.description).clone())
    }

    async fn controller(
        &self,
        task: &Task,
        files: TaskFiles,
    ) -> Result<Box<dyn Controller>, RuntimeError> {
        self.inner.record_call(&task.id, LifecycleStep::Create);
        if !lock(&self.inner.controllers).insert(task.id.clone()) {
            return Err(RuntimeError::invalid_state(
                &task.id,
                LifecycleStep::Create,
                "this runtime already has a controller for the task; remove it first",
            ));
        }
        let script = self.script_for(&task.spec.container.image);
        Ok(Box::new(MockController::new(
            task.clone(),
            script,
            files,
            Arc::clone(&self.inner),
            self.inner.log_buffer_bytes,
        )))
    }
}

/// A task in state `new` running `image` with default settings (handy with the mock).
pub fn task_for_image(id: &str, image: &str) -> Task {
    let mut spec = TaskSpec::default();
    spec.container.image = image.to_owned();
    Task::new(
        TaskId::new(id),
        ServiceId::new("mock-service"),
        spec,
        crate::clock::now(),
    )
}
