//! The switch of injected disk faults shared by a [`FaultyLogStorage`] and its test.
//!
//! [`FaultyLogStorage`]: super::FaultyLogStorage

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// The longest delay a slow disk may add to one append: a longer one is cut to this (the
/// worst case a Raft core waits on one append of a slow disk).
pub const MAX_SLOW_SYNC_MS: u64 = 1_000;

#[derive(Debug, Default)]
struct State {
    /// The next write call fails.
    fail_next: bool,
    /// A write call failed: every later one fails too until [`DiskFaults::repair`].
    failed: bool,
    /// Appends wait this long before they land, until `slow_until`.
    slow_ms: u64,
    /// When the disk syncs at full speed again (tokio's clock).
    slow_until: Option<Instant>,
}

/// A per-disk fault switch (clones share it): fail the next write, or make appends slow for a
/// while. Time is tokio's clock, so under a paused clock a seeded run replays exactly.
///
/// ```
/// use swarm_store::testkit::DiskFaults;
///
/// let faults = DiskFaults::new();
/// faults.fail_next_write();
/// assert!(!faults.failed());
/// faults.repair();
/// ```
#[derive(Clone, Debug, Default)]
pub struct DiskFaults {
    state: Arc<Mutex<State>>,
}

impl DiskFaults {
    /// A switch with no fault set.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update is a single assignment: a poisoned lock still holds a consistent state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next write call (append, truncate, purge, vote or committed position) fails with
    /// an I/O error and persists nothing; every later one fails too, until
    /// [`repair`](Self::repair).
    pub fn fail_next_write(&self) {
        self.lock().fail_next = true;
    }

    /// Whether a write failed (the disk refuses writes until [`repair`](Self::repair)).
    pub fn failed(&self) -> bool {
        self.lock().failed
    }

    /// Whether a failure is armed or happened (the disk is not sound).
    pub fn faulty(&self) -> bool {
        let state = self.lock();
        state.fail_next || state.failed
    }

    /// Appends land only `delay_ms` (at most [`MAX_SLOW_SYNC_MS`]) after they are called,
    /// for the next `for_duration`.
    pub fn slow_appends(&self, delay_ms: u64, for_duration: Duration) {
        let mut state = self.lock();
        state.slow_ms = delay_ms.min(MAX_SLOW_SYNC_MS);
        state.slow_until = Some(Instant::now() + for_duration);
    }

    /// Clears an armed failure and the slowness, unless a write already failed: returns
    /// whether one did (the disk then stays failed until [`repair`](Self::repair)).
    pub fn disarm(&self) -> bool {
        let mut state = self.lock();
        if state.failed {
            return true;
        }
        *state = State::default();
        false
    }

    /// Clears every fault: the disk is sound again, with what it kept.
    pub fn repair(&self) {
        *self.lock() = State::default();
    }

    /// Takes the armed failure: `true` if this write call must fail (and every later one).
    pub(crate) fn write_fails(&self) -> bool {
        let mut state = self.lock();
        if state.fail_next {
            state.fail_next = false;
            state.failed = true;
        }
        state.failed
    }

    /// The delay an append made now waits, if the disk is slow now.
    pub(crate) fn append_delay(&self) -> Option<Duration> {
        let state = self.lock();
        let until = state.slow_until?;
        (state.slow_ms > 0 && Instant::now() < until).then(|| Duration::from_millis(state.slow_ms))
    }
}
