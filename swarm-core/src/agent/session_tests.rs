//! The agent's session: the call schedule, failover, backoff bounds, the report after too many
//! failures, and the refusals.

use super::*;
use crate::manager::dispatcher::{DEFAULT_MANAGER_WEIGHT, WeightedManager};
use crate::model::NodeId;
use std::sync::Arc;
use std::time::Duration;

fn addrs(list: &[&str]) -> Vec<String> {
    list.iter().map(|a| a.to_string()).collect()
}

fn reply(period_ms: u64, managers: &[&str]) -> HeartbeatReply {
    let managers: Vec<WeightedManager> = managers
        .iter()
        .map(|a| WeightedManager::new(format!("id-{a}"), *a))
        .collect();
    HeartbeatReply {
        period_ms,
        managers: Arc::from(managers),
    }
}

fn unreachable() -> ManagerFailure {
    ManagerFailure::Unreachable {
        reason: "connection refused".into(),
    }
}

/// A session registered with some manager at `now_ms`, heartbeating every 500 ms.
fn registered(list: &[&str], seed: u64) -> AgentSession {
    let mut s = AgentSession::new(&AgentSessionConfig::default(), &addrs(list), 0, seed).unwrap();
    assert!(matches!(s.poll(0), AgentAction::Register { .. }));
    assert!(s.on_registered(10, SessionId(1), &reply(500, list)));
    s
}

#[test]
fn a_session_needs_one_to_max_managers() {
    let config = AgentSessionConfig::default();
    assert_eq!(
        AgentSession::new(&config, &[], 0, 1).err(),
        Some(AgentSessionError::NoManagers)
    );
    let many: Vec<String> = (0..=MAX_MANAGERS).map(|i| format!("m{i}:2377")).collect();
    assert_eq!(
        AgentSession::new(&config, &many, 0, 1).err(),
        Some(AgentSessionError::TooManyManagers {
            count: MAX_MANAGERS + 1,
            max: MAX_MANAGERS
        })
    );
    let s = AgentSession::new(&config, &addrs(&["a", "a", "b"]), 0, 1).unwrap();
    assert_eq!(s.manager_addrs().collect::<Vec<_>>(), ["a", "b"]);
    assert!(AgentSessionError::NoManagers.is_fatal());
}

#[test]
fn it_registers_then_heartbeats_at_the_announced_period() {
    let mut s = AgentSession::new(&AgentSessionConfig::default(), &addrs(&["a"]), 100, 1).unwrap();
    assert_eq!(s.session_id(), None);
    assert_eq!(s.poll(99), AgentAction::Wait { until_ms: 100 });
    assert_eq!(
        s.poll(100),
        AgentAction::Register {
            manager: "a".into()
        }
    );
    // The call goes out once; the loop waits for its outcome until the timeout.
    assert_eq!(
        s.poll(150),
        AgentAction::AwaitReply {
            timeout_at_ms: 1_100
        }
    );
    assert!(s.on_registered(160, SessionId(9), &reply(480, &["a", "b"])));
    assert_eq!(s.session_id(), Some(SessionId(9)));
    assert_eq!(s.period_ms(), Some(480));
    assert_eq!(s.manager_addrs().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(s.poll(639), AgentAction::Wait { until_ms: 640 });
    assert_eq!(
        s.poll(640),
        AgentAction::Heartbeat {
            manager: "a".into(),
            session_id: SessionId(9)
        }
    );
    assert!(s.on_heartbeat(700, &reply(520, &["a", "b", "c"])));
    assert_eq!(s.poll(700), AgentAction::Wait { until_ms: 1_220 });
    assert_eq!(s.manager_addrs().count(), 3);
}

#[test]
fn stale_answers_are_ignored() {
    let mut s = AgentSession::new(&AgentSessionConfig::default(), &addrs(&["a"]), 0, 1).unwrap();
    // Nothing in flight yet.
    assert!(!s.on_registered(0, SessionId(1), &reply(500, &[])));
    assert!(!s.on_heartbeat(0, &reply(500, &[])));
    assert_eq!(s.on_failure(0, ManagerFailure::TimedOut, 1), Ok(()));
    assert_eq!(s.failures_in_a_row(), 0);
    // A registration in flight does not take a heartbeat answer.
    s.poll(0);
    assert!(!s.on_heartbeat(5, &reply(500, &[])));
    assert_eq!(s.session_id(), None);
}

#[test]
fn a_failed_manager_is_left_for_another_over_many_seeds() {
    for seed in 0..500u64 {
        let mut s = registered(&["a", "b", "c"], seed);
        let first = s.current_manager().to_owned();
        assert!(matches!(s.poll(510), AgentAction::Heartbeat { .. }));
        s.on_failure(520, unreachable(), mix64(seed)).unwrap();
        let next = s.current_manager().to_owned();
        assert_ne!(next, first, "seed {seed}");
        assert_eq!(
            s.manager_weight(&first),
            Some(DEFAULT_MANAGER_WEIGHT / 2),
            "the failed manager is penalised"
        );
        // The session resumes there with a heartbeat after the first backoff (< 100 ms).
        let until_ms = s.next_call_at_ms().unwrap();
        assert!((520..620).contains(&until_ms), "seed {seed}: {until_ms}");
        assert_eq!(
            s.poll(until_ms),
            AgentAction::Heartbeat {
                manager: next,
                session_id: SessionId(1)
            }
        );
    }
}

#[test]
fn every_manager_is_reached_by_failing_over() {
    let mut s = registered(&["a", "b", "c"], 3);
    let mut seen = std::collections::BTreeSet::new();
    for step in 0..40u64 {
        seen.insert(s.current_manager().to_owned());
        let mut now = s.next_call_at_ms().unwrap();
        assert!(matches!(s.poll(now), AgentAction::Heartbeat { .. }));
        // Fail, then succeed, so that the count never reaches the report.
        let failed = s.current_manager().to_owned();
        s.on_failure(now, ManagerFailure::TimedOut, mix64(step))
            .unwrap();
        assert_ne!(s.current_manager(), failed);
        now = s.next_call_at_ms().unwrap();
        assert!(matches!(s.poll(now), AgentAction::Heartbeat { .. }));
        assert!(s.on_heartbeat(now, &reply(500, &["a", "b", "c"])));
    }
    assert_eq!(seen.len(), 3);
}

#[test]
fn a_single_manager_is_retried_after_backoff() {
    let mut s = registered(&["only"], 1);
    s.poll(510);
    s.on_failure(520, unreachable(), 5).unwrap();
    assert_eq!(s.current_manager(), "only");
    assert_eq!(s.backoff_bound_ms(), 100);
}

#[test]
fn backoff_grows_within_bounds_and_an_answer_resets_it() {
    for seed in 0..300u64 {
        let config = AgentSessionConfig {
            max_attempts: 100,
            ..AgentSessionConfig::default()
        };
        let mut s = AgentSession::new(&config, &addrs(&["a", "b"]), 0, seed).unwrap();
        let mut now = 0;
        let mut bound = 0u64;
        for step in 0..12u64 {
            let AgentAction::Register { .. } = s.poll(now) else {
                panic!("expected a registration");
            };
            s.on_failure(now, unreachable(), mix64(seed * 100 + step))
                .unwrap();
            let expected = (100 + 2 * bound).min(2_000);
            assert_eq!(s.backoff_bound_ms(), expected);
            bound = expected;
            let until_ms = s.next_call_at_ms().unwrap();
            assert!(until_ms >= now && until_ms < now + bound, "seed {seed}");
            now = until_ms;
        }
        assert_eq!(s.backoff_bound_ms(), 2_000);
        assert_eq!(s.failures_in_a_row(), 12);
        s.poll(now);
        assert!(s.on_registered(now, SessionId(3), &reply(500, &[])));
        assert_eq!(s.backoff_bound_ms(), 0);
        assert_eq!(s.failures_in_a_row(), 0);
    }
}

#[test]
fn too_many_failures_report_the_managers_tried() {
    let config = AgentSessionConfig {
        max_attempts: 4,
        ..AgentSessionConfig::default()
    };
    let mut s = AgentSession::new(&config, &addrs(&["a", "b", "c"]), 0, 2).unwrap();
    let mut order = Vec::new();
    let mut outcome = Ok(());
    for step in 0..4u64 {
        let now = s.next_call_at_ms().unwrap();
        assert!(matches!(s.poll(now), AgentAction::Register { .. }));
        if !order.contains(&s.current_manager().to_owned()) {
            order.push(s.current_manager().to_owned());
        }
        outcome = s.on_failure(now, ManagerFailure::TimedOut, mix64(step));
        if step < 3 {
            assert_eq!(outcome, Ok(()));
        }
    }
    let Err(AgentSessionError::NoManagerReachable { attempts, tried }) = outcome else {
        panic!("expected a report, got {outcome:?}");
    };
    assert_eq!(attempts, 4);
    assert_eq!(tried, order);
    assert!(tried.len() >= 2);
    let error = AgentSessionError::NoManagerReachable {
        attempts,
        tried: addrs(&["a", "b"]),
    };
    assert_eq!(
        error.to_string(),
        "no manager reachable after 4 attempts; tried a, b"
    );
    assert!(!error.is_fatal());
    // A fresh count starts and the next call is scheduled.
    assert_eq!(s.failures_in_a_row(), 0);
    assert!(s.next_call_at_ms().is_some());
}

#[test]
fn an_unknown_session_registers_at_once_on_the_same_manager() {
    let mut s = registered(&["a", "b"], 4);
    let manager = s.current_manager().to_owned();
    s.poll(510);
    let refusal = DispatcherError::UnknownSession {
        node: NodeId::new("w1"),
        session: SessionId(1),
    };
    assert_eq!(
        s.on_failure(515, ManagerFailure::Refused(refusal), 1),
        Ok(())
    );
    assert_eq!(s.failures_in_a_row(), 0);
    assert_eq!(s.session_id(), None);
    assert_eq!(s.poll(515), AgentAction::Register { manager });
}

#[test]
fn not_the_leader_moves_to_another_manager() {
    let mut s = registered(&["a", "b"], 4);
    let manager = s.current_manager().to_owned();
    s.poll(510);
    let refusal = DispatcherError::NotLeader {
        node: NodeId::new("w1"),
    };
    s.on_failure(515, ManagerFailure::Refused(refusal), 1)
        .unwrap();
    assert_ne!(s.current_manager(), manager);
    assert_eq!(s.failures_in_a_row(), 1);
}

#[test]
fn a_removed_node_stops_the_session() {
    let mut s = registered(&["a", "b"], 4);
    let manager = s.current_manager().to_owned();
    s.poll(510);
    let refusal = DispatcherError::NodeNotFound {
        node: NodeId::new("w1"),
    };
    let error = s
        .on_failure(515, ManagerFailure::Refused(refusal.clone()), 1)
        .unwrap_err();
    assert_eq!(
        error,
        AgentSessionError::Refused {
            manager: manager.clone(),
            error: refusal
        }
    );
    assert!(error.is_fatal());
    assert_eq!(
        error.to_string(),
        format!(
            "manager {manager} refused this node: node w1 is not in the cluster (never joined or removed)"
        )
    );
    assert_eq!(s.poll(1_000_000), AgentAction::Wait { until_ms: u64::MAX });
}

#[test]
fn a_rate_limited_registration_waits_as_told_on_the_same_manager() {
    let mut s =
        AgentSession::new(&AgentSessionConfig::default(), &addrs(&["a", "b"]), 0, 6).unwrap();
    let AgentAction::Register { manager } = s.poll(0) else {
        panic!("expected a registration");
    };
    let refusal = DispatcherError::RegistrationRateLimited {
        node: NodeId::new("w1"),
        retry_after_ms: 3_000,
    };
    s.on_failure(10, ManagerFailure::Refused(refusal), 1)
        .unwrap();
    assert_eq!(s.current_manager(), manager);
    assert_eq!(s.failures_in_a_row(), 1);
    assert_eq!(s.poll(11), AgentAction::Wait { until_ms: 3_010 });
    assert_eq!(s.poll(3_010), AgentAction::Register { manager });
}

#[test]
fn the_timeout_and_backoff_come_from_the_configuration() {
    let config = AgentSessionConfig {
        request_timeout: Duration::from_millis(250),
        backoff_initial: Duration::from_millis(40),
        backoff_max: Duration::from_millis(90),
        max_attempts: 0,
    };
    let mut s = AgentSession::new(&config, &addrs(&["a"]), 0, 1).unwrap();
    assert!(matches!(s.poll(0), AgentAction::Register { .. }));
    assert_eq!(s.poll(1), AgentAction::AwaitReply { timeout_at_ms: 250 });
    // max_attempts 0 counts as 1: the first failure is reported.
    let outcome = s.on_failure(250, ManagerFailure::TimedOut, 1);
    assert_eq!(
        outcome,
        Err(AgentSessionError::NoManagerReachable {
            attempts: 1,
            tried: addrs(&["a"])
        })
    );
    assert_eq!(s.backoff_bound_ms(), 40);
    s.poll(1_000);
    s.on_failure(1_000, ManagerFailure::TimedOut, 1)
        .unwrap_err();
    s.poll(2_000);
    s.on_failure(2_000, ManagerFailure::TimedOut, 1)
        .unwrap_err();
    assert_eq!(s.backoff_bound_ms(), 90);
}

#[test]
fn a_zero_period_answer_does_not_spin() {
    let mut s = AgentSession::new(&AgentSessionConfig::default(), &addrs(&["a"]), 0, 1).unwrap();
    s.poll(0);
    assert!(s.on_registered(5, SessionId(1), &reply(0, &[])));
    assert_eq!(s.poll(5), AgentAction::Wait { until_ms: 6 });
}
