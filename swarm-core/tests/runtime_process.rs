//! ProcessRuntime with real processes: the runtime conformance suite, plus process-specific
//! behaviour (process groups, signals, secret files on disk, bounded logs, health checks).

use async_trait::async_trait;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use swarm_core::model::{
    ConfigReference, FileTarget, HealthCheck, Mount, SecretReference, Task, TaskSpec,
};
use swarm_core::runtime::collect_text;
use swarm_core::runtime::process::{
    ProcessRuntime, ProcessRuntimeConfig, SECRET_STORAGE_LABEL, SecretStorage,
};
use swarm_core::runtime::{
    Controller, ExitStatus, FileKind, HealthStatus, LogOptions, Runtime, RuntimeError, TaskFiles,
};
use swarm_core::testkit::{ConformanceAdapter, FileProbe};

fn sh(script: &str) -> TaskSpec {
    let mut spec = TaskSpec::default();
    spec.container.command = vec!["/bin/sh".into(), "-c".into(), script.into()];
    spec
}

fn task(spec: TaskSpec) -> Task {
    Task::new(
        swarm_core::testkit::conformance::unique_task_id("proc").into(),
        "svc".into(),
        spec,
        SystemTime::now(),
    )
}

/// Processes whose environment carries `SWARM_TASK_ID=<id>`.
fn processes_of(id: &str) -> Vec<u32> {
    let needle = format!("SWARM_TASK_ID={id}");
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for e in entries.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(env) = std::fs::read(e.path().join("environ")) else {
            continue;
        };
        // A zombie has an empty environ; only live processes count.
        if env.split(|b| *b == 0).any(|kv| kv == needle.as_bytes()) {
            found.push(pid);
        }
    }
    found
}

fn pid_alive(pid: u32) -> bool {
    // A zombie is dead for our purposes.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Bound on waiting for killed processes to vanish from /proc: generous, because a loaded CI
/// machine may take a while to schedule a SIGKILLed process's exit.
const PROCESS_GONE_TIMEOUT: Duration = Duration::from_secs(30);
const PROCESS_POLL_PERIOD: Duration = Duration::from_millis(20);

/// Polls (bounded by [`PROCESS_GONE_TIMEOUT`]) until no live process carries the task's
/// `SWARM_TASK_ID`; returns those still alive at the deadline.
async fn eventually_no_processes(id: &str) -> Vec<u32> {
    let deadline = tokio::time::Instant::now() + PROCESS_GONE_TIMEOUT;
    loop {
        let procs = processes_of(id);
        if procs.is_empty() || tokio::time::Instant::now() >= deadline {
            return procs;
        }
        tokio::time::sleep(PROCESS_POLL_PERIOD).await;
    }
}

/// SIGKILL was sent before `wait` returned, but its delivery to other members of the group
/// takes a moment: poll (bounded) until the process is gone.
async fn eventually_dead(pid: u32) -> bool {
    let deadline = tokio::time::Instant::now() + PROCESS_GONE_TIMEOUT;
    while pid_alive(pid) {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(PROCESS_POLL_PERIOD).await;
    }
    true
}

struct ProcessAdapter {
    rt: ProcessRuntime,
}

impl ProcessAdapter {
    fn new() -> Self {
        ProcessAdapter {
            rt: ProcessRuntime::new().expect("a process runtime can be created"),
        }
    }
}

fn probe_path(p: &FileProbe) -> String {
    if let Some(abs) = p.target.strip_prefix('/') {
        format!("$SWARM_FILES_ROOT/{abs}")
    } else {
        match p.kind {
            FileKind::Secret => format!("$SWARM_SECRETS_DIR/{}", p.target),
            FileKind::Config => format!("$SWARM_CONFIGS_DIR/{}", p.target),
        }
    }
}

#[async_trait]
impl ConformanceAdapter for ProcessAdapter {
    async fn runtime(&self) -> Arc<dyn Runtime> {
        Arc::new(self.rt.clone())
    }

    fn exits_with(&self, code: i32) -> TaskSpec {
        sh(&format!("exit {code}"))
    }

    fn prints(&self, line: &str) -> TaskSpec {
        sh(&format!("echo '{line}'"))
    }

    fn long_running(&self) -> TaskSpec {
        // `image` is the program when `command` is empty; found in PATH.
        let mut spec = TaskSpec::default();
        spec.container.image = "sleep".into();
        spec.container.args = vec!["600".into()];
        spec
    }

    fn ignores_stop_signal(&self) -> TaskSpec {
        sh("trap '' TERM; echo ready; while :; do sleep 0.1; done")
    }

    fn probes_files(&self, probes: &[FileProbe]) -> TaskSpec {
        let mut script = String::new();
        for p in probes {
            let path = probe_path(p);
            let kind = p.kind.as_str();
            let target = &p.target;
            script.push_str(&format!(
                "f=\"{path}\"; if [ -r \"$f\" ]; then printf 'probe {kind} {target} mode=%s content=%s\\n' \
                 \"$(stat -c %a \"$f\")\" \"$(cat \"$f\")\"; else echo 'probe {kind} {target} missing'; fi\n"
            ));
        }
        sh(&script)
    }

    async fn assert_removed(&self, task: &Task) -> Result<(), String> {
        let dir = self.rt.task_dir(&task.id);
        if dir.exists() {
            return Err(format!("task directory {} still exists", dir.display()));
        }
        // Group members other than the leader may still be dying after `remove` returned.
        let procs = eventually_no_processes(task.id.as_str()).await;
        if !procs.is_empty() {
            return Err(format!("processes still running: {procs:?}"));
        }
        if self.rt.live_tasks().contains(&task.id) {
            return Err("the runtime still counts the task as live".into());
        }
        Ok(())
    }

    fn healthy_task(&self) -> Option<TaskSpec> {
        let mut spec = self.long_running();
        spec.container.healthcheck = Some(HealthCheck {
            test: vec!["CMD-SHELL".into(), "test -d \"$SWARM_SECRETS_DIR\"".into()],
            interval: Duration::from_millis(100),
            timeout: Duration::from_secs(5),
            retries: 2,
            start_period: Duration::ZERO,
        });
        Some(spec)
    }

    fn unhealthy_task(&self) -> Option<TaskSpec> {
        let mut spec = self.long_running();
        spec.container.healthcheck = Some(HealthCheck {
            test: vec!["CMD".into(), "false".into()],
            interval: Duration::from_millis(100),
            timeout: Duration::from_secs(5),
            retries: 2,
            start_period: Duration::ZERO,
        });
        Some(spec)
    }

    fn unrunnable_task(&self) -> Option<TaskSpec> {
        let mut spec = TaskSpec::default();
        spec.container.image = "no-such-program-swarm-test".into();
        Some(spec)
    }
}

swarm_core::runtime_conformance_tests!(#[tokio::test]; ProcessAdapter::new());

async fn run(rt: &ProcessRuntime, t: &Task, files: TaskFiles) -> Box<dyn Controller> {
    let ctl = rt.controller(t, files).await.expect("controller");
    ctl.prepare().await.expect("prepare");
    ctl.start().await.expect("start");
    ctl
}

async fn logs(ctl: &dyn Controller) -> String {
    collect_text(ctl.logs(LogOptions::default()).await.expect("logs")).await
}

/// Follows the logs until `n` lines were printed.
async fn first_lines(ctl: &dyn Controller, n: usize) -> Vec<String> {
    use futures::StreamExt;
    let mut s = ctl
        .logs(LogOptions {
            follow: true,
            tail_bytes: None,
        })
        .await
        .expect("logs");
    let mut text = String::new();
    while text.lines().count() < n || !text.ends_with('\n') {
        let chunk = tokio::time::timeout(Duration::from_secs(30), s.next())
            .await
            .expect("output in time")
            .expect("output before the end");
        text.push_str(&String::from_utf8_lossy(&chunk.data));
    }
    text.lines().map(str::to_owned).collect()
}

#[tokio::test]
async fn secret_file_has_mode_owner_and_lives_in_private_tmpfs_dir() {
    let rt = ProcessRuntime::new().unwrap();
    assert_eq!(
        rt.secret_storage(),
        SecretStorage::Tmpfs,
        "/dev/shm is a tmpfs here"
    );
    let d = rt.describe().await.unwrap();
    assert_eq!(d.engine.labels[SECRET_STORAGE_LABEL], "tmpfs");

    let mut spec = sh("echo started; sleep 600");
    let mut target = FileTarget::new("db_password");
    target.mode = 0o440;
    target.uid = "1234".into();
    target.gid = "4321".into();
    spec.container.secrets = vec![SecretReference {
        secret_id: "s1".into(),
        secret_name: "db".into(),
        target,
    }];
    spec.container.configs = vec![ConfigReference {
        config_id: "c1".into(),
        config_name: "app".into(),
        target: FileTarget::new("/etc/app/app.conf"),
    }];
    let t = task(spec);
    let files = TaskFiles::new()
        .with_secret("s1", b"correct horse".to_vec())
        .with_config("c1", b"port=80".to_vec());
    let ctl = run(&rt, &t, files).await;
    first_lines(ctl.as_ref(), 1).await;

    let dir = rt.task_dir(&t.id);
    let dir_meta = std::fs::metadata(&dir).unwrap();
    assert_eq!(dir_meta.permissions().mode() & 0o777, 0o700);
    let secret = dir.join("secrets/db_password");
    let meta = std::fs::metadata(&secret).unwrap();
    assert_eq!(meta.permissions().mode() & 0o7777, 0o440);
    if swarm_core::runtime::process::is_root() {
        assert_eq!((meta.uid(), meta.gid()), (1234, 4321));
    }
    assert_eq!(std::fs::read(&secret).unwrap(), b"correct horse");
    let config = dir.join("root/etc/app/app.conf");
    assert_eq!(
        std::fs::metadata(&config).unwrap().permissions().mode() & 0o777,
        0o444
    );
    // The secret never shows in Debug output of the files or the task.
    assert!(
        !format!(
            "{:?}",
            TaskFiles::new().with_secret("s1", b"correct horse".to_vec())
        )
        .contains("horse")
    );

    ctl.shutdown().await.unwrap();
    ctl.remove().await.unwrap();
    assert!(!dir.exists(), "task directory removed");
    assert!(!secret.exists());
}

#[tokio::test]
async fn environment_is_clean_and_points_to_the_task_dirs() {
    let rt = ProcessRuntime::new().unwrap();
    let mut spec = sh(
        "echo \"id=$SWARM_TASK_ID\"; echo \"secrets=$SWARM_SECRETS_DIR\"; echo \"pwd=$(pwd)\"; \
         echo \"greeting=$GREETING\"; echo \"cargo=${CARGO_PKG_NAME:-unset}\"; echo \"home=$HOME\"; \
         echo \"gone=${GONE:-unset}\"",
    );
    spec.container.env = vec![
        "GREETING=hello world".into(),
        "SWARM_TASK_ID=spoofed".into(),
        "GONE=here".into(),
        // A bare name unsets the variable, as with Docker.
        "GONE".into(),
    ];
    let t = task(spec);
    let ctl = run(&rt, &t, TaskFiles::new()).await;
    assert!(ctl.wait().await.unwrap().success());
    let out = logs(ctl.as_ref()).await;
    let dir = rt.task_dir(&t.id);
    assert!(out.contains(&format!("id={}\n", t.id)), "{out}");
    assert!(
        out.contains(&format!("secrets={}/secrets\n", dir.display())),
        "{out}"
    );
    assert!(
        out.contains(&format!("pwd={}/work\n", dir.display())),
        "{out}"
    );
    assert!(out.contains("greeting=hello world\n"), "{out}");
    assert!(out.contains("gone=unset\n"), "{out}");
    // cargo sets CARGO_PKG_NAME for this test process; the task must not inherit it.
    assert!(out.contains("cargo=unset\n"), "{out}");
    assert!(
        out.contains(&format!("home={}/work\n", dir.display())),
        "{out}"
    );
    ctl.remove().await.unwrap();

    // An explicit workdir.
    let mut spec = sh("pwd");
    spec.container.workdir = Some("/tmp".into());
    let t = task(spec);
    let ctl = run(&rt, &t, TaskFiles::new()).await;
    ctl.wait().await.unwrap();
    assert_eq!(logs(ctl.as_ref()).await, "/tmp\n");
    ctl.remove().await.unwrap();
}

#[tokio::test]
async fn death_by_signal_is_named() {
    let rt = ProcessRuntime::new().unwrap();
    let t = task(sh("kill -SEGV $$"));
    let ctl = run(&rt, &t, TaskFiles::new()).await;
    let status = ctl.wait().await.unwrap();
    assert_eq!(
        status,
        ExitStatus::Signaled {
            signal: 11,
            name: "SIGSEGV".into()
        }
    );
    assert_eq!(status.task_state(), swarm_core::model::TaskState::Failed);
    assert_eq!(status.to_string(), "killed by signal SIGSEGV");
    ctl.remove().await.unwrap();
}

#[tokio::test]
async fn custom_stop_signal_is_delivered() {
    let rt = ProcessRuntime::new().unwrap();
    for signal in ["SIGUSR1", "usr1", "10"] {
        let mut spec =
            sh("trap 'echo got-usr1; exit 0' USR1; echo ready; while :; do sleep 0.05; done");
        spec.container.stop_signal = Some(signal.into());
        spec.container.stop_grace_period = Duration::from_secs(30);
        let t = task(spec);
        let ctl = run(&rt, &t, TaskFiles::new()).await;
        first_lines(ctl.as_ref(), 1).await;
        ctl.shutdown().await.unwrap();
        assert_eq!(
            ctl.wait().await.unwrap(),
            ExitStatus::Exited { code: 0 },
            "{signal}"
        );
        assert!(logs(ctl.as_ref()).await.contains("got-usr1"));
        ctl.remove().await.unwrap();
    }
    let mut spec = sh("true");
    spec.container.stop_signal = Some("SIGNOPE".into());
    match rt.controller(&task(spec), TaskFiles::new()).await {
        Err(RuntimeError::InvalidSpec { field, .. }) => assert_eq!(field, "container.stop_signal"),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("an unknown stop signal must be refused"),
    }
}

#[tokio::test]
async fn terminate_kills_the_whole_process_group() {
    let rt = ProcessRuntime::new().unwrap();
    // A child and a grandchild, both ignoring SIGTERM.
    let t = task(sh(
        "trap '' TERM; sleep 600 & echo $!; (sleep 700 & echo $!; wait) & wait",
    ));
    let ctl = run(&rt, &t, TaskFiles::new()).await;
    let pids: Vec<u32> = first_lines(ctl.as_ref(), 2)
        .await
        .iter()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert!(pids.iter().all(|p| pid_alive(*p)));
    ctl.terminate().await.unwrap();
    assert!(ctl.wait().await.unwrap().is_forced_kill());
    for p in &pids {
        assert!(eventually_dead(*p).await, "pid {p} survived terminate");
    }
    ctl.remove().await.unwrap();
    assert_eq!(
        eventually_no_processes(t.id.as_str()).await,
        Vec::<u32>::new()
    );
}

#[tokio::test]
async fn orphans_die_with_the_main_process() {
    let rt = ProcessRuntime::new().unwrap();
    let t = task(sh("sleep 600 & echo $!; exit 0"));
    let ctl = run(&rt, &t, TaskFiles::new()).await;
    assert!(ctl.wait().await.unwrap().success());
    let pid: u32 = logs(ctl.as_ref()).await.trim().parse().unwrap();
    assert!(
        eventually_dead(pid).await,
        "background child {pid} outlived the task"
    );
    ctl.remove().await.unwrap();
}

#[tokio::test]
async fn logs_are_bounded_ring_buffers() {
    const CAP: usize = 4096;
    let rt = ProcessRuntime::with_config(ProcessRuntimeConfig {
        log_buffer_bytes: CAP,
        ..Default::default()
    })
    .unwrap();
    // ~200 KB of numbered lines on stdout and a marker on stderr at the end.
    let t = task(sh(
        "i=0; while [ $i -lt 20000 ]; do echo \"line $i\"; i=$((i+1)); done; echo end-marker >&2",
    ));
    let ctl = run(&rt, &t, TaskFiles::new()).await;
    assert!(ctl.wait().await.unwrap().success());
    let out = logs(ctl.as_ref()).await;
    assert!(out.len() <= CAP, "{} bytes kept", out.len());
    assert!(out.len() > CAP / 2);
    assert!(out.contains("line 19999\n"));
    assert!(out.ends_with("end-marker\n"));
    assert!(!out.contains("line 1\n"));
    let tail = collect_text(
        ctl.logs(LogOptions {
            follow: false,
            tail_bytes: Some(11),
        })
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(tail, "end-marker\n");
    ctl.remove().await.unwrap();
}

#[tokio::test]
async fn health_follows_the_check_and_start_period() {
    let rt = ProcessRuntime::new().unwrap();
    let mut spec = sh("sleep 600");
    // Healthy while a file named `ok` exists in the task's working directory.
    spec.container.healthcheck = Some(HealthCheck {
        test: vec!["CMD-SHELL".into(), "test -e ok".into()],
        interval: Duration::from_millis(50),
        timeout: Duration::from_secs(5),
        retries: 2,
        start_period: Duration::from_secs(600),
    });
    let t = task(spec);
    let ctl = run(&rt, &t, TaskFiles::new()).await;
    let mut rx = ctl.health().unwrap();
    let flag = rt.task_dir(&t.id).join("work/ok");
    // Failures during the start period keep it `starting`.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(*rx.borrow_and_update(), HealthStatus::Starting);
    std::fs::write(&flag, b"").unwrap();
    let wait_for = |rx: &mut tokio::sync::watch::Receiver<HealthStatus>, want| {
        let mut rx = rx.clone();
        async move {
            tokio::time::timeout(Duration::from_secs(30), rx.wait_for(|s| *s == want))
                .await
                .expect("health changes in time")
                .unwrap();
        }
    };
    wait_for(&mut rx, HealthStatus::Healthy).await;
    // Once healthy, the start period no longer hides failures.
    std::fs::remove_file(&flag).unwrap();
    wait_for(&mut rx, HealthStatus::Unhealthy).await;
    std::fs::write(&flag, b"").unwrap();
    wait_for(&mut rx, HealthStatus::Healthy).await;
    ctl.terminate().await.unwrap();
    ctl.remove().await.unwrap();
}

#[tokio::test]
async fn health_check_timeout_counts_as_failure() {
    let rt = ProcessRuntime::new().unwrap();
    let mut spec = sh("sleep 600");
    spec.container.healthcheck = Some(HealthCheck {
        test: vec!["CMD".into(), "sleep".into(), "600".into()],
        interval: Duration::from_millis(50),
        timeout: Duration::from_millis(100),
        retries: 1,
        start_period: Duration::ZERO,
    });
    let t = task(spec);
    let ctl = run(&rt, &t, TaskFiles::new()).await;
    let mut rx = ctl.health().unwrap();
    tokio::time::timeout(
        Duration::from_secs(30),
        rx.wait_for(|s| *s == HealthStatus::Unhealthy),
    )
    .await
    .unwrap()
    .unwrap();
    ctl.remove().await.unwrap();
    // The timed-out probes were killed along with their groups.
    assert_eq!(
        eventually_no_processes(t.id.as_str()).await,
        Vec::<u32>::new()
    );
}

#[tokio::test]
async fn bad_specs_are_refused_naming_the_field() {
    let rt = ProcessRuntime::new().unwrap();
    let cases: Vec<(TaskSpec, &str)> = vec![
        (TaskSpec::default(), "container.image"),
        (
            {
                let mut s = sh("true");
                // A bare name unsets a variable; an empty name is refused.
                s.container.env = vec!["=value".into()];
                s
            },
            "container.env[0]",
        ),
        (
            {
                let mut s = sh("true");
                s.container.workdir = Some("relative/dir".into());
                s
            },
            "container.workdir",
        ),
        (
            {
                let mut s = sh("true");
                s.container.mounts = vec![Mount {
                    target: "/data".into(),
                    ..Default::default()
                }];
                s
            },
            "container.mounts[0]",
        ),
        (
            {
                let mut s = sh("true");
                s.container.healthcheck = Some(HealthCheck {
                    test: vec!["BOGUS".into()],
                    ..Default::default()
                });
                s
            },
            "container.healthcheck.test",
        ),
    ];
    for (spec, want) in cases {
        match rt.controller(&task(spec), TaskFiles::new()).await {
            Err(RuntimeError::InvalidSpec { field, .. }) => assert_eq!(field, want),
            Err(e) => panic!("{want}: unexpected {e}"),
            Ok(_) => panic!("{want}: accepted"),
        }
    }
    let bad_id = Task::new("../x".into(), "svc".into(), sh("true"), SystemTime::now());
    assert!(matches!(
        rt.controller(&bad_id, TaskFiles::new()).await,
        Err(RuntimeError::InvalidSpec { .. })
    ));
}

#[tokio::test]
async fn one_controller_per_task_id() {
    let rt = ProcessRuntime::new().unwrap();
    let t = task(sh("true"));
    let first = rt.controller(&t, TaskFiles::new()).await.unwrap();
    assert!(matches!(
        rt.controller(&t, TaskFiles::new()).await,
        Err(RuntimeError::InvalidState { .. })
    ));
    first.remove().await.unwrap();
    let second = rt.controller(&t, TaskFiles::new()).await.unwrap();
    second.remove().await.unwrap();
}

#[tokio::test]
async fn runs_as_another_user_when_root() {
    let rt = ProcessRuntime::new().unwrap();
    let mut spec = sh("id -u; id -g; cat \"$SWARM_SECRETS_DIR/token\"");
    spec.container.user = Some("65534:65534".into());
    let mut target = FileTarget::new("token");
    target.uid = "65534".into();
    target.mode = 0o400;
    spec.container.secrets = vec![SecretReference {
        secret_id: "tok".into(),
        secret_name: "token".into(),
        target,
    }];
    let t = task(spec);
    let files = TaskFiles::new().with_secret("tok", b"abc".to_vec());
    let ctl = rt.controller(&t, files).await.unwrap();
    if !swarm_core::runtime::process::is_root() {
        assert!(matches!(
            ctl.prepare().await,
            Err(RuntimeError::PermissionDenied { .. })
        ));
        ctl.remove().await.unwrap();
        return;
    }
    ctl.prepare().await.unwrap();
    ctl.start().await.unwrap();
    let status = ctl.wait().await.unwrap();
    let out = logs(ctl.as_ref()).await;
    assert!(status.success(), "{status}: {out}");
    assert_eq!(out, "65534\n65534\nabc");
    ctl.remove().await.unwrap();
}

#[tokio::test]
async fn dropped_controller_kills_and_cleans_up() {
    let rt = ProcessRuntime::new().unwrap();
    let t = task(sh("echo up; sleep 600"));
    let dir = rt.task_dir(&t.id);
    {
        let ctl = run(&rt, &t, TaskFiles::new()).await;
        first_lines(ctl.as_ref(), 1).await;
        assert!(!processes_of(t.id.as_str()).is_empty());
    }
    assert!(!dir.exists());
    // The kill is asynchronous to the drop; give the kernel a (bounded) moment.
    assert_eq!(
        eventually_no_processes(t.id.as_str()).await,
        Vec::<u32>::new()
    );
    assert!(rt.live_tasks().is_empty());
}

#[tokio::test]
async fn state_dir_storage_is_reported_and_removed_with_the_runtime() {
    // The tmpfs, and a directory under the build's target dir (usually disk-backed).
    for base in ["/dev/shm", env!("CARGO_TARGET_TMPDIR")] {
        let parent = tempfile::tempdir_in(base).unwrap();
        let rt = ProcessRuntime::with_config(ProcessRuntimeConfig {
            state_dir: Some(parent.path().to_path_buf()),
            ..Default::default()
        })
        .unwrap();
        let root = rt.state_dir().to_path_buf();
        assert!(root.starts_with(parent.path()));
        assert_eq!(
            std::fs::metadata(&root).unwrap().permissions().mode() & 0o777,
            0o711
        );
        // The runtime reports the storage truthfully, in its API and in its engine label.
        let on_tmpfs = nix::sys::statfs::statfs(parent.path())
            .map(|s| s.filesystem_type() == nix::sys::statfs::TMPFS_MAGIC)
            .unwrap();
        let expected = if on_tmpfs {
            SecretStorage::Tmpfs
        } else {
            SecretStorage::Disk
        };
        assert_eq!(rt.secret_storage(), expected, "{base}");
        let labels = rt.describe().await.unwrap().engine.labels;
        assert_eq!(labels[SECRET_STORAGE_LABEL], expected.as_str());
        if base == "/dev/shm" {
            assert_eq!(expected, SecretStorage::Tmpfs);
        }
        drop(rt);
        assert!(!root.exists());
    }
}

#[tokio::test]
async fn read_only_directories_left_by_the_task_are_removed() {
    let rt = ProcessRuntime::new().unwrap();
    let t = task(sh(
        "mkdir -p ro/deeper && echo x > ro/deeper/f && chmod 500 ro/deeper ro && chmod 500 \"$SWARM_SECRETS_DIR\"",
    ));
    let ctl = run(&rt, &t, TaskFiles::new()).await;
    assert!(ctl.wait().await.unwrap().success());
    let dir = rt.task_dir(&t.id);
    assert!(dir.join("work/ro/deeper/f").exists());
    ctl.remove().await.unwrap();
    assert!(!dir.exists());
}

#[tokio::test]
async fn state_dirs_of_dead_runtimes_are_removed() {
    let parent = tempfile::tempdir_in("/dev/shm").unwrap();
    // A crashed agent's leftovers (pid 999999999 cannot exist), a live one's (ours: pid 1 is
    // alive too) and an unrelated directory.
    let stale = parent.path().join("swarm-process-999999999-0");
    std::fs::create_dir_all(stale.join("t1/secrets")).unwrap();
    std::fs::write(stale.join("t1/secrets/token"), b"leftover").unwrap();
    let alive = parent.path().join("swarm-process-1-0");
    std::fs::create_dir(&alive).unwrap();
    let other = parent.path().join("unrelated");
    std::fs::create_dir(&other).unwrap();
    let rt = ProcessRuntime::with_config(ProcessRuntimeConfig {
        state_dir: Some(parent.path().to_path_buf()),
        ..Default::default()
    })
    .unwrap();
    assert!(!stale.exists());
    assert!(alive.exists());
    assert!(other.exists());
    assert!(rt.state_dir().exists());
}
