//! The agent's copy of its assignment set, kept from whole sets and changes.

use crate::manager::dispatcher::{Assignments, MAX_ASSIGNED_TASKS};
use crate::model::{NodeId, Task, TaskId};
use std::collections::{BTreeMap, BTreeSet};

/// Why an answer was not applied: the agent then asks for its whole set (generation 0).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AssignedSetError {
    /// The answer changes a set this agent does not hold (an answer lost on the way, or one
    /// from another leader).
    #[error("the answer changes the set of generation {base}, this node holds {held}")]
    OtherBase {
        /// The generation the answer changes.
        base: u64,
        /// The generation held.
        held: u64,
    },
    /// A task in the answer is for another node.
    #[error("task {task} is for node {owner}, not this node")]
    OtherNode {
        /// The task.
        task: TaskId,
        /// The node it names (empty: none).
        owner: String,
    },
    /// The set would hold more than [`MAX_ASSIGNED_TASKS`] tasks.
    #[error("the set would hold {count} tasks, more than {MAX_ASSIGNED_TASKS}")]
    TooManyTasks {
        /// How many.
        count: usize,
    },
}

/// The tasks the leader assigned this node, with the generation they make up.
///
/// ```
/// use swarm_core::agent::AssignedSet;
///
/// let set = AssignedSet::default();
/// assert_eq!(set.generation(), 0);
/// assert_eq!(set.tasks().count(), 0);
/// ```
#[derive(Clone, Debug, Default)]
pub struct AssignedSet {
    generation: u64,
    tasks: BTreeMap<TaskId, Task>,
}

impl AssignedSet {
    /// The generation held (`0`: none).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The tasks, in id order.
    pub fn tasks(&self) -> impl Iterator<Item = &Task> + Clone {
        self.tasks.values()
    }

    /// Applies an answer of the leader to `node`'s set: a whole set replaces it; changes
    /// (`base_generation` not 0) apply only to the set of that generation. Checked first, so
    /// a refused answer changes nothing; the caller then forgets the set
    /// ([`AssignedSet::forget`]) and asks for the whole set.
    pub fn apply(
        &mut self,
        node: &NodeId,
        answer: &mut Assignments,
    ) -> Result<(), AssignedSetError> {
        if answer.base_generation != 0 && answer.base_generation != self.generation {
            return Err(AssignedSetError::OtherBase {
                base: answer.base_generation,
                held: self.generation,
            });
        }
        if let Some(task) = answer
            .tasks
            .iter()
            .find(|t| t.node_id.as_ref() != Some(node))
        {
            return Err(AssignedSetError::OtherNode {
                task: task.id.clone(),
                owner: task
                    .node_id
                    .as_ref()
                    .map_or_else(String::new, |n| n.to_string()),
            });
        }
        let count = if answer.base_generation == 0 {
            answer.tasks.len()
        } else {
            let removed: BTreeSet<&TaskId> = answer
                .removed
                .iter()
                .filter(|id| self.tasks.contains_key(*id))
                .collect();
            let added = answer
                .tasks
                .iter()
                .filter(|t| !self.tasks.contains_key(&t.id) || removed.contains(&t.id))
                .count();
            (self.tasks.len() - removed.len()).saturating_add(added)
        };
        if count > MAX_ASSIGNED_TASKS {
            return Err(AssignedSetError::TooManyTasks { count });
        }
        if answer.base_generation == 0 {
            self.tasks.clear();
        }
        for id in &answer.removed {
            self.tasks.remove(id);
        }
        for task in std::mem::take(&mut answer.tasks) {
            self.tasks.insert(task.id.clone(), task);
        }
        self.generation = answer.generation;
        Ok(())
    }

    /// Forgets the set: the next call asks for the whole set.
    pub fn forget(&mut self) {
        self.generation = 0;
        self.tasks.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{TaskSpec, Version};
    use std::time::SystemTime;

    fn task(id: &str, node: &str, version: u64) -> Task {
        let mut t = Task::new(
            id.into(),
            "svc".into(),
            TaskSpec::default(),
            SystemTime::UNIX_EPOCH,
        );
        t.node_id = Some(NodeId::new(node));
        t.meta.version = Version(version);
        t
    }

    fn answer(generation: u64, base: u64, tasks: Vec<Task>, removed: &[&str]) -> Assignments {
        Assignments {
            generation,
            tasks,
            secrets: Vec::new(),
            configs: Vec::new(),
            keep: Vec::new(),
            unavailable: Vec::new(),
            complete: true,
            base_generation: base,
            removed: removed.iter().map(|id| TaskId::new(*id)).collect(),
        }
    }

    fn ids(set: &AssignedSet) -> Vec<(String, u64)> {
        set.tasks()
            .map(|t| (t.id.to_string(), t.meta.version.0))
            .collect()
    }

    #[test]
    fn changes_apply_to_the_set_they_name_and_a_whole_set_replaces_it() {
        let n1 = NodeId::new("n1");
        let mut set = AssignedSet::default();
        set.apply(
            &n1,
            &mut answer(10, 0, vec![task("a", "n1", 1), task("b", "n1", 1)], &[]),
        )
        .unwrap();
        assert_eq!(set.generation(), 10);
        set.apply(
            &n1,
            &mut answer(11, 10, vec![task("b", "n1", 2), task("c", "n1", 1)], &["a"]),
        )
        .unwrap();
        assert_eq!(ids(&set), [("b".into(), 2), ("c".into(), 1)]);
        assert_eq!(set.generation(), 11);
        set.apply(&n1, &mut answer(12, 0, vec![task("d", "n1", 1)], &[]))
            .unwrap();
        assert_eq!(ids(&set), [("d".into(), 1)]);
    }

    #[test]
    fn an_answer_for_another_set_another_node_or_too_many_tasks_changes_nothing() {
        let n1 = NodeId::new("n1");
        let mut set = AssignedSet::default();
        set.apply(&n1, &mut answer(10, 0, vec![task("a", "n1", 1)], &[]))
            .unwrap();
        let err = set
            .apply(&n1, &mut answer(12, 11, vec![task("b", "n1", 1)], &[]))
            .unwrap_err();
        assert_eq!(err, AssignedSetError::OtherBase { base: 11, held: 10 });
        let err = set
            .apply(&n1, &mut answer(12, 10, vec![task("b", "n2", 1)], &[]))
            .unwrap_err();
        assert!(matches!(err, AssignedSetError::OtherNode { .. }), "{err}");
        let many: Vec<Task> = (0..MAX_ASSIGNED_TASKS)
            .map(|i| task(&format!("t{i}"), "n1", 1))
            .collect();
        let err = set.apply(&n1, &mut answer(12, 10, many, &[])).unwrap_err();
        assert_eq!(
            err,
            AssignedSetError::TooManyTasks {
                count: MAX_ASSIGNED_TASKS + 1
            }
        );
        assert_eq!(ids(&set), [("a".into(), 1)]);
        assert_eq!(set.generation(), 10);
        set.forget();
        assert_eq!((set.generation(), set.tasks().count()), (0, 0));
    }
}
