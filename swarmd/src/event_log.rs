//! The daemon's events: what its node's events stream says, turned into Docker's events with
//! the objects' names looked up, kept for `since` and handed to `/events` streams.

use crate::docker::event::{DockerEvent, from_cluster};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;
use swarm_core::node::{ClusterEvent, Control};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

/// Events kept for `since` (the newest; older ones are forgotten, as dockerd keeps its last
/// 256 events in memory).
pub(crate) const MAX_EVENT_HISTORY: usize = 256;
/// Events a `/events` stream may fall behind by; a slower reader misses the oldest of them and
/// goes on with the newest.
pub(crate) const MAX_LIVE_EVENTS: usize = 1024;
/// Object names remembered so that a removal can still name what it removed; the memory is
/// cleared when full, so at worst a removal event lacks its `name` attribute.
const MAX_KNOWN_NAMES: usize = 10_000;

/// The events history and the live feed.
pub(crate) struct EventLog {
    history: Mutex<VecDeque<DockerEvent>>,
    live: broadcast::Sender<DockerEvent>,
    forwarder: Mutex<Option<JoinHandle<()>>>,
}

impl EventLog {
    /// An empty log.
    pub(crate) fn new() -> Arc<EventLog> {
        Arc::new(EventLog {
            history: Mutex::new(VecDeque::new()),
            live: broadcast::channel(MAX_LIVE_EVENTS).0,
            forwarder: Mutex::new(None),
        })
    }

    /// Records `event` and hands it to the live streams.
    pub(crate) fn push(&self, event: DockerEvent) {
        let mut history = self.history.lock().unwrap_or_else(PoisonError::into_inner);
        if history.len() == MAX_EVENT_HISTORY {
            history.pop_front();
        }
        history.push_back(event.clone());
        // No stream listening is fine.
        let _ = self.live.send(event);
    }

    /// The events kept so far and a receiver of those to come, with no gap or repeat between.
    pub(crate) fn subscribe(&self) -> (Vec<DockerEvent>, broadcast::Receiver<DockerEvent>) {
        let history = self.history.lock().unwrap_or_else(PoisonError::into_inner);
        (history.iter().cloned().collect(), self.live.subscribe())
    }

    /// Follows a node's events stream (replacing the node followed before), naming objects
    /// through `control` (a manager's; `None` on a worker, whose stream stays empty).
    pub(crate) fn follow(
        self: &Arc<Self>,
        events: broadcast::Receiver<ClusterEvent>,
        control: Option<Control>,
    ) {
        let this = self.clone();
        let task = tokio::spawn(async move { this.forward(events, control).await });
        if let Some(old) = self
            .forwarder
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .replace(task)
        {
            old.abort();
        }
    }

    /// Stops following the node (it left or the daemon stops).
    pub(crate) fn stop(&self) {
        if let Some(task) = self
            .forwarder
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            task.abort();
        }
    }

    async fn forward(
        &self,
        mut events: broadcast::Receiver<ClusterEvent>,
        control: Option<Control>,
    ) {
        let mut names: HashMap<String, String> = HashMap::new();
        loop {
            let event = match events.recv().await {
                Ok(e) => e,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "the events stream fell behind the node");
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            };
            let Some(mut e) = from_cluster(&event, SystemTime::now()) else {
                continue;
            };
            let name = match (e.name(), e.action) {
                (Some(n), _) => Some(n.to_owned()),
                (None, "remove") => names.remove(&e.id),
                (None, _) => match &control {
                    Some(c) => look_up_name(c, e.kind, &e.id).await,
                    None => None,
                },
            };
            if let Some(name) = name {
                if e.action != "remove" {
                    if names.len() >= MAX_KNOWN_NAMES {
                        names.clear();
                    }
                    names.insert(e.id.clone(), name.clone());
                }
                e.attributes.insert("name".to_owned(), name);
            }
            self.push(e);
        }
    }
}

/// The name of object `id` of `kind` (a node's hostname), if it still exists.
async fn look_up_name(control: &Control, kind: &str, id: &str) -> Option<String> {
    match kind {
        "service" => control.service(id).await.ok().map(|s| s.spec.name),
        "node" => control
            .node(id)
            .await
            .ok()
            .and_then(|n| n.description.map(|d| d.hostname)),
        "secret" => control.secret(id).await.ok().map(|s| s.name),
        "config" => control.config(id).await.ok().map(|c| c.spec.name),
        "network" => control.network(id).await.ok().map(|n| n.spec.name),
        _ => None,
    }
}
