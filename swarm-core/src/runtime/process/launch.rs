//! Spawning processes in their own process group, and signalling that group.

use crate::runtime::error::{LifecycleStep, RuntimeError};
use crate::runtime::process::user::TaskUser;
use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// Everything needed to spawn one process of a task (the main one or a health probe).
#[derive(Clone, Debug)]
pub(crate) struct Launch {
    pub(crate) program: PathBuf,
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) workdir: PathBuf,
    pub(crate) user: Option<TaskUser>,
}

impl Launch {
    /// Spawns the process as the leader of a new process group, with a clean environment and
    /// stdin from `/dev/null`. `capture` pipes stdout and stderr, otherwise they are discarded.
    pub(crate) fn spawn(&self, capture: bool) -> Result<Child, RuntimeError> {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.workdir)
            .stdin(Stdio::null())
            .process_group(0)
            .kill_on_drop(false);
        if capture {
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        } else {
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
        }
        if let Some(u) = &self.user {
            cmd.uid(u.uid).gid(u.gid);
        }
        cmd.spawn().map_err(|e| {
            RuntimeError::io(
                LifecycleStep::Start,
                format!(
                    "spawning `{}` in {}",
                    self.program.display(),
                    self.workdir.display()
                ),
                e,
            )
        })
    }
}

/// Sends `signal` to every process of the group `pgid`. A group that no longer exists is not
/// an error.
pub(crate) fn signal_group(
    pgid: i32,
    signal: Signal,
    step: LifecycleStep,
) -> Result<(), RuntimeError> {
    match killpg(Pid::from_raw(pgid), signal) {
        Ok(()) | Err(Errno::ESRCH) => Ok(()),
        Err(e) => Err(RuntimeError::with_source(
            crate::runtime::ErrorKind::Temporary,
            step,
            format!("sending {} to process group {pgid}", signal.as_str()),
            e,
        )),
    }
}

/// Polls (every [`GROUP_POLL_INTERVAL`], for at most `max`) until no process of group `pgid`
/// exists any more; returns `false` if some are still there after `max`.
pub(crate) async fn wait_group_gone(pgid: i32, max: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + max;
    loop {
        if let Err(Errno::ESRCH) = killpg(Pid::from_raw(pgid), None) {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(GROUP_POLL_INTERVAL).await;
    }
}

/// Interval of [`wait_group_gone`]'s polling.
pub(crate) const GROUP_POLL_INTERVAL: Duration = Duration::from_millis(5);

/// Kills the process group on drop (health probes and their children never outlive a probe).
pub(crate) struct GroupGuard(pub(crate) i32);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        let _ = killpg(Pid::from_raw(self.0), Signal::SIGKILL);
    }
}
