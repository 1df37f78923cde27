//! The state the orchestration steps read: every stored object, with the indexes they need.
//!
//! A [`ClusterState`] is what the store holds, in memory: the cluster object, nodes, services,
//! tasks, secrets, configs and networks, each at the store's version, plus the tasks of each
//! service and of each node. The managers' loops fill it from the store and keep it current
//! from the store's watch; the orchestration steps (orchestrators, allocator, scheduler,
//! dispatcher) take it by reference and return [`ManagerWrite`]s.
//!
//! [`ClusterState::apply`] applies writes the way the store will (a create at version 1, a
//! replace at the expected version + 1, a delete), so a loop can run several steps in a row on
//! one view and a test can drive the steps with no store at all. It refuses a write whose
//! version check the store would refuse, naming the object, and then changes nothing.
//!
//! # Invariants
//! * The indexes hold exactly the tasks of `tasks`: `tasks_of_service(s)` lists every task
//!   whose `service_id` is `s`, `tasks_on_node(n)` every task whose `node_id` is `Some(n)`.
//!   The maps are private, so every change goes through a method that keeps them.
//! * Every object's `meta.version` is the store's version of it.
//! * A task on a node has an *assignment version* ([`ClusterState::assignment_version`]):
//!   the version at which it was put on the node or last changed in a way its node is shown
//!   (`changes_for_node`). A change of its status alone from `assigned` or later to accepted,
//!   preparing, ..., running (what its agent reports) keeps it, and is not a change of the
//!   node ([`ClusterState::node_changed_since`]): the agent made that change itself
//!   (SwarmKit's dispatcher skips such updates the same way, `TasksEqualStable`).

use crate::manager::node_changes::NodeChanges;
use crate::manager::state::schema::{StoredObject, version_after};
use crate::manager::writes::{ManagerWrite, ObjectWrite};
use crate::model::{
    Cluster, Config, ConfigId, Network, NetworkId, Node, NodeId, Secret, SecretId, Service,
    ServiceId, Task, TaskId, TaskState, Version,
};
use std::collections::{BTreeMap, BTreeSet};

/// Why [`ClusterState::apply`] refused a write: the store would refuse it too.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StateConflict {
    /// A create named an object that exists.
    #[error("{collection} {id} exists")]
    Exists {
        /// The collection.
        collection: &'static str,
        /// The object's id.
        id: String,
    },
    /// A replace or delete named an object that is absent or at another version.
    #[error("{collection} {id} is {}, not at version {expected}", held_text(.found))]
    Version {
        /// The collection.
        collection: &'static str,
        /// The object's id.
        id: String,
        /// The version the write expected.
        expected: Version,
        /// The version held (`None`: absent).
        found: Option<Version>,
    },
}

/// Every stored object, with the task indexes (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct ClusterState {
    cluster: Option<Cluster>,
    nodes: BTreeMap<NodeId, Node>,
    services: BTreeMap<ServiceId, Service>,
    tasks: BTreeMap<TaskId, Task>,
    secrets: BTreeMap<SecretId, Secret>,
    configs: BTreeMap<ConfigId, Config>,
    networks: BTreeMap<NetworkId, Network>,
    tasks_by_service: BTreeMap<ServiceId, BTreeSet<TaskId>>,
    /// The tasks on each node, with their assignment versions.
    tasks_by_node: BTreeMap<NodeId, BTreeMap<TaskId, Version>>,
    node_changes: NodeChanges,
}

impl ClusterState {
    /// An empty state.
    pub fn new() -> ClusterState {
        ClusterState::default()
    }

    /// The cluster object, once created.
    pub fn cluster(&self) -> Option<&Cluster> {
        self.cluster.as_ref()
    }

    /// The node records, by id.
    pub fn nodes(&self) -> &BTreeMap<NodeId, Node> {
        &self.nodes
    }

    /// A node record.
    pub fn node(&self, id: &NodeId) -> Option<&Node> {
        self.nodes.get(id)
    }

    /// The services, by id.
    pub fn services(&self) -> &BTreeMap<ServiceId, Service> {
        &self.services
    }

    /// A service.
    pub fn service(&self, id: &ServiceId) -> Option<&Service> {
        self.services.get(id)
    }

    /// A service by its name (names are unique among services).
    pub fn service_by_name(&self, name: &str) -> Option<&Service> {
        self.services.values().find(|s| s.spec.name == name)
    }

    /// The tasks, by id.
    pub fn tasks(&self) -> &BTreeMap<TaskId, Task> {
        &self.tasks
    }

    /// A task.
    pub fn task(&self, id: &TaskId) -> Option<&Task> {
        self.tasks.get(id)
    }

    /// The tasks of a service, in task id order.
    pub fn tasks_of_service<'a>(&'a self, id: &ServiceId) -> impl Iterator<Item = &'a Task> + 'a {
        self.tasks_by_service
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|t| self.tasks.get(t))
    }

    /// The tasks assigned to a node, in task id order.
    pub fn tasks_on_node<'a>(&'a self, id: &NodeId) -> impl Iterator<Item = &'a Task> + 'a {
        self.tasks_on_node_with_versions(id).map(|(task, _)| task)
    }

    /// The tasks assigned to a node with their assignment versions
    /// ([`ClusterState::assignment_version`]), in task id order: one lookup per task fewer
    /// than asking for each version.
    pub fn tasks_on_node_with_versions<'a>(
        &'a self,
        id: &NodeId,
    ) -> impl Iterator<Item = (&'a Task, Version)> + 'a {
        self.tasks_by_node
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|(t, version)| self.tasks.get(t).map(|task| (task, *version)))
    }

    /// The version at which `task` (as held here) was put on its node or last changed in a
    /// way its node is shown (see the module docs); its `meta.version` for a task on no
    /// node. Two reads give the same answer exactly when the node has nothing new to learn
    /// about the task.
    pub fn assignment_version(&self, task: &Task) -> Version {
        task.node_id
            .as_ref()
            .and_then(|node| self.tasks_by_node.get(node))
            .and_then(|tasks| tasks.get(&task.id))
            .copied()
            .unwrap_or(task.meta.version)
    }

    /// A counter that grows at every change of this view that can change what a node is
    /// given: a task put on, changed on or taken off a node, a node record, a secret or a
    /// config. Read it with the state a node's assignment set is computed from; later,
    /// [`ClusterState::node_changed_since`] says whether computing it again can give
    /// anything else.
    pub fn change_seq(&self) -> u64 {
        self.node_changes.seq()
    }

    /// Whether, since [`ClusterState::change_seq`] was `seq`, a task on `node` or its record
    /// changed, or any secret, config or removed node record (which concern every node).
    /// `false` means everything an assignment set of `node` is computed from is as it was.
    pub fn node_changed_since(&self, node: &NodeId, seq: u64) -> bool {
        self.node_changes.changed_since(node, seq)
    }

    /// The secrets, by id (with their values: never hand these to a client).
    pub fn secrets(&self) -> &BTreeMap<SecretId, Secret> {
        &self.secrets
    }

    /// The configs, by id.
    pub fn configs(&self) -> &BTreeMap<ConfigId, Config> {
        &self.configs
    }

    /// The networks, by id.
    pub fn networks(&self) -> &BTreeMap<NetworkId, Network> {
        &self.networks
    }

    /// Sets or clears the cluster object.
    pub fn set_cluster(&mut self, cluster: Option<Cluster>) {
        self.cluster = cluster;
    }

    /// Inserts or replaces a node record.
    pub fn put_node(&mut self, node: Node) {
        self.node_changes.touch(&node.id);
        self.nodes.insert(node.id.clone(), node);
    }

    /// Removes a node record (its tasks stay; they name a node that is gone).
    pub fn remove_node(&mut self, id: &NodeId) -> Option<Node> {
        let node = self.nodes.remove(id)?;
        self.node_changes.forget(id);
        Some(node)
    }

    /// Inserts or replaces a service.
    pub fn put_service(&mut self, service: Service) {
        self.services.insert(service.id.clone(), service);
    }

    /// Removes a service (its tasks stay until deleted).
    pub fn remove_service(&mut self, id: &ServiceId) -> Option<Service> {
        self.services.remove(id)
    }

    /// Inserts or replaces a task, keeping the indexes.
    pub fn put_task(&mut self, task: Task) {
        let old = self.tasks.remove(&task.id);
        let same_service = old
            .as_ref()
            .is_some_and(|o| o.service_id == task.service_id);
        if !same_service {
            if let Some(old) = &old {
                remove_from_index(&mut self.tasks_by_service, &old.service_id, &old.id);
            }
            self.tasks_by_service
                .entry(task.service_id.clone())
                .or_default()
                .insert(task.id.clone());
        }
        let same_node = old.as_ref().is_some_and(|o| o.node_id == task.node_id);
        if let (Some(old), false) = (&old, same_node) {
            if let Some(node) = &old.node_id {
                remove_from_index(&mut self.tasks_by_node, node, &old.id);
                self.node_changes.touch(node);
            }
        }
        if let Some(node) = &task.node_id {
            let tasks = self.tasks_by_node.entry(node.clone()).or_default();
            let no_news = same_node
                && old
                    .as_ref()
                    .is_some_and(|old| !changes_for_node(old, &task))
                && tasks.contains_key(&task.id);
            if !no_news {
                tasks.insert(task.id.clone(), task.meta.version);
                self.node_changes.touch(node);
            }
        }
        self.tasks.insert(task.id.clone(), task);
    }

    /// Removes a task, keeping the indexes.
    pub fn remove_task(&mut self, id: &TaskId) -> Option<Task> {
        let task = self.tasks.remove(id)?;
        remove_from_index(&mut self.tasks_by_service, &task.service_id, id);
        if let Some(node) = &task.node_id {
            remove_from_index(&mut self.tasks_by_node, node, id);
            self.node_changes.touch(node);
        }
        Some(task)
    }

    /// Inserts or replaces a secret.
    pub fn put_secret(&mut self, secret: Secret) {
        self.node_changes.touch_all();
        self.secrets.insert(secret.id.clone(), secret);
    }

    /// Removes a secret.
    pub fn remove_secret(&mut self, id: &SecretId) -> Option<Secret> {
        let removed = self.secrets.remove(id)?;
        self.node_changes.touch_all();
        Some(removed)
    }

    /// Inserts or replaces a config.
    pub fn put_config(&mut self, config: Config) {
        self.node_changes.touch_all();
        self.configs.insert(config.id.clone(), config);
    }

    /// Removes a config.
    pub fn remove_config(&mut self, id: &ConfigId) -> Option<Config> {
        let removed = self.configs.remove(id)?;
        self.node_changes.touch_all();
        Some(removed)
    }

    /// Inserts or replaces a network.
    pub fn put_network(&mut self, network: Network) {
        self.networks.insert(network.id.clone(), network);
    }

    /// Removes a network.
    pub fn remove_network(&mut self, id: &NetworkId) -> Option<Network> {
        self.networks.remove(id)
    }

    /// Applies `writes` as the store would apply them in one transaction: all or nothing, with
    /// every version check first. On a conflict nothing changes.
    pub fn apply(&mut self, writes: &[ManagerWrite]) -> Result<(), StateConflict> {
        for write in writes {
            self.check(write)?;
        }
        for write in writes {
            self.apply_one(write);
        }
        Ok(())
    }

    /// Applies writes the store has already committed, one by one, skipping each whose
    /// result the view already holds (the store's watch may deliver a write before or after
    /// its writer applies it here): a create of an object present, a replace of an object
    /// already at or past the version the write gave it, a delete of an object absent.
    pub fn absorb(&mut self, writes: &[ManagerWrite]) {
        for write in writes {
            let held = match write {
                ManagerWrite::Service(w) => {
                    absorbed(w, |id| self.services.get(id).map(|s| s.meta.version))
                }
                ManagerWrite::Task(w) => {
                    absorbed(w, |id| self.tasks.get(id).map(|t| t.meta.version))
                }
                ManagerWrite::Secret(w) => {
                    absorbed(w, |id| self.secrets.get(id).map(|s| s.meta.version))
                }
                ManagerWrite::Config(w) => {
                    absorbed(w, |id| self.configs.get(id).map(|c| c.meta.version))
                }
                ManagerWrite::Network(w) => {
                    absorbed(w, |id| self.networks.get(id).map(|n| n.meta.version))
                }
                // Node and cluster writes come from other loops; the watch brings them.
                _ => true,
            };
            if !held {
                self.apply_one(write);
            }
        }
    }

    fn check(&self, write: &ManagerWrite) -> Result<(), StateConflict> {
        match write {
            ManagerWrite::CreateNode(node) => check_absent(
                "nodes",
                node.id.as_str(),
                self.nodes.get(&node.id).map(|n| n.meta.version),
            ),
            ManagerWrite::UpdateNode {
                node,
                expected_version,
            } => check_version(
                "nodes",
                node.id.as_str(),
                *expected_version,
                self.nodes.get(&node.id).map(|n| n.meta.version),
            ),
            ManagerWrite::DeleteNode {
                id,
                expected_version,
            } => check_version(
                "nodes",
                id.as_str(),
                *expected_version,
                self.nodes.get(id).map(|n| n.meta.version),
            ),
            ManagerWrite::CreateCluster(cluster) => match &self.cluster {
                Some(_) => Err(StateConflict::Exists {
                    collection: "clusters",
                    id: cluster.id.as_str().to_owned(),
                }),
                None => Ok(()),
            },
            ManagerWrite::UpdateCluster {
                cluster,
                expected_version,
            } => check_version(
                "clusters",
                cluster.id.as_str(),
                *expected_version,
                self.cluster.as_ref().map(|c| c.meta.version),
            ),
            ManagerWrite::Service(w) => {
                check_object(w, |id| self.services.get(id).map(|s| s.meta.version))
            }
            ManagerWrite::Task(w) => {
                check_object(w, |id| self.tasks.get(id).map(|t| t.meta.version))
            }
            ManagerWrite::Secret(w) => {
                check_object(w, |id| self.secrets.get(id).map(|s| s.meta.version))
            }
            ManagerWrite::Config(w) => {
                check_object(w, |id| self.configs.get(id).map(|c| c.meta.version))
            }
            ManagerWrite::Network(w) => {
                check_object(w, |id| self.networks.get(id).map(|n| n.meta.version))
            }
            // Root CA records are not part of this view.
            _ => Ok(()),
        }
    }

    fn apply_one(&mut self, write: &ManagerWrite) {
        match write {
            ManagerWrite::CreateNode(node) => {
                let mut node = node.clone();
                node.meta.version = Version(1);
                self.put_node(node);
            }
            ManagerWrite::UpdateNode {
                node,
                expected_version,
            } => {
                let mut node = node.clone();
                node.meta.version = Version(expected_version.0.saturating_add(1));
                self.put_node(node);
            }
            ManagerWrite::DeleteNode { id, .. } => {
                self.remove_node(id);
            }
            ManagerWrite::CreateCluster(cluster) => {
                let mut cluster = cluster.clone();
                cluster.meta.version = Version(1);
                self.cluster = Some(cluster);
            }
            ManagerWrite::UpdateCluster {
                cluster,
                expected_version,
            } => {
                let mut cluster = cluster.clone();
                cluster.meta.version = Version(expected_version.0.saturating_add(1));
                self.cluster = Some(cluster);
            }
            ManagerWrite::Service(w) => match after(w) {
                After::Put(s) => self.put_service(s),
                After::Delete(id) => {
                    self.remove_service(&ServiceId::new(id));
                }
            },
            ManagerWrite::Task(w) => match after(w) {
                After::Put(t) => self.put_task(t),
                After::Delete(id) => {
                    self.remove_task(&TaskId::new(id));
                }
            },
            ManagerWrite::Secret(w) => match after(w) {
                After::Put(s) => self.put_secret(s),
                After::Delete(id) => {
                    self.remove_secret(&SecretId::new(id));
                }
            },
            ManagerWrite::Config(w) => match after(w) {
                After::Put(c) => self.put_config(c),
                After::Delete(id) => {
                    self.remove_config(&ConfigId::new(id));
                }
            },
            ManagerWrite::Network(w) => match after(w) {
                After::Put(n) => self.put_network(n),
                After::Delete(id) => {
                    self.remove_network(&NetworkId::new(id));
                }
            },
            _ => {}
        }
    }
}

enum After<T> {
    Put(T),
    Delete(String),
}

fn after<T: StoredObject>(write: &ObjectWrite<T>) -> After<T> {
    match write {
        ObjectWrite::Create(object) | ObjectWrite::Update { object, .. } => {
            let mut object = object.clone();
            if let Some(version) = version_after(write) {
                object.meta_mut().version = version;
            }
            After::Put(object)
        }
        ObjectWrite::Delete { id, .. } => After::Delete(id.clone()),
    }
}

/// Whether the view already holds the result of committed `write`.
fn absorbed<T: StoredObject>(
    write: &ObjectWrite<T>,
    held: impl Fn(&str) -> Option<Version>,
) -> bool {
    match write {
        ObjectWrite::Create(object) => held(object.key()).is_some(),
        ObjectWrite::Update {
            object,
            expected_version,
        } => held(object.key()).is_some_and(|v| v > *expected_version),
        ObjectWrite::Delete { id, .. } => held(id).is_none(),
    }
}

fn check_object<T: StoredObject>(
    write: &ObjectWrite<T>,
    held: impl Fn(&str) -> Option<Version>,
) -> Result<(), StateConflict> {
    match write {
        ObjectWrite::Create(object) => {
            check_absent(T::COLLECTION, object.key(), held(object.key()))
        }
        ObjectWrite::Update {
            object,
            expected_version,
        } => check_version(
            T::COLLECTION,
            object.key(),
            *expected_version,
            held(object.key()),
        ),
        ObjectWrite::Delete {
            id,
            expected_version,
        } => check_version(T::COLLECTION, id, *expected_version, held(id)),
    }
}

fn held_text(found: &Option<Version>) -> String {
    match found {
        Some(v) => format!("at version {v}"),
        None => "absent".to_owned(),
    }
}

fn check_absent(
    collection: &'static str,
    id: &str,
    held: Option<Version>,
) -> Result<(), StateConflict> {
    match held {
        Some(_) => Err(StateConflict::Exists {
            collection,
            id: id.to_owned(),
        }),
        None => Ok(()),
    }
}

fn check_version(
    collection: &'static str,
    id: &str,
    expected: Version,
    found: Option<Version>,
) -> Result<(), StateConflict> {
    if found == Some(expected) {
        Ok(())
    } else {
        Err(StateConflict::Version {
            collection,
            id: id.to_owned(),
            expected,
            found,
        })
    }
}

/// Whether a task's node is shown something new when `old` becomes `new` (both on the same
/// node): anything but the status and `meta` changed, or the status changed other than from
/// `assigned` or later to accepted .. running (what the agent reports of a task it was given,
/// as SwarmKit's dispatcher skips such an update: `TasksEqualStable` and state past
/// `assigned`), e.g. it ended. (Destructured, so a new field of [`Task`] must be placed
/// here.)
fn changes_for_node(old: &Task, new: &Task) -> bool {
    let Task {
        id,
        meta: _,
        service_id,
        slot,
        node_id,
        spec,
        spec_version,
        desired_state,
        status,
        assigned_resources,
        networks,
        job_iteration,
        service_annotations,
        endpoint,
        running_since: _,
        update_started_at: _,
    } = new;
    // What the agent reports of a task it has: from accepted up to running, after assigned
    // (a task before assigned was not in its set). An end is news (its files are dropped).
    let old_state = old.status.state;
    let reported = status.state > TaskState::Assigned
        && !status.state.is_terminal()
        && old_state >= TaskState::Assigned
        && !old_state.is_terminal();
    let status_is_news = old.status != *status && !reported;
    status_is_news
        || *id != old.id
        || *service_id != old.service_id
        || *slot != old.slot
        || *node_id != old.node_id
        || *spec_version != old.spec_version
        || *desired_state != old.desired_state
        || *assigned_resources != old.assigned_resources
        || *networks != old.networks
        || *job_iteration != old.job_iteration
        || *service_annotations != old.service_annotations
        || *endpoint != old.endpoint
        || *spec != old.spec
}

/// Removes `id` from the set of `key`, and the set once empty.
fn remove_from_index<K: Ord, S: TaskSet>(index: &mut BTreeMap<K, S>, key: &K, id: &TaskId) {
    if let Some(set) = index.get_mut(key) {
        set.remove_task(id);
        if set.is_empty() {
            index.remove(key);
        }
    }
}

/// A set of task ids in an index (with or without a value per task).
trait TaskSet {
    fn remove_task(&mut self, id: &TaskId);
    fn is_empty(&self) -> bool;
}

impl TaskSet for BTreeSet<TaskId> {
    fn remove_task(&mut self, id: &TaskId) {
        self.remove(id);
    }
    fn is_empty(&self) -> bool {
        BTreeSet::is_empty(self)
    }
}

impl<V> TaskSet for BTreeMap<TaskId, V> {
    fn remove_task(&mut self, id: &TaskId) {
        self.remove(id);
    }
    fn is_empty(&self) -> bool {
        BTreeMap::is_empty(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TaskSpec;
    use std::time::SystemTime;

    fn task(id: &str, service: &str, node: Option<&str>) -> Task {
        let mut t = Task::new(
            id.into(),
            service.into(),
            TaskSpec::default(),
            SystemTime::UNIX_EPOCH,
        );
        t.node_id = node.map(NodeId::new);
        t
    }

    #[test]
    fn writes_apply_as_the_store_would_and_keep_the_indexes() {
        let mut state = ClusterState::new();
        state
            .apply(&[
                ManagerWrite::Task(ObjectWrite::Create(task("t1", "web", None))),
                ManagerWrite::Task(ObjectWrite::Create(task("t2", "web", Some("n1")))),
            ])
            .unwrap();
        assert_eq!(state.task(&"t1".into()).unwrap().meta.version, Version(1));
        assert_eq!(state.tasks_of_service(&"web".into()).count(), 2);
        assert_eq!(state.tasks_on_node(&"n1".into()).count(), 1);

        // Moving t1 to n2 moves it in the node index.
        let moved = task("t1", "web", Some("n2"));
        state
            .apply(&[ManagerWrite::Task(ObjectWrite::Update {
                object: moved,
                expected_version: Version(1),
            })])
            .unwrap();
        assert_eq!(state.task(&"t1".into()).unwrap().meta.version, Version(2));
        assert_eq!(state.tasks_on_node(&"n2".into()).count(), 1);

        // A stale version is refused as a whole: t2's delete does not happen either.
        let err = state
            .apply(&[
                ManagerWrite::Task(ObjectWrite::Delete {
                    id: "t2".into(),
                    expected_version: Version(1),
                }),
                ManagerWrite::Task(ObjectWrite::Delete {
                    id: "t1".into(),
                    expected_version: Version(1),
                }),
            ])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "tasks t1 is at version 2, not at version 1"
        );
        assert_eq!(state.tasks().len(), 2);

        state
            .apply(&[ManagerWrite::Task(ObjectWrite::Delete {
                id: "t2".into(),
                expected_version: Version(1),
            })])
            .unwrap();
        assert!(state.tasks_on_node(&"n1".into()).next().is_none());
        assert_eq!(state.tasks_of_service(&"web".into()).count(), 1);
    }

    #[test]
    fn node_changes_name_the_nodes_whose_tasks_or_record_changed() {
        let mut state = ClusterState::new();
        state.put_task(task("t1", "web", Some("n1")));
        state.put_task(task("t2", "web", Some("n2")));
        let seq = state.change_seq();
        let (n1, n2, n3) = (NodeId::new("n1"), NodeId::new("n2"), NodeId::new("n3"));
        assert!(!state.node_changed_since(&n1, seq));
        assert!(!state.node_changed_since(&n3, seq));

        // A task changed on n1 (its desired state): n1 only.
        let mut t1 = task("t1", "web", Some("n1"));
        t1.meta.version = Version(2);
        t1.desired_state = TaskState::Shutdown;
        state.put_task(t1.clone());
        assert!(state.node_changed_since(&n1, seq));
        // Only its version: nothing the node sees.
        let seq = state.change_seq();
        t1.meta.version = Version(3);
        state.put_task(t1);
        assert!(!state.node_changed_since(&n1, seq));
        assert!(!state.node_changed_since(&n2, seq));
        // A task without a node, or on another node, does not concern n2.
        let seq = state.change_seq();
        state.put_task(task("t3", "web", None));
        state.put_task(task("t4", "web", Some("n3")));
        assert!(!state.node_changed_since(&n2, seq));
        // Moved from n2 to n3: both; removed from n3: n3.
        let seq = state.change_seq();
        state.put_task(task("t2", "web", Some("n3")));
        assert!(state.node_changed_since(&n2, seq) && state.node_changed_since(&n3, seq));
        let seq = state.change_seq();
        state.remove_task(&"t4".into());
        assert!(state.node_changed_since(&n3, seq) && !state.node_changed_since(&n1, seq));

        // A node record: that node; a secret or config, or a record removed: every node.
        let seq = state.change_seq();
        state.put_node(Node {
            id: n1.clone(),
            ..Node::default()
        });
        assert!(state.node_changed_since(&n1, seq) && !state.node_changed_since(&n2, seq));
        let seq = state.change_seq();
        state.remove_node(&n1);
        assert!(state.node_changed_since(&n2, seq));
        let seq = state.change_seq();
        state.remove_node(&n1);
        assert!(!state.node_changed_since(&n2, seq), "nothing was removed");
        state.put_secret(Secret {
            id: "s1".into(),
            ..Secret::default()
        });
        assert!(state.node_changed_since(&n2, seq) && state.node_changed_since(&n3, seq));
    }

    #[test]
    fn a_status_its_agent_reported_keeps_the_assignment_version_and_the_node_unchanged() {
        let mut state = ClusterState::new();
        let n1 = NodeId::new("n1");
        let mut t = task("t1", "web", Some("n1"));
        let put = |state: &mut ClusterState, t: &mut Task, change: &dyn Fn(&mut Task)| {
            change(t);
            t.meta.version = Version(t.meta.version.0 + 1);
            let seq = state.change_seq();
            state.put_task(t.clone());
            let stored = state.task(&t.id).unwrap();
            (
                state.assignment_version(stored),
                state.node_changed_since(&n1, seq),
            )
        };
        let set = |s: TaskState| move |t: &mut Task| t.status.state = s;
        // Assigned: news (the agent does not have it yet).
        assert_eq!(
            put(&mut state, &mut t, &set(TaskState::Assigned)),
            (Version(1), true)
        );
        // Accepted .. running, reported by the agent: no news.
        for s in [TaskState::Accepted, TaskState::Starting, TaskState::Running] {
            assert_eq!(put(&mut state, &mut t, &set(s)), (Version(1), false), "{s}");
        }
        // The desired state changes: news; its agent's shutdown report (an end): news.
        let stop = |t: &mut Task| t.desired_state = TaskState::Shutdown;
        assert_eq!(put(&mut state, &mut t, &stop), (Version(5), true));
        assert_eq!(
            put(&mut state, &mut t, &set(TaskState::Shutdown)),
            (Version(6), true)
        );
        // Moved to n2: news for both nodes; its version there is the move's.
        t.node_id = Some(NodeId::new("n2"));
        let seq = state.change_seq();
        t.meta.version = Version(7);
        state.put_task(t.clone());
        assert!(state.node_changed_since(&n1, seq));
        assert!(state.node_changed_since(&NodeId::new("n2"), seq));
        assert_eq!(state.assignment_version(&t), Version(7));
        assert!(state.tasks_on_node(&n1).next().is_none());
        // A task on no node: its own version.
        let free = task("t2", "web", None);
        state.put_task(free.clone());
        assert_eq!(state.assignment_version(&free), free.meta.version);
    }

    #[test]
    fn the_indexes_agree_with_a_scan_after_a_sequence_of_writes() {
        let mut state = ClusterState::new();
        let mut seed = 11u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 33
        };
        for _ in 0..2000 {
            let id = format!("t{}", next() % 40);
            let op = next() % 10;
            if op == 0 {
                state.remove_task(&TaskId::new(id));
                continue;
            }
            let service = format!("s{}", next() % 3);
            let node = (op % 3 != 0).then(|| format!("n{}", next() % 4));
            let mut t = task(&id, &service, node.as_deref());
            t.status.state = [TaskState::Pending, TaskState::Assigned, TaskState::Running]
                [usize::try_from(next() % 3).unwrap()];
            t.meta.version = Version(state.task(&t.id).map_or(1, |o| o.meta.version.0 + 1));
            state.put_task(t);
        }
        for (service, ids) in &state.tasks_by_service {
            for id in ids {
                assert_eq!(&state.tasks[id].service_id, service);
            }
        }
        for (node, ids) in &state.tasks_by_node {
            for id in ids.keys() {
                assert_eq!(state.tasks[id].node_id.as_ref(), Some(node));
            }
        }
        let indexed: usize = state.tasks_by_service.values().map(BTreeSet::len).sum();
        assert_eq!(indexed, state.tasks.len());
        let on_nodes = state.tasks.values().filter(|t| t.node_id.is_some()).count();
        let indexed: usize = state.tasks_by_node.values().map(BTreeMap::len).sum();
        assert_eq!(indexed, on_nodes);
        assert!(state.tasks_by_service.values().all(|s| !s.is_empty()));
        assert!(state.tasks_by_node.values().all(|s| !s.is_empty()));
    }

    #[test]
    fn absorb_skips_what_the_watch_already_delivered() {
        let mut state = ClusterState::new();
        let create = ManagerWrite::Task(ObjectWrite::Create(task("t1", "web", None)));
        state.absorb(std::slice::from_ref(&create));
        // The watch delivered the next version before the writer absorbed its update.
        let mut newer = task("t1", "web", Some("n1"));
        newer.meta.version = Version(2);
        state.put_task(newer.clone());
        state.absorb(&[
            create,
            ManagerWrite::Task(ObjectWrite::Update {
                object: task("t1", "web", Some("n1")),
                expected_version: Version(1),
            }),
        ]);
        assert_eq!(state.task(&"t1".into()), Some(&newer));
        // A delete already delivered is skipped; one not yet delivered applies.
        state.absorb(&[ManagerWrite::Task(ObjectWrite::Delete {
            id: "t1".into(),
            expected_version: Version(2),
        })]);
        assert!(state.tasks().is_empty());
        assert!(state.tasks_on_node(&"n1".into()).next().is_none());
    }
}
