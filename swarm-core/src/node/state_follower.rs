//! Every manager's in-memory copy of the orchestration state, kept current from the store.
//!
//! The follower lists each collection from this manager's copy of the store, then follows
//! the collection's watch from the listing's revision, applying every change to one shared
//! [`ClusterState`] and bumping a change counter that the loops wait on. A watch that fails
//! (the store compacted past it, or was restarted) is re-opened after a fresh listing of its
//! collection, so the copy never misses a change for long: at worst it is one listing old.
//!
//! Readers take the lock briefly: the leader's orchestration round reads under it and then
//! releases it before writing to the store; the dispatcher reads a node's tasks under it.

use crate::manager::cluster_state::ClusterState;
use crate::manager::state::schema::ManagerCollections;
use crate::manager::state::schema::{StoredObject, object_from_store};
use crate::model::{
    Cluster, Config, ConfigId, Network, NetworkId, Node, NodeId, Secret, SecretId, Service,
    ServiceId, Task, TaskId, Version,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;
use swarm_store::{Collection, StoreError, WatchEvent, WatchEventKind};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Wait before listing a collection again after its watch failed.
pub const FOLLOW_RETRY_DELAY: Duration = Duration::from_millis(100);

/// How many collections the copy follows (one task each).
const FOLLOWED_COLLECTIONS: usize = 7;

/// The shared copy and its change counter.
#[derive(Clone)]
pub(crate) struct FollowedState {
    state: Arc<RwLock<ClusterState>>,
    changes: Arc<watch::Sender<u64>>,
    /// Collections listed at least once: the copy is whole once all are.
    listed: Arc<AtomicUsize>,
}

impl FollowedState {
    pub(crate) fn new() -> FollowedState {
        FollowedState {
            state: Arc::new(RwLock::new(ClusterState::new())),
            changes: Arc::new(watch::channel(0).0),
            listed: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Whether every collection was listed at least once (before that, the copy misses
    /// objects: a node's assignment set must not be read from it).
    pub(crate) fn is_whole(&self) -> bool {
        self.listed.load(Ordering::Acquire) >= FOLLOWED_COLLECTIONS
    }

    /// The copy, for reading (a poisoned lock still holds a consistent map: every change is
    /// one insert or remove).
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, ClusterState> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, ClusterState> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// A receiver that sees the counter move at every change.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Starts following every collection; the tasks end when `stop` is cancelled or the
    /// store shuts down.
    pub(crate) fn follow(
        &self,
        collections: &ManagerCollections,
        stop: &CancellationToken,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        vec![
            tokio::spawn(follow::<Node>(
                collections.nodes.clone(),
                self.clone(),
                stop.clone(),
            )),
            tokio::spawn(follow::<Cluster>(
                collections.clusters.clone(),
                self.clone(),
                stop.clone(),
            )),
            tokio::spawn(follow::<Service>(
                collections.services.clone(),
                self.clone(),
                stop.clone(),
            )),
            tokio::spawn(follow::<Task>(
                collections.tasks.clone(),
                self.clone(),
                stop.clone(),
            )),
            tokio::spawn(follow::<Secret>(
                collections.secrets.clone(),
                self.clone(),
                stop.clone(),
            )),
            tokio::spawn(follow::<Config>(
                collections.configs.clone(),
                self.clone(),
                stop.clone(),
            )),
            tokio::spawn(follow::<Network>(
                collections.networks.clone(),
                self.clone(),
                stop.clone(),
            )),
        ]
    }
}

/// How one kind of object enters and leaves a [`ClusterState`].
trait Followed: StoredObject + Send + Sync + 'static {
    fn put(state: &mut ClusterState, object: Self);
    fn remove(state: &mut ClusterState, key: &str);
    /// Removes every object of this kind (before a fresh listing).
    fn clear(state: &mut ClusterState);
}

macro_rules! followed {
    ($ty:ty, $id:ty, $put:ident, $remove:ident, $all:ident) => {
        impl Followed for $ty {
            fn put(state: &mut ClusterState, object: Self) {
                state.$put(object);
            }
            fn remove(state: &mut ClusterState, key: &str) {
                state.$remove(&<$id>::new(key));
            }
            fn clear(state: &mut ClusterState) {
                let keys: Vec<$id> = state.$all().keys().cloned().collect();
                for key in keys {
                    state.$remove(&key);
                }
            }
        }
    };
}

followed!(Node, NodeId, put_node, remove_node, nodes);
followed!(Service, ServiceId, put_service, remove_service, services);
followed!(Task, TaskId, put_task, remove_task, tasks);
followed!(Secret, SecretId, put_secret, remove_secret, secrets);
followed!(Config, ConfigId, put_config, remove_config, configs);
followed!(Network, NetworkId, put_network, remove_network, networks);

impl Followed for Cluster {
    fn put(state: &mut ClusterState, object: Self) {
        state.set_cluster(Some(object));
    }
    fn remove(state: &mut ClusterState, key: &str) {
        if state.cluster().is_some_and(|c| c.id.as_str() == key) {
            state.set_cluster(None);
        }
    }
    fn clear(state: &mut ClusterState) {
        state.set_cluster(None);
    }
}

/// Lists `collection` into the copy, then applies its watch, until `stop`.
async fn follow<T: Followed>(
    collection: Collection<T>,
    shared: FollowedState,
    stop: CancellationToken,
) {
    let mut first = true;
    loop {
        let listing = match collection.list_local("") {
            Ok(listing) => listing,
            Err(StoreError::Shutdown) => return,
            Err(e) => {
                tracing::debug!(collection = collection.name(), error = %e, "listing failed; retrying");
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(FOLLOW_RETRY_DELAY) => continue,
                }
            }
        };
        {
            let mut state = shared.write();
            T::clear(&mut state);
            for doc in listing.items {
                T::put(&mut state, object_from_store(doc));
            }
        }
        if std::mem::take(&mut first) {
            shared.listed.fetch_add(1, Ordering::AcqRel);
        }
        shared.changed();
        let mut watch = collection.watch("", listing.revision);
        loop {
            let next = tokio::select! {
                () = stop.cancelled() => return,
                next = watch.next() => next,
            };
            match next {
                Ok(event) => {
                    {
                        let mut state = shared.write();
                        apply_event(&mut state, event);
                        // Apply every change already buffered under the same lock.
                        while let Ok(Some(event)) = watch.try_next() {
                            apply_event(&mut state, event);
                        }
                    }
                    shared.changed();
                }
                Err(StoreError::Shutdown) => return,
                Err(e) => {
                    tracing::debug!(collection = collection.name(), error = %e, "watch ended; listing again");
                    break;
                }
            }
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(FOLLOW_RETRY_DELAY) => {}
        }
    }
}

fn apply_event<T: Followed>(state: &mut ClusterState, event: WatchEvent<T>) {
    match event.kind {
        WatchEventKind::Put { mut value, version } => {
            value.meta_mut().version = Version(version);
            T::put(state, value);
        }
        WatchEventKind::Deleted { .. } => T::remove(state, &event.key),
    }
}
