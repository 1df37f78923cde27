//! The dispatcher (its session table): registrations, heartbeats, grace deadlines and the node
//! status writes they lead to.

use crate::manager::dispatcher::error::DispatcherError;
use crate::manager::dispatcher::heartbeat_reply::{HeartbeatReply, Registration};
use crate::manager::dispatcher::node_status_write::{
    MESSAGE_HEARTBEAT_FAILURE, MESSAGE_HEARTBEAT_FAILURE_UNKNOWN, MESSAGE_LEADERSHIP_CHANGE,
    NodeStatusWrite,
};
use crate::manager::dispatcher::registration_limit::RegistrationWindow;
use crate::manager::dispatcher::session_id::SessionId;
use crate::manager::dispatcher::timing::{HeartbeatTiming, mix64};
use crate::manager::dispatcher::weighted_manager::{MAX_MANAGERS, WeightedManager};
use crate::model::{DispatcherConfig, Node, NodeDescription, NodeId, NodeState};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Most nodes the dispatcher tracks, and so most sessions (one per node).
///
/// Worst case at the bound: about 3 MiB of tracking state (node id twice, the address and a
/// few integers per node); one [`Dispatcher::expire`] or [`Dispatcher::on_leadership`] call
/// returns up to 10,000 writes, which the loop commits in batches of the store's transaction
/// size; each other step costs `O(log n)`. Joins past the bound must be refused before the node
/// record is written.
pub const MAX_NODES: usize = 10_000;

/// The leader's view of agent sessions, as a sans-IO state machine.
///
/// Time enters as `now_ms` (milliseconds since an epoch the loop chooses; it should not go
/// backwards) and randomness as `random` (a uniformly distributed `u64` from the caller's seeded
/// generator), so the same calls give the same answers and writes in production, in tests and in
/// simulation.
///
/// * [`Dispatcher::on_leadership`] starts it with the store's nodes: those not down become
///   unknown and get [`UNKNOWN_GRACE_FACTOR`](crate::manager::dispatcher::UNKNOWN_GRACE_FACTOR)
///   times the grace to reach this new leader. [`Dispatcher::on_leadership_lost`] drops
///   everything; steps are then refused with [`DispatcherError::NotLeader`].
/// * [`Dispatcher::register`] opens a session (replacing an older one of the same node) and marks
///   the node ready; [`Dispatcher::heartbeat`] keeps it alive. Both answer with the next period
///   (with jitter) and the managers.
/// * [`Dispatcher::expire`] marks down the nodes whose grace has passed and ends their session:
///   a node comes back only by registering again. Run it at [`Dispatcher::next_deadline_ms`].
/// * [`Dispatcher::node_added`] and [`Dispatcher::node_removed`] follow the store; a removed
///   node's session ends.
///
/// A node is expired once `now_ms ≥ last answer + multiplier × announced period`; a heartbeat
/// handled before that `expire` call still counts. The worst-case detection time and stall
/// tolerance are [`HeartbeatTiming`]'s.
///
/// ```
/// use swarm_core::manager::dispatcher::Dispatcher;
/// use swarm_core::model::{DispatcherConfig, Node, NodeDescription, NodeId, NodeState};
///
/// let mut d = Dispatcher::new(&DispatcherConfig::default());
/// let worker = Node { id: NodeId::new("w1"), ..Node::default() };
/// d.on_leadership(0, &[worker], 7)?;
/// let reg = d.register(&NodeId::new("w1"), NodeDescription::default(), "10.0.0.2", 10, 42)?;
/// assert_eq!(reg.write.state, NodeState::Ready);
/// let reply = d.heartbeat(&NodeId::new("w1"), reg.session_id, 400, 43)?;
/// assert!((450..=550).contains(&reply.period_ms));
/// // No heartbeat for 4 announced periods: down.
/// let writes = d.expire(400 + 4 * reply.period_ms);
/// assert_eq!(writes[0].state, NodeState::Down);
/// # Ok::<(), swarm_core::manager::dispatcher::DispatcherError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Dispatcher {
    timing: HeartbeatTiming,
    leader: bool,
    managers: Arc<[WeightedManager]>,
    nodes: BTreeMap<NodeId, TrackedNode>,
    /// `(deadline_ms, node)` for every tracked node with a deadline; the one index of expiry.
    deadlines: BTreeSet<(u64, NodeId)>,
}

/// What the dispatcher knows of one node.
#[derive(Clone, Debug)]
struct TrackedNode {
    /// The state last written (or read from the store).
    state: NodeState,
    /// The current session, if the node registered with this leader.
    session: Option<SessionId>,
    /// When the node is marked down without a heartbeat; `None` once down or never seen.
    deadline_ms: Option<u64>,
    registrations: RegistrationWindow,
}

impl TrackedNode {
    fn new(state: NodeState) -> Self {
        TrackedNode {
            state,
            session: None,
            deadline_ms: None,
            registrations: RegistrationWindow::default(),
        }
    }
}

impl Dispatcher {
    /// A dispatcher that is not the leader yet, with the timing of `config`.
    pub fn new(config: &DispatcherConfig) -> Self {
        Dispatcher {
            timing: HeartbeatTiming::from_config(config),
            leader: false,
            managers: Arc::from(Vec::new()),
            nodes: BTreeMap::new(),
            deadlines: BTreeSet::new(),
        }
    }

    /// Applies a changed cluster setting. Deadlines already set stay; the next answers use the
    /// new period and multiplier.
    pub fn set_config(&mut self, config: &DispatcherConfig) {
        self.timing = HeartbeatTiming::from_config(config);
    }

    /// The current timing.
    pub fn timing(&self) -> HeartbeatTiming {
        self.timing
    }

    /// Replaces the manager list sent with every answer. Refused, leaving the list unchanged,
    /// when longer than [`MAX_MANAGERS`].
    pub fn set_managers(&mut self, managers: Vec<WeightedManager>) -> Result<(), DispatcherError> {
        if managers.len() > MAX_MANAGERS {
            return Err(DispatcherError::TooManyManagers {
                count: managers.len(),
                max: MAX_MANAGERS,
            });
        }
        self.managers = Arc::from(managers);
        Ok(())
    }

    /// The manager list sent with every answer.
    pub fn managers(&self) -> &[WeightedManager] {
        &self.managers
    }

    /// Whether this dispatcher is the leader's (between `on_leadership` and
    /// `on_leadership_lost`).
    pub fn is_leader(&self) -> bool {
        self.leader
    }

    /// This manager became the leader at `now_ms`; `nodes` are the store's nodes.
    ///
    /// Returns the writes that move every node not down to unknown (those already unknown with
    /// the same message are left alone). Each such node gets the longer grace, jittered per node
    /// from `random`, to register with this leader; nodes already down stay down without a
    /// deadline. Any earlier state of this dispatcher is dropped. Refused, changing nothing,
    /// with more than [`MAX_NODES`] nodes.
    pub fn on_leadership(
        &mut self,
        now_ms: u64,
        nodes: &[Node],
        random: u64,
    ) -> Result<Vec<NodeStatusWrite>, DispatcherError> {
        if nodes.len() > MAX_NODES {
            return Err(DispatcherError::TooManyNodes {
                count: nodes.len(),
                max: MAX_NODES,
            });
        }
        self.nodes.clear();
        self.deadlines.clear();
        self.leader = true;
        let mut writes = Vec::new();
        for (index, node) in nodes.iter().enumerate() {
            // A repeated id: the last record wins, and its earlier deadline goes.
            self.set_deadline(&node.id, None);
            if node.status.state == NodeState::Down {
                self.nodes
                    .insert(node.id.clone(), TrackedNode::new(NodeState::Down));
                continue;
            }
            let node_random = mix64(random.wrapping_add(index as u64));
            let period_ms = self.timing.choose_period_ms(node_random);
            let deadline_ms = now_ms.saturating_add(self.timing.unknown_grace_ms(period_ms));
            self.nodes
                .insert(node.id.clone(), TrackedNode::new(NodeState::Unknown));
            self.set_deadline(&node.id, Some(deadline_ms));
            let unchanged = node.status.state == NodeState::Unknown
                && node.status.message == MESSAGE_LEADERSHIP_CHANGE;
            if !unchanged {
                writes.push(NodeStatusWrite::state(
                    &node.id,
                    NodeState::Unknown,
                    MESSAGE_LEADERSHIP_CHANGE,
                ));
            }
        }
        Ok(writes)
    }

    /// This manager is no longer the leader: every session and deadline is dropped, and steps
    /// are refused until the next [`Dispatcher::on_leadership`].
    pub fn on_leadership_lost(&mut self) {
        self.leader = false;
        self.nodes.clear();
        self.deadlines.clear();
    }

    /// A node record appeared in the store at `now_ms` (a join). It can register from now on.
    /// Unless it is already down, it gets the same grace as a node after a leader change
    /// (jittered from `random`) to register: a record whose agent never comes (a join whose
    /// answer was lost, a node that died before starting its agent) turns down instead of
    /// staying unknown, so nothing waits for it. A node already tracked is left as it is.
    /// Refused past [`MAX_NODES`].
    pub fn node_added(
        &mut self,
        node: &Node,
        now_ms: u64,
        random: u64,
    ) -> Result<(), DispatcherError> {
        if self.nodes.contains_key(&node.id) {
            return Ok(());
        }
        if self.nodes.len() >= MAX_NODES {
            return Err(DispatcherError::TooManyNodes {
                count: self.nodes.len() + 1,
                max: MAX_NODES,
            });
        }
        self.nodes
            .insert(node.id.clone(), TrackedNode::new(node.status.state));
        if node.status.state != NodeState::Down {
            let period_ms = self.timing.choose_period_ms(random);
            let deadline_ms = now_ms.saturating_add(self.timing.unknown_grace_ms(period_ms));
            self.set_deadline(&node.id, Some(deadline_ms));
        }
        Ok(())
    }

    /// A node record left the store (`node rm`): its session ends and it is no longer expired.
    /// Returns whether it was tracked.
    pub fn node_removed(&mut self, node: &NodeId) -> bool {
        self.set_deadline(node, None);
        self.nodes.remove(node).is_some()
    }

    /// Registers `node`'s agent, connecting from `addr` with `description`, at `now_ms`.
    ///
    /// Opens a new session, replacing any older one of the node (whose id is refused from now
    /// on), sets its deadline to `multiplier ×` the announced period, and returns the session,
    /// the first answer and the write that marks the node ready. `random` chooses the session id
    /// and the period's jitter.
    ///
    /// Refused with [`DispatcherError::NotLeader`], [`DispatcherError::NodeNotFound`] (not in the
    /// store) or [`DispatcherError::RegistrationRateLimited`] (more than
    /// [`MAX_REGISTRATIONS_PER_WINDOW`](crate::manager::dispatcher::MAX_REGISTRATIONS_PER_WINDOW)
    /// in the window), changing nothing but the rate count.
    pub fn register(
        &mut self,
        node: &NodeId,
        description: NodeDescription,
        addr: &str,
        now_ms: u64,
        random: u64,
    ) -> Result<Registration, DispatcherError> {
        if !self.leader {
            return Err(DispatcherError::NotLeader { node: node.clone() });
        }
        let Some(tracked) = self.nodes.get_mut(node) else {
            return Err(DispatcherError::NodeNotFound { node: node.clone() });
        };
        if let Err(retry_after_ms) = tracked.registrations.admit(now_ms) {
            return Err(DispatcherError::RegistrationRateLimited {
                node: node.clone(),
                retry_after_ms,
            });
        }
        let mut session_id = SessionId(random);
        if tracked.session == Some(session_id) {
            session_id = SessionId(random.wrapping_add(1));
        }
        tracked.session = Some(session_id);
        tracked.state = NodeState::Ready;
        let period_ms = self.timing.choose_period_ms(mix64(random));
        let deadline_ms = now_ms.saturating_add(self.timing.grace_ms(period_ms));
        self.set_deadline(node, Some(deadline_ms));
        Ok(Registration {
            session_id,
            reply: HeartbeatReply {
                period_ms,
                managers: Arc::clone(&self.managers),
            },
            write: NodeStatusWrite {
                node: node.clone(),
                state: NodeState::Ready,
                message: String::new(),
                addr: Some(addr.to_owned()),
                description: Some(description),
            },
        })
    }

    /// A heartbeat from `node` on `session` at `now_ms`: moves its deadline to
    /// `multiplier ×` the newly announced period (chosen by `random`) and answers with that
    /// period and the managers. The node is already ready (its registration wrote it), so no
    /// write follows.
    ///
    /// Refused with [`DispatcherError::NotLeader`], [`DispatcherError::NodeNotFound`] (not in the
    /// store) or [`DispatcherError::UnknownSession`] (replaced, expired or never registered with
    /// this leader: the agent registers again).
    pub fn heartbeat(
        &mut self,
        node: &NodeId,
        session: SessionId,
        now_ms: u64,
        random: u64,
    ) -> Result<HeartbeatReply, DispatcherError> {
        if !self.leader {
            return Err(DispatcherError::NotLeader { node: node.clone() });
        }
        let Some(tracked) = self.nodes.get(node) else {
            return Err(DispatcherError::NodeNotFound { node: node.clone() });
        };
        if tracked.session != Some(session) {
            return Err(DispatcherError::UnknownSession {
                node: node.clone(),
                session,
            });
        }
        let period_ms = self.timing.choose_period_ms(random);
        let deadline_ms = now_ms.saturating_add(self.timing.grace_ms(period_ms));
        self.set_deadline(node, Some(deadline_ms));
        Ok(HeartbeatReply {
            period_ms,
            managers: Arc::clone(&self.managers),
        })
    }

    /// The write that puts `node`'s record back in step with its live session here: `Some`
    /// when the node holds a current session with this leader but its record (`recorded`,
    /// as this manager's copy of the store has it) does not say ready. That happens when a
    /// status write computed before the registration committed after it (this leader's own
    /// "unknown" of the leadership change, or a "down" of an expiry racing a new session);
    /// without a repair the record would stay wrong while the node heartbeats, since
    /// heartbeats write nothing. The leader checks at every heartbeat.
    pub fn repair_write(&self, node: &NodeId, recorded: NodeState) -> Option<NodeStatusWrite> {
        let tracked = self.nodes.get(node)?;
        (self.leader
            && tracked.session.is_some()
            && tracked.state == NodeState::Ready
            && recorded != NodeState::Ready)
            .then(|| NodeStatusWrite::state(node, NodeState::Ready, ""))
    }

    /// Checks that `session` is `node`'s current session with this leader, for the calls
    /// that ride on a session without renewing it (assignments, task status reports).
    ///
    /// Refused like [`Dispatcher::heartbeat`]: [`DispatcherError::NotLeader`],
    /// [`DispatcherError::NodeNotFound`] or [`DispatcherError::UnknownSession`].
    pub fn check_session(&self, node: &NodeId, session: SessionId) -> Result<(), DispatcherError> {
        if !self.leader {
            return Err(DispatcherError::NotLeader { node: node.clone() });
        }
        let Some(tracked) = self.nodes.get(node) else {
            return Err(DispatcherError::NodeNotFound { node: node.clone() });
        };
        if tracked.session != Some(session) {
            return Err(DispatcherError::UnknownSession {
                node: node.clone(),
                session,
            });
        }
        Ok(())
    }

    /// Marks down every node whose deadline is at or before `now_ms` and ends its session.
    /// Returns their writes, ordered by deadline then node id: "heartbeat failure" for a node
    /// that had a session, SwarmKit's "unknown state" message for one that never reached this
    /// leader. Nothing is returned when not the leader.
    pub fn expire(&mut self, now_ms: u64) -> Vec<NodeStatusWrite> {
        let mut writes = Vec::new();
        while let Some((deadline_ms, node)) = self.deadlines.first().cloned() {
            if deadline_ms > now_ms {
                break;
            }
            self.deadlines.pop_first();
            let Some(tracked) = self.nodes.get_mut(&node) else {
                continue;
            };
            let message = if tracked.session.is_some() {
                MESSAGE_HEARTBEAT_FAILURE
            } else {
                MESSAGE_HEARTBEAT_FAILURE_UNKNOWN
            };
            tracked.session = None;
            tracked.deadline_ms = None;
            tracked.state = NodeState::Down;
            writes.push(NodeStatusWrite::state(&node, NodeState::Down, message));
        }
        writes
    }

    /// The earliest deadline, when the loop should call [`Dispatcher::expire`] next.
    pub fn next_deadline_ms(&self) -> Option<u64> {
        self.deadlines.first().map(|(deadline_ms, _)| *deadline_ms)
    }

    /// The node's current session, if any.
    pub fn session(&self, node: &NodeId) -> Option<SessionId> {
        self.nodes.get(node).and_then(|t| t.session)
    }

    /// The node's state as this dispatcher last wrote or read it; `None` if not tracked.
    pub fn node_state(&self, node: &NodeId) -> Option<NodeState> {
        self.nodes.get(node).map(|t| t.state)
    }

    /// The node's deadline, if it has one.
    pub fn deadline_ms(&self, node: &NodeId) -> Option<u64> {
        self.nodes.get(node).and_then(|t| t.deadline_ms)
    }

    /// How many nodes are tracked (at most [`MAX_NODES`]).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// How many nodes have a session.
    pub fn session_count(&self) -> usize {
        self.nodes.values().filter(|t| t.session.is_some()).count()
    }

    /// Sets a tracked node's deadline, keeping the index in step.
    fn set_deadline(&mut self, node: &NodeId, deadline_ms: Option<u64>) {
        let Some(tracked) = self.nodes.get_mut(node) else {
            return;
        };
        if let Some(old) = tracked.deadline_ms.take() {
            self.deadlines.remove(&(old, node.clone()));
        }
        if let Some(new) = deadline_ms {
            tracked.deadline_ms = Some(new);
            self.deadlines.insert((new, node.clone()));
        }
    }
}

#[cfg(test)]
#[path = "session_table_tests.rs"]
mod tests;
