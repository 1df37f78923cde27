//! No task is lost track of, once converged: every task a node's runtime runs is one the
//! managers know, assigned to that node and meant to run (not asked to stop or removed); and
//! every task the managers have running on a ready node runs in that node's runtime.

use crate::model::{NodeState, TaskState};
use crate::sim::invariants::{leader_state, node_name};
use crate::sim::observe::Observation;

/// `Err` names the task and the node.
pub fn check(obs: &Observation) -> Result<(), String> {
    let state = leader_state(obs)?;
    for (name, agent) in &obs.agents {
        for id in &agent.runtime_running {
            let Some(task) = state.task(id) else {
                return Err(format!(
                    "task {id} runs on {name}, and the managers do not know it"
                ));
            };
            if task.node_id.as_ref() != Some(&agent.node_id) {
                return Err(format!(
                    "task {id} runs on {name}, and the managers assigned it to {:?}",
                    task.node_id
                ));
            }
            if task.desired_state > TaskState::Complete {
                return Err(format!(
                    "task {id} runs on {name}, and the managers asked it to {}",
                    task.desired_state
                ));
            }
        }
    }
    for task in state.tasks().values() {
        if task.status.state != TaskState::Running || task.desired_state > TaskState::Complete {
            continue;
        }
        let Some(node) = task.node_id.as_ref().and_then(|n| state.node(n)) else {
            continue;
        };
        if node.status.state != NodeState::Ready {
            continue;
        }
        let runs = obs
            .agents
            .values()
            .find(|a| a.node_id == node.id)
            .is_some_and(|a| a.runtime_running.contains(&task.id));
        if !runs {
            return Err(format!(
                "task {} is running on {} for the managers, and its runtime does not run it",
                task.id,
                node_name(node)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manager::cluster_state::ClusterState;
    use crate::model::RestartPolicy;
    use crate::node::AgentSnapshot;
    use crate::sim::history::History;
    use crate::sim::invariants::fixture::{observation, ready_node, service, task};
    use crate::sim::observe::AgentView;

    #[test]
    fn tasks_running_unknown_to_the_managers_or_missing_from_the_runtime_are_named() {
        let s = service(&RestartPolicy::default());
        let mut state = ClusterState::new();
        state.put_node(ready_node("n1"));
        state.put_service(s.clone());
        state.put_task(task(&s, "t", 0.0, 1, TaskState::Running, 1.0));
        let agent = |running: &[&str]| AgentView {
            node_id: "n1".into(),
            snapshot: AgentSnapshot::default(),
            runtime_running: running.iter().map(|id| (*id).into()).collect(),
        };
        let mut obs = observation(state, History::default());
        obs.agents.insert("w1".to_owned(), agent(&["t"]));
        assert_eq!(check(&obs), Ok(()));
        obs.agents.insert("w1".to_owned(), agent(&["t", "ghost"]));
        assert_eq!(
            check(&obs).unwrap_err(),
            "task ghost runs on w1, and the managers do not know it"
        );
        obs.agents.insert("w1".to_owned(), agent(&[]));
        assert!(
            check(&obs)
                .unwrap_err()
                .contains("its runtime does not run it")
        );
    }
}
