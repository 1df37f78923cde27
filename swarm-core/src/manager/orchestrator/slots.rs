//! A service's tasks grouped by the instance they belong to: the replica slot (replicated
//! modes) or the node (global modes).

use crate::model::{NodeId, Task, TaskState};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// The instance a task belongs to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum SlotKey {
    /// A replica slot (replicated services and jobs).
    Replica(u64),
    /// A node (global services and jobs).
    Node(NodeId),
    /// Neither: a global task never placed.
    Unplaced,
}

/// The instance `task` belongs to: its slot if it has one, else its node.
pub(crate) fn slot_key(task: &Task) -> SlotKey {
    match (task.slot, &task.node_id) {
        (Some(slot), _) => SlotKey::Replica(slot),
        (None, Some(node)) => SlotKey::Node(node.clone()),
        (None, None) => SlotKey::Unplaced,
    }
}

/// Oldest first: by creation time, then id (so equal times still give one order).
pub(crate) fn by_age(a: &&Task, b: &&Task) -> Ordering {
    (a.meta.created_at, &a.id).cmp(&(b.meta.created_at, &b.id))
}

/// `tasks` grouped by [`slot_key`], each group oldest first.
pub(crate) fn tasks_by_slot<'a>(
    tasks: impl IntoIterator<Item = &'a Task>,
) -> BTreeMap<SlotKey, Vec<&'a Task>> {
    let mut slots: BTreeMap<SlotKey, Vec<&'a Task>> = BTreeMap::new();
    for task in tasks {
        slots.entry(slot_key(task)).or_default().push(task);
    }
    for group in slots.values_mut() {
        group.sort_by(by_age);
    }
    slots
}

/// Whether the orchestrators still want `task` to run: desired state at most `running`
/// (`complete` for job tasks). A live task holds its slot, even once it ended.
pub(crate) fn is_live(task: &Task) -> bool {
    task.desired_state <= TaskState::Complete
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    #[test]
    fn tasks_group_by_slot_or_node_oldest_first() {
        let at = |s| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        let task = |id: &str, slot: Option<u64>, node: Option<&str>, secs| {
            let mut t = Task::new(id.into(), "s".into(), Default::default(), at(secs));
            t.slot = slot;
            t.node_id = node.map(NodeId::new);
            t
        };
        let tasks = [
            task("b", Some(1), Some("n1"), 5),
            task("a", Some(1), None, 9),
            task("c", None, Some("n1"), 1),
            task("d", None, None, 1),
            task("e", Some(1), None, 5),
        ];
        let slots = tasks_by_slot(&tasks);
        let ids = |k: &SlotKey| -> Vec<&str> { slots[k].iter().map(|t| t.id.as_str()).collect() };
        assert_eq!(ids(&SlotKey::Replica(1)), ["b", "e", "a"]);
        assert_eq!(ids(&SlotKey::Node("n1".into())), ["c"]);
        assert_eq!(ids(&SlotKey::Unplaced), ["d"]);
        let mut shut = tasks[0].clone();
        assert!(is_live(&shut));
        shut.desired_state = TaskState::Shutdown;
        assert!(!is_live(&shut));
    }
}
