//! What reached a node's agent, for programs and tests to look at.

use crate::model::{ConfigId, SecretId, TaskId};

/// What a node's agent holds now ([`Node::agent_snapshot`](crate::node::Node::agent_snapshot)):
/// ids only, never a secret's value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AgentSnapshot {
    /// The generation of the last assignment set applied (0: none yet).
    pub generation: u64,
    /// Tasks whose controller last reported them running, in id order.
    pub running_tasks: Vec<TaskId>,
    /// Every task the agent tracks (with a controller, or reported without one), in id order.
    pub tasks: Vec<TaskId>,
    /// Secrets the agent holds opened (in memory), in id order.
    pub held_secrets: Vec<SecretId>,
    /// Configs the agent holds, in id order.
    pub held_configs: Vec<ConfigId>,
    /// Secrets delivered to the agent that no task of its assignment set references (it
    /// ignored them: the leader sends none, so any is a leak), the first
    /// [`MAX_UNREFERENCED_SECRETS`] since the node started, in arrival order.
    pub unreferenced_secrets: Vec<SecretId>,
}

/// Most ids [`AgentSnapshot::unreferenced_secrets`] keeps; later ones are not recorded (the
/// first is enough to name the leak).
pub const MAX_UNREFERENCED_SECRETS: usize = 16;
