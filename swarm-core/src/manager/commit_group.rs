//! Which writes of one orchestration round must commit in the same transaction.
//!
//! A round's writes go to the store in several bounded transactions
//! ([`ManagerStore::apply_chunked`](crate::manager::state::ManagerStore::apply_chunked)),
//! each applied or refused as a whole. Most writes are independent, but the writes to one task
//! instance are not: a task shut down because its node failed and the task that replaces it in
//! the same slot must both commit or neither. Were the replacement to commit while the shut
//! down was refused (the old task's status changed in between), the slot would hold two tasks
//! meant to run. Writes with the same [`CommitGroup`] are never split across transactions.

use crate::manager::writes::{ManagerWrite, ObjectWrite};

/// The task instance a write belongs to: a replica slot of a service, or a global service's
/// node (tasks without a slot). Ordered, so sorting a round's writes by it puts each group's
/// writes next to each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CommitGroup<'a> {
    /// The service's id.
    pub service: &'a str,
    /// The replica slot (replicated modes).
    pub slot: Option<u64>,
    /// The node (global modes: tasks without a slot).
    pub node: Option<&'a str>,
}

impl ManagerWrite {
    /// The group this write must commit with, `None` when it may commit alone: a task's
    /// create or replace belongs to its instance ([`CommitGroup`]); deletions (the reaper's, of
    /// tasks that ended) and writes of other objects stand alone.
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use swarm_core::manager::writes::{ManagerWrite, ObjectWrite};
    /// use swarm_core::model::Task;
    ///
    /// let task = |id: &str, slot| {
    ///     let mut t = Task::new(id.into(), "web".into(), Default::default(), SystemTime::UNIX_EPOCH);
    ///     t.slot = Some(slot);
    ///     ManagerWrite::Task(ObjectWrite::Create(t))
    /// };
    /// assert_eq!(task("a", 1).commit_group(), task("b", 1).commit_group());
    /// assert_ne!(task("a", 1).commit_group(), task("c", 2).commit_group());
    /// ```
    pub fn commit_group(&self) -> Option<CommitGroup<'_>> {
        let ManagerWrite::Task(
            ObjectWrite::Create(task) | ObjectWrite::Update { object: task, .. },
        ) = self
        else {
            return None;
        };
        Some(CommitGroup {
            service: task.service_id.as_str(),
            slot: task.slot,
            node: match task.slot {
                Some(_) => None,
                None => task.node_id.as_ref().map(|n| n.as_str()),
            },
        })
    }
}

/// Whether `a` and `b`, next to each other in a round, must share a transaction.
pub(crate) fn same_group(a: &ManagerWrite, b: &ManagerWrite) -> bool {
    match (a.commit_group(), b.commit_group()) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NodeId, Task, Version};
    use std::time::SystemTime;

    fn task(id: &str, service: &str, slot: Option<u64>, node: Option<&str>) -> Task {
        let mut t = Task::new(
            id.into(),
            service.into(),
            Default::default(),
            SystemTime::UNIX_EPOCH,
        );
        t.slot = slot;
        t.node_id = node.map(NodeId::new);
        t
    }

    #[test]
    fn a_slot_or_a_global_node_is_one_group_and_deletions_stand_alone() {
        let create = |t| ManagerWrite::Task(ObjectWrite::Create(t));
        let update = |t| {
            ManagerWrite::Task(ObjectWrite::Update {
                object: t,
                expected_version: Version(3),
            })
        };
        let old = update(task("old", "web", Some(4), Some("n1")));
        let new = create(task("new", "web", Some(4), None));
        assert!(same_group(&old, &new));
        assert!(!same_group(&old, &create(task("x", "web", Some(5), None))));
        assert!(!same_group(&old, &create(task("y", "api", Some(4), None))));
        // Global tasks group by node; the slot-less task with no node is its own group.
        let g1 = update(task("g1", "agent", None, Some("n1")));
        assert!(same_group(
            &g1,
            &create(task("g2", "agent", None, Some("n1")))
        ));
        assert!(!same_group(
            &g1,
            &create(task("g3", "agent", None, Some("n2")))
        ));
        let deleted = ManagerWrite::Task(ObjectWrite::Delete {
            id: "old".into(),
            expected_version: Version(4),
        });
        assert_eq!(deleted.commit_group(), None);
        assert!(!same_group(&deleted, &deleted.clone()));
    }
}
