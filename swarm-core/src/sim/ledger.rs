//! What the control API acknowledged during a run, and what it may have done without saying
//! (a call that timed out may or may not have taken effect): the end state must agree.

use crate::model::{NodeAvailability, NodeRole};
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
    /// Whether it is global (a global service or a global job).
    pub global: bool,
    /// Whether it is a job (replicated or global).
    pub job: bool,
    /// Its image (which says whether its tasks can run at all).
    pub image: String,
    /// Whether an update or rollback of its spec may be under way or was asked for.
    pub updated: bool,
    /// Whether an update with failure action rollback was asked for: a failure may then
    /// bring the previous spec back at any later time, with any replica count asked before.
    pub rolls_back_on_failure: bool,
}

/// One secret or config as the workload wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerSecret {
    /// Its creation.
    pub created: Outcome,
    /// Its removal, if asked for.
    pub removed: Option<Outcome>,
}

/// One node's settings as the workload wrote them: every value each may hold now (one
/// once a change is acknowledged, more while changes went unanswered).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerNode {
    /// The availabilities it may have.
    pub availability: Vec<NodeAvailability>,
    /// The roles its spec may ask for.
    pub role: Vec<NodeRole>,
    /// Its removal, if asked for.
    pub removed: Option<Outcome>,
}

impl LedgerNode {
    /// A node as it joined.
    pub(crate) fn new(role: NodeRole) -> LedgerNode {
        LedgerNode {
            availability: vec![NodeAvailability::Active],
            role: vec![role],
            removed: None,
        }
    }

    /// Records a change of availability, acknowledged or not.
    pub(crate) fn set_availability(&mut self, value: NodeAvailability, acknowledged: bool) {
        if acknowledged {
            self.availability.clear();
        }
        if !self.availability.contains(&value) {
            self.availability.push(value);
        }
    }

    /// Records a change of role, acknowledged or not.
    pub(crate) fn set_role(&mut self, value: NodeRole, acknowledged: bool) {
        if acknowledged {
            self.role.clear();
        }
        if !self.role.contains(&value) {
            self.role.push(value);
        }
    }
}

/// The workload's writes by object name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    /// Services by name.
    pub services: BTreeMap<String, LedgerService>,
    /// Secrets by name.
    pub secrets: BTreeMap<String, LedgerSecret>,
    /// Configs by name.
    pub configs: BTreeMap<String, LedgerSecret>,
    /// Nodes by name (the simulation's hostnames).
    pub nodes: BTreeMap<String, LedgerNode>,
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
