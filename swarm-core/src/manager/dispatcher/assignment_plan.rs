//! The leader's step that decides what a node is given: its tasks and, sealed for it, exactly
//! the secrets and configs those tasks need that it does not hold yet.

use crate::manager::cluster_state::ClusterState;
use crate::manager::dispatcher::assignment_item::{HeldItem, ItemId};
use crate::manager::dispatcher::assignments::{
    Assignments, DeliveredConfig, SealedSecret, UnavailableItem,
};
use crate::manager::dispatcher::sent_tasks::SentTasks;
use crate::model::{NodeId, SecretData, SecretId, Task, TaskId, TaskState, Version};
use std::collections::{BTreeMap, BTreeSet};
use swarm_secrets::{DeliveryBinding, NodeSealPublicKey, SecretsError, seal_for_node};

/// Most tasks one assignment set carries. Worst case: a node with more tasks gets the
/// unfinished ones first (then the ended ones, by id) and the rest are left out, as if not
/// assigned; each task is a few KiB, so a full set stays far below the transport's 16 MiB
/// frame. It is also swarm-secrets' bound on the tasks one delivery is bound to.
pub const MAX_ASSIGNED_TASKS: usize = swarm_secrets::limits::MAX_DELIVERY_TASK_IDS;

/// Most secret and config bytes one answer carries; further items wait for the next answer
/// (the agent asks again at once). One item is always sent, so the worst case is this plus one
/// config ([`MAX_CONFIG_DATA_BYTES`](crate::model::MAX_CONFIG_DATA_BYTES)), under the
/// transport's 16 MiB frame together with the tasks.
pub const MAX_ASSIGNMENT_ITEM_BYTES: usize = 6 * 1024 * 1024;

/// Most items an agent may list as held in one call (a call with more is refused, naming the
/// count): sixteen per assigned task on average, about 1 MiB of ids on the wire at worst. A
/// node whose tasks need more distinct secrets and configs than this cannot be served.
pub const MAX_HELD_ITEMS: usize = 16 * MAX_ASSIGNED_TASKS;

/// Whether `task` still needs its secrets and configs: it has not ended and is not asked to
/// stop. The leader delivers, and the agent keeps, only the items of such tasks.
pub fn needs_files(task: &Task) -> bool {
    !task.status.state.is_terminal() && task.desired_state < TaskState::Shutdown
}

/// The tasks a node is given: those whose `node_id` is `node` and whose observed state is at
/// least assigned, in id order, at most [`MAX_ASSIGNED_TASKS`] (unfinished ones first).
pub fn assigned_tasks<'a>(state: &'a ClusterState, node: &NodeId) -> Vec<&'a Task> {
    assigned_with_versions(state, node)
        .into_iter()
        .map(|(t, _)| t)
        .collect()
}

/// [`assigned_tasks`], each with its assignment version.
fn assigned_with_versions<'a>(state: &'a ClusterState, node: &NodeId) -> Vec<(&'a Task, Version)> {
    let mut tasks: Vec<(&Task, Version)> = state
        .tasks_on_node_with_versions(node)
        .filter(|(t, _)| t.status.state >= TaskState::Assigned)
        .collect();
    if tasks.len() > MAX_ASSIGNED_TASKS {
        // Stable: unfinished first, each group in id order.
        tasks.sort_by_key(|(t, _)| t.status.state.is_terminal());
        tasks.truncate(MAX_ASSIGNED_TASKS);
        tasks.sort_by(|(a, _), (b, _)| a.id.cmp(&b.id));
    }
    tasks
}

/// The secrets and configs the tasks that [`needs_files`] reference, each with the ids of the
/// tasks referencing it (sorted, unique).
pub fn referenced_items<'a>(
    tasks: impl IntoIterator<Item = &'a Task>,
) -> BTreeMap<ItemId, Vec<TaskId>> {
    let mut items: BTreeMap<ItemId, BTreeSet<TaskId>> = BTreeMap::new();
    for task in tasks.into_iter().filter(|t| needs_files(t)) {
        let container = &task.spec.container;
        let secrets = container
            .secrets
            .iter()
            .map(|r| ItemId::Secret(r.secret_id.clone()));
        let configs = container
            .configs
            .iter()
            .map(|r| ItemId::Config(r.config_id.clone()));
        for item in secrets.chain(configs) {
            items.entry(item).or_default().insert(task.id.clone());
        }
    }
    items
        .into_iter()
        .map(|(item, tasks)| (item, tasks.into_iter().collect()))
        .collect()
}

/// What a secret delivered to `node` is sealed with: the node, the tasks that reference it and
/// the item label `secret/<id>@<version>`. The agent computes the same from its own set before
/// opening, so a delivery bound to other tasks or another version does not open.
pub fn delivery_binding(
    node: &NodeId,
    tasks: &[TaskId],
    item: &HeldItem,
) -> Result<DeliveryBinding, SecretsError> {
    let node = swarm_secrets::NodeId::try_from(node)?;
    DeliveryBinding::new(node, tasks.iter().map(|t| t.as_str()), item.label())
}

/// The seal key a node published in its record, if any (32 bytes).
pub fn node_seal_key(state: &ClusterState, node: &NodeId) -> Result<NodeSealPublicKey, String> {
    let bytes = state
        .node(node)
        .and_then(|n| n.description.as_ref())
        .and_then(|d| d.seal_public_key.as_deref())
        .ok_or_else(|| format!("node {node} has published no seal key"))?;
    let raw: [u8; 32] = bytes
        .try_into()
        .map_err(|_| format!("node {node}'s seal key is {} bytes, not 32", bytes.len()))?;
    Ok(NodeSealPublicKey::from_bytes(raw))
}

/// FNV-1a, 64 bits: a digest that is the same on every manager and every build.
struct Digest(u64);

impl Digest {
    fn new() -> Self {
        Digest(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn field(&mut self, text: &str, version: u64) {
        self.bytes(&(text.len() as u64).to_le_bytes());
        self.bytes(text.as_bytes());
        self.bytes(&version.to_le_bytes());
    }
}

/// The tasks and items of one node, read from the state.
struct Selection<'a> {
    tasks: Vec<&'a Task>,
    /// Each task's assignment version, in the order of `tasks`.
    versions: Vec<Version>,
    /// Every referenced item with the tasks referencing it and its version (`None`: absent).
    needed: BTreeMap<ItemId, (Vec<TaskId>, Option<Version>)>,
    generation: u64,
}

impl<'a> Selection<'a> {
    fn of(state: &'a ClusterState, node: &NodeId) -> Selection<'a> {
        let (tasks, versions): (Vec<&Task>, Vec<Version>) =
            assigned_with_versions(state, node).into_iter().unzip();
        let needed: BTreeMap<ItemId, (Vec<TaskId>, Option<Version>)> =
            referenced_items(tasks.iter().copied())
                .into_iter()
                .map(|(item, users)| {
                    let version = item_version(state, &item);
                    (item, (users, version))
                })
                .collect();
        let mut digest = Digest::new();
        // The assignment version, not the task's version: a status the agent reported
        // itself (accepted .. running) is not news to it, so not a new set.
        for (t, version) in tasks.iter().zip(&versions) {
            digest.field(t.id.as_str(), version.0);
        }
        digest.bytes(&[0xff]);
        for (item, (_, version)) in &needed {
            digest.field(item.kind(), 0);
            digest.field(item.id(), version.map_or(0, |v| v.0));
        }
        let generation = digest.0.max(1);
        Selection {
            tasks,
            versions,
            needed,
            generation,
        }
    }
}

fn item_version(state: &ClusterState, item: &ItemId) -> Option<Version> {
    match item {
        ItemId::Secret(id) => state.secrets().get(id).map(|s| s.meta.version),
        ItemId::Config(id) => state.configs().get(id).map(|c| c.meta.version),
    }
}

/// A secret to seal: the plaintext is wiped when the plan is dropped.
struct PendingSecret {
    item: HeldItem,
    id: SecretId,
    tasks: Vec<TaskId>,
    data: SecretData,
}

/// What a node is to be given, decided from a [`ClusterState`] (no I/O, no clock, no state):
/// [`AssignmentPlan::seal`] then seals the secrets for the node and gives the
/// [`Assignments`] to send.
///
/// ```
/// use swarm_core::manager::cluster_state::ClusterState;
/// use swarm_core::manager::dispatcher::AssignmentPlan;
///
/// let state = ClusterState::new();
/// let plan = AssignmentPlan::for_node(&state, &"w1".into(), &[]);
/// assert!(plan.tasks().is_empty());
/// // An agent that knows this generation and holds nothing waits for a change.
/// assert!(AssignmentPlan::unchanged(&state, &"w1".into(), plan.generation(), &[]));
/// ```
pub struct AssignmentPlan {
    node: NodeId,
    generation: u64,
    /// `0`, or the generation of the set `tasks` and `removed` change.
    base_generation: u64,
    tasks: Vec<Task>,
    removed: Vec<TaskId>,
    /// The whole set's tasks and generation, for the leader to remember.
    sent: SentTasks,
    keep: Vec<HeldItem>,
    secrets: Vec<PendingSecret>,
    configs: Vec<DeliveredConfig>,
    unavailable: Vec<UnavailableItem>,
    waiting: Vec<UnavailableItem>,
    deferred: usize,
    recipient: Result<NodeSealPublicKey, String>,
}

impl std::fmt::Debug for AssignmentPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssignmentPlan")
            .field("node", &self.node)
            .field("generation", &self.generation)
            .field("base_generation", &self.base_generation)
            .field("tasks", &self.tasks.len())
            .field("removed", &self.removed.len())
            .field("secrets", &self.secrets.len())
            .field("configs", &self.configs.len())
            .field("unavailable", &self.unavailable)
            .field("waiting", &self.waiting)
            .field("deferred", &self.deferred)
            .finish()
    }
}

impl AssignmentPlan {
    /// Whether an agent of `node` that knows `known_generation` and holds `held` has nothing
    /// to learn: the set's generation is the same, it holds no item the tasks no longer need,
    /// and every item they need that can be delivered is held at its current version. The
    /// leader then waits for a change before answering.
    pub fn unchanged(
        state: &ClusterState,
        node: &NodeId,
        known_generation: u64,
        held: &[HeldItem],
    ) -> bool {
        Self::selection_unchanged(
            &Selection::of(state, node),
            state,
            node,
            known_generation,
            held,
        )
    }

    /// [`AssignmentPlan::for_node`], unless [`AssignmentPlan::unchanged`] says the agent has
    /// nothing to learn (`None`): the same answers, the node's tasks read once.
    pub fn for_node_if_changed(
        state: &ClusterState,
        node: &NodeId,
        known_generation: u64,
        held: &[HeldItem],
    ) -> Option<AssignmentPlan> {
        Self::for_node_since(state, node, known_generation, held, None)
    }

    /// [`AssignmentPlan::for_node_if_changed`], answered with the changes only when `sent`
    /// is the set last sent to the node and the agent says it knows it (`sent.generation`
    /// is `known_generation`): the tasks new or changed since (by assignment version) and
    /// the ids that left. Otherwise, or with `sent` `None`, the whole set. Either way the
    /// plan's [`AssignmentPlan::take_sent`] is the whole new set, to pass here next time.
    ///
    /// ```
    /// use swarm_core::manager::cluster_state::ClusterState;
    /// use swarm_core::manager::dispatcher::AssignmentPlan;
    ///
    /// let state = ClusterState::new();
    /// let mut plan = AssignmentPlan::for_node(&state, &"w1".into(), &[]);
    /// let sent = plan.take_sent();
    /// assert_eq!(sent.generation, plan.generation());
    /// // Nothing changed since: nothing to answer.
    /// assert!(AssignmentPlan::for_node_since(&state, &"w1".into(), sent.generation, &[], Some(&sent)).is_none());
    /// ```
    pub fn for_node_since(
        state: &ClusterState,
        node: &NodeId,
        known_generation: u64,
        held: &[HeldItem],
        sent: Option<&SentTasks>,
    ) -> Option<AssignmentPlan> {
        let selection = Selection::of(state, node);
        if Self::selection_unchanged(&selection, state, node, known_generation, held) {
            return None;
        }
        let base = sent.filter(|s| known_generation != 0 && s.generation == known_generation);
        Some(Self::from_selection(selection, state, node, held, base))
    }

    fn selection_unchanged(
        selection: &Selection<'_>,
        state: &ClusterState,
        node: &NodeId,
        known_generation: u64,
        held: &[HeldItem],
    ) -> bool {
        if selection.generation != known_generation {
            return false;
        }
        let held: BTreeSet<&HeldItem> = held.iter().collect();
        // A secret can be sealed once the node published its key (and its id can be bound).
        let recipient_known =
            node_seal_key(state, node).is_ok() && swarm_secrets::NodeId::try_from(node).is_ok();
        let mut needed_count = 0;
        for (item, (_, version)) in &selection.needed {
            let Some(version) = version else { continue };
            let wanted = HeldItem {
                item: item.clone(),
                version: *version,
            };
            if held.contains(&wanted) {
                needed_count += 1;
                continue;
            }
            let deliverable = matches!(item, ItemId::Config(_)) || recipient_known;
            if deliverable {
                return false;
            }
        }
        held.len() == needed_count
    }

    /// Decides what `node` is given when its agent holds `held`.
    pub fn for_node(state: &ClusterState, node: &NodeId, held: &[HeldItem]) -> AssignmentPlan {
        Self::from_selection(Selection::of(state, node), state, node, held, None)
    }

    fn from_selection(
        mut selection: Selection<'_>,
        state: &ClusterState,
        node: &NodeId,
        held: &[HeldItem],
        base: Option<&SentTasks>,
    ) -> AssignmentPlan {
        if crate::sabotage::skip_secret_filter() {
            // Sabotage (simulation only): every secret, bound to all the node's tasks.
            let all: Vec<TaskId> = selection.tasks.iter().map(|t| t.id.clone()).collect();
            for (id, secret) in state.secrets() {
                selection
                    .needed
                    .entry(ItemId::Secret(id.clone()))
                    .or_insert_with(|| (all.clone(), Some(secret.meta.version)));
            }
        }
        let held: BTreeSet<&HeldItem> = held.iter().collect();
        let recipient = node_seal_key(state, node);
        let sent = SentTasks {
            generation: selection.generation,
            tasks: selection
                .tasks
                .iter()
                .zip(&selection.versions)
                .map(|(t, v)| (t.id.clone(), *v))
                .collect(),
        };
        let (base_generation, tasks, removed) = match base {
            None => (
                0,
                selection.tasks.iter().map(|t| (*t).clone()).collect(),
                Vec::new(),
            ),
            Some(base) => (
                base.generation,
                selection
                    .tasks
                    .iter()
                    .zip(&selection.versions)
                    .filter(|(t, v)| base.tasks.get(&t.id) != Some(*v))
                    .map(|(t, _)| (*t).clone())
                    .collect(),
                base.tasks
                    .keys()
                    .filter(|id| !sent.tasks.contains_key(*id))
                    .cloned()
                    .collect(),
            ),
        };
        let mut plan = AssignmentPlan {
            node: node.clone(),
            generation: selection.generation,
            base_generation,
            tasks,
            removed,
            sent,
            keep: Vec::new(),
            secrets: Vec::new(),
            configs: Vec::new(),
            unavailable: Vec::new(),
            waiting: Vec::new(),
            deferred: 0,
            recipient,
        };
        let mut budget_bytes = MAX_ASSIGNMENT_ITEM_BYTES;
        let mut sent_any = false;
        for (item, (users, version)) in selection.needed {
            let Some(version) = version else {
                plan.waiting.push(UnavailableItem {
                    reason: format!("{item} does not exist"),
                    item,
                });
                continue;
            };
            let wanted = HeldItem {
                item: item.clone(),
                version,
            };
            plan.keep.push(wanted.clone());
            if held.contains(&wanted) {
                continue;
            }
            match &item {
                ItemId::Secret(id) => {
                    if let Err(reason) = &plan.recipient {
                        plan.waiting.push(UnavailableItem {
                            item: item.clone(),
                            reason: format!("{item} cannot be sealed yet: {reason}"),
                        });
                        continue;
                    }
                    let Some(secret) = state.secrets().get(id) else {
                        continue;
                    };
                    let size = secret.spec.data.len();
                    if sent_any && size > budget_bytes {
                        plan.deferred += 1;
                        continue;
                    }
                    budget_bytes = budget_bytes.saturating_sub(size);
                    sent_any = true;
                    plan.secrets.push(PendingSecret {
                        item: wanted,
                        id: id.clone(),
                        tasks: users,
                        data: secret.spec.data.clone(),
                    });
                }
                ItemId::Config(id) => {
                    let Some(config) = state.configs().get(id) else {
                        continue;
                    };
                    let size = config.spec.data.len();
                    if sent_any && size > budget_bytes {
                        plan.deferred += 1;
                        continue;
                    }
                    budget_bytes = budget_bytes.saturating_sub(size);
                    sent_any = true;
                    plan.configs.push(DeliveredConfig {
                        id: id.clone(),
                        version,
                        data: config.spec.data.clone(),
                    });
                }
            }
        }
        plan
    }

    /// The set's generation.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The tasks to send: the node's whole set, or (for an answer with changes only) those
    /// new or changed since the set it changes.
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    /// The generation of the set this plan changes; `0` when it sends the whole set.
    pub fn base_generation(&self) -> u64 {
        self.base_generation
    }

    /// The tasks that left the set since [`AssignmentPlan::base_generation`].
    pub fn removed(&self) -> &[TaskId] {
        &self.removed
    }

    /// The whole new set's tasks and generation, for the leader to remember (taken: a second
    /// call gives an empty one).
    pub fn take_sent(&mut self) -> SentTasks {
        std::mem::take(&mut self.sent)
    }

    /// The items to send that are not held yet: secrets to seal, then configs.
    pub fn items_to_send(&self) -> Vec<HeldItem> {
        self.secrets
            .iter()
            .map(|s| s.item.clone())
            .chain(self.configs.iter().map(DeliveredConfig::held))
            .collect()
    }

    /// Items left for a later answer (the byte budget of this one is spent).
    pub fn deferred(&self) -> usize {
        self.deferred
    }

    /// Items the node's tasks need that cannot be sent yet, and why: absent from this view of
    /// the state, or a secret for a node that has not published its seal key. Both come from
    /// a view that lags the store (a task and its secret written together may appear one
    /// after the other; a registration's key a moment after it), and the rules that keep a
    /// referenced secret from being deleted make them transient, so the node is not told:
    /// its agent waits, and the set's generation moves when the item appears.
    pub fn waiting(&self) -> &[UnavailableItem] {
        &self.waiting
    }

    /// Seals every secret for the node, bound with [`delivery_binding`]. A secret that cannot
    /// be sealed (an id that is not a DNS label, a key the ring rejects) is reported
    /// unavailable with the reason.
    pub fn seal(self) -> Assignments {
        let AssignmentPlan {
            node,
            generation,
            base_generation,
            tasks,
            removed,
            sent: _,
            keep,
            secrets,
            configs,
            mut unavailable,
            waiting: _,
            deferred,
            recipient,
        } = self;
        let mut sealed = Vec::with_capacity(secrets.len());
        for pending in secrets {
            let outcome = recipient.as_ref().map_err(Clone::clone).and_then(|key| {
                delivery_binding(&node, &pending.tasks, &pending.item)
                    .and_then(|binding| seal_for_node(key, &binding, pending.data.expose()))
                    .map_err(|e| e.to_string())
            });
            match outcome {
                Ok(delivery) => sealed.push(SealedSecret {
                    id: pending.id,
                    version: pending.item.version,
                    sealed: delivery,
                }),
                Err(reason) => unavailable.push(UnavailableItem {
                    reason: format!("{} cannot be sealed: {reason}", pending.item.item),
                    item: pending.item.item,
                }),
            }
        }
        Assignments {
            generation,
            tasks,
            secrets: sealed,
            configs,
            keep,
            unavailable,
            complete: deferred == 0,
            base_generation,
            removed,
        }
    }
}

#[cfg(test)]
#[path = "assignment_plan_tests.rs"]
mod tests;
