//! Several steps' writes to one object folded into one write with the same outcome.
//!
//! A round's steps run one after another on one view (the orchestrators create a task, the
//! allocator gives it its addresses, the scheduler its node). Committed one step at a time,
//! a new task costs three store writes, three watch events on every manager and three
//! passes of every loop that follows the state. [`WriteFusion`] folds the writes of one
//! object into the single write that leaves the store where the sequence would: a create
//! then updates is one create of the last object; updates are one update checked against
//! the version the first one read; a create then a delete is nothing at all.
//!
//! Contract: the writes pushed must apply one after another to some state `S` (each was
//! checked against the view that held the earlier ones). Then the fused writes apply to `S`
//! as one transaction, and leave every object as the sequence does, except that an object
//! written several times ends at a lower version (the store counts one write): versions
//! still grow at every committed change, which is all their readers rely on.

use crate::manager::state::schema::StoredObject;
use crate::manager::writes::{ManagerWrite, ObjectWrite};
use crate::model::Version;
use std::collections::HashMap;

/// Folds writes object by object (see the module docs). Writes of other kinds (node,
/// cluster and root CA records) are kept as they come.
#[derive(Debug, Default)]
pub struct WriteFusion {
    /// The writes folded so far, in the order of each object's first write.
    out: Vec<Fused>,
    /// Where each object's fused write is in `out`.
    index: HashMap<(&'static str, String), usize>,
}

/// One object's writes so far, or a write that is not folded.
#[derive(Debug)]
enum Fused {
    Kept(ManagerWrite),
    Service(Folded<crate::model::Service>),
    Task(Folded<crate::model::Task>),
    Secret(Folded<crate::model::Secret>),
    Config(Folded<crate::model::Config>),
    Network(Folded<crate::model::Network>),
}

/// What an object was before the first write and is after the last one.
#[derive(Debug)]
struct Folded<T> {
    /// The object's id.
    id: String,
    /// The version the first write read (`None`: the object was absent).
    read: Option<Version>,
    /// The object after the last write (`None`: deleted).
    now: Option<T>,
}

impl<T: StoredObject> Folded<T> {
    fn start(write: ObjectWrite<T>) -> Folded<T> {
        match write {
            ObjectWrite::Create(object) => Folded {
                id: object.key().to_owned(),
                read: None,
                now: Some(object),
            },
            ObjectWrite::Update {
                object,
                expected_version,
            } => Folded {
                id: object.key().to_owned(),
                read: Some(expected_version),
                now: Some(object),
            },
            ObjectWrite::Delete {
                id,
                expected_version,
            } => Folded {
                id,
                read: Some(expected_version),
                now: None,
            },
        }
    }

    /// Folds in the next write of the object.
    fn then(&mut self, write: ObjectWrite<T>) {
        self.now = match write {
            ObjectWrite::Create(object) | ObjectWrite::Update { object, .. } => Some(object),
            ObjectWrite::Delete { .. } => None,
        };
    }

    fn finish(self) -> Option<ObjectWrite<T>> {
        match (self.read, self.now) {
            (None, Some(object)) => Some(ObjectWrite::Create(object)),
            (None, None) => None,
            (Some(expected_version), Some(object)) => Some(ObjectWrite::Update {
                object,
                expected_version,
            }),
            (Some(expected_version), None) => Some(ObjectWrite::Delete {
                id: self.id,
                expected_version,
            }),
        }
    }
}

fn key_of<T: StoredObject>(
    collection: &'static str,
    write: &ObjectWrite<T>,
) -> (&'static str, String) {
    let id = match write {
        ObjectWrite::Create(o) | ObjectWrite::Update { object: o, .. } => o.key().to_owned(),
        ObjectWrite::Delete { id, .. } => id.clone(),
    };
    (collection, id)
}

impl WriteFusion {
    /// An empty fusion.
    pub fn new() -> WriteFusion {
        WriteFusion::default()
    }

    /// Adds the next write (see the module docs for what the writes must satisfy).
    pub fn push(&mut self, write: ManagerWrite) {
        let key = match &write {
            ManagerWrite::Service(w) => key_of("services", w),
            ManagerWrite::Task(w) => key_of("tasks", w),
            ManagerWrite::Secret(w) => key_of("secrets", w),
            ManagerWrite::Config(w) => key_of("configs", w),
            ManagerWrite::Network(w) => key_of("networks", w),
            _ => {
                self.out.push(Fused::Kept(write));
                return;
            }
        };
        if let Some(&at) = self.index.get(&key) {
            let left = match (self.out.get_mut(at), write) {
                (Some(Fused::Service(f)), ManagerWrite::Service(w)) => {
                    f.then(w);
                    None
                }
                (Some(Fused::Task(f)), ManagerWrite::Task(w)) => {
                    f.then(w);
                    None
                }
                (Some(Fused::Secret(f)), ManagerWrite::Secret(w)) => {
                    f.then(w);
                    None
                }
                (Some(Fused::Config(f)), ManagerWrite::Config(w)) => {
                    f.then(w);
                    None
                }
                (Some(Fused::Network(f)), ManagerWrite::Network(w)) => {
                    f.then(w);
                    None
                }
                // Keys name their collection, so an object's writes are all of one kind.
                (_, write) => Some(write),
            };
            if let Some(write) = left {
                self.out.push(Fused::Kept(write));
            }
            return;
        }
        let fused = match write {
            ManagerWrite::Service(w) => Fused::Service(Folded::start(w)),
            ManagerWrite::Task(w) => Fused::Task(Folded::start(w)),
            ManagerWrite::Secret(w) => Fused::Secret(Folded::start(w)),
            ManagerWrite::Config(w) => Fused::Config(Folded::start(w)),
            ManagerWrite::Network(w) => Fused::Network(Folded::start(w)),
            other => Fused::Kept(other),
        };
        self.index.insert(key, self.out.len());
        self.out.push(fused);
    }

    /// The fused writes, in the order of each object's first write.
    pub fn finish(self) -> Vec<ManagerWrite> {
        self.out
            .into_iter()
            .filter_map(|fused| match fused {
                Fused::Kept(write) => Some(write),
                Fused::Service(f) => f.finish().map(ManagerWrite::Service),
                Fused::Task(f) => f.finish().map(ManagerWrite::Task),
                Fused::Secret(f) => f.finish().map(ManagerWrite::Secret),
                Fused::Config(f) => f.finish().map(ManagerWrite::Config),
                Fused::Network(f) => f.finish().map(ManagerWrite::Network),
            })
            .collect()
    }
}

impl Extend<ManagerWrite> for WriteFusion {
    fn extend<I: IntoIterator<Item = ManagerWrite>>(&mut self, writes: I) {
        for write in writes {
            self.push(write);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manager::cluster_state::ClusterState;
    use crate::model::{NodeId, Task, TaskSpec, TaskState};

    fn task(id: &str, desired: TaskState) -> Task {
        Task {
            id: id.into(),
            meta: Default::default(),
            service_id: "svc".into(),
            slot: Some(1),
            node_id: None,
            spec: TaskSpec::default(),
            spec_version: 1,
            desired_state: desired,
            status: Default::default(),
            assigned_resources: None,
            networks: Vec::new(),
            endpoint: None,
            job_iteration: None,
            service_annotations: Default::default(),
            running_since: None,
            update_started_at: None,
        }
    }

    fn create(t: &Task) -> ManagerWrite {
        ManagerWrite::Task(ObjectWrite::Create(t.clone()))
    }

    fn update(t: &Task, v: u64) -> ManagerWrite {
        ManagerWrite::Task(ObjectWrite::Update {
            object: t.clone(),
            expected_version: Version(v),
        })
    }

    fn delete(id: &str, v: u64) -> ManagerWrite {
        ManagerWrite::Task(ObjectWrite::Delete {
            id: id.into(),
            expected_version: Version(v),
        })
    }

    fn fuse(writes: &[ManagerWrite]) -> Vec<ManagerWrite> {
        let mut fusion = WriteFusion::new();
        fusion.extend(writes.iter().cloned());
        fusion.finish()
    }

    #[test]
    fn a_create_then_updates_is_one_create_of_the_last_object() {
        let a = task("a", TaskState::Running);
        let mut placed = a.clone();
        placed.node_id = Some(NodeId::new("n1"));
        let out = fuse(&[create(&a), update(&a, 1), update(&placed, 2)]);
        assert_eq!(out, vec![create(&placed)]);
    }

    #[test]
    fn updates_are_one_update_checked_against_the_first_version_read() {
        let a = task("a", TaskState::Running);
        let mut stop = a.clone();
        stop.desired_state = TaskState::Shutdown;
        assert_eq!(
            fuse(&[update(&a, 7), update(&stop, 8)]),
            vec![update(&stop, 7)]
        );
        assert_eq!(fuse(&[update(&a, 7), delete("a", 8)]), vec![delete("a", 7)]);
    }

    #[test]
    fn a_create_then_a_delete_is_nothing_and_other_objects_keep_their_order() {
        let a = task("a", TaskState::Running);
        let b = task("b", TaskState::Running);
        let node_write = ManagerWrite::DeleteNode {
            id: NodeId::new("n9"),
            expected_version: Version(3),
        };
        let out = fuse(&[
            create(&a),
            update(&b, 4),
            node_write.clone(),
            delete("a", 1),
            delete("b", 5),
        ]);
        assert_eq!(out, vec![delete("b", 4), node_write]);
    }

    /// Random sequences of writes valid one after another: the fused writes apply as one
    /// transaction and leave every task as the sequence does (versions aside).
    #[test]
    fn fused_writes_leave_the_state_the_sequence_leaves() {
        let mut seed = 0x5eed_u64;
        let mut next = move || crate::manager::orchestrator::fixture::splitmix(&mut seed);
        for _ in 0..200 {
            let mut start = ClusterState::new();
            for id in ["t0", "t1", "t2"] {
                start
                    .apply(&[create(&task(id, TaskState::Running))])
                    .expect("seeded");
            }
            let mut state = start.clone();
            let mut writes = Vec::new();
            for _ in 0..(next() % 12) {
                let id = format!("t{}", next() % 5);
                let held = state.task(&id.as_str().into()).cloned();
                let write = match (held, next() % 3) {
                    (None, _) => create(&task(&id, TaskState::Running)),
                    (Some(t), 0) => delete(&id, t.meta.version.0),
                    (Some(mut t), _) => {
                        let v = t.meta.version.0;
                        t.spec_version = next() % 100;
                        update(&t, v)
                    }
                };
                state
                    .apply(std::slice::from_ref(&write))
                    .expect("valid sequence");
                writes.push(write);
            }
            let fused = fuse(&writes);
            let mut once = start.clone();
            once.apply(&fused).expect("fused writes apply together");
            let strip = |s: &ClusterState| -> Vec<Task> {
                s.tasks()
                    .values()
                    .map(|t| {
                        let mut t = t.clone();
                        t.meta.version = Version::default();
                        t
                    })
                    .collect()
            };
            assert_eq!(strip(&once), strip(&state), "{writes:?}");
            assert!(fused.len() <= writes.len());
        }
    }
}
