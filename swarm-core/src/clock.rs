//! The wall clock the node's code reads: the operating system's, or under a simulation a
//! virtual one that follows tokio's (paused) clock.
//!
//! A simulation runs every node on one thread (a current-thread tokio runtime with a paused
//! clock). Reading the real wall clock there would make timestamps, restart delays and
//! heartbeat deadlines depend on how fast the machine ran, so a seed would not replay. A
//! simulation installs a virtual wall clock for its thread ([`install_virtual`]): from then on
//! [`now`] is a fixed base plus the tokio time elapsed since the install, the same on every
//! run of a seed.

use std::cell::Cell;
use std::time::SystemTime;

thread_local! {
    /// The virtual clock of this thread: its base and the tokio instant it was installed at.
    static VIRTUAL: Cell<Option<(SystemTime, tokio::time::Instant)>> = const { Cell::new(None) };
}

/// The current wall-clock time: the virtual clock of this thread when one is installed, the
/// operating system's otherwise.
pub(crate) fn now() -> SystemTime {
    match VIRTUAL.with(Cell::get) {
        Some((base, since)) => base + since.elapsed(),
        None => SystemTime::now(),
    }
}

/// Whether a virtual clock is installed on this thread.
#[cfg(all(test, feature = "testkit"))]
fn is_virtual() -> bool {
    VIRTUAL.with(Cell::get).is_some()
}

/// Installs a virtual wall clock on this thread reading `base` now and advancing with tokio's
/// clock; call it from inside the runtime. Returns a guard that removes it when dropped.
#[cfg(feature = "testkit")]
pub(crate) fn install_virtual(base: SystemTime) -> VirtualClockGuard {
    let previous = VIRTUAL.with(|v| v.replace(Some((base, tokio::time::Instant::now()))));
    VirtualClockGuard { previous }
}

/// Removes a virtual clock when dropped (restoring the one it replaced).
#[cfg(feature = "testkit")]
#[derive(Debug)]
pub(crate) struct VirtualClockGuard {
    previous: Option<(SystemTime, tokio::time::Instant)>,
}

#[cfg(feature = "testkit")]
impl Drop for VirtualClockGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        VIRTUAL.with(|v| v.set(previous));
    }
}

#[cfg(all(test, feature = "testkit"))]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn the_virtual_clock_follows_tokio_time_and_is_removed_by_its_guard() {
        let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        {
            let _guard = install_virtual(base);
            assert!(is_virtual());
            assert_eq!(now(), base);
            tokio::time::sleep(Duration::from_secs(5)).await;
            assert_eq!(now(), base + Duration::from_secs(5));
        }
        assert!(!is_virtual());
        assert!(now() > base + Duration::from_secs(1_000_000));
    }
}
