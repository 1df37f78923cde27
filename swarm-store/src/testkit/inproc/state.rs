//! The shared state of an in-process network.

use super::faults::{InProcConfig, LinkFaults, MAX_PENDING_DELIVERIES_PER_MEMBER};
use super::trace::{Trace, TraceEvent, TraceKind};
use crate::rng::SplitMix64;
use crate::transport::MemberId;
use crate::transport::handler::SharedHandler;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;
use tokio::task::AbortHandle;

/// Counters of what the network did with messages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetStats {
    /// Requests handed to a destination's handler (duplicates included).
    pub delivered: u64,
    /// Requests or responses lost to a partition or a random drop.
    pub dropped: u64,
    /// Requests delivered a second time.
    pub duplicated: u64,
    /// Calls that failed because the destination was not running.
    pub unreachable: u64,
}

/// One member's slot.
#[derive(Default)]
pub(crate) struct MemberSlot {
    /// Bumped on every crash; endpoints and deliveries of older incarnations are void.
    pub(crate) incarnation: u64,
    pub(crate) handler: Option<SharedHandler>,
    /// Deliveries to this member in progress (aborted on crash); finished ones are pruned
    /// once the list reaches `prune_at`.
    pub(crate) deliveries: Vec<AbortHandle>,
    /// The length at which the finished deliveries are pruned next: twice what the last
    /// pruning left (at least [`DELIVERY_PRUNE_MIN`], at most the limit), so each delivery
    /// costs O(1) pruning on average. A member holding a thousand long polls pruned all of
    /// them at every delivery, and that scan was a fifth of a 1,000-node simulation's CPU.
    prune_at: usize,
}

/// The shortest delivery list of a member that is pruned (see `MemberSlot::prune_at`).
const DELIVERY_PRUNE_MIN: usize = 64;

/// What happens to one message.
pub(crate) struct MessageFate {
    pub(crate) lost: bool,
    pub(crate) delay: Duration,
}

pub(crate) struct NetState {
    pub(crate) seed: u64,
    pub(crate) config: InProcConfig,
    pub(crate) members: BTreeMap<MemberId, MemberSlot>,
    pub(crate) default_faults: LinkFaults,
    pub(crate) link_faults: HashMap<(MemberId, MemberId), LinkFaults>,
    pub(crate) blocked: BTreeSet<(MemberId, MemberId)>,
    pub(crate) isolated: BTreeSet<MemberId>,
    link_rngs: HashMap<(MemberId, MemberId), SplitMix64>,
    pub(crate) stats: NetStats,
    /// What happened to every message, when enabled.
    pub(crate) trace: Option<Trace>,
}

impl NetState {
    pub(crate) fn new(seed: u64, config: InProcConfig) -> Self {
        NetState {
            seed,
            config,
            members: BTreeMap::new(),
            default_faults: LinkFaults::none(),
            link_faults: HashMap::new(),
            blocked: BTreeSet::new(),
            isolated: BTreeSet::new(),
            link_rngs: HashMap::new(),
            stats: NetStats::default(),
            trace: None,
        }
    }

    pub(crate) fn register(&mut self, member: MemberId, handler: SharedHandler) {
        self.members.entry(member).or_default().handler = Some(handler);
    }

    /// Records `kind` for a message `from` → `to` of `bytes` when tracing is on.
    pub(crate) fn record(&mut self, from: MemberId, to: MemberId, bytes: &[u8], kind: TraceKind) {
        if let Some(trace) = &mut self.trace {
            trace.push(TraceEvent::new(from, to, bytes, kind));
        }
    }

    pub(crate) fn crash(&mut self, member: MemberId) {
        let slot = self.members.entry(member).or_default();
        slot.incarnation += 1;
        slot.handler = None;
        for d in slot.deliveries.drain(..) {
            d.abort();
        }
    }

    pub(crate) fn is_running(&self, member: MemberId) -> bool {
        self.members
            .get(&member)
            .is_some_and(|slot| slot.handler.is_some())
    }

    pub(crate) fn incarnation(&self, member: MemberId) -> u64 {
        self.members.get(&member).map_or(0, |slot| slot.incarnation)
    }

    /// The handler of `member` if it runs in incarnation `incarnation`.
    pub(crate) fn handler(&self, member: MemberId, incarnation: u64) -> Option<SharedHandler> {
        self.members
            .get(&member)
            .filter(|slot| slot.incarnation == incarnation)
            .and_then(|slot| slot.handler.clone())
    }

    pub(crate) fn is_blocked(&self, from: MemberId, to: MemberId) -> bool {
        self.blocked.contains(&(from, to))
            || self.isolated.contains(&from)
            || self.isolated.contains(&to)
    }

    fn faults(&self, from: MemberId, to: MemberId) -> LinkFaults {
        self.link_faults
            .get(&(from, to))
            .unwrap_or(&self.default_faults)
            .clone()
    }

    fn rng(&mut self, from: MemberId, to: MemberId) -> &mut SplitMix64 {
        let seed = self.seed;
        self.link_rngs.entry((from, to)).or_insert_with(|| {
            SplitMix64::derive(
                seed,
                from.0.wrapping_mul(0x1_0000_0001) ^ to.0.rotate_left(32),
            )
        })
    }

    /// Draws the fate of a message travelling `from` → `to` now.
    pub(crate) fn fate(&mut self, from: MemberId, to: MemberId) -> MessageFate {
        let faults = self.faults(from, to);
        let blocked = self.is_blocked(from, to);
        let rng = self.rng(from, to);
        let dropped = rng.chance(faults.drop_probability);
        let delay = draw_delay(rng, &faults);
        let lost = blocked || dropped;
        if lost {
            self.stats.dropped += 1;
        }
        MessageFate { lost, delay }
    }

    /// Draws whether a request `from` → `to` is delivered a second time, and after what delay.
    pub(crate) fn duplicate(&mut self, from: MemberId, to: MemberId) -> Option<Duration> {
        let faults = self.faults(from, to);
        let rng = self.rng(from, to);
        if rng.chance(faults.duplicate_probability) {
            let delay = draw_delay(rng, &faults);
            self.stats.duplicated += 1;
            Some(delay)
        } else {
            None
        }
    }

    /// Whether `member` can take one more delivery; prunes finished ones. Counts a refusal as a
    /// dropped message.
    pub(crate) fn has_delivery_room(&mut self, member: MemberId) -> bool {
        let slot = self.members.entry(member).or_default();
        // Pruned before any refusal, so a refusal still means that many unfinished.
        if slot.deliveries.len() >= slot.prune_at.min(MAX_PENDING_DELIVERIES_PER_MEMBER) {
            slot.deliveries.retain(|d| !d.is_finished());
            slot.prune_at = (2 * slot.deliveries.len()).max(DELIVERY_PRUNE_MIN);
        }
        if slot.deliveries.len() >= MAX_PENDING_DELIVERIES_PER_MEMBER {
            self.stats.dropped += 1;
            return false;
        }
        true
    }

    /// Records a delivery task for `member`, aborted if the member crashes.
    pub(crate) fn track_delivery(&mut self, member: MemberId, task: AbortHandle) {
        self.members
            .entry(member)
            .or_default()
            .deliveries
            .push(task);
    }
}

fn draw_delay(rng: &mut SplitMix64, faults: &LinkFaults) -> Duration {
    if faults.delay_max.is_zero() {
        return Duration::ZERO;
    }
    let lo = u64::try_from(faults.delay_min.as_micros()).unwrap_or(u64::MAX);
    let hi = u64::try_from(faults.delay_max.as_micros()).unwrap_or(u64::MAX);
    Duration::from_micros(rng.between(lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn finished_deliveries_are_pruned_and_only_unfinished_ones_refuse() {
        let mut state = NetState::new(1, InProcConfig::default());
        let member = MemberId(7);
        // Finished deliveries beyond the limit never refuse: they are pruned first.
        for _ in 0..MAX_PENDING_DELIVERIES_PER_MEMBER + 10 {
            assert!(state.has_delivery_room(member));
            let done = tokio::spawn(async {});
            let handle = done.abort_handle();
            let _ = done.await;
            state.track_delivery(member, handle);
        }
        let held = state.members[&member].deliveries.len();
        assert!(held < MAX_PENDING_DELIVERIES_PER_MEMBER, "{held} kept");
        // Unfinished ones up to the limit: then a refusal, counted as dropped.
        let mut live = Vec::new();
        while state.has_delivery_room(member) {
            let task = tokio::spawn(std::future::pending::<()>());
            state.track_delivery(member, task.abort_handle());
            live.push(task);
        }
        assert_eq!(live.len(), MAX_PENDING_DELIVERIES_PER_MEMBER);
        assert_eq!(state.stats.dropped, 1);
        // One ends: room again.
        if let Some(task) = live.pop() {
            task.abort();
            let _ = task.await;
        }
        assert!(state.has_delivery_room(member));
    }
}
