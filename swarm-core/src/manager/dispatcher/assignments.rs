//! What the leader sends a node: its tasks, and the secrets and configs they need.

use crate::manager::dispatcher::assignment_item::{HeldItem, ItemId};
use crate::model::{ConfigData, ConfigId, SecretId, Task, TaskId, Version};
use serde::{Deserialize, Serialize};
use swarm_secrets::SealedDelivery;

/// A secret sealed for one node (only that node's seal key opens it, and only for the binding
/// the node computes from its own tasks: see
/// [`delivery_binding`](crate::manager::dispatcher::delivery_binding)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedSecret {
    /// The secret.
    pub id: SecretId,
    /// Its store version.
    pub version: Version,
    /// The sealed value.
    pub sealed: SealedDelivery,
}

impl SealedSecret {
    /// The secret as an item held at its version.
    pub fn held(&self) -> HeldItem {
        HeldItem {
            item: ItemId::Secret(self.id.clone()),
            version: self.version,
        }
    }
}

/// A config a node's tasks reference. Configs are not secret: they travel in the clear inside
/// the mutual-TLS connection (as in SwarmKit), which also lets them exceed the sealed delivery
/// limit (configs reach [`MAX_CONFIG_DATA_BYTES`](crate::model::MAX_CONFIG_DATA_BYTES), secrets
/// half that).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveredConfig {
    /// The config.
    pub id: ConfigId,
    /// Its store version.
    pub version: Version,
    /// Its data (redacted by `Debug`).
    pub data: ConfigData,
}

impl DeliveredConfig {
    /// The config as an item held at its version.
    pub fn held(&self) -> HeldItem {
        HeldItem {
            item: ItemId::Config(self.id.clone()),
            version: self.version,
        }
    }
}

/// A secret or config a task references that the leader cannot deliver for good (it cannot be
/// sealed for the node); the agent rejects the tasks that need it with this reason. (An item
/// merely not there yet is not listed: the agent waits for it, see
/// [`AssignmentPlan::waiting`](crate::manager::dispatcher::AssignmentPlan::waiting).)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnavailableItem {
    /// The secret or config.
    pub item: ItemId,
    /// Why, e.g. `"secret s1 cannot be sealed: ..."`.
    pub reason: String,
}

/// A node's assignment set, as the leader answers an agent whose set changed.
///
/// * `tasks`: every task assigned to the node (`node_id` is the node, observed state at least
///   assigned, not yet deleted), with its desired state. A task absent from the set is no
///   longer the node's: the agent removes it.
/// * `secrets` and `configs`: the secrets and configs those tasks reference (tasks not ended and
///   not asked to stop) that the agent did not say it holds, as many as fit in one answer
///   ([`MAX_ASSIGNMENT_ITEM_BYTES`](crate::manager::dispatcher::MAX_ASSIGNMENT_ITEM_BYTES)).
///   Nothing a task of another node references is ever sent.
/// * `keep`: every item the node's tasks need, at its current version: the agent drops what it
///   holds beyond that.
/// * `complete`: `false` when items were left for the next answer (the agent asks again at
///   once).
/// * `base_generation`: `0` when `tasks` is the whole set. Otherwise the answer changes the
///   set of that generation (the one the agent said it knows): `tasks` holds the tasks new
///   or changed since, `removed` the ids that left the set; every other task is as the agent
///   has it. An agent that does not hold that generation drops the answer and asks for the
///   whole set (generation 0). `secrets`, `configs` and `keep` are always for the whole set.
///
/// `Debug` shows no secret or config data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignments {
    /// The set's generation: a digest of the tasks' ids and assignment versions
    /// ([`ClusterState::assignment_version`]: a status the agent reported itself does not
    /// move it) and of the items' ids and versions (never 0, which an agent sends when it
    /// knows no set).
    ///
    /// [`ClusterState::assignment_version`]: crate::manager::cluster_state::ClusterState::assignment_version
    pub generation: u64,
    /// The node's tasks (with a `base_generation`: those new or changed since), in id order.
    pub tasks: Vec<Task>,
    /// Secrets sealed for the node.
    pub secrets: Vec<SealedSecret>,
    /// Configs.
    pub configs: Vec<DeliveredConfig>,
    /// What the node's tasks need, at the current versions.
    pub keep: Vec<HeldItem>,
    /// What cannot be delivered, and why.
    pub unavailable: Vec<UnavailableItem>,
    /// Whether every missing item was sent.
    pub complete: bool,
    /// The generation of the set this answer changes; `0`: `tasks` is the whole set.
    #[serde(default)]
    pub base_generation: u64,
    /// The tasks that left the set since `base_generation` (empty in a whole set).
    #[serde(default)]
    pub removed: Vec<TaskId>,
}
