//! Docker-specific behaviour against a real engine: tmpfs secrets with owner and mode, exit-code
//! mapping, health flips, grace periods, clean removal, labels and limits, orphan clean-up,
//! missing images, adoption and bounded logs. Every test skips loudly without an engine (fails
//! under `CI=true`).

mod common;

use common::{IGNORES_TERM, LONG_RUNNING, TEST_IMAGE, assert_removed, check, connect, sh, task};
use futures::StreamExt;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use swarm_core::model::{
    ConfigReference, FileTarget, Mount, MountType, Resources, SecretReference, Task, TaskId,
    TaskState,
};
use swarm_core::runtime::collect_text;
use swarm_core::runtime::{
    Controller, ExitStatus, HealthStatus, LogOptions, Runtime, RuntimeError, TaskFiles,
};
use swarm_docker::{
    DockerConfig, DockerError, DockerRuntime, LABEL_NAMESPACE, LABEL_SERVICE_ID, LABEL_TASK_ID,
};

/// Bound on every await of these tests, so a bug fails instead of hanging.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(STEP_TIMEOUT, fut)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {STEP_TIMEOUT:?}"))
}

async fn run_to_exit(ctl: &dyn Controller) -> (ExitStatus, String) {
    within("prepare", ctl.prepare()).await.expect("prepare");
    within("start", ctl.start()).await.expect("start");
    let status = within("wait", ctl.wait()).await.expect("wait");
    let logs = within("logs", ctl.logs(LogOptions::default()))
        .await
        .expect("logs");
    (status, collect_text(logs).await)
}

fn secret(id: &str, target: &str, mode: u32, uid: &str, gid: &str) -> SecretReference {
    SecretReference {
        secret_id: id.into(),
        secret_name: format!("{id}-name"),
        target: FileTarget {
            name: target.to_owned(),
            uid: uid.to_owned(),
            gid: gid.to_owned(),
            mode,
        },
    }
}

#[tokio::test]
async fn secret_is_on_tmpfs_with_owner_and_mode_and_gone_after_remove() {
    let Some(rt) = connect(common::test_config("secret")).await else {
        return;
    };
    let mut spec = sh(
        // Inside: content, mode, owner, and the filesystem the file is mounted from.
        "cat /run/secrets/db_password; echo; stat -c 'mode=%a owner=%u:%g' /run/secrets/db_password; \
         grep ' /run/secrets/db_password ' /proc/mounts; \
         stat -c 'config mode=%a' /etc/app/app.conf; cat /etc/app/app.conf; echo; \
         echo x > /run/secrets/db_password 2>/dev/null && echo writable || echo read-only; \
         trap 'exit 0' TERM; echo ready; sleep 3600 & wait",
    );
    spec.container.secrets = vec![secret("sec1", "db_password", 0o440, "1000", "1001")];
    spec.container.configs = vec![ConfigReference {
        config_id: "cfg1".into(),
        config_name: "app-conf".into(),
        target: FileTarget::new("/etc/app/app.conf"),
    }];
    let t = task("secret", spec);
    let files = TaskFiles::new()
        .with_secret("sec1", b"correct-horse-battery".to_vec())
        .with_config("cfg1", b"port=8080".to_vec());
    let ctl = rt.controller(&t, files).await.expect("controller");
    within("prepare", ctl.prepare()).await.expect("prepare");

    // Host side: the task's directory is on tmpfs (statfs and /proc/mounts agree).
    let dir = rt.task_files_dir(&t.id);
    assert!(dir.is_dir(), "{} missing after prepare", dir.display());
    let st = nix::sys::statfs::statfs(&dir).expect("statfs");
    assert_eq!(
        st.filesystem_type(),
        nix::sys::statfs::TMPFS_MAGIC,
        "{} is not on tmpfs",
        dir.display()
    );
    let mounts = std::fs::read_to_string("/proc/mounts").expect("/proc/mounts");
    let mount_of_dir = mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (_, target, fstype) = (f.next()?, f.next()?, f.next()?);
            dir.starts_with(target)
                .then(|| (target.len(), fstype.to_owned()))
        })
        .max()
        .map(|(_, fs)| fs);
    assert_eq!(mount_of_dir.as_deref(), Some("tmpfs"));

    within("start", ctl.start()).await.expect("start");
    let mut stream = ctl
        .logs(LogOptions {
            follow: true,
            tail_bytes: None,
        })
        .await
        .expect("logs");
    let mut out = String::new();
    within("the ready line", async {
        while let Some(chunk) = stream.next().await {
            out.push_str(&String::from_utf8_lossy(&chunk.data));
            if out.lines().any(|l| l == "ready") {
                break;
            }
        }
    })
    .await;
    assert!(out.contains("correct-horse-battery"), "{out}");
    assert!(out.contains("mode=440 owner=1000:1001"), "{out}");
    let mount_line = out
        .lines()
        .find(|l| l.contains(" /run/secrets/db_password "))
        .unwrap_or_else(|| panic!("no mount line in:\n{out}"));
    assert!(
        mount_line.split_whitespace().nth(2) == Some("tmpfs"),
        "the secret is not mounted from tmpfs: {mount_line}"
    );
    assert!(mount_line.contains("ro"), "not read-only: {mount_line}");
    assert!(out.contains("config mode=444"), "{out}");
    assert!(out.contains("port=8080"), "{out}");
    assert!(out.contains("read-only"), "{out}");

    // Remove while running: no container, no file, no directory is left.
    within("remove", ctl.remove()).await.expect("remove");
    assert_removed(&rt, &t).await.expect("nothing left");
    assert!(!dir.exists());
}

#[tokio::test]
async fn exit_codes_map_to_complete_and_failed() {
    let Some(rt) = connect(common::test_config("exit")).await else {
        return;
    };
    for (code, state) in [(0, TaskState::Complete), (42, TaskState::Failed)] {
        let t = task("exit", sh(&format!("echo bye; exit {code}")));
        let ctl = rt
            .controller(&t, TaskFiles::new())
            .await
            .expect("controller");
        let (status, out) = run_to_exit(ctl.as_ref()).await;
        assert_eq!(status, ExitStatus::Exited { code });
        assert_eq!(status.task_state(), state);
        assert_eq!(out.trim(), "bye");
        ctl.remove().await.expect("remove");
        assert_removed(&rt, &t).await.expect("nothing left");
    }
}

#[tokio::test]
async fn health_check_flips_task_to_unhealthy() {
    let Some(rt) = connect(common::test_config("health")).await else {
        return;
    };
    // Healthy while /healthy exists; the check itself counts its runs and removes the file
    // after ten passes, so the task turns unhealthy two failed checks later. The healthy
    // window (ten check intervals) is many health polls long, so a loaded machine whose polls
    // run late still observes it.
    let mut spec = sh("touch /healthy; trap 'exit 0' TERM; sleep 3600 & wait");
    spec.container.healthcheck = Some(check(
        "test -f /healthy || exit 1; n=$(cat /n 2>/dev/null || echo 0); \
         echo $((n+1)) > /n; if [ $n -ge 9 ]; then rm /healthy; fi",
    ));
    let t = task("health", spec);
    let ctl = rt
        .controller(&t, TaskFiles::new())
        .await
        .expect("controller");
    let mut rx = ctl
        .health()
        .expect("a health channel for a task with a health check");
    assert_eq!(*rx.borrow(), HealthStatus::Starting);
    within("prepare", ctl.prepare()).await.expect("prepare");
    within("start", ctl.start()).await.expect("start");
    let mut seen = vec![*rx.borrow()];
    within("unhealthy", async {
        while *rx.borrow() != HealthStatus::Unhealthy {
            rx.changed().await.expect("health channel open");
            seen.push(*rx.borrow_and_update());
        }
    })
    .await;
    assert!(
        seen.contains(&HealthStatus::Healthy),
        "the task must pass its check first: {seen:?}"
    );
    assert_eq!(seen.last(), Some(&HealthStatus::Unhealthy));
    // The engine agrees.
    let info = rt
        .client()
        .inspect_container(&rt.container_name(&t.id), None)
        .await
        .expect("inspect");
    let health = info.state.and_then(|s| s.health).and_then(|h| h.status);
    assert_eq!(health.map(|h| h.to_string()).as_deref(), Some("unhealthy"));
    ctl.remove().await.expect("remove");
    assert_removed(&rt, &t).await.expect("nothing left");
}

#[tokio::test]
async fn shutdown_waits_for_a_slow_graceful_exit_and_kills_after_grace() {
    let Some(rt) = connect(common::test_config("grace")).await else {
        return;
    };
    // Needs one second to wind down after SIGTERM, then exits 7 on its own: with a 20 s grace
    // period the adapter must wait for it rather than kill it.
    let mut slow = sh("trap 'sleep 1; exit 7' TERM; echo ready; sleep 3600 & wait");
    slow.container.stop_grace_period = Duration::from_secs(20);
    // Ignores SIGTERM: with a 1 s grace period it is killed (137).
    let mut stubborn = sh(IGNORES_TERM);
    stubborn.container.stop_grace_period = Duration::from_secs(1);
    // Stops on SIGUSR1 only: the spec's stop signal is the one sent.
    let mut usr1 = sh("trap 'exit 5' USR1; echo ready; sleep 3600 & wait");
    usr1.container.stop_signal = Some("SIGUSR1".to_owned());
    usr1.container.stop_grace_period = Duration::from_secs(20);

    let mut handles = Vec::new();
    for (name, spec, expected) in [
        ("slow", slow, ExitStatus::Exited { code: 7 }),
        ("stubborn", stubborn, ExitStatus::Exited { code: 137 }),
        ("usr1", usr1, ExitStatus::Exited { code: 5 }),
    ] {
        let rt = DockerRuntime::clone(&rt);
        handles.push(tokio::spawn(async move {
            let t = task(name, spec);
            let ctl = rt
                .controller(&t, TaskFiles::new())
                .await
                .expect("controller");
            within("prepare", ctl.prepare()).await.expect("prepare");
            within("start", ctl.start()).await.expect("start");
            let mut logs = ctl
                .logs(LogOptions {
                    follow: true,
                    tail_bytes: None,
                })
                .await
                .expect("logs");
            within("ready", async {
                let mut seen = String::new();
                while let Some(c) = logs.next().await {
                    seen.push_str(&String::from_utf8_lossy(&c.data));
                    if seen.contains("ready") {
                        break;
                    }
                }
            })
            .await;
            within("shutdown", ctl.shutdown()).await.expect("shutdown");
            let status = ctl.wait().await.expect("wait");
            assert_eq!(status, expected, "{name}");
            assert_eq!(expected.is_forced_kill(), name == "stubborn");
            ctl.remove().await.expect("remove");
            assert_removed(&rt, &t).await.expect("nothing left");
        }));
    }
    for h in handles {
        h.await.expect("task");
    }
}

#[tokio::test]
async fn container_carries_labels_limits_and_no_restart_policy() {
    let Some(rt) = connect(common::test_config("labels")).await else {
        return;
    };
    let mut spec = sh("echo \"A=$A\"; pwd; id -u; hostname; exit 0");
    spec.container.env = vec!["A=hello world".to_owned()];
    spec.container.workdir = Some("/tmp".to_owned());
    spec.container.user = Some("1234".to_owned());
    spec.container.hostname = Some("task-host".to_owned());
    spec.container.labels.insert("app".into(), "web".into());
    spec.container.mounts = vec![Mount {
        kind: MountType::Tmpfs,
        source: String::new(),
        target: "/scratch".into(),
        read_only: false,
    }];
    spec.resources.limits = Some(Resources {
        nano_cpus: 500_000_000,
        memory_bytes: 64 << 20,
        generic: vec![],
    });
    let mut t = task("labels", spec);
    t.slot = Some(3);
    let ctl = rt
        .controller(&t, TaskFiles::new())
        .await
        .expect("controller");
    let (status, out) = run_to_exit(ctl.as_ref()).await;
    assert!(status.success(), "{status}: {out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        ["A=hello world", "/tmp", "1234", "task-host"],
        "{out}"
    );

    let info = rt
        .client()
        .inspect_container(&rt.container_name(&t.id), None)
        .await
        .expect("inspect");
    let labels = info
        .config
        .as_ref()
        .and_then(|c| c.labels.clone())
        .expect("labels");
    assert_eq!(labels[LABEL_TASK_ID], t.id.as_str());
    assert_eq!(labels[LABEL_SERVICE_ID], "svc-test");
    assert_eq!(labels[LABEL_NAMESPACE], rt.config().namespace);
    assert_eq!(labels["com.swarm.task.slot"], "3");
    assert_eq!(labels["app"], "web");
    let host = info.host_config.expect("host config");
    assert_eq!(host.memory, Some(64 << 20));
    assert_eq!(host.nano_cpus, Some(500_000_000));
    assert_eq!(host.network_mode.as_deref(), Some("none"));
    let restart = host
        .restart_policy
        .and_then(|p| p.name)
        .map(|n| n.to_string())
        .unwrap_or_default();
    assert!(
        restart.is_empty() || restart == "no",
        "restart policy {restart:?}"
    );
    ctl.remove().await.expect("remove");
    assert_removed(&rt, &t).await.expect("nothing left");
}

#[tokio::test]
async fn missing_image_is_a_permanent_error_naming_it() {
    let Some(rt) = connect(common::test_config("noimage")).await else {
        return;
    };
    let mut spec = sh("exit 0");
    spec.container.image = "swarm-test-no-such-image:42".to_owned();
    let t = task("noimage", spec);
    let ctl = rt
        .controller(&t, TaskFiles::new())
        .await
        .expect("controller");
    let e = ctl.prepare().await.expect_err("no such image");
    assert!(e.is_permanent(), "{e}");
    assert!(e.to_string().contains("swarm-test-no-such-image:42"), "{e}");
    ctl.remove().await.expect("remove");
    assert_removed(&rt, &t).await.expect("nothing left");
}

#[tokio::test]
async fn a_failed_pull_is_temporary_and_names_the_image() {
    let mut config = common::test_config("pull");
    config.pull_missing_images = true;
    let Some(rt) = connect(config).await else {
        return;
    };
    // A registry on a closed loopback port: the pull fails at once, nothing leaves the host.
    let mut spec = sh("exit 0");
    spec.container.image = "127.0.0.1:9/swarm-test/nope:1".to_owned();
    let t = task("pull", spec);
    let ctl = rt
        .controller(&t, TaskFiles::new())
        .await
        .expect("controller");
    let e = within("prepare", ctl.prepare())
        .await
        .expect_err("pull must fail");
    assert!(e.is_temporary(), "{e}");
    assert!(
        e.to_string().contains("127.0.0.1:9/swarm-test/nope:1"),
        "{e}"
    );
    ctl.remove().await.expect("remove");
    assert_removed(&rt, &t).await.expect("nothing left");
}

#[tokio::test]
async fn orphans_of_gone_tasks_are_cleaned_up_on_start() {
    let config = common::test_config("orphans");
    let Some(first) = connect(config.clone()).await else {
        return;
    };
    // Another namespace on the same engine: never touched.
    let other_config = common::test_config("orphans-other");
    let Some(other_ns) = connect(other_config.clone()).await else {
        return;
    };
    let mk = |name: &str| {
        let mut spec = sh(LONG_RUNNING);
        spec.container.secrets = vec![secret("s", "token", 0o400, "0", "0")];
        task(name, spec)
    };
    let files = || TaskFiles::new().with_secret("s", b"orphan-secret".to_vec());
    let (gone, kept, foreign) = (mk("gone"), mk("kept"), mk("foreign"));
    let mut leaked: Vec<Box<dyn Controller>> = Vec::new();
    for (rt, t) in [(&first, &gone), (&first, &kept), (&other_ns, &foreign)] {
        let ctl = rt.controller(t, files()).await.expect("controller");
        within("prepare", ctl.prepare()).await.expect("prepare");
        within("start", ctl.start()).await.expect("start");
        leaked.push(ctl);
    }
    // The agent "crashes": its controllers vanish without remove or drop.
    for ctl in leaked {
        std::mem::forget(ctl);
    }

    // A new agent on the same namespace, with only `kept` still assigned to the node.
    let second = DockerRuntime::connect(config).await.expect("reconnect");
    let live: HashSet<TaskId> = [kept.id.clone()].into_iter().collect();
    let report = second.cleanup_orphans(&live).await.expect("cleanup");
    assert_eq!(report.containers, [second.container_name(&gone.id)]);
    assert_eq!(report.task_dirs, 1);
    assert_removed(&second, &gone)
        .await
        .expect("gone task removed");
    assert!(second.task_files_dir(&kept.id).exists());
    assert!(other_ns.task_files_dir(&foreign.id).exists());
    for (rt, t) in [(&second, &kept), (&other_ns, &foreign)] {
        let info = rt
            .client()
            .inspect_container(&rt.container_name(&t.id), None)
            .await
            .expect("still there");
        assert_eq!(info.state.and_then(|s| s.running), Some(true));
    }

    // The kept task is adopted by a new controller: prepare and start do not run it twice.
    let ctl = second.controller(&kept, files()).await.expect("controller");
    within("prepare", ctl.prepare())
        .await
        .expect("adopting prepare");
    within("start", ctl.start()).await.expect("adopting start");
    within("shutdown", ctl.shutdown()).await.expect("shutdown");
    assert_eq!(
        ctl.wait().await.expect("wait"),
        ExitStatus::Exited { code: 0 }
    );
    ctl.remove().await.expect("remove");
    assert_removed(&second, &kept)
        .await
        .expect("kept task removed");

    // A controller that is still registered keeps its task live, even if the caller forgets it.
    let report = other_ns
        .cleanup_orphans(&HashSet::new())
        .await
        .expect("cleanup");
    assert!(report.containers.is_empty(), "{report:?}");
    // A new agent of the other namespace with nothing live removes everything of it.
    let other_again = DockerRuntime::connect(other_config)
        .await
        .expect("reconnect");
    let report = other_again
        .cleanup_orphans(&HashSet::new())
        .await
        .expect("cleanup");
    assert_eq!(report.containers.len(), 1);
    assert_eq!(report.task_dirs, 1);
    assert_removed(&other_ns, &foreign)
        .await
        .expect("foreign task removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_orphan_sweeps_at_once_both_finish_and_remove_everything_once() {
    let config = common::test_config("sweeps");
    let Some(first) = connect(config.clone()).await else {
        return;
    };
    let tasks: Vec<Task> = (0..4)
        .map(|i| {
            let mut spec = sh(LONG_RUNNING);
            spec.container.secrets = vec![secret("s", "token", 0o400, "0", "0")];
            task(&format!("swept{i}"), spec)
        })
        .collect();
    for t in &tasks {
        let files = TaskFiles::new().with_secret("s", b"swept-secret".to_vec());
        let ctl = first.controller(t, files).await.expect("controller");
        within("prepare", ctl.prepare()).await.expect("prepare");
        within("start", ctl.start()).await.expect("start");
        // The agent "crashes": the controller vanishes without remove or drop.
        std::mem::forget(ctl);
    }

    // Two agents of the namespace sweep at once: each container's removal is started by one
    // and found in progress (or gone) by the other, which is not an error of the sweep.
    let a = DockerRuntime::connect(config.clone())
        .await
        .expect("connect");
    let b = DockerRuntime::connect(config).await.expect("connect");
    let none = HashSet::new();
    let (ra, rb) = tokio::join!(a.cleanup_orphans(&none), b.cleanup_orphans(&none));
    let (ra, rb) = (ra.expect("first sweep"), rb.expect("second sweep"));
    let mut removed: Vec<String> = ra.containers.into_iter().chain(rb.containers).collect();
    removed.sort();
    let mut expected: Vec<String> = tasks.iter().map(|t| a.container_name(&t.id)).collect();
    expected.sort();
    // A container whose removal was in progress is reported by the sweep that removed it
    // once that removal is over; the other may skip it.
    assert!(removed.iter().all(|c| expected.contains(c)), "{removed:?}");
    let mut once = removed.clone();
    once.dedup();
    assert_eq!(once, removed, "a container reported by both sweeps");
    for t in &tasks {
        within("removal", async {
            while assert_removed(&a, t).await.is_err() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
    }
}

#[tokio::test]
async fn a_task_has_at_most_one_live_controller() {
    let Some(rt) = connect(common::test_config("twice")).await else {
        return;
    };
    let rt: Arc<dyn Runtime> = Arc::new(DockerRuntime::clone(&rt));
    let t = task("twice", sh("exit 0"));
    let first = rt
        .controller(&t, TaskFiles::new())
        .await
        .expect("controller");
    match rt.controller(&t, TaskFiles::new()).await {
        Err(RuntimeError::InvalidState { .. }) => {}
        Err(e) => panic!("a second live controller must be refused as InvalidState, got {e}"),
        Ok(_) => panic!("a second live controller must be refused"),
    }
    first.remove().await.expect("remove");
    // Once removed, the task id may be driven again.
    let again = rt
        .controller(&t, TaskFiles::new())
        .await
        .expect("controller");
    again.remove().await.expect("remove");

    // Two ids that sanitize to one container name cannot both be live.
    let mut a = task("collide", sh("exit 0"));
    let mut b = a.clone();
    a.id = format!("{}/x", a.id).into();
    b.id = format!("{}:x", b.id).into();
    let first = rt
        .controller(&a, TaskFiles::new())
        .await
        .expect("controller");
    match rt.controller(&b, TaskFiles::new()).await {
        Err(RuntimeError::InvalidSpec { field, .. }) => assert_eq!(field, "id"),
        Err(e) => panic!("a colliding task id must be refused as InvalidSpec, got {e}"),
        Ok(_) => panic!("a colliding task id must be refused"),
    }
    first.remove().await.expect("remove");
}

#[tokio::test]
async fn dropping_a_controller_cleans_up_in_the_background() {
    let Some(rt) = connect(common::test_config("drop")).await else {
        return;
    };
    let mut spec = sh(LONG_RUNNING);
    spec.container.secrets = vec![secret("s", "token", 0o400, "0", "0")];
    let t = task("drop", spec);
    let ctl = rt
        .controller(&t, TaskFiles::new().with_secret("s", b"x".to_vec()))
        .await
        .expect("controller");
    within("prepare", ctl.prepare()).await.expect("prepare");
    within("start", ctl.start()).await.expect("start");
    drop(ctl);
    // The files go at once; the container shortly after.
    assert!(!rt.task_files_dir(&t.id).exists());
    within("background removal", async {
        while assert_removed(&rt, &t).await.is_err() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn logs_are_bounded_and_keep_the_newest_output() {
    let mut config = common::test_config("logs");
    config.log_max_bytes = 1024;
    let Some(rt) = connect(config).await else {
        return;
    };
    let t = task(
        "logs",
        sh("i=0; while [ $i -lt 500 ]; do echo line-$i; i=$((i+1)); done; echo last-line"),
    );
    let ctl = rt
        .controller(&t, TaskFiles::new())
        .await
        .expect("controller");
    let (status, out) = run_to_exit(ctl.as_ref()).await;
    assert!(status.success());
    assert!(out.len() <= 1024, "{} bytes kept", out.len());
    assert!(out.ends_with("last-line\n"), "{out}");
    assert!(!out.contains("line-0\n"));
    ctl.remove().await.expect("remove");
}

#[tokio::test]
async fn invalid_specs_are_refused_before_anything_exists() {
    let Some(rt) = connect(common::test_config("invalid")).await else {
        return;
    };
    let mut spec = sh("exit 0");
    spec.container.stop_signal = Some("SIGBOGUS".into());
    let t = task("invalid", spec);
    match rt.controller(&t, TaskFiles::new()).await {
        Err(RuntimeError::InvalidSpec { field, .. }) => assert_eq!(field, "container.stop_signal"),
        Err(e) => panic!("expected InvalidSpec, got {e}"),
        Ok(_) => panic!("expected InvalidSpec, got a controller"),
    }
    let mut spec = sh("exit 0");
    spec.resources.limits = Some(Resources {
        nano_cpus: 0,
        memory_bytes: 1000,
        generic: vec![],
    });
    let t = task("invalid", spec);
    match rt.controller(&t, TaskFiles::new()).await {
        Err(RuntimeError::InvalidSpec { field, .. }) => {
            assert_eq!(field, "resources.limits.memory_bytes")
        }
        Err(e) => panic!("expected InvalidSpec, got {e}"),
        Ok(_) => panic!("expected InvalidSpec, got a controller"),
    }
    assert_removed(&rt, &t).await.expect("nothing created");
}

#[tokio::test]
async fn secrets_root_on_disk_is_refused() {
    let disk = tempfile::tempdir().expect("tempdir");
    if nix::sys::statfs::statfs(disk.path())
        .map(|s| s.filesystem_type() == nix::sys::statfs::TMPFS_MAGIC)
        .unwrap_or(true)
    {
        eprintln!("!!! SKIPPED: the temp directory is on tmpfs here");
        return;
    }
    let config = DockerConfig {
        secrets_root: disk.path().join("secrets"),
        ..common::test_config("disk")
    };
    match DockerRuntime::connect(config).await {
        Err(DockerError::SecretsNotOnTmpfs { path, .. }) => {
            assert_eq!(path, disk.path().join("secrets"))
        }
        Err(DockerError::EngineUnreachable { socket, message }) => {
            common::skip_no_engine(&socket, &message);
        }
        other => panic!("a secrets root on disk must be refused, got {other:?}"),
    }
    // Explicitly allowed (with a loud warning), the same root is accepted.
    let config = DockerConfig {
        secrets_root: disk.path().join("secrets"),
        allow_secrets_on_disk: true,
        ..common::test_config("disk")
    };
    match DockerRuntime::connect(config).await {
        Ok(_) | Err(DockerError::EngineUnreachable { .. }) => {}
        Err(e) => panic!("allow_secrets_on_disk must accept a disk root, got {e}"),
    }
}

#[tokio::test]
async fn describe_reports_the_engine() {
    let Some(rt) = connect(common::test_config("describe")).await else {
        return;
    };
    let info = rt.client().info().await.expect("info");
    let d = rt.describe().await.expect("describe");
    assert_eq!(Some(d.hostname.clone()), info.name);
    assert_eq!(d.platform.os, "linux");
    assert_eq!(
        d.platform.architecture,
        swarm_core::runtime::host::go_arch(info.architecture.as_deref().unwrap_or_default())
    );
    assert_eq!(
        d.resources.nano_cpus,
        info.ncpu.unwrap_or_default() * 1_000_000_000
    );
    assert_eq!(Some(d.resources.memory_bytes), info.mem_total);
    assert!(d.engine.engine_version.starts_with("docker/"));
    let _ = TEST_IMAGE;
}

#[tokio::test]
async fn streams_outlive_the_request_timeout() {
    // `wait` and the log reader are long-lived requests: the per-request timeout only bounds
    // the engine's first answer, so a task silent for longer than it is still followed.
    let mut config = common::test_config("timeout");
    // Generous enough that a loaded engine still answers create/start within it; the task
    // stays silent for twice as long.
    config.request_timeout = Duration::from_secs(3);
    let Some(rt) = connect(config).await else {
        return;
    };
    let t = task("timeout", sh("sleep 6; echo late; exit 4"));
    let ctl = rt
        .controller(&t, TaskFiles::new())
        .await
        .expect("controller");
    let (status, out) = run_to_exit(ctl.as_ref()).await;
    assert_eq!(status, ExitStatus::Exited { code: 4 });
    assert_eq!(out, "late\n");
    ctl.remove().await.expect("remove");
    assert_removed(&rt, &t).await.expect("nothing left");
}

#[tokio::test]
async fn init_forwards_the_stop_signal_to_a_program_without_handler() {
    // `sleep` as PID 1 has no SIGTERM handler, so the kernel drops the signal and only the kill
    // after the grace period ends it (137). With `init` docker-init is PID 1 and forwards the
    // signal: `sleep` dies of SIGTERM (143) well before the grace period.
    for (init, expected) in [(false, 137), (true, 143)] {
        let mut config = common::test_config("init");
        config.init = init;
        let Some(rt) = connect(config).await else {
            return;
        };
        let mut spec = common::sh("");
        spec.container.command = vec!["/bin/sleep".into(), "3600".into()];
        spec.container.stop_grace_period = Duration::from_secs(if init { 30 } else { 1 });
        let t = task("init", spec);
        let ctl = rt
            .controller(&t, TaskFiles::new())
            .await
            .expect("controller");
        within("prepare", ctl.prepare()).await.expect("prepare");
        within("start", ctl.start()).await.expect("start");
        within("shutdown", ctl.shutdown()).await.expect("shutdown");
        assert_eq!(
            ctl.wait().await.expect("wait"),
            ExitStatus::Exited { code: expected },
            "init = {init}"
        );
        ctl.remove().await.expect("remove");
        assert_removed(&rt, &t).await.expect("nothing left");
    }
}

#[tokio::test]
async fn network_mode_is_configurable() {
    let mut config = common::test_config("net");
    config.network_mode = "host".to_owned();
    let Some(rt) = connect(config).await else {
        return;
    };
    let t = task("net", sh("exit 0"));
    let ctl = rt
        .controller(&t, TaskFiles::new())
        .await
        .expect("controller");
    within("prepare", ctl.prepare()).await.expect("prepare");
    let info = rt
        .client()
        .inspect_container(&rt.container_name(&t.id), None)
        .await
        .expect("inspect");
    assert_eq!(
        info.host_config.and_then(|h| h.network_mode).as_deref(),
        Some("host")
    );
    ctl.remove().await.expect("remove");
    assert_removed(&rt, &t).await.expect("nothing left");
}

#[tokio::test]
async fn memory_limit_is_enforced() {
    let Some(rt) = connect(common::test_config("oom")).await else {
        return;
    };
    // `tail -c N` holds N bytes: 64 MB cannot fit in a 16 MiB limit, so the kernel kills it.
    let mut spec =
        sh("head -c 64000000 /dev/zero | tail -c 64000000 >/dev/null; echo \"tail exit $?\"");
    spec.resources.limits = Some(Resources {
        nano_cpus: 0,
        memory_bytes: 16 << 20,
        generic: vec![],
    });
    let t = task("oom", spec);
    let ctl = rt
        .controller(&t, TaskFiles::new())
        .await
        .expect("controller");
    let (status, out) = run_to_exit(ctl.as_ref()).await;
    // The cgroup's OOM killer picks its victim by size and machine state: usually `tail` (the
    // shell then reports it and exits 0), sometimes the shell itself (PID 1: the container
    // exits 137 and the engine records the OOM kill). Either way the limit was enforced; an
    // unenforced limit lets `tail` finish ("tail exit 0").
    if status == (ExitStatus::Exited { code: 137 }) {
        let info = rt
            .client()
            .inspect_container(&rt.container_name(&t.id), None)
            .await
            .expect("inspect");
        assert_eq!(
            info.state.and_then(|s| s.oom_killed),
            Some(true),
            "exit 137 without an OOM kill: {out}"
        );
    } else {
        assert!(status.success(), "{status}");
        // The shell also reports "Killed" on stderr.
        assert!(
            out.lines().any(|l| l == "tail exit 137"),
            "the allocation must be killed: {out}"
        );
    }
    ctl.remove().await.expect("remove");
    assert_removed(&rt, &t).await.expect("nothing left");
}

#[tokio::test]
async fn secret_owner_decides_what_a_non_root_task_can_read() {
    let Some(rt) = connect(common::test_config("owner")).await else {
        return;
    };
    let mut spec = sh(
        "cat /run/secrets/mine && echo; cat /run/secrets/roots 2>/dev/null || echo denied; id -u",
    );
    spec.container.user = Some("1000:1000".to_owned());
    spec.container.secrets = vec![
        secret("mine", "mine", 0o400, "1000", "1000"),
        secret("roots", "roots", 0o400, "0", "0"),
    ];
    let t = task("owner", spec);
    let files = TaskFiles::new()
        .with_secret("mine", b"for-uid-1000".to_vec())
        .with_secret("roots", b"for-root-only".to_vec());
    let ctl = rt.controller(&t, files).await.expect("controller");
    let (status, out) = run_to_exit(ctl.as_ref()).await;
    assert!(status.success(), "{status}: {out}");
    assert_eq!(out, "for-uid-1000\ndenied\n1000\n");
    ctl.remove().await.expect("remove");
    assert_removed(&rt, &t).await.expect("nothing left");
}
