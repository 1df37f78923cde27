//! An in-process network for tests and simulations: members exchange requests through tokio
//! tasks, with seeded, per-link fault injection (partitions, loss, delay, duplication) and crashes.
//!
//! Everything is deterministic given the seed and the order in which calls are made, and every
//! delay is a [`tokio::time::sleep`], so a simulation runs under tokio's paused clock
//! (`#[tokio::test(start_paused = true)]`) in a fraction of real time.
//!
//! # Example
//! ```
//! use bytes::Bytes;
//! use swarm_store::testkit::inproc::InProcNetwork;
//! use swarm_store::transport::{MemberId, RpcHandler, Transport, TransportError};
//!
//! struct Echo;
//! impl RpcHandler for Echo {
//!     async fn handle(&self, _from: MemberId, request: Bytes) -> Result<Bytes, String> {
//!         Ok(request)
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let net = InProcNetwork::new(42);
//! let (a, b) = (MemberId(1), MemberId(2));
//! net.register(b, Echo);
//! let from_a = net.endpoint(a);
//! assert_eq!(from_a.call(b, Bytes::from_static(b"hi")).await.unwrap(), "hi");
//!
//! net.crash(b);
//! assert!(matches!(
//!     from_a.call(b, Bytes::new()).await,
//!     Err(TransportError::Unreachable { .. })
//! ));
//! # }
//! ```

mod endpoint;
mod faults;
mod state;
mod trace;

pub use endpoint::InProcTransport;
pub use faults::{
    DEFAULT_INPROC_CALL_TIMEOUT, InProcConfig, LinkFaults, MAX_PENDING_DELIVERIES_PER_MEMBER,
};
pub use state::NetStats;
pub use trace::{MAX_TRACE_EVENTS, TraceEvent, TraceKind};

use crate::transport::{MemberId, RpcHandler};
use state::NetState;
use std::sync::{Arc, Mutex, MutexGuard};

/// A simulated network of members. Cheap to clone (all clones share one network).
///
/// Members [`register`](Self::register) a handler to receive requests and take an
/// [`endpoint`](Self::endpoint) to send them. Faults are set per directed link
/// ([`set_link_faults`](Self::set_link_faults)) or for all links
/// ([`set_default_faults`](Self::set_default_faults)); partitions block links outright.
///
/// Semantics of one call from `a` to `b`:
/// - `b` not registered (never started, or [`crash`](Self::crash)ed): fails at once with
///   [`Unreachable`](crate::transport::TransportError::Unreachable), as a refused connection.
/// - request or response lost (partition or drop): the caller waits for its timeout and gets
///   [`Timeout`](crate::transport::TransportError::Timeout); the handler may or may not have run.
/// - `b` crashes while the request is delayed or being handled: the handler's work is aborted and
///   the caller times out.
/// - a call made through an endpoint of a crashed incarnation fails with
///   [`Shutdown`](crate::transport::TransportError::Shutdown), so leftovers of a crashed member cannot talk.
#[derive(Clone)]
pub struct InProcNetwork {
    state: Arc<Mutex<NetState>>,
}

impl std::fmt::Debug for InProcNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcNetwork").finish_non_exhaustive()
    }
}

impl InProcNetwork {
    /// A network with default settings whose fault decisions derive from `seed`.
    pub fn new(seed: u64) -> Self {
        Self::with_config(seed, InProcConfig::default())
    }

    /// A network with the given settings.
    pub fn with_config(seed: u64, config: InProcConfig) -> Self {
        InProcNetwork {
            state: Arc::new(Mutex::new(NetState::new(seed, config))),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, NetState> {
        // A panic while holding the lock leaves plain data behind; keep going with it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The seed this network was made with.
    pub fn seed(&self) -> u64 {
        self.lock().seed
    }

    /// Starts (or restarts) `member` with `handler`: requests to it are delivered from now on.
    /// Replaces a previous handler of the same member.
    pub fn register<H: RpcHandler>(&self, member: MemberId, handler: H) {
        self.lock().register(member, Arc::new(handler));
    }

    /// Crashes `member`: removes its handler, aborts requests it is handling or about to
    /// receive, and disables every endpoint taken for it so far. Take a new
    /// [`endpoint`](Self::endpoint) and [`register`](Self::register) again to restart it.
    pub fn crash(&self, member: MemberId) {
        self.lock().crash(member);
    }

    /// Whether `member` has a handler registered.
    pub fn is_running(&self, member: MemberId) -> bool {
        self.lock().is_running(member)
    }

    /// An endpoint through which `member` sends requests. It stops working when the member is
    /// [`crash`](Self::crash)ed.
    pub fn endpoint(&self, member: MemberId) -> InProcTransport {
        let incarnation = self.lock().incarnation(member);
        InProcTransport::new(self.clone(), member, incarnation)
    }

    /// Blocks messages from `from` to `to` (one way). Responses from `to` to `from` still flow.
    pub fn partition_one_way(&self, from: MemberId, to: MemberId) {
        self.lock().blocked.insert((from, to));
    }

    /// Blocks messages between `a` and `b` in both directions.
    pub fn partition(&self, a: MemberId, b: MemberId) {
        let mut s = self.lock();
        s.blocked.insert((a, b));
        s.blocked.insert((b, a));
    }

    /// Splits the network into groups: members in different groups cannot talk to each other
    /// (members listed in no group keep talking to everyone).
    pub fn split(&self, groups: &[&[MemberId]]) {
        let mut s = self.lock();
        for (i, g) in groups.iter().enumerate() {
            for h in groups.iter().skip(i + 1) {
                for &a in g.iter() {
                    for &b in h.iter() {
                        s.blocked.insert((a, b));
                        s.blocked.insert((b, a));
                    }
                }
            }
        }
    }

    /// Cuts `member` off from every other member, both ways, until [`heal`](Self::heal) or
    /// [`rejoin`](Self::rejoin).
    pub fn isolate(&self, member: MemberId) {
        self.lock().isolated.insert(member);
    }

    /// Ends the isolation of `member` (partitions set link by link stay).
    pub fn rejoin(&self, member: MemberId) {
        self.lock().isolated.remove(&member);
    }

    /// Unblocks the link between `a` and `b` in both directions.
    pub fn heal_link(&self, a: MemberId, b: MemberId) {
        let mut s = self.lock();
        s.blocked.remove(&(a, b));
        s.blocked.remove(&(b, a));
    }

    /// Removes every partition and isolation (loss, delay and duplication settings stay).
    pub fn heal(&self) {
        let mut s = self.lock();
        s.blocked.clear();
        s.isolated.clear();
    }

    /// Whether messages from `from` to `to` are blocked by a partition or isolation.
    pub fn is_blocked(&self, from: MemberId, to: MemberId) -> bool {
        self.lock().is_blocked(from, to)
    }

    /// Sets the faults of the directed link `from` → `to` (requests from `from` to `to` and
    /// responses from `from` back to `to`). Invalid settings are refused with a message naming
    /// the field.
    pub fn set_link_faults(
        &self,
        from: MemberId,
        to: MemberId,
        faults: LinkFaults,
    ) -> Result<(), String> {
        faults.validate()?;
        self.lock().link_faults.insert((from, to), faults);
        Ok(())
    }

    /// Sets the faults of every link without its own settings.
    pub fn set_default_faults(&self, faults: LinkFaults) -> Result<(), String> {
        faults.validate()?;
        self.lock().default_faults = faults;
        Ok(())
    }

    /// Removes all loss, delay and duplication settings (partitions stay).
    pub fn clear_faults(&self) {
        let mut s = self.lock();
        s.link_faults.clear();
        s.default_faults = LinkFaults::none();
    }

    /// Counters of what happened to messages so far.
    pub fn stats(&self) -> NetStats {
        self.lock().stats.clone()
    }

    /// Starts recording what happens to every message from now on (at most
    /// [`MAX_TRACE_EVENTS`] events): two runs of one seed that should replay alike can be
    /// compared event by event to find where they part ways.
    pub fn enable_trace(&self) {
        let mut s = self.lock();
        if s.trace.is_none() {
            s.trace = Some(trace::Trace::default());
        }
    }

    /// The events recorded since [`enable_trace`](Self::enable_trace) (empty if it was not
    /// called), and how many more were not kept for lack of room.
    pub fn trace(&self) -> (Vec<TraceEvent>, u64) {
        self.lock()
            .trace
            .as_ref()
            .map_or((Vec::new(), 0), |t| (t.events.clone(), t.missed))
    }
}
