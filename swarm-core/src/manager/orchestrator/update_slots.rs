//! A service's slots as the update supervisor sees them: the tasks of each, which of them
//! still hold the slot, which match the current spec, and which one a finished update keeps.

use crate::manager::cluster_state::ClusterState;
use crate::manager::orchestrator::eligibility::{GlobalRule, global_rule, node_failure};
use crate::manager::orchestrator::node_fit::PlacementFilter;
use crate::manager::orchestrator::slots::{SlotKey, is_live, tasks_by_slot};
use crate::manager::orchestrator::task_dirtiness::is_task_dirty;
use crate::model::{Service, ServiceMode, Task, TaskState};
use std::collections::BTreeMap;

/// One slot (replica or node) an update covers.
pub(crate) struct UpdateSlot<'a> {
    /// Its key.
    pub(crate) key: SlotKey,
    /// Every task of the slot, oldest first.
    pub(crate) tasks: Vec<&'a Task>,
    /// The live ones (desired at most `running`), oldest first; never empty.
    pub(crate) live: Vec<&'a Task>,
    /// The live task matching the current spec that the slot keeps, if any: one running,
    /// else one desired running, else one desired ready; the newest of equals.
    pub(crate) keep: Option<&'a Task>,
    /// Whether the slot needs the update: more than one live task, or one that is dirty.
    pub(crate) dirty: bool,
}

impl<'a> UpdateSlot<'a> {
    /// The other tasks of the slot still on a node that may run them: not ended, assigned
    /// at least, on a node that is neither down, drained nor deleted. A stop-first update
    /// starts the new task once there are none.
    pub(crate) fn others_holding_node(&self, state: &ClusterState, except: Option<&Task>) -> bool {
        self.tasks.iter().any(|t| {
            except.is_none_or(|e| e.id != t.id)
                && !t.status.state.is_terminal()
                && t.status.state >= TaskState::Assigned
                && t.node_id
                    .as_ref()
                    .is_some_and(|n| node_failure(state, n).is_none())
        })
    }
}

/// Every task of `service` by slot (the update's tasks may sit in slots it does not cover,
/// e.g. ones that lost their live task), and the slots the update covers, in key order:
///
/// * replicated: every slot with a live task (slots being removed have none);
/// * global: every node slot with a live task whose node runs the service
///   ([`GlobalRule::Run`]): a paused node keeps what it runs, as in SwarmKit, and the
///   global reconciler stops the tasks of nodes that no longer take them; a paused node's
///   slot only while it holds more than one live task and one of the current spec (a
///   start-first update the pause interrupted: the old task is shut down, nothing started).
pub(crate) fn update_slots<'a>(
    state: &'a ClusterState,
    service: &'a Service,
) -> (BTreeMap<SlotKey, Vec<&'a Task>>, Vec<UpdateSlot<'a>>) {
    let groups = tasks_by_slot(state.tasks_of_service(&service.id));
    let filter = (service.spec.mode == ServiceMode::Global)
        .then(|| PlacementFilter::new(&service.spec.task_template.placement));
    let mut covered = Vec::new();
    for (key, tasks) in &groups {
        let rule = match (key, &filter) {
            (SlotKey::Replica(_), None) => Some(GlobalRule::Run),
            (SlotKey::Node(node), Some(filter)) => state.node(node).map(|n| global_rule(n, filter)),
            _ => None,
        };
        let live: Vec<&Task> = tasks.iter().copied().filter(|t| is_live(t)).collect();
        if !matches!(rule, Some(GlobalRule::Run | GlobalRule::Keep)) || live.is_empty() {
            continue;
        }
        let clean: Vec<&Task> = live
            .iter()
            .copied()
            .filter(|t| {
                let node = t.node_id.as_ref().and_then(|n| state.node(n));
                !is_task_dirty(service, t, node)
            })
            .collect();
        let keep = clean
            .iter()
            .copied()
            .filter(|t| t.desired_state <= TaskState::Running)
            .max_by_key(|t| {
                (
                    t.status.state == TaskState::Running,
                    t.desired_state == TaskState::Running,
                    t.meta.created_at,
                    t.id.clone(),
                )
            });
        // A paused node keeps what it runs: its slot is covered only to resolve a start-first
        // pair caught there by the pause (the new task kept, the old one shut down).
        if rule == Some(GlobalRule::Keep) && !(live.len() > 1 && keep.is_some()) {
            continue;
        }
        let dirty = if crate::sabotage::double_start_slot() {
            // Sabotage (simulation only): two live tasks of the current spec are fine.
            clean.len() < live.len() || clean.is_empty()
        } else {
            live.len() > 1 || clean.is_empty()
        };
        covered.push(UpdateSlot {
            key: key.clone(),
            tasks: tasks.clone(),
            live,
            keep,
            dirty,
        });
    }
    (groups, covered)
}
