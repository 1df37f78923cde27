//! The agent's session with the managers: which manager, when to register and heartbeat, and
//! what to do when a call fails.

use crate::agent::backoff::Backoff;
use crate::agent::error::AgentSessionError;
use crate::agent::manager_failure::ManagerFailure;
use crate::agent::managers::Managers;
use crate::agent::session_config::AgentSessionConfig;
use crate::manager::dispatcher::{
    DispatcherError, HeartbeatReply, MAX_MANAGERS, SessionId, duration_ms, mix64,
};

/// What the agent's loop should do now, from [`AgentSession::poll`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentAction {
    /// Register with `manager` (sending the node's description), then report the answer with
    /// [`AgentSession::on_registered`] or the failure with [`AgentSession::on_failure`].
    Register {
        /// The manager's address.
        manager: String,
    },
    /// Send a heartbeat on `session_id` to `manager`, then report the answer with
    /// [`AgentSession::on_heartbeat`] or the failure with [`AgentSession::on_failure`].
    Heartbeat {
        /// The manager's address.
        manager: String,
        /// The session to keep alive.
        session_id: SessionId,
    },
    /// Nothing to send before `until_ms` (`u64::MAX` after a fatal error: stop).
    Wait {
        /// When to poll again.
        until_ms: u64,
    },
    /// A call is in flight: report its outcome; without one by `timeout_at_ms`, report
    /// [`ManagerFailure::TimedOut`].
    AwaitReply {
        /// When the call counts as failed.
        timeout_at_ms: u64,
    },
}

/// Which call is in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Call {
    Register,
    Heartbeat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// The next call goes out at `until_ms`.
    Waiting { until_ms: u64 },
    /// A call is in flight.
    InFlight { call: Call, timeout_at_ms: u64 },
}

/// The agent's side of its session with the managers (SwarmKit's `agent/session.go` and the
/// agent's retry loop), as a sans-IO state machine: the loop asks [`AgentSession::poll`] what to
/// do, makes the call, and reports the outcome. Time enters as `now_ms`, randomness as `random`
/// (a uniform `u64` from the caller's seeded generator).
///
/// * The managers come from configuration at start, then from every answer (with the weights
///   the dispatcher gives). The first manager is a weighted random choice.
/// * After an answer, the next heartbeat goes out after the announced period.
/// * After a failure (unreachable, timed out, not the leader) the manager's weight is halved and
///   the next call goes to another manager, chosen at random by weight and never the one that
///   just failed if another exists, after a [`Backoff`] wait. A session that still has an id
///   resumes with a heartbeat there (the leader may be the same); an
///   [`UnknownSession`](DispatcherError::UnknownSession) refusal makes it register at once on
///   the same manager, without counting a failure. A rate-limit refusal waits as told.
/// * After [`AgentSessionConfig::max_attempts`] failed calls in a row,
///   [`AgentSession::on_failure`] returns [`AgentSessionError::NoManagerReachable`] naming the
///   managers tried, then starts a fresh count (the loop reports it and decides whether to go
///   on). A fatal refusal (the node was removed) returns [`AgentSessionError::Refused`] and the
///   session stops.
///
/// ```
/// use swarm_core::agent::{AgentAction, AgentSession, AgentSessionConfig, ManagerFailure};
/// use swarm_core::manager::dispatcher::{HeartbeatReply, SessionId};
///
/// let managers = vec!["10.0.0.1:2377".to_owned(), "10.0.0.2:2377".to_owned()];
/// let mut s = AgentSession::new(&AgentSessionConfig::default(), &managers, 0, 7)?;
/// let AgentAction::Register { manager } = s.poll(0) else { unreachable!() };
/// let reply = HeartbeatReply { period_ms: 500, managers: Vec::new().into() };
/// assert!(s.on_registered(20, SessionId(1), &reply));
/// assert_eq!(s.poll(20), AgentAction::Wait { until_ms: 520 });
///
/// // The heartbeat fails: the next call goes to the other manager, after a short backoff.
/// assert!(matches!(s.poll(520), AgentAction::Heartbeat { .. }));
/// let failure = ManagerFailure::Unreachable { reason: "connection refused".into() };
/// s.on_failure(530, failure, 99)?;
/// assert_ne!(s.current_manager(), manager);
/// # Ok::<(), swarm_core::agent::AgentSessionError>(())
/// ```
#[derive(Clone, Debug)]
pub struct AgentSession {
    request_timeout_ms: u64,
    max_attempts: u32,
    managers: Managers,
    current: String,
    session: Option<SessionId>,
    period_ms: Option<u64>,
    phase: Phase,
    backoff: Backoff,
    failures: u32,
    tried: Vec<String>,
}

impl AgentSession {
    /// A session that will register first, at `now_ms`, with a manager of `managers` chosen by
    /// `random`. Refused with no address or more than [`MAX_MANAGERS`] distinct ones
    /// (duplicates are dropped).
    pub fn new(
        config: &AgentSessionConfig,
        managers: &[String],
        now_ms: u64,
        random: u64,
    ) -> Result<Self, AgentSessionError> {
        let managers = match Managers::from_addrs(managers) {
            Ok(Some(m)) => m,
            Ok(None) => return Err(AgentSessionError::NoManagers),
            Err(count) => {
                return Err(AgentSessionError::TooManyManagers {
                    count,
                    max: MAX_MANAGERS,
                });
            }
        };
        let current = managers.choose(None, random).to_owned();
        Ok(AgentSession {
            request_timeout_ms: duration_ms(config.request_timeout),
            max_attempts: config.max_attempts.max(1),
            managers,
            current,
            session: None,
            period_ms: None,
            phase: Phase::Waiting { until_ms: now_ms },
            backoff: Backoff::new(
                duration_ms(config.backoff_initial),
                duration_ms(config.backoff_max),
            ),
            failures: 0,
            tried: Vec::new(),
        })
    }

    /// What to do at `now_ms`. Returns a call once: until its outcome is reported, polling
    /// answers [`AgentAction::AwaitReply`].
    pub fn poll(&mut self, now_ms: u64) -> AgentAction {
        match self.phase {
            Phase::InFlight { timeout_at_ms, .. } => AgentAction::AwaitReply { timeout_at_ms },
            Phase::Waiting { until_ms } if now_ms < until_ms => AgentAction::Wait { until_ms },
            Phase::Waiting { .. } => {
                let timeout_at_ms = now_ms.saturating_add(self.request_timeout_ms);
                let manager = self.current.clone();
                match self.session {
                    Some(session_id) => {
                        self.phase = Phase::InFlight {
                            call: Call::Heartbeat,
                            timeout_at_ms,
                        };
                        AgentAction::Heartbeat {
                            manager,
                            session_id,
                        }
                    }
                    None => {
                        self.phase = Phase::InFlight {
                            call: Call::Register,
                            timeout_at_ms,
                        };
                        AgentAction::Register { manager }
                    }
                }
            }
        }
    }

    /// The registration in flight succeeded at `now_ms`. Returns `false`, changing nothing, if
    /// no registration was in flight (a stale answer).
    pub fn on_registered(
        &mut self,
        now_ms: u64,
        session_id: SessionId,
        reply: &HeartbeatReply,
    ) -> bool {
        if !self.in_flight(Call::Register) {
            return false;
        }
        self.session = Some(session_id);
        self.answered(now_ms, reply);
        true
    }

    /// The heartbeat in flight succeeded at `now_ms`. Returns `false`, changing nothing, if no
    /// heartbeat was in flight (a stale answer).
    pub fn on_heartbeat(&mut self, now_ms: u64, reply: &HeartbeatReply) -> bool {
        if !self.in_flight(Call::Heartbeat) {
            return false;
        }
        self.answered(now_ms, reply);
        true
    }

    /// The call in flight failed at `now_ms`; `random` chooses the next manager and the
    /// backoff. Ignored (`Ok`) when no call was in flight.
    ///
    /// Returns [`AgentSessionError::Refused`] for a fatal refusal (the session stops), and
    /// [`AgentSessionError::NoManagerReachable`] when this was the
    /// [`max_attempts`](AgentSessionConfig::max_attempts)-th failure in a row (the next call is
    /// scheduled all the same, with a fresh count).
    pub fn on_failure(
        &mut self,
        now_ms: u64,
        failure: ManagerFailure,
        random: u64,
    ) -> Result<(), AgentSessionError> {
        if !matches!(self.phase, Phase::InFlight { .. }) {
            return Ok(());
        }
        match failure {
            ManagerFailure::Refused(DispatcherError::UnknownSession { .. }) => {
                self.session = None;
                self.phase = Phase::Waiting { until_ms: now_ms };
                Ok(())
            }
            ManagerFailure::Refused(error) if error.is_fatal() => {
                self.phase = Phase::Waiting { until_ms: u64::MAX };
                Err(AgentSessionError::Refused {
                    manager: self.current.clone(),
                    error,
                })
            }
            ManagerFailure::Refused(DispatcherError::RegistrationRateLimited {
                retry_after_ms,
                ..
            }) => {
                self.phase = Phase::Waiting {
                    until_ms: now_ms.saturating_add(retry_after_ms),
                };
                self.record_tried(self.current.clone());
                self.count_failure()
            }
            ManagerFailure::Unreachable { .. }
            | ManagerFailure::TimedOut
            | ManagerFailure::Refused(_) => {
                let failed = std::mem::take(&mut self.current);
                self.managers.penalise(&failed);
                self.current = self.managers.choose(Some(&failed), random).to_owned();
                let delay_ms = self.backoff.next_delay_ms(mix64(random));
                self.phase = Phase::Waiting {
                    until_ms: now_ms.saturating_add(delay_ms),
                };
                self.record_tried(failed);
                self.count_failure()
            }
        }
    }

    /// When the next call goes out; `None` while one is in flight.
    pub fn next_call_at_ms(&self) -> Option<u64> {
        match self.phase {
            Phase::Waiting { until_ms } => Some(until_ms),
            Phase::InFlight { .. } => None,
        }
    }

    /// The manager in use, or the next one to call.
    pub fn current_manager(&self) -> &str {
        &self.current
    }

    /// The session id, once registered (until a manager says it is not current).
    pub fn session_id(&self) -> Option<SessionId> {
        self.session
    }

    /// The period announced by the last answer.
    pub fn period_ms(&self) -> Option<u64> {
        self.period_ms
    }

    /// Failed calls since the last answer (or the last report).
    pub fn failures_in_a_row(&self) -> u32 {
        self.failures
    }

    /// The current backoff bound (exclusive), `0` after an answer.
    pub fn backoff_bound_ms(&self) -> u64 {
        self.backoff.bound_ms()
    }

    /// The known managers' addresses, in order.
    pub fn manager_addrs(&self) -> impl Iterator<Item = &str> {
        self.managers.addrs()
    }

    /// The weight of the manager at `addr`, if known.
    pub fn manager_weight(&self, addr: &str) -> Option<u32> {
        self.managers.weight(addr)
    }

    fn in_flight(&self, call: Call) -> bool {
        matches!(self.phase, Phase::InFlight { call: c, .. } if c == call)
    }

    /// An answer arrived: take its managers and period, forget the failures.
    fn answered(&mut self, now_ms: u64, reply: &HeartbeatReply) {
        self.managers.replace(&reply.managers);
        let period_ms = reply.period_ms.max(1);
        self.period_ms = Some(period_ms);
        self.phase = Phase::Waiting {
            until_ms: now_ms.saturating_add(period_ms),
        };
        self.failures = 0;
        self.tried.clear();
        self.backoff.reset();
    }

    fn record_tried(&mut self, addr: String) {
        if !self.tried.contains(&addr) {
            self.tried.push(addr);
        }
    }

    /// Counts a failed call; at the limit, reports and starts a fresh count.
    fn count_failure(&mut self) -> Result<(), AgentSessionError> {
        self.failures = self.failures.saturating_add(1);
        if self.failures < self.max_attempts {
            return Ok(());
        }
        let error = AgentSessionError::NoManagerReachable {
            attempts: self.failures,
            tried: std::mem::take(&mut self.tried),
        };
        self.failures = 0;
        Err(error)
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
