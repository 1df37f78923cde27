//! The mock's per-task controller: a tokio task plays the script.

use crate::model::{Task, TaskId};
use crate::runtime::controller::Controller;
use crate::runtime::error::{ErrorKind, LifecycleStep, RuntimeError};
use crate::runtime::exit::ExitStatus;
use crate::runtime::files::TaskFiles;
use crate::runtime::health::HealthStatus;
use crate::runtime::logs::{LogBuffer, LogOptions, LogStream, LogStreamKind};
use crate::runtime::mock::script::{MockRun, probe_line, sigkill_status, sigterm_status};
use crate::runtime::mock::{MockFile, MockInner, MockScript, TaskRecord, lock};
use crate::runtime::phase::{LifecyclePhase, PhaseCheck};
use async_trait::async_trait;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};

/// Signals sent to the scripted "process"; they only escalate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Signal {
    None,
    Stop,
    Kill,
}

struct State {
    phase: LifecyclePhase,
    was_started: bool,
    files: TaskFiles,
    failures_left: HashMap<LifecycleStep, (ErrorKind, u32)>,
    runner: Option<JoinHandle<()>>,
}

pub(crate) struct MockController {
    task: Task,
    script: Option<MockScript>,
    runtime: Arc<MockInner>,
    state: Mutex<State>,
    exit_tx: watch::Sender<Option<ExitStatus>>,
    signal_tx: watch::Sender<Signal>,
    health_tx: Option<watch::Sender<HealthStatus>>,
    logs: LogBuffer,
}

impl MockController {
    pub(crate) fn new(
        task: Task,
        script: Option<MockScript>,
        files: TaskFiles,
        runtime: Arc<MockInner>,
        log_buffer_bytes: usize,
    ) -> Self {
        let failures_left = script
            .as_ref()
            .map(|s| {
                s.failures
                    .iter()
                    .map(|(step, f)| (*step, (f.kind, f.times)))
                    .collect()
            })
            .unwrap_or_default();
        let health_tx = script
            .as_ref()
            .and_then(|s| s.health.as_ref())
            .map(|_| watch::channel(HealthStatus::Starting).0);
        MockController {
            task,
            script,
            runtime,
            state: Mutex::new(State {
                phase: LifecyclePhase::Created,
                was_started: false,
                files,
                failures_left,
                runner: None,
            }),
            exit_tx: watch::channel(None).0,
            signal_tx: watch::channel(Signal::None).0,
            health_tx,
            logs: LogBuffer::new(log_buffer_bytes),
        }
    }

    fn id(&self) -> &TaskId {
        &self.task.id
    }

    fn invalid(&self, step: LifecycleStep, reason: &str) -> RuntimeError {
        RuntimeError::invalid_state(self.id(), step, reason)
    }

    /// Fails the call if the script says so (counting down the scripted failures).
    fn scripted_failure(&self, step: LifecycleStep) -> Result<(), RuntimeError> {
        let mut st = lock(&self.state);
        if let Some((kind, left)) = st.failures_left.get_mut(&step) {
            if *left > 0 {
                if *left != u32::MAX {
                    *left -= 1;
                }
                let kind = *kind;
                let message = format!("scripted {kind:?} failure of task {}", self.task.id);
                return Err(match kind {
                    ErrorKind::Temporary => RuntimeError::temporary(step, message),
                    ErrorKind::Permanent => RuntimeError::permanent(step, message),
                });
            }
        }
        Ok(())
    }

    fn phase(&self) -> LifecyclePhase {
        lock(&self.state).phase
    }

    fn exited(&self) -> bool {
        self.exit_tx.borrow().is_some()
    }

    async fn wait_exit(&self) -> ExitStatus {
        let mut rx = self.exit_tx.subscribe();
        loop {
            if let Some(s) = rx.borrow_and_update().clone() {
                return s;
            }
            // The sender lives in `self`, so the channel cannot close while we borrow `self`.
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    fn signal(&self, sig: Signal) {
        self.signal_tx.send_if_modified(|cur| {
            if sig > *cur {
                *cur = sig;
                true
            } else {
                false
            }
        });
    }

    /// Kills the running script (if any) and waits for it to exit.
    async fn kill_and_wait(&self) {
        if lock(&self.state).was_started && !self.exited() {
            self.signal(Signal::Kill);
            self.wait_exit().await;
        }
    }
}

#[async_trait]
impl Controller for MockController {
    fn task_id(&self) -> &TaskId {
        &self.task.id
    }

    async fn prepare(&self) -> Result<(), RuntimeError> {
        self.runtime.record_call(self.id(), LifecycleStep::Prepare);
        {
            let mut st = lock(&self.state);
            if st.phase.begin_prepare(self.id())? == PhaseCheck::AlreadyDone {
                return Ok(());
            }
        }
        let result = self.prepare_inner().await;
        let mut st = lock(&self.state);
        match (&result, st.phase) {
            (Ok(()), LifecyclePhase::Preparing) => st.phase = LifecyclePhase::Prepared,
            (Err(_), LifecyclePhase::Preparing) => st.phase = LifecyclePhase::Created,
            // Removed while preparing: remove already dropped the record.
            (_, _) => {
                lock(&self.runtime.tasks).remove(self.id());
                return Err(self.invalid(LifecycleStep::Prepare, "removed while preparing"));
            }
        }
        result
    }

    async fn start(&self) -> Result<(), RuntimeError> {
        self.runtime.record_call(self.id(), LifecycleStep::Start);
        {
            let mut st = lock(&self.state);
            if st.phase.begin_start(self.id())? == PhaseCheck::AlreadyDone {
                return Ok(());
            }
        }
        if let Err(e) = self.scripted_failure(LifecycleStep::Start) {
            let mut st = lock(&self.state);
            if st.phase == LifecyclePhase::Starting {
                st.phase = LifecyclePhase::Prepared;
            }
            return Err(e);
        }
        let script = self.script.clone().unwrap_or_default();
        pause(script.start_delay).await;
        let mut st = lock(&self.state);
        if st.phase != LifecyclePhase::Starting {
            return Err(self.invalid(LifecycleStep::Start, "removed while starting"));
        }
        let probe_output = {
            let mut tasks = lock(&self.runtime.tasks);
            let record = tasks.entry(self.id().clone()).or_default();
            record.running = true;
            let mut out = String::new();
            for (kind, target) in &script.probes {
                let file = record
                    .files
                    .iter()
                    .find(|f| f.kind == *kind && &f.target == target);
                out.push_str(&probe_line(
                    *kind,
                    target,
                    file.map(|f| (f.mode, f.data.expose())),
                ));
                out.push('\n');
            }
            out
        };
        let runner = Runner {
            script,
            probe_output,
            signal_rx: self.signal_tx.subscribe(),
            exit_tx: self.exit_tx.clone(),
            health_tx: self.health_tx.clone(),
            logs: self.logs.clone(),
            runtime: Arc::clone(&self.runtime),
            task: self.id().clone(),
        };
        st.runner = Some(tokio::spawn(runner.run()));
        st.phase = LifecyclePhase::Started;
        st.was_started = true;
        Ok(())
    }

    async fn wait(&self) -> Result<ExitStatus, RuntimeError> {
        self.runtime.record_call(self.id(), LifecycleStep::Wait);
        {
            let st = lock(&self.state);
            if !st.was_started {
                return Err(self.invalid(LifecycleStep::Wait, "not started"));
            }
        }
        self.scripted_failure(LifecycleStep::Wait)?;
        Ok(self.wait_exit().await)
    }

    async fn shutdown(&self) -> Result<(), RuntimeError> {
        self.runtime.record_call(self.id(), LifecycleStep::Shutdown);
        if self.phase() == LifecyclePhase::Removed {
            return Ok(());
        }
        self.scripted_failure(LifecycleStep::Shutdown)?;
        if !lock(&self.state).was_started || self.exited() {
            return Ok(());
        }
        self.signal(Signal::Stop);
        let grace = self.task.spec.container.stop_grace_period;
        if tokio::time::timeout(grace, self.wait_exit()).await.is_err() {
            self.signal(Signal::Kill);
            self.wait_exit().await;
        }
        Ok(())
    }

    async fn terminate(&self) -> Result<(), RuntimeError> {
        self.runtime
            .record_call(self.id(), LifecycleStep::Terminate);
        if self.phase() == LifecyclePhase::Removed {
            return Ok(());
        }
        self.scripted_failure(LifecycleStep::Terminate)?;
        self.kill_and_wait().await;
        Ok(())
    }

    async fn remove(&self) -> Result<(), RuntimeError> {
        self.runtime.record_call(self.id(), LifecycleStep::Remove);
        if self.phase() == LifecyclePhase::Removed {
            return Ok(());
        }
        self.scripted_failure(LifecycleStep::Remove)?;
        self.kill_and_wait().await;
        let mut st = lock(&self.state);
        st.phase = LifecyclePhase::Removed;
        st.files = TaskFiles::new();
        if let Some(r) = st.runner.take() {
            r.abort();
        }
        lock(&self.runtime.tasks).remove(self.id());
        lock(&self.runtime.controllers).remove(self.id());
        Ok(())
    }

    fn health(&self) -> Option<watch::Receiver<HealthStatus>> {
        self.health_tx.as_ref().map(|tx| tx.subscribe())
    }

    async fn logs(&self, options: LogOptions) -> Result<LogStream, RuntimeError> {
        self.runtime.record_call(self.id(), LifecycleStep::Logs);
        self.scripted_failure(LifecycleStep::Logs)?;
        Ok(self.logs.stream(options))
    }
}

impl MockController {
    async fn prepare_inner(&self) -> Result<(), RuntimeError> {
        self.scripted_failure(LifecycleStep::Prepare)?;
        let Some(script) = &self.script else {
            return Err(RuntimeError::permanent(
                LifecycleStep::Prepare,
                format!(
                    "no mock script for image `{}`",
                    self.task.spec.container.image
                ),
            ));
        };
        let resolved = {
            let st = lock(&self.state);
            st.files.resolve(self.id(), &self.task.spec.container)?
        };
        pause(script.prepare_delay).await;
        let files = resolved
            .into_iter()
            .map(|f| MockFile {
                kind: f.kind,
                target: f.target.name.clone(),
                mode: f.target.mode,
                uid: f.uid,
                gid: f.gid,
                data: f.data,
            })
            .collect();
        lock(&self.runtime.tasks).insert(
            self.id().clone(),
            TaskRecord {
                files,
                running: false,
                spec: self.task.spec.clone(),
            },
        );
        Ok(())
    }
}

impl Drop for MockController {
    fn drop(&mut self) {
        // Best effort: a controller dropped without `remove` leaves nothing running or held.
        let st = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        if st.phase != LifecyclePhase::Removed {
            if let Some(r) = st.runner.take() {
                r.abort();
            }
            lock(&self.runtime.tasks).remove(&self.task.id);
            lock(&self.runtime.controllers).remove(&self.task.id);
        }
    }
}

/// The scripted "process".
struct Runner {
    script: MockScript,
    probe_output: String,
    signal_rx: watch::Receiver<Signal>,
    exit_tx: watch::Sender<Option<ExitStatus>>,
    health_tx: Option<watch::Sender<HealthStatus>>,
    logs: LogBuffer,
    runtime: Arc<MockInner>,
    task: TaskId,
}

impl Runner {
    async fn run(self) {
        let Runner {
            script,
            probe_output,
            mut signal_rx,
            exit_tx,
            health_tx,
            logs,
            runtime,
            task,
        } = self;
        logs.push(LogStreamKind::Stdout, probe_output.as_bytes());
        let output = async {
            for (after, stream, data) in &script.output {
                pause(*after).await;
                logs.push(*stream, data);
            }
            std::future::pending::<Infallible>().await
        };
        let health = async {
            if let (Some(tx), Some(h)) = (&health_tx, &script.health) {
                let cycle_is_zero = h.steps.iter().all(|(d, _)| d.is_zero());
                loop {
                    for (after, status) in &h.steps {
                        pause(*after).await;
                        tx.send_replace(*status);
                    }
                    if !h.repeat || cycle_is_zero {
                        break;
                    }
                }
            }
            std::future::pending::<Infallible>().await
        };
        let natural = async {
            match &script.run {
                MockRun::ExitAfter { after, code } => {
                    pause(*after).await;
                    ExitStatus::Exited { code: *code }
                }
                MockRun::SignaledAfter {
                    after,
                    signal,
                    name,
                } => {
                    pause(*after).await;
                    ExitStatus::Signaled {
                        signal: *signal,
                        name: name.clone(),
                    }
                }
                MockRun::UntilStopped => std::future::pending().await,
            }
        };
        let signals = async {
            let mut stop_deadline: Option<Instant> = None;
            loop {
                let sig = *signal_rx.borrow_and_update();
                if sig == Signal::Kill {
                    return sigkill_status();
                }
                if sig == Signal::Stop && !script.ignore_stop_signal && stop_deadline.is_none() {
                    if script.stop_delay.is_zero() {
                        return sigterm_status();
                    }
                    stop_deadline = Some(Instant::now() + script.stop_delay);
                }
                match stop_deadline {
                    Some(deadline) => {
                        tokio::select! {
                            biased;
                            _ = sleep_until(deadline) => return sigterm_status(),
                            r = signal_rx.changed() => {
                                if r.is_err() {
                                    sleep_until(deadline).await;
                                    return sigterm_status();
                                }
                            }
                        }
                    }
                    None => {
                        if signal_rx.changed().await.is_err() {
                            std::future::pending::<()>().await;
                        }
                    }
                }
            }
        };
        let status = tokio::select! {
            biased;
            s = signals => s,
            s = natural => s,
            never = output => match never {},
            never = health => match never {},
        };
        logs.close();
        if let Some(r) = lock(&runtime.tasks).get_mut(&task) {
            r.running = false;
        }
        exit_tx.send_replace(Some(status));
    }
}

/// Sleeps on tokio's clock; a zero delay does not wait for the next timer tick.
async fn pause(d: std::time::Duration) {
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}
