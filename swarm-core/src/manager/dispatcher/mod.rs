//! The dispatcher: agent sessions on the leader, heartbeats with jitter, grace deadlines and the
//! node status writes they lead to (SwarmKit's `manager/dispatcher`), as sans-IO steps.
//!
//! [`Dispatcher`] holds one session per node and answers registrations and heartbeats with the
//! next period and the manager list; [`Dispatcher::expire`] returns the [`NodeStatusWrite`]s of
//! the nodes whose grace has passed. Time (`now_ms`) and randomness (`random`) are passed in;
//! the loop that receives agents' calls, runs `expire` at [`Dispatcher::next_deadline_ms`] and
//! commits the writes is separate. [`HeartbeatTiming`] holds the formulas:
//!
//! * worst-case detection of a dead node, from its last heartbeat: `M × (P + P/10)`
//!   (defaults: 4 × 550 ms = 2.2 s);
//! * lateness tolerated without a false "down": `(M − 1) × (P − P/10)` (defaults: 1.35 s);
//! * after a leader change: twice the grace, `2 × M × (P + P/10)` (defaults: 4.4 s).
//!
//! [`render_node_ls`] prints node records as the `docker node ls` table.
//!
//! What reaches a node is decided here too: [`AssignmentPlan`] gives a node its tasks (assigned
//! to it, observed state at least assigned) and, sealed for its key, exactly the secrets and
//! configs those tasks need that it does not hold yet ([`Assignments`]); [`status_writes`]
//! turns a node's task status reports into task writes, refusing reports about tasks of other
//! nodes and illegal transitions ([`StatusRefusal`]).
//!
//! Every bound is named: [`MAX_NODES`] (tracked nodes, hence sessions), [`MAX_MANAGERS`]
//! (a manager list), [`MAX_REGISTRATIONS_PER_WINDOW`] (per node and
//! [`REGISTRATION_WINDOW_MS`]), [`MAX_ASSIGNED_TASKS`] and [`MAX_ASSIGNMENT_ITEM_BYTES`] (one
//! assignment answer), [`MAX_HELD_ITEMS`] and [`MAX_STATUS_UPDATES_PER_CALL`] (one agent call).

mod assignment_item;
mod assignment_plan;
mod assignments;
mod error;
mod heartbeat_reply;
mod node_ls;
mod node_status_write;
mod registration_limit;
mod sent_tasks;
mod session_id;
mod session_table;
mod status_batch;
mod timing;
mod weighted_manager;

pub use assignment_item::{HeldItem, ItemId};
pub use assignment_plan::{
    AssignmentPlan, MAX_ASSIGNED_TASKS, MAX_ASSIGNMENT_ITEM_BYTES, MAX_HELD_ITEMS, assigned_tasks,
    delivery_binding, needs_files, node_seal_key, referenced_items,
};
pub use assignments::{Assignments, DeliveredConfig, SealedSecret, UnavailableItem};
pub use error::DispatcherError;
pub use heartbeat_reply::{HeartbeatReply, Registration};
pub use node_ls::render_node_ls;
pub use node_status_write::{
    MESSAGE_HEARTBEAT_FAILURE, MESSAGE_HEARTBEAT_FAILURE_UNKNOWN, MESSAGE_LEADERSHIP_CHANGE,
    NodeStatusWrite,
};
pub use registration_limit::{MAX_REGISTRATIONS_PER_WINDOW, REGISTRATION_WINDOW_MS};
pub use sent_tasks::SentTasks;
pub use session_id::SessionId;
pub use session_table::{Dispatcher, MAX_NODES};
pub use status_batch::{
    MAX_STATUS_UPDATES_PER_CALL, MAX_STATUS_WRITES_PER_TXN, StatusBatch, StatusRefusal,
    status_writes,
};
pub use timing::{HEARTBEAT_JITTER_DIVISOR, HeartbeatTiming, UNKNOWN_GRACE_FACTOR};
pub(crate) use timing::{duration_ms, mix64};
pub use weighted_manager::{DEFAULT_MANAGER_WEIGHT, MAX_MANAGERS, WeightedManager};
