//! What the control API acknowledged during a run, and what it may have done without saying
//! (a call that timed out may or may not have taken effect): the end state must agree.

use std::collections::{BTreeMap, BTreeSet};

/// Whether a write took effect, as far as its caller knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Acknowledged: it took effect.
    Done,
    /// Unanswered or failed in transit: it may have taken effect.
    Maybe,
}

/// One service as the workload wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerService {
    /// Its creation.
    pub created: Outcome,
    /// Its removal, if asked for.
    pub removed: Option<Outcome>,
    /// The replica counts it may have now (one once a scale is acknowledged); empty for a
    /// global service.
    pub replicas: BTreeSet<u64>,
    /// Every replica count the workload ever asked of it (a rollback may restore any).
    pub ever: BTreeSet<u64>,
    /// Whether it is global.
    pub global: bool,
    /// Its image (which says whether its tasks can run at all).
    pub image: String,
    /// Whether an update or rollback of its spec may be under way or was asked for.
    pub updated: bool,
}

/// One secret as the workload wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerSecret {
    /// Its creation.
    pub created: Outcome,
    /// Its removal, if asked for.
    pub removed: Option<Outcome>,
}

/// The workload's writes by object name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    /// Services by name.
    pub services: BTreeMap<String, LedgerService>,
    /// Secrets by name.
    pub secrets: BTreeMap<String, LedgerSecret>,
    /// Writes acknowledged so far.
    pub acknowledged: u64,
}

impl Ledger {
    /// Counts an acknowledged write.
    pub(crate) fn ack(&mut self, ok: bool) -> Outcome {
        if ok {
            self.acknowledged += 1;
            Outcome::Done
        } else {
            Outcome::Maybe
        }
    }

    /// Services that surely exist (created, acknowledged, no removal asked for).
    pub fn live_services(&self) -> impl Iterator<Item = (&String, &LedgerService)> {
        self.services
            .iter()
            .filter(|(_, s)| s.created == Outcome::Done && s.removed.is_none())
    }
}
