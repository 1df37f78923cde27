//! What the CLI tests share: swarmd processes on 127.0.0.1 and the docker CLI driving them.

#![allow(dead_code, unreachable_pub)]

pub mod engine;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Longest wait for the cluster to reach a state the test expects.
pub const CONVERGE_LIMIT: Duration = Duration::from_secs(25);
/// Longest wait for a swarmd to open its socket.
const START_LIMIT: Duration = Duration::from_secs(10);
/// Pause between two polls of the CLI.
pub const POLL_PAUSE: Duration = Duration::from_millis(200);

/// One swarmd process, stopped with SIGTERM (then killed) when dropped.
pub struct Daemon {
    pub name: String,
    killed: bool,
    child: Child,
    socket: PathBuf,
    log_path: PathBuf,
    docker: PathBuf,
    config_dir: PathBuf,
}

impl Daemon {
    /// Starts swarmd as node `name` (its hostname), with `extra` flags.
    pub fn start(root: &Path, name: &str, docker: &Path, extra: &[&str]) -> Daemon {
        let socket = root.join(format!("{name}.sock"));
        let log_path = root.join(format!("{name}.log"));
        let log = std::fs::File::create(&log_path).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_swarmd"))
            .arg("--socket")
            .arg(&socket)
            .arg("--data-dir")
            .arg(root.join(name))
            .args(["--listen-addr", "127.0.0.1:0", "--hostname", name])
            .args(extra)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start swarmd");
        let deadline = Instant::now() + START_LIMIT;
        while !socket.exists() {
            assert!(
                Instant::now() < deadline,
                "{name}: no socket after {START_LIMIT:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Daemon {
            name: name.to_owned(),
            killed: false,
            child,
            socket,
            log_path,
            docker: docker.to_owned(),
            config_dir: root.join("docker-config"),
        }
    }

    /// Runs the CLI against this daemon: (success, stdout, stderr).
    pub fn try_docker(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(&self.docker)
            .arg("-H")
            .arg(format!("unix://{}", self.socket.display()))
            .args(args)
            .env("DOCKER_CONFIG", &self.config_dir)
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .output()
            .expect("run docker");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs the CLI with `input` on its standard input (`swarm unlock` reads the key there):
    /// (success, stdout, stderr).
    pub fn try_docker_with_input(&self, args: &[&str], input: &str) -> (bool, String, String) {
        use std::io::Write;
        let mut child = Command::new(&self.docker)
            .arg("-H")
            .arg(format!("unix://{}", self.socket.display()))
            .args(args)
            .env("DOCKER_CONFIG", &self.config_dir)
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run docker");
        if let Some(mut stdin) = child.stdin.take() {
            // The CLI may exit before it reads (a node that is not locked): no key is needed then.
            let _ = stdin.write_all(input.as_bytes());
        }
        let out = child.wait_with_output().expect("docker output");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs the CLI with `input` on its standard input and expects success; its stdout.
    pub fn docker_with_input(&self, args: &[&str], input: &str) -> String {
        let (ok, out, err) = self.try_docker_with_input(args, input);
        assert!(ok, "docker {args:?} failed:\nstdout: {out}\nstderr: {err}");
        out
    }

    /// The daemon's log so far (its stderr).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Runs the CLI and expects success; its stdout.
    pub fn docker(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.try_docker(args);
        assert!(ok, "docker {args:?} failed:\nstdout: {out}\nstderr: {err}");
        out
    }

    /// Polls `docker args` until `check` accepts its stdout; that stdout.
    pub fn wait_for(&self, what: &str, args: &[&str], check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + CONVERGE_LIMIT;
        loop {
            let (ok, out, err) = self.try_docker(args);
            if ok && check(&out) {
                return out;
            }
            assert!(
                Instant::now() < deadline,
                "gave up waiting for {what}; last `docker {args:?}`:\n{out}{err}"
            );
            std::thread::sleep(POLL_PAUSE);
        }
    }
}

impl Daemon {
    /// SIGKILLs the process (a crash: nothing is cleaned up).
    pub fn kill(&mut self) {
        self.killed = true;
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.killed {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` until it holds, for at most [`CONVERGE_LIMIT`].
pub fn wait_until(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + CONVERGE_LIMIT;
    while !check() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(POLL_PAUSE);
    }
}

/// The docker CLI to use, if any.
pub fn docker_cli() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SWARMD_TEST_DOCKER") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("docker"))
        .find(|p| p.is_file())
}

/// The table line that mentions `word`.
pub fn line_with<'a>(table: &'a str, word: &str) -> &'a str {
    table
        .lines()
        .find(|l| l.split_whitespace().any(|w| w == word))
        .unwrap_or_else(|| panic!("no line with {word:?} in:\n{table}"))
}

pub fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// Whether this is CI (`CI` set to anything but empty, `0` or `false`): a missing docker CLI
/// or engine then fails a test instead of skipping it.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Skips `test` loudly for `reason`, or fails it under CI.
pub fn skip(test: &str, reason: &str) {
    assert!(!in_ci(), "CI is set but {test} cannot run: {reason}");
    eprintln!("!!! SKIPPED {test}: {reason}");
}
