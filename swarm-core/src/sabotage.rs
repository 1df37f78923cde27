//! The sabotage points of the production code: each reads one function here, which asks the
//! simulation whether its deliberate bug is on for this thread
//! (`sim::Sabotage`); without the `testkit` feature each is a constant
//! `false` and the sabotaged branch is compiled out.

/// The dispatcher gives a node every secret, not only the ones its tasks reference.
#[cfg(feature = "testkit")]
pub(crate) fn skip_secret_filter() -> bool {
    crate::sim::sabotage::is_on(crate::sim::Sabotage::SkipSecretFilter)
}

/// The managers' store drops `writes`, a transaction creating a service, while answering it
/// committed (once per run).
#[cfg(feature = "testkit")]
pub(crate) fn drop_acknowledged_write(writes: &[crate::manager::writes::ManagerWrite]) -> bool {
    use crate::manager::writes::{ManagerWrite, ObjectWrite};
    let creates_service = writes
        .iter()
        .any(|w| matches!(w, ManagerWrite::Service(ObjectWrite::Create(_))));
    creates_service && crate::sim::sabotage::take_drop()
}

/// The replicated orchestrator double-starts the slots it fills.
#[cfg(feature = "testkit")]
pub(crate) fn double_start_slot() -> bool {
    crate::sim::sabotage::is_on(crate::sim::Sabotage::DoubleStartSlot)
}

/// The dispatcher gives a node every secret (never without `testkit`).
#[cfg(not(feature = "testkit"))]
#[inline(always)]
pub(crate) const fn skip_secret_filter() -> bool {
    false
}

/// The managers' store drops a service creation (never without `testkit`).
#[cfg(not(feature = "testkit"))]
#[inline(always)]
pub(crate) const fn drop_acknowledged_write(
    _writes: &[crate::manager::writes::ManagerWrite],
) -> bool {
    false
}

/// The replicated orchestrator double-starts slots (never without `testkit`).
#[cfg(not(feature = "testkit"))]
#[inline(always)]
pub(crate) const fn double_start_slot() -> bool {
    false
}
