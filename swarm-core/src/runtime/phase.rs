//! Where a controller is in its lifecycle, and which `prepare` and `start` calls that allows: the
//! order rules of the [`Controller`](crate::runtime::Controller) contract in one place, for
//! adapter writers.

use crate::model::TaskId;
use crate::runtime::error::{LifecycleStep, RuntimeError};

/// Where a controller is in its lifecycle. It only moves forward, except that a failed
/// `prepare` goes back to [`Created`](LifecyclePhase::Created) and a failed `start` back to
/// [`Prepared`](LifecyclePhase::Prepared).
///
/// An adapter keeps one behind its state lock and asks it, at the top of
/// [`Controller::prepare`](crate::runtime::Controller::prepare) and
/// [`Controller::start`](crate::runtime::Controller::start), whether the call may run:
///
/// ```
/// use swarm_core::model::TaskId;
/// use swarm_core::runtime::{LifecyclePhase, PhaseCheck, RuntimeError};
///
/// let task = TaskId::new("t1");
/// let mut phase = LifecyclePhase::default();
/// assert_eq!(
///     phase.check_start(&task).unwrap_err().to_string(),
///     "cannot start task t1: not prepared"
/// );
/// assert_eq!(phase.check_prepare(&task)?, PhaseCheck::Proceed);
/// phase = LifecyclePhase::Prepared;
/// assert_eq!(phase.check_prepare(&task)?, PhaseCheck::AlreadyDone);
/// assert_eq!(phase.check_start(&task)?, PhaseCheck::Proceed);
/// phase = LifecyclePhase::Removed;
/// assert!(phase.check_start(&task).is_err());
/// # Ok::<(), RuntimeError>(())
/// ```
///
/// The transient phases ([`Preparing`](LifecyclePhase::Preparing),
/// [`Starting`](LifecyclePhase::Starting)) are for adapters that release their lock while a step
/// runs; an adapter that holds its lock across the whole step never enters them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LifecyclePhase {
    /// Nothing prepared yet (or a `prepare` failed).
    #[default]
    Created,
    /// A `prepare` is running.
    Preparing,
    /// Prepared: the task can start.
    Prepared,
    /// A `start` is running.
    Starting,
    /// Started: the task runs or has run.
    Started,
    /// Removed: every call but `remove` (a no-op) is refused.
    Removed,
}

/// What a `prepare` or `start` call does in the phase it finds its controller in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum PhaseCheck {
    /// The step runs.
    Proceed,
    /// The step already ran: the call returns `Ok(())` without doing it again.
    AlreadyDone,
}

impl LifecyclePhase {
    /// Whether `prepare` may run: it proceeds from `Created`, is a no-op once `Prepared`, and is
    /// refused with [`RuntimeError::InvalidState`] in every other phase.
    pub fn check_prepare(self, task: &TaskId) -> Result<PhaseCheck, RuntimeError> {
        let reason = match self {
            LifecyclePhase::Created => return Ok(PhaseCheck::Proceed),
            LifecyclePhase::Prepared => return Ok(PhaseCheck::AlreadyDone),
            LifecyclePhase::Preparing => "prepare already in progress",
            LifecyclePhase::Starting | LifecyclePhase::Started => "already started",
            LifecyclePhase::Removed => "removed",
        };
        Err(RuntimeError::invalid_state(
            task,
            LifecycleStep::Prepare,
            reason,
        ))
    }

    /// Whether `start` may run: it proceeds from `Prepared`, is a no-op once `Started`, and is
    /// refused with [`RuntimeError::InvalidState`] in every other phase.
    pub fn check_start(self, task: &TaskId) -> Result<PhaseCheck, RuntimeError> {
        let reason = match self {
            LifecyclePhase::Prepared => return Ok(PhaseCheck::Proceed),
            LifecyclePhase::Started => return Ok(PhaseCheck::AlreadyDone),
            LifecyclePhase::Created | LifecyclePhase::Preparing => "not prepared",
            LifecyclePhase::Starting => "start already in progress",
            LifecyclePhase::Removed => "removed",
        };
        Err(RuntimeError::invalid_state(
            task,
            LifecycleStep::Start,
            reason,
        ))
    }

    /// [`check_prepare`](LifecyclePhase::check_prepare), moving to
    /// [`Preparing`](LifecyclePhase::Preparing) when the step proceeds: for an adapter that
    /// releases its lock while it prepares.
    pub fn begin_prepare(&mut self, task: &TaskId) -> Result<PhaseCheck, RuntimeError> {
        let check = self.check_prepare(task)?;
        if check == PhaseCheck::Proceed {
            *self = LifecyclePhase::Preparing;
        }
        Ok(check)
    }

    /// [`check_start`](LifecyclePhase::check_start), moving to
    /// [`Starting`](LifecyclePhase::Starting) when the step proceeds: for an adapter that
    /// releases its lock while it starts.
    pub fn begin_start(&mut self, task: &TaskId) -> Result<PhaseCheck, RuntimeError> {
        let check = self.check_start(task)?;
        if check == PhaseCheck::Proceed {
            *self = LifecyclePhase::Starting;
        }
        Ok(check)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [LifecyclePhase; 6] = [
        LifecyclePhase::Created,
        LifecyclePhase::Preparing,
        LifecyclePhase::Prepared,
        LifecyclePhase::Starting,
        LifecyclePhase::Started,
        LifecyclePhase::Removed,
    ];

    fn reason(r: Result<PhaseCheck, RuntimeError>) -> Result<PhaseCheck, String> {
        r.map_err(|e| match e {
            RuntimeError::InvalidState { reason, .. } => reason,
            other => panic!("not an invalid-state error: {other}"),
        })
    }

    #[test]
    fn every_phase_answers_prepare_and_start() {
        let t = TaskId::new("t");
        let prepare: Vec<_> = ALL.iter().map(|p| reason(p.check_prepare(&t))).collect();
        assert_eq!(
            prepare,
            [
                Ok(PhaseCheck::Proceed),
                Err("prepare already in progress".to_owned()),
                Ok(PhaseCheck::AlreadyDone),
                Err("already started".to_owned()),
                Err("already started".to_owned()),
                Err("removed".to_owned()),
            ]
        );
        let start: Vec<_> = ALL.iter().map(|p| reason(p.check_start(&t))).collect();
        assert_eq!(
            start,
            [
                Err("not prepared".to_owned()),
                Err("not prepared".to_owned()),
                Ok(PhaseCheck::Proceed),
                Err("start already in progress".to_owned()),
                Ok(PhaseCheck::AlreadyDone),
                Err("removed".to_owned()),
            ]
        );
        let refused = LifecyclePhase::Removed.check_start(&t).unwrap_err();
        assert!(refused.is_permanent());
    }

    #[test]
    fn begin_moves_to_the_transient_phase_only_when_the_step_runs() {
        let t = TaskId::new("t");
        let mut phase = LifecyclePhase::Created;
        assert_eq!(phase.begin_prepare(&t).unwrap(), PhaseCheck::Proceed);
        assert_eq!(phase, LifecyclePhase::Preparing);
        assert!(phase.begin_prepare(&t).is_err());
        assert_eq!(phase, LifecyclePhase::Preparing);
        phase = LifecyclePhase::Prepared;
        assert_eq!(phase.begin_prepare(&t).unwrap(), PhaseCheck::AlreadyDone);
        assert_eq!(phase, LifecyclePhase::Prepared);
        assert_eq!(phase.begin_start(&t).unwrap(), PhaseCheck::Proceed);
        assert_eq!(phase, LifecyclePhase::Starting);
        phase = LifecyclePhase::Started;
        assert_eq!(phase.begin_start(&t).unwrap(), PhaseCheck::AlreadyDone);
        assert_eq!(phase, LifecyclePhase::Started);
    }
}
