//! Running a task's health check command at its interval.

use crate::runtime::exit::ExitStatus;
use crate::runtime::health::HealthStatus;
use crate::runtime::process::launch::{GroupGuard, Launch};
use crate::runtime::process::plan::HealthPlan;
use tokio::sync::watch;
use tokio::time::{Instant, sleep, timeout};

/// Runs the health check until the task exits (`exit_rx` turns `Some`), publishing to `tx`
/// with Docker's semantics: the first probe runs one interval after start; a probe passes when
/// it exits 0 within `timeout`; `retries` consecutive failures make the task unhealthy; while
/// the task is still `starting`, failures within `start_period` do not count.
pub(crate) async fn run_health_checks(
    plan: HealthPlan,
    probe: Launch,
    tx: watch::Sender<HealthStatus>,
    mut exit_rx: watch::Receiver<Option<Result<ExitStatus, String>>>,
) {
    let started = Instant::now();
    let mut failing_streak: u32 = 0;
    let set = |status: HealthStatus| {
        tx.send_if_modified(|cur| {
            if *cur == status {
                false
            } else {
                *cur = status;
                true
            }
        });
    };
    let checks = async {
        loop {
            sleep(plan.interval).await;
            let passed = run_probe(&probe, &plan).await;
            if passed {
                failing_streak = 0;
                set(HealthStatus::Healthy);
                continue;
            }
            if started.elapsed() < plan.start_period && *tx.borrow() == HealthStatus::Starting {
                continue;
            }
            failing_streak = failing_streak.saturating_add(1);
            if failing_streak >= plan.retries {
                set(HealthStatus::Unhealthy);
            }
        }
    };
    let exited = async {
        // Returns when the task exits or its controller is gone.
        let _ = exit_rx.wait_for(|s| s.is_some()).await;
    };
    tokio::select! {
        () = checks => {}
        () = exited => {}
    }
}

async fn run_probe(probe: &Launch, plan: &HealthPlan) -> bool {
    let Ok(mut child) = probe.spawn(false) else {
        return false;
    };
    let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) else {
        return false;
    };
    // Kills the probe and anything it started when this function returns or is cancelled.
    let _guard = GroupGuard(pid);
    matches!(
        timeout(plan.timeout, child.wait()).await,
        Ok(Ok(status)) if status.success()
    )
}
