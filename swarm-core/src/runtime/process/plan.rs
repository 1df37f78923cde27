//! Turning a task spec into what to execute: program, arguments, environment, working
//! directory, stop signal and health check.

use crate::model::{HealthCheck, Task};
use crate::runtime::error::{LifecycleStep, RuntimeError};
use crate::runtime::process::signal::parse_signal;
use crate::runtime::process::task_dir::{
    ENV_CONFIGS_DIR, ENV_FILES_ROOT, ENV_SECRETS_DIR, ENV_TASK_DIR, ENV_TASK_ID, TaskDir,
};
use nix::sys::signal::Signal;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Docker's default health check interval and timeout, used when the spec leaves them at zero.
pub const DEFAULT_HEALTH_INTERVAL: Duration = Duration::from_secs(30);
/// Docker's default health check timeout.
pub const DEFAULT_HEALTH_TIMEOUT: Duration = Duration::from_secs(30);
/// Docker's default number of consecutive failures before unhealthy.
pub const DEFAULT_HEALTH_RETRIES: u32 = 3;
/// Most environment entries a task may set.
pub const MAX_ENV_ENTRIES: usize = 4096;
/// Longest task id accepted (it names a directory).
pub const MAX_TASK_ID_LEN: usize = 128;

/// How the health check is run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HealthPlan {
    /// `CMD` program (resolved at prepare) or `/bin/sh` for `CMD-SHELL`.
    pub(crate) program: String,
    pub(crate) args: Vec<String>,
    pub(crate) interval: Duration,
    pub(crate) timeout: Duration,
    pub(crate) retries: u32,
    pub(crate) start_period: Duration,
}

/// What to execute for a task.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub(crate) program: String,
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) workdir: PathBuf,
    pub(crate) stop_signal: Signal,
    pub(crate) health: Option<HealthPlan>,
}

/// Checks a task id usable as a directory name: `[A-Za-z0-9][A-Za-z0-9_.-]*`, at most
/// [`MAX_TASK_ID_LEN`] bytes.
pub(crate) fn validate_task_id(id: &str) -> Result<(), RuntimeError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_TASK_ID_LEN
        && id.as_bytes()[0].is_ascii_alphanumeric()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(RuntimeError::invalid_spec(
            "task.id",
            format!(
                "`{id}` must be 1 to {MAX_TASK_ID_LEN} characters of [A-Za-z0-9_.-] starting \
                 with a letter or digit"
            ),
        ))
    }
}

impl Plan {
    /// Builds the plan; pure (no I/O). `base_env` comes first, then the spec's env, then the
    /// `SWARM_*` variables (which the spec cannot override).
    pub(crate) fn from_task(
        task: &Task,
        dir: &TaskDir,
        base_env: &[(String, String)],
    ) -> Result<Plan, RuntimeError> {
        validate_task_id(task.id.as_str())?;
        let c = &task.spec.container;
        let (program, mut args) = if let Some((first, rest)) = c.command.split_first() {
            (first.clone(), rest.to_vec())
        } else {
            (c.image.clone(), Vec::new())
        };
        if program.is_empty() {
            return Err(RuntimeError::invalid_spec(
                if c.command.is_empty() {
                    "container.image"
                } else {
                    "container.command[0]"
                },
                "no program to run: set `command` or `image` (the program for ProcessRuntime)",
            ));
        }
        args.extend(c.args.iter().cloned());

        if let Some((i, m)) = c.mounts.iter().enumerate().next() {
            return Err(RuntimeError::invalid_spec(
                format!("container.mounts[{i}]"),
                format!(
                    "ProcessRuntime runs processes in the host's filesystem and cannot mount \
                     ({:?} {} -> {})",
                    m.kind, m.source, m.target
                ),
            ));
        }

        if c.env.len() > MAX_ENV_ENTRIES {
            return Err(RuntimeError::invalid_spec(
                "container.env",
                format!(
                    "{} entries exceed the limit of {MAX_ENV_ENTRIES}",
                    c.env.len()
                ),
            ));
        }
        let mut env: Vec<(String, String)> = base_env.to_vec();
        env.push(("HOME".to_owned(), path_string(&dir.work_dir())));
        if let Some(h) = &c.hostname {
            env.push(("HOSTNAME".to_owned(), h.clone()));
        }
        for (i, kv) in c.env.iter().enumerate() {
            // A bare `KEY` unsets the variable, as with Docker.
            let Some((k, v)) = kv.split_once('=') else {
                if kv.is_empty() || kv.contains('\0') {
                    return Err(RuntimeError::invalid_spec(
                        format!("container.env[{i}]"),
                        "empty name or NUL byte",
                    ));
                }
                env.retain(|(name, _)| name != kv);
                continue;
            };
            if k.is_empty() || k.contains('\0') || v.contains('\0') {
                return Err(RuntimeError::invalid_spec(
                    format!("container.env[{i}]"),
                    "empty name or NUL byte",
                ));
            }
            env.push((k.to_owned(), v.to_owned()));
        }
        for (k, v) in [
            (ENV_TASK_ID, task.id.as_str().to_owned()),
            (ENV_TASK_DIR, path_string(dir.path())),
            (ENV_SECRETS_DIR, path_string(&dir.secrets_dir())),
            (ENV_CONFIGS_DIR, path_string(&dir.configs_dir())),
            (ENV_FILES_ROOT, path_string(&dir.files_root())),
        ] {
            env.push((k.to_owned(), v));
        }
        // Later entries win, as with repeated `-e` flags.
        let mut dedup: Vec<(String, String)> = Vec::with_capacity(env.len());
        for (k, v) in env {
            if let Some(slot) = dedup.iter_mut().find(|(dk, _)| *dk == k) {
                slot.1 = v;
            } else {
                dedup.push((k, v));
            }
        }

        let workdir = match &c.workdir {
            None => dir.work_dir(),
            Some(w) if w.is_empty() => dir.work_dir(),
            Some(w) if w.starts_with('/') => PathBuf::from(w),
            Some(w) => {
                return Err(RuntimeError::invalid_spec(
                    "container.workdir",
                    format!("`{w}` is not an absolute path"),
                ));
            }
        };

        let stop_signal = match &c.stop_signal {
            None => Signal::SIGTERM,
            Some(s) => parse_signal(s)?,
        };

        let health = match &c.healthcheck {
            None => None,
            Some(h) => health_plan(h)?,
        };

        Ok(Plan {
            program,
            args,
            env: dedup,
            workdir,
            stop_signal,
            health,
        })
    }

    /// The value of `PATH` the task gets.
    pub(crate) fn path_var(&self) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.as_str())
    }
}

fn health_plan(h: &HealthCheck) -> Result<Option<HealthPlan>, RuntimeError> {
    let field = "container.healthcheck.test";
    let (program, args) = match h.test.split_first() {
        None => return Ok(None),
        Some((kind, rest)) => match kind.as_str() {
            "NONE" => return Ok(None),
            "CMD" => match rest.split_first() {
                Some((p, a)) if !p.is_empty() => (p.clone(), a.to_vec()),
                _ => return Err(RuntimeError::invalid_spec(field, "CMD needs a program")),
            },
            "CMD-SHELL" => {
                if rest.len() != 1 {
                    return Err(RuntimeError::invalid_spec(
                        field,
                        "CMD-SHELL takes exactly one script",
                    ));
                }
                ("/bin/sh".to_owned(), vec!["-c".to_owned(), rest[0].clone()])
            }
            other => {
                return Err(RuntimeError::invalid_spec(
                    field,
                    format!("`{other}` is not CMD, CMD-SHELL or NONE"),
                ));
            }
        },
    };
    let or = |d: Duration, default: Duration| if d.is_zero() { default } else { d };
    Ok(Some(HealthPlan {
        program,
        args,
        interval: or(h.interval, DEFAULT_HEALTH_INTERVAL),
        timeout: or(h.timeout, DEFAULT_HEALTH_TIMEOUT),
        retries: if h.retries == 0 {
            DEFAULT_HEALTH_RETRIES
        } else {
            h.retries
        },
        start_period: h.start_period,
    }))
}

fn path_string(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Finds the executable for `program`: a path containing `/` is taken as is (relative to
/// `workdir`), a bare name is searched in `path_var`.
pub(crate) fn resolve_program(
    field: &str,
    program: &str,
    path_var: Option<&str>,
    workdir: &Path,
) -> Result<PathBuf, RuntimeError> {
    let is_exec = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if program.contains('/') {
        let p = if program.starts_with('/') {
            PathBuf::from(program)
        } else {
            workdir.join(program)
        };
        return if is_exec(&p) {
            Ok(p)
        } else {
            Err(RuntimeError::permanent(
                LifecycleStep::Prepare,
                format!("{field}: `{}` is not an executable file", p.display()),
            ))
        };
    }
    for dir in path_var.unwrap_or("").split(':').filter(|d| !d.is_empty()) {
        let candidate = Path::new(dir).join(program);
        if is_exec(&candidate) {
            return Ok(candidate);
        }
    }
    Err(RuntimeError::permanent(
        LifecycleStep::Prepare,
        format!(
            "{field}: program `{program}` not found in PATH `{}`",
            path_var.unwrap_or("")
        ),
    ))
}
