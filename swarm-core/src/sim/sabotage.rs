//! Deliberate bugs, switched on for one simulated run only, to prove that the invariants catch
//! what they guard against: each switch breaks one production rule and names the invariant
//! that must then fail. Never on by default; without the `testkit` feature the sabotage points
//! of the production code are compiled out.

use std::cell::Cell;

/// A deliberate bug a simulated run can switch on
/// ([`SimConfig::with_sabotage`](crate::sim::SimConfig::with_sabotage)).
///
/// ```
/// use swarm_core::sim::Sabotage;
/// assert_eq!(Sabotage::DoubleStartSlot.caught_by(), "slot_runs_once");
/// assert_eq!(Sabotage::parse("skip-secret-filter"), Some(Sabotage::SkipSecretFilter));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Sabotage {
    /// The dispatcher gives a node every secret of the cluster (sealed for it and bound to its
    /// tasks), not only those its tasks reference.
    SkipSecretFilter,
    /// The managers' store answers the first service creation of the run as committed and
    /// does not commit it.
    DropAcknowledgedWrite,
    /// The replicated orchestrator creates two tasks for each slot it fills and no longer
    /// resolves a slot holding two live tasks of the current spec.
    DoubleStartSlot,
}

impl Sabotage {
    /// Every switch.
    pub const ALL: [Sabotage; 3] = [
        Sabotage::SkipSecretFilter,
        Sabotage::DropAcknowledgedWrite,
        Sabotage::DoubleStartSlot,
    ];

    /// The name of the invariant that must fail when the switch is on.
    pub fn caught_by(self) -> &'static str {
        match self {
            Sabotage::SkipSecretFilter => "secret_only_where_referenced",
            Sabotage::DropAcknowledgedWrite => "acknowledged_writes_kept",
            Sabotage::DoubleStartSlot => "slot_runs_once",
        }
    }

    /// Its command-line name (`skip-secret-filter`, `drop-acknowledged-write`,
    /// `double-start-slot`).
    pub fn name(self) -> &'static str {
        match self {
            Sabotage::SkipSecretFilter => "skip-secret-filter",
            Sabotage::DropAcknowledgedWrite => "drop-acknowledged-write",
            Sabotage::DoubleStartSlot => "double-start-slot",
        }
    }

    /// The switch with command-line name `name`.
    pub fn parse(name: &str) -> Option<Sabotage> {
        Sabotage::ALL.into_iter().find(|s| s.name() == name)
    }
}

thread_local! {
    /// The switch on for the run on this thread (a run is one current-thread runtime).
    static ACTIVE: Cell<Option<Sabotage>> = const { Cell::new(None) };
    /// Whether [`Sabotage::DropAcknowledgedWrite`] already dropped its write.
    static DROPPED: Cell<bool> = const { Cell::new(false) };
}

/// Switches `sabotage` on for this thread until the guard is dropped.
pub(crate) fn install(sabotage: Option<Sabotage>) -> SabotageGuard {
    let previous = ACTIVE.with(|a| a.replace(sabotage));
    DROPPED.with(|d| d.set(false));
    SabotageGuard { previous }
}

/// Whether `sabotage` is on for this thread.
pub(crate) fn is_on(sabotage: Sabotage) -> bool {
    ACTIVE.with(Cell::get) == Some(sabotage)
}

/// Whether the one write [`Sabotage::DropAcknowledgedWrite`] drops is still to drop; the
/// first `true` answer uses it up.
pub(crate) fn take_drop() -> bool {
    is_on(Sabotage::DropAcknowledgedWrite) && !DROPPED.with(|d| d.replace(true))
}

/// Switches the sabotage of a run off when dropped (restoring the one it replaced).
#[derive(Debug)]
pub(crate) struct SabotageGuard {
    previous: Option<Sabotage>,
}

impl Drop for SabotageGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        ACTIVE.with(|a| a.set(previous));
        DROPPED.with(|d| d.set(false));
    }
}
