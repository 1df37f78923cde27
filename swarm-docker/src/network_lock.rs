//! [`NetworkLock`]: what keeps one runtime's local networks from going while a task uses them,
//! without making the tasks on a network wait for each other.

use std::sync::Arc;
use tokio::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The network steps of one runtime's controllers:
///
/// - creating a container on its networks and starting it **share** the lock, so the tasks of
///   one network are created and started at once (a stack of many replicas on one network
///   does not go one container at a time);
/// - removing a network that no container uses takes it **alone**, so a network never goes
///   between a task's creation on it (or its start) and the container's joining it;
/// - creating a missing network also takes the **creation** lock, so two tasks needing the
///   same absent network create it once (the second finds it) instead of racing on the engine.
///
/// A writer waiting for the lock is served before readers that come after it (tokio's fair
/// `RwLock`), so a removal is never starved by a stream of starts.
#[derive(Clone, Default)]
pub(crate) struct NetworkLock {
    users: Arc<RwLock<()>>,
    creating: Arc<Mutex<()>>,
}

impl NetworkLock {
    /// For creating or starting a container on its networks (shared with other tasks).
    pub(crate) async fn share(&self) -> RwLockReadGuard<'_, ()> {
        self.users.read().await
    }

    /// For removing networks (no container creation or start meanwhile).
    pub(crate) async fn exclusive(&self) -> RwLockWriteGuard<'_, ()> {
        self.users.write().await
    }

    /// For creating absent networks; taken while the lock is shared.
    pub(crate) async fn creating(&self) -> MutexGuard<'_, ()> {
        self.creating.lock().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tasks_share_the_lock_and_a_removal_waits_for_them() {
        let lock = NetworkLock::default();
        let first = lock.share().await;
        // A second task creating or starting its container does not wait for the first.
        let second = lock.users.try_read();
        assert!(second.is_ok(), "a second user must not wait for the first");
        // A removal waits until no task uses the networks.
        assert!(lock.users.try_write().is_err());
        drop(second);
        drop(first);
        assert!(lock.users.try_write().is_ok());
    }

    #[tokio::test]
    async fn a_removal_excludes_new_users() {
        let lock = NetworkLock::default();
        let removal = lock.exclusive().await;
        assert!(lock.users.try_read().is_err());
        drop(removal);
        assert!(lock.users.try_read().is_ok());
    }

    #[tokio::test]
    async fn creations_of_networks_are_one_at_a_time_while_shared() {
        let lock = NetworkLock::default();
        let _user = lock.share().await;
        let creating = lock.creating().await;
        assert!(lock.creating.try_lock().is_err());
        drop(creating);
        assert!(lock.creating.try_lock().is_ok());
    }
}
