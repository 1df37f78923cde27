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
use crate::manager::writes::{ManagerWrite, ObjectWrite};
use crate::model::{
    Cluster, Config, ConfigId, Network, NetworkId, Node, NodeId, Secret, SecretId, Service,
    ServiceId, Task, TaskId, Version,
};
use crate::node::events::{ClusterEvent, service_event, task_event};
use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;
use swarm_store::fifo_watch as watch;
use swarm_store::{Collection, StoreError, WatchEvent, WatchEventKind};
use tokio::sync::broadcast;
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
    /// Moves at every change of the node records or the cluster object only (what the sync
    /// loop follows), once the copy applied it.
    records: Arc<watch::Sender<u64>>,
    /// Raised to make every follower list its collection again, linearizably.
    resync: Arc<watch::Sender<u64>>,
    /// For each followed collection, the last resync generation it completed.
    synced: Arc<watch::Sender<BTreeMap<&'static str, u64>>>,
    /// Where the changes of services, tasks, secrets, configs and networks are announced.
    events: broadcast::Sender<ClusterEvent>,
}

impl FollowedState {
    /// An empty copy whose object changes are announced on `events`.
    pub(crate) fn new(events: broadcast::Sender<ClusterEvent>) -> FollowedState {
        FollowedState {
            state: Arc::new(RwLock::new(ClusterState::new())),
            changes: Arc::new(watch::channel(0).0),
            records: Arc::new(watch::channel(0).0),
            resync: Arc::new(watch::channel(0).0),
            synced: Arc::new(watch::channel(BTreeMap::new()).0),
            events,
        }
    }

    /// Makes every follower list its collection again with a linearizable read (so the copy
    /// holds at least everything committed before the call) and waits until all have; a new
    /// leader does this before its first orchestration round. `false` if `stop` came first.
    pub(crate) async fn resync(&self, stop: &CancellationToken) -> bool {
        let mut generation = 0;
        self.resync.send_modify(|g| {
            *g = g.wrapping_add(1);
            generation = *g;
        });
        let mut synced = self.synced.subscribe();
        tokio::select! {
            biased;
            () = stop.cancelled() => false,
            done = synced.wait_for(|m| {
                m.len() == FOLLOWED_COLLECTIONS && m.values().all(|g| *g >= generation)
            }) => done.is_ok(),
        }
    }

    /// Applies writes this manager committed, skipping what the watch already brought
    /// ([`ClusterState::absorb`]), so the next round sees them at once.
    pub(crate) fn absorb<'a>(&self, writes: impl IntoIterator<Item = &'a ManagerWrite>) {
        {
            let mut state = self.write();
            for write in writes {
                let event = match write {
                    ManagerWrite::Task(w) => match w {
                        ObjectWrite::Create(t) | ObjectWrite::Update { object: t, .. } => {
                            task_event(state.task(&t.id), Some(t))
                        }
                        ObjectWrite::Delete { .. } => None,
                    },
                    ManagerWrite::Service(w) => match w {
                        ObjectWrite::Create(s) | ObjectWrite::Update { object: s, .. } => {
                            service_event(state.service(&s.id), Some(s))
                        }
                        ObjectWrite::Delete { id, .. } => {
                            service_event(state.services().get(id.as_str()), None)
                        }
                    },
                    _ => None,
                };
                if let Some(e) = event {
                    let _ = self.events.send(e);
                }
                state.absorb(std::slice::from_ref(write));
            }
        }
        self.changed();
    }

    /// Whether every collection was listed at least once (before that, the copy misses
    /// objects: a node's assignment set must not be read from it).
    pub(crate) fn is_whole(&self) -> bool {
        self.synced.borrow().len() >= FOLLOWED_COLLECTIONS
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

    /// A receiver that sees a counter move at every change of the node records or the
    /// cluster object, once the copy holds it (other changes, e.g. of tasks, leave it).
    pub(crate) fn subscribe_records(&self) -> watch::Receiver<u64> {
        self.records.subscribe()
    }

    /// Announces a change of the collection `T` (a change of the records too, for nodes and
    /// the cluster object).
    fn changed_of<T: StoredObject>(&self) {
        if T::COLLECTION == Node::COLLECTION || T::COLLECTION == Cluster::COLLECTION {
            self.records.send_modify(|n| *n = n.wrapping_add(1));
        }
        self.changed();
    }

    /// The node records, once every collection was listed (`None` before: the copy may
    /// miss records).
    pub(crate) fn nodes(&self) -> Option<Vec<Node>> {
        if !self.is_whole() {
            return None;
        }
        Some(self.read().nodes().values().cloned().collect())
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
    /// The event of the object at `key` changing to `after` (`None`: removed), read before
    /// the change is applied. Nodes and the cluster object have their own events (the sync
    /// loop's), so by default none.
    fn event(_state: &ClusterState, _key: &str, _after: Option<&Self>) -> Option<ClusterEvent> {
        None
    }
}

/// `Followed` for an object kept in a map of `ClusterState`: its put and remove methods, its
/// map, and the function that turns a change into an event.
macro_rules! followed {
    ($ty:ty, $id:ty, $put:ident, $remove:ident, $all:ident, $event:expr) => {
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
            fn event(
                state: &ClusterState,
                key: &str,
                after: Option<&Self>,
            ) -> Option<ClusterEvent> {
                let event: fn(Option<&Self>, Option<&Self>) -> Option<ClusterEvent> = $event;
                event(state.$all().get(key), after)
            }
        }
    };
}

/// The event of a secret, config or network created or removed.
fn created_or_removed<T: StoredObject>(
    kind: &'static str,
    before: Option<&T>,
    after: Option<&T>,
) -> Option<ClusterEvent> {
    let id = after.or(before)?.key().to_owned();
    (before.is_some() != after.is_some()).then_some(ClusterEvent::ObjectChanged {
        kind,
        id,
        created: after.is_some(),
    })
}

followed!(Node, NodeId, put_node, remove_node, nodes, |_, _| None);
followed!(
    Service,
    ServiceId,
    put_service,
    remove_service,
    services,
    service_event
);
followed!(Task, TaskId, put_task, remove_task, tasks, task_event);
followed!(
    Secret,
    SecretId,
    put_secret,
    remove_secret,
    secrets,
    |b, a| { created_or_removed("secret", b, a) }
);
followed!(
    Config,
    ConfigId,
    put_config,
    remove_config,
    configs,
    |b, a| { created_or_removed("config", b, a) }
);
followed!(
    Network,
    NetworkId,
    put_network,
    remove_network,
    networks,
    |b, a| { created_or_removed("network", b, a) }
);

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

/// Lists `collection` into the copy, then applies its watch, until `stop`; lists again
/// (linearizably) at every resync request and after a failed watch.
async fn follow<T: Followed>(
    collection: Collection<T>,
    shared: FollowedState,
    stop: CancellationToken,
) {
    let mut resync = shared.resync.subscribe();
    let mut linearizable = false;
    loop {
        let generation = *resync.borrow_and_update();
        let listed = if linearizable {
            collection.list("").await
        } else {
            collection.list_local("")
        };
        let listing = match listed {
            Ok(listing) => listing,
            Err(StoreError::Shutdown) => return,
            Err(e) => {
                tracing::debug!(collection = collection.name(), error = %e, "listing failed; retrying");
                tokio::select! {
                    biased;
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
        shared.changed_of::<T>();
        shared.synced.send_modify(|m| {
            m.insert(T::COLLECTION, generation);
        });
        let mut watch = collection.watch("", listing.revision);
        linearizable = loop {
            let next = tokio::select! {
                biased;
                () = stop.cancelled() => return,
                _ = resync.changed() => break true,
                next = watch.next() => next,
            };
            match next {
                Ok(event) => {
                    {
                        let mut state = shared.write();
                        apply_event(&mut state, event, &shared.events);
                        // Apply every change already buffered under the same lock.
                        while let Ok(Some(event)) = watch.try_next() {
                            apply_event(&mut state, event, &shared.events);
                        }
                    }
                    shared.changed_of::<T>();
                }
                Err(StoreError::Shutdown) => return,
                Err(e) => {
                    tracing::debug!(collection = collection.name(), error = %e, "watch ended; listing again");
                    tokio::select! {
                        biased;
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(FOLLOW_RETRY_DELAY) => {}
                    }
                    break false;
                }
            }
        };
    }
}

fn apply_event<T: Followed>(
    state: &mut ClusterState,
    event: WatchEvent<T>,
    events: &broadcast::Sender<ClusterEvent>,
) {
    match event.kind {
        WatchEventKind::Put { mut value, version } => {
            value.meta_mut().version = Version(version);
            if let Some(e) = T::event(state, &event.key, Some(&value)) {
                // No receiver is fine: nobody listens.
                let _ = events.send(e);
            }
            T::put(state, value);
        }
        WatchEventKind::Deleted { .. } => {
            if let Some(e) = T::event(state, &event.key, None) {
                let _ = events.send(e);
            }
            T::remove(state, &event.key);
        }
    }
}
