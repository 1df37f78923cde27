//! A watch channel whose waiters wake in a fixed order: a drop-in for the parts of
//! `tokio::sync::watch` this crate and openraft use (`channel`, `Sender`, `Receiver`, `Ref`,
//! with tokio's method names and semantics).
//!
//! tokio's `watch` spreads its waiters over eight `Notify`s picked with tokio's internal thread
//! RNG, which is seeded by the OS unless tokio is built with `tokio_unstable` and given a
//! seed. So when one value change wakes several tasks (openraft's replication streams and
//! workers, or several reads waiting for the same applied index), the order they run in
//! differs from run to run, and so does everything that follows at that instant. This channel
//! keeps one `Notify`, whose `notify_waiters` wakes waiters in the order they registered: on a
//! single-threaded runtime that order is a function of the program alone.
//!
//! openraft uses it through the store's runtime; the store's own applied-index channel
//! (`SharedState`, read by linearizable reads and watches) uses it directly, and so can any
//! code that must replay exactly under a simulation (swarm-core's nodes do). A receiver checks
//! the version before registering with the `Notify`, so a value already changed costs one read
//! lock and no `Notify` traffic.

use std::ops::Deref;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};
use tokio::sync::Notify;

/// The error of [`Receiver::changed`] and [`Receiver::wait_for`]: every sender is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("watch channel closed")]
pub struct RecvError;

/// The error of [`Sender::send`]: no receiver is left; the value is handed back.
#[derive(Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("watch channel closed")]
pub struct SendError<T>(pub T);

impl<T> std::fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendError").finish_non_exhaustive()
    }
}

/// The value and its version (bumped on every change).
struct Slot<T> {
    value: T,
    version: u64,
}

struct Shared<T> {
    slot: RwLock<Slot<T>>,
    changed: Notify,
    senders: AtomicUsize,
    receivers: AtomicUsize,
    /// Set by [`Sender::close`]: the channel is closed although senders are left.
    closed: AtomicBool,
}

impl<T> Shared<T> {
    fn read(&self) -> RwLockReadGuard<'_, Slot<T>> {
        // A panic while holding the lock leaves a whole value behind: keep going with it.
        self.slot.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn closed(&self) -> bool {
        self.closed.load(Ordering::Acquire) || self.senders.load(Ordering::Acquire) == 0
    }
}

/// A channel holding `init`: like `tokio::sync::watch::channel`.
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        slot: RwLock::new(Slot {
            value: init,
            version: 0,
        }),
        changed: Notify::new(),
        senders: AtomicUsize::new(1),
        receivers: AtomicUsize::new(1),
        closed: AtomicBool::new(false),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared, seen: 0 },
    )
}

/// The sending half: cloneable; the channel closes when the last clone drops.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving half: remembers the version it saw last.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    seen: u64,
}

/// A read guard on the current value. Do not hold it across an `.await`.
pub struct Ref<'a, T> {
    guard: RwLockReadGuard<'a, Slot<T>>,
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard.value
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

impl<T> std::fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("version", &self.shared.read().version)
            .finish_non_exhaustive()
    }
}

impl<T> std::fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.senders.fetch_add(1, Ordering::AcqRel);
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.changed.notify_waiters();
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.receivers.fetch_add(1, Ordering::AcqRel);
        Receiver {
            shared: self.shared.clone(),
            seen: self.seen,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.shared.receivers.fetch_sub(1, Ordering::AcqRel);
    }
}

impl<T> Sender<T> {
    /// Stores `value` and wakes the waiters, unless no receiver is left (then nothing is
    /// stored and `value` comes back), as tokio's.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.shared.receivers.load(Ordering::Acquire) == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Stores `value` whether or not a receiver is left, wakes the waiters and returns the
    /// previous value.
    pub fn send_replace(&self, value: T) -> T {
        let mut value = Some(value);
        let mut old = None;
        self.send_if_modified(|current| {
            if let Some(v) = value.take() {
                old = Some(std::mem::replace(current, v));
            }
            true
        });
        match old {
            Some(old) => old,
            None => unreachable!("send_if_modified calls its closure exactly once"),
        }
    }

    /// Lets `modify` change the value in place; when it returns `true` the change is announced.
    pub fn send_if_modified<F: FnOnce(&mut T) -> bool>(&self, modify: F) -> bool {
        let modified = {
            let mut slot = self
                .shared
                .slot
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            let modified = modify(&mut slot.value);
            if modified {
                slot.version += 1;
            }
            modified
        };
        if modified {
            self.shared.changed.notify_waiters();
        }
        modified
    }

    /// Lets `modify` change the value in place and announces the change (even without
    /// receivers, like `tokio::sync::watch::Sender::send_modify`).
    pub fn send_modify<F: FnOnce(&mut T)>(&self, modify: F) {
        self.send_if_modified(|value| {
            modify(value);
            true
        });
    }

    /// The current value.
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.read(),
        }
    }

    /// Closes the channel as if every sender were gone (the value stays readable): a waiter
    /// that has seen the last value fails with [`RecvError`], now and on every later wait.
    pub fn close(&self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.changed.notify_waiters();
    }

    /// Whether [`Sender::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    /// A new receiver that has seen the current value.
    pub fn subscribe(&self) -> Receiver<T> {
        self.shared.receivers.fetch_add(1, Ordering::AcqRel);
        let seen = self.shared.read().version;
        Receiver {
            shared: self.shared.clone(),
            seen,
        }
    }
}

impl<T> Receiver<T> {
    /// Returns once the value changed since this receiver last saw it (at once if it already
    /// did, marking it seen), or fails when every sender is gone and nothing new is left.
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        // Fast path: a change already there needs no registration with the `Notify`.
        let version = self.shared.read().version;
        if version != self.seen {
            self.seen = version;
            return Ok(());
        }
        loop {
            // Register before checking, so a change between the check and the wait is not
            // missed (`notify_waiters` wakes every `Notified` created before it).
            let mut notified = pin!(self.shared.changed.notified());
            notified.as_mut().enable();
            let version = self.shared.read().version;
            if version != self.seen {
                self.seen = version;
                return Ok(());
            }
            if self.shared.closed() {
                return Err(RecvError);
            }
            notified.await;
        }
    }

    /// Returns the value once `condition` holds for it (checking the current value first),
    /// marking it seen; fails when every sender is gone first.
    // openraft does not call it; the store's applied-index channel does.
    pub async fn wait_for(
        &mut self,
        mut condition: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        // Fast path: a value that already satisfies the condition needs no registration.
        {
            let guard = self.shared.read();
            self.seen = guard.version;
            if condition(&guard.value) {
                return Ok(Ref { guard });
            }
        }
        loop {
            let mut notified = pin!(self.shared.changed.notified());
            notified.as_mut().enable();
            {
                let guard = self.shared.read();
                self.seen = guard.version;
                if condition(&guard.value) {
                    return Ok(Ref { guard });
                }
            }
            if self.shared.closed() {
                return Err(RecvError);
            }
            notified.await;
        }
    }

    /// The current value, without marking it seen.
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.read(),
        }
    }

    /// The current value, marking it seen.
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = self.shared.read();
        self.seen = guard.version;
        Ref { guard }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[tokio::test(flavor = "current_thread")]
    async fn changes_are_seen_once_and_close_ends_the_wait() {
        let (tx, mut rx) = channel(0u64);
        tx.send(1).expect("a receiver is alive");
        rx.changed().await.expect("changed");
        assert_eq!(*rx.borrow_and_update(), 1);
        assert!(!tx.send_if_modified(|_| false));
        assert_eq!(tx.send_replace(5), 1);
        rx.changed().await.expect("changed");
        assert_eq!(*rx.borrow(), 5);
        let mut late = tx.subscribe();
        let other = tx.clone();
        drop(tx);
        // One sender is left: a change still arrives.
        other.send(6).expect("receivers alive");
        late.changed().await.expect("changed");
        assert_eq!(*late.wait_for(|v| *v == 6).await.expect("holds"), 6);
        drop(other);
        assert_eq!(late.changed().await, Err(RecvError));
        assert!(late.wait_for(|v| *v == 7).await.is_err());
        // A change made before the close is still seen, then the close.
        assert!(rx.changed().await.is_ok());
        assert!(rx.changed().await.is_err());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn close_ends_waits_already_waiting_and_later_ones() {
        let (tx, mut rx) = channel(0u64);
        let waiting = tokio::spawn(async move { rx.wait_for(|v| *v == 9).await.map(|v| *v) });
        tokio::task::yield_now().await;
        tx.send_replace(1);
        assert!(!tx.is_closed());
        tx.close();
        assert_eq!(waiting.await.expect("joined"), Err(RecvError));
        let mut late = tx.subscribe();
        assert_eq!(late.changed().await, Err(RecvError));
        assert_eq!(*late.borrow(), 1, "the last value stays readable");
        assert!(tx.is_closed());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn send_without_receivers_is_refused_but_replace_stores() {
        let (tx, rx) = channel(1u8);
        drop(rx);
        assert_eq!(tx.send(2), Err(SendError(2)));
        assert_eq!(*tx.borrow(), 1);
        assert_eq!(tx.send_replace(3), 1);
        assert_eq!(*tx.borrow(), 3);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn wait_for_wakes_on_the_change_that_satisfies_it() {
        let (tx, mut rx) = channel(0u32);
        let waiter = tokio::spawn(async move { *rx.wait_for(|v| *v >= 3).await.expect("holds") });
        for v in 1..=4 {
            // The waiter (the only receiver) is gone after 3: replace, not send.
            tx.send_replace(v);
            tokio::task::yield_now().await;
        }
        assert_eq!(waiter.await.expect("no panic"), 3);
    }

    /// The order in which 16 waiters on one change run.
    async fn wake_order() -> Vec<u32> {
        let (tx, rx) = channel(0u32);
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..16 {
            let mut rx = rx.clone();
            let order = order.clone();
            tasks.push(tokio::spawn(async move {
                let _ = *rx.wait_for(|v| *v > 0).await.expect("changed");
                order.lock().expect("not poisoned").push(i);
            }));
            // Let it register.
            tokio::task::yield_now().await;
        }
        tx.send(1).expect("receivers alive");
        for t in tasks {
            t.await.expect("no panic");
        }
        order.lock().expect("not poisoned").clone()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn waiters_wake_in_registration_order() {
        // tokio's watch would give a different permutation from run to run here.
        assert_eq!(wake_order().await, (0..16).collect::<Vec<_>>());
    }
}
