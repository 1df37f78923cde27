//! The dispatcher's steps: every refusal, the grace boundaries, leader changes, session
//! replacement and the index of deadlines.

use super::*;
use crate::manager::dispatcher::registration_limit::{
    MAX_REGISTRATIONS_PER_WINDOW, REGISTRATION_WINDOW_MS,
};
use crate::manager::dispatcher::weighted_manager::DEFAULT_MANAGER_WEIGHT;
use crate::model::NodeStatus;
use std::time::Duration;

const P: u64 = 500;
const M: u64 = 4;

fn id(s: &str) -> NodeId {
    NodeId::new(s)
}

fn node(name: &str, state: NodeState, message: &str) -> Node {
    Node {
        id: id(name),
        status: NodeStatus {
            state,
            message: message.into(),
            addr: String::new(),
        },
        ..Node::default()
    }
}

fn description(hostname: &str) -> NodeDescription {
    NodeDescription {
        hostname: hostname.into(),
        ..NodeDescription::default()
    }
}

/// A leader dispatcher with the default timing tracking ready workers `names`.
fn leader_with(names: &[&str]) -> Dispatcher {
    let mut d = Dispatcher::new(&DispatcherConfig::default());
    let nodes: Vec<Node> = names
        .iter()
        .map(|n| node(n, NodeState::Unknown, MESSAGE_LEADERSHIP_CHANGE))
        .collect();
    d.on_leadership(0, &nodes, 1).unwrap();
    // Start from a clean slate: no deadlines from the leader change.
    for n in names {
        d.set_deadline(&id(n), None);
    }
    assert_consistent(&d);
    d
}

/// The deadline index holds exactly the tracked nodes' deadlines, and only tracked nodes.
fn assert_consistent(d: &Dispatcher) {
    let from_nodes: BTreeSet<(u64, NodeId)> = d
        .nodes
        .iter()
        .filter_map(|(n, t)| t.deadline_ms.map(|at| (at, n.clone())))
        .collect();
    assert_eq!(from_nodes, d.deadlines);
    assert!(d.nodes.len() <= MAX_NODES);
    for (n, t) in &d.nodes {
        if t.session.is_some() {
            assert_eq!(
                t.state,
                NodeState::Ready,
                "{n:?} has a session but is not ready"
            );
            assert!(
                t.deadline_ms.is_some(),
                "{n:?} has a session but no deadline"
            );
        }
        if t.state == NodeState::Down {
            assert!(
                t.deadline_ms.is_none() && t.session.is_none(),
                "{n:?} is down"
            );
        }
    }
}

#[test]
fn a_follower_refuses_every_agent_call() {
    let mut d = Dispatcher::new(&DispatcherConfig::default());
    assert!(!d.is_leader());
    assert_eq!(
        d.register(&id("w1"), description("w1"), "10.0.0.1", 0, 1),
        Err(DispatcherError::NotLeader { node: id("w1") })
    );
    assert_eq!(
        d.heartbeat(&id("w1"), SessionId(1), 0, 1),
        Err(DispatcherError::NotLeader { node: id("w1") })
    );
    assert!(d.expire(u64::MAX).is_empty());
    assert_eq!(d.next_deadline_ms(), None);
}

#[test]
fn a_node_not_in_the_store_is_refused() {
    let mut d = leader_with(&["w1"]);
    assert_eq!(
        d.register(&id("stranger"), description("x"), "10.0.0.9", 0, 1),
        Err(DispatcherError::NodeNotFound {
            node: id("stranger")
        })
    );
    assert_eq!(
        d.heartbeat(&id("stranger"), SessionId(1), 0, 1),
        Err(DispatcherError::NodeNotFound {
            node: id("stranger")
        })
    );
    assert_consistent(&d);
}

#[test]
fn a_heartbeat_without_a_current_session_is_refused() {
    let mut d = leader_with(&["w1"]);
    // Never registered.
    assert_eq!(
        d.heartbeat(&id("w1"), SessionId(5), 0, 1),
        Err(DispatcherError::UnknownSession {
            node: id("w1"),
            session: SessionId(5)
        })
    );
    // Registered, but with another session id.
    let reg = d
        .register(&id("w1"), description("w1"), "a", 0, 77)
        .unwrap();
    assert_eq!(reg.session_id, SessionId(77));
    assert_eq!(
        d.heartbeat(&id("w1"), SessionId(78), 10, 1),
        Err(DispatcherError::UnknownSession {
            node: id("w1"),
            session: SessionId(78)
        })
    );
    // The refusal did not touch the deadline.
    assert_eq!(d.deadline_ms(&id("w1")), Some(M * reg.reply.period_ms));
    assert_consistent(&d);
}

#[test]
fn registering_marks_the_node_ready_with_its_description_and_address() {
    let mut d = leader_with(&["w1"]);
    d.set_managers(vec![
        WeightedManager::new("m1", "10.0.0.1:2377"),
        WeightedManager::new("m2", "10.0.0.2:2377"),
    ])
    .unwrap();
    let reg = d
        .register(&id("w1"), description("edge-1"), "10.0.0.7", 1_000, 3)
        .unwrap();
    assert_eq!(
        reg.write,
        NodeStatusWrite {
            node: id("w1"),
            state: NodeState::Ready,
            message: String::new(),
            addr: Some("10.0.0.7".into()),
            description: Some(description("edge-1")),
        }
    );
    assert!((P - P / 10..=P + P / 10).contains(&reg.reply.period_ms));
    assert_eq!(reg.reply.managers.len(), 2);
    assert_eq!(reg.reply.managers[1].addr, "10.0.0.2:2377");
    assert_eq!(d.session(&id("w1")), Some(reg.session_id));
    assert_eq!(d.node_state(&id("w1")), Some(NodeState::Ready));
    assert_eq!(
        d.deadline_ms(&id("w1")),
        Some(1_000 + M * reg.reply.period_ms)
    );
    assert_eq!(d.session_count(), 1);
    assert_consistent(&d);
}

#[test]
fn a_heartbeat_moves_the_deadline_to_the_new_announced_period() {
    let mut d = leader_with(&["w1"]);
    let reg = d.register(&id("w1"), description("w1"), "a", 0, 9).unwrap();
    for (step, now) in [400u64, 850, 1_300, 1_800].into_iter().enumerate() {
        let reply = d
            .heartbeat(&id("w1"), reg.session_id, now, mix64(step as u64))
            .unwrap();
        assert!((450..=550).contains(&reply.period_ms));
        assert_eq!(d.deadline_ms(&id("w1")), Some(now + M * reply.period_ms));
        assert_eq!(d.next_deadline_ms(), Some(now + M * reply.period_ms));
        assert_consistent(&d);
    }
    // The announced periods vary with the randomness passed in.
    let periods: BTreeSet<u64> = (0..50)
        .map(|r| {
            d.heartbeat(&id("w1"), reg.session_id, 2_000, mix64(r))
                .unwrap()
                .period_ms
        })
        .collect();
    assert!(periods.len() > 10, "{periods:?}");
}

#[test]
fn expiry_is_exact_at_the_grace_boundary() {
    for random in [0u64, 1, 12_345, u64::MAX] {
        let mut d = leader_with(&["w1"]);
        let reg = d
            .register(&id("w1"), description("w1"), "a", 5_000, random)
            .unwrap();
        let deadline = 5_000 + M * reg.reply.period_ms;

        // One ms before: still ready.
        assert!(d.expire(deadline - 1).is_empty());
        assert_eq!(d.node_state(&id("w1")), Some(NodeState::Ready));
        // At the boundary: down, with SwarmKit's message, and the session is gone.
        assert_eq!(
            d.expire(deadline),
            vec![NodeStatusWrite::state(
                &id("w1"),
                NodeState::Down,
                "heartbeat failure"
            )]
        );
        assert_eq!(d.node_state(&id("w1")), Some(NodeState::Down));
        assert_eq!(d.session(&id("w1")), None);
        assert_eq!(d.next_deadline_ms(), None);
        // Written once only.
        assert!(d.expire(deadline + 1).is_empty());
        assert!(d.expire(u64::MAX).is_empty());
        // A late heartbeat on the expired session is refused: the agent registers again.
        assert_eq!(
            d.heartbeat(&id("w1"), reg.session_id, deadline + 1, 0),
            Err(DispatcherError::UnknownSession {
                node: id("w1"),
                session: reg.session_id
            })
        );
        assert_consistent(&d);

        // One ms after the boundary, on a fresh dispatcher, expires as well.
        let mut d = leader_with(&["w1"]);
        let reg = d
            .register(&id("w1"), description("w1"), "a", 5_000, random)
            .unwrap();
        let deadline = 5_000 + M * reg.reply.period_ms;
        assert_eq!(d.expire(deadline + 1).len(), 1);
    }
}

#[test]
fn a_heartbeat_one_ms_before_the_boundary_keeps_the_node_ready() {
    let mut d = leader_with(&["w1"]);
    let reg = d.register(&id("w1"), description("w1"), "a", 0, 3).unwrap();
    let deadline = M * reg.reply.period_ms;
    let reply = d
        .heartbeat(&id("w1"), reg.session_id, deadline - 1, 4)
        .unwrap();
    assert!(d.expire(deadline).is_empty());
    let new_deadline = deadline - 1 + M * reply.period_ms;
    assert!(d.expire(new_deadline - 1).is_empty());
    assert_eq!(d.expire(new_deadline).len(), 1);
}

#[test]
fn a_down_node_comes_back_by_registering() {
    let mut d = leader_with(&["w1"]);
    let reg = d.register(&id("w1"), description("w1"), "a", 0, 3).unwrap();
    assert_eq!(d.expire(u64::MAX / 2).len(), 1);
    let again = d
        .register(&id("w1"), description("w1"), "b", 10_000, 4)
        .unwrap();
    assert_ne!(again.session_id, reg.session_id);
    assert_eq!(again.write.state, NodeState::Ready);
    assert_eq!(again.write.addr.as_deref(), Some("b"));
    assert_eq!(d.node_state(&id("w1")), Some(NodeState::Ready));
    assert_consistent(&d);
}

#[test]
fn a_new_registration_replaces_the_older_session() {
    let mut d = leader_with(&["w1", "w2"]);
    let first = d
        .register(&id("w1"), description("w1"), "a", 0, 100)
        .unwrap();
    let second = d
        .register(&id("w1"), description("w1"), "b", 300, 200)
        .unwrap();
    assert_ne!(first.session_id, second.session_id);
    assert_eq!(d.session(&id("w1")), Some(second.session_id));
    assert_eq!(
        d.heartbeat(&id("w1"), first.session_id, 400, 1),
        Err(DispatcherError::UnknownSession {
            node: id("w1"),
            session: first.session_id
        })
    );
    assert!(d.heartbeat(&id("w1"), second.session_id, 400, 1).is_ok());
    // One session and one deadline per node.
    assert_eq!(d.session_count(), 1);
    assert_eq!(d.deadlines.len(), 1);
    assert_consistent(&d);
}

#[test]
fn a_replacing_session_never_reuses_the_old_id() {
    let mut d = leader_with(&["w1"]);
    let first = d
        .register(&id("w1"), description("w1"), "a", 0, 42)
        .unwrap();
    // The same random input again still gives a different id.
    let second = d
        .register(&id("w1"), description("w1"), "a", 1, 42)
        .unwrap();
    assert_eq!(first.session_id, SessionId(42));
    assert_eq!(second.session_id, SessionId(43));
    let third = d
        .register(&id("w1"), description("w1"), "a", 2, u64::MAX)
        .unwrap();
    let fourth = d
        .register(&id("w1"), description("w1"), "a", 8_002, u64::MAX)
        .unwrap();
    assert_eq!(third.session_id, SessionId(u64::MAX));
    assert_eq!(fourth.session_id, SessionId(0));
}

#[test]
fn registrations_are_rate_limited_per_node() {
    let mut d = leader_with(&["w1", "w2"]);
    let max = u64::from(MAX_REGISTRATIONS_PER_WINDOW);
    for i in 0..max {
        d.register(&id("w1"), description("w1"), "a", 1_000 + i, i)
            .unwrap();
    }
    let current = d.session(&id("w1"));
    assert_eq!(
        d.register(&id("w1"), description("w1"), "a", 2_000, 99),
        Err(DispatcherError::RegistrationRateLimited {
            node: id("w1"),
            retry_after_ms: 1_000 + REGISTRATION_WINDOW_MS - 2_000
        })
    );
    // The refusal changed nothing; other nodes are not affected.
    assert_eq!(d.session(&id("w1")), current);
    assert!(
        d.register(&id("w2"), description("w2"), "b", 2_000, 5)
            .is_ok()
    );
    // Once the window has passed, the node may register again.
    assert!(
        d.register(
            &id("w1"),
            description("w1"),
            "a",
            1_000 + REGISTRATION_WINDOW_MS,
            7
        )
        .is_ok()
    );
    assert_consistent(&d);
}

#[test]
fn leadership_moves_nodes_to_unknown_with_a_longer_grace() {
    let mut d = Dispatcher::new(&DispatcherConfig::default());
    let nodes = vec![
        node("ready", NodeState::Ready, ""),
        node("down", NodeState::Down, "heartbeat failure"),
        node("disconnected", NodeState::Disconnected, "node is trying"),
        node("fresh", NodeState::Unknown, ""),
        node("unknown", NodeState::Unknown, MESSAGE_LEADERSHIP_CHANGE),
    ];
    let writes = d.on_leadership(10_000, &nodes, 5).unwrap();
    assert!(d.is_leader());
    let expected: Vec<NodeStatusWrite> = ["ready", "disconnected", "fresh"]
        .iter()
        .map(|n| NodeStatusWrite::state(&id(n), NodeState::Unknown, MESSAGE_LEADERSHIP_CHANGE))
        .collect();
    assert_eq!(writes, expected);
    assert_eq!(d.node_count(), 5);
    assert_eq!(d.session_count(), 0);
    assert_eq!(d.node_state(&id("down")), Some(NodeState::Down));
    assert_eq!(d.deadline_ms(&id("down")), None);

    // Every node not down gets twice the grace: beyond any normal deadline.
    let normal_worst = 10_000 + M * (P + P / 10);
    for n in ["ready", "disconnected", "fresh", "unknown"] {
        let deadline = d.deadline_ms(&id(n)).unwrap();
        assert!(
            (10_000 + 2 * M * (P - P / 10)..=10_000 + 2 * M * (P + P / 10)).contains(&deadline),
            "{n}: {deadline}"
        );
        assert!(deadline > normal_worst);
        assert_eq!(d.node_state(&id(n)), Some(NodeState::Unknown));
    }
    assert_consistent(&d);
}

#[test]
fn the_longer_grace_is_jittered_per_node() {
    let names: Vec<String> = (0..50).map(|i| format!("w{i}")).collect();
    let nodes: Vec<Node> = names
        .iter()
        .map(|n| node(n, NodeState::Ready, ""))
        .collect();
    let mut d = Dispatcher::new(&DispatcherConfig::default());
    d.on_leadership(0, &nodes, 11).unwrap();
    let deadlines: BTreeSet<u64> = names
        .iter()
        .filter_map(|n| d.deadline_ms(&NodeId::new(n.as_str())))
        .collect();
    assert!(deadlines.len() > 20, "{deadlines:?}");
}

#[test]
fn an_unknown_node_expires_at_its_boundary_with_the_unknown_message() {
    let mut d = Dispatcher::new(&DispatcherConfig::default());
    d.on_leadership(1_000, &[node("w1", NodeState::Ready, "")], 3)
        .unwrap();
    let deadline = d.deadline_ms(&id("w1")).unwrap();
    assert!(d.expire(deadline - 1).is_empty());
    assert_eq!(
        d.expire(deadline),
        vec![NodeStatusWrite::state(
            &id("w1"),
            NodeState::Down,
            "heartbeat failure for node in \"unknown\" state"
        )]
    );
    assert_consistent(&d);
}

#[test]
fn an_unknown_node_that_registers_gets_the_normal_grace() {
    let mut d = Dispatcher::new(&DispatcherConfig::default());
    d.on_leadership(0, &[node("w1", NodeState::Ready, "")], 3)
        .unwrap();
    let reg = d
        .register(&id("w1"), description("w1"), "a", 700, 8)
        .unwrap();
    assert_eq!(reg.write.state, NodeState::Ready);
    assert_eq!(
        d.deadline_ms(&id("w1")),
        Some(700 + M * reg.reply.period_ms)
    );
    assert_eq!(d.deadlines.len(), 1);
    assert_consistent(&d);
}

#[test]
fn a_new_leadership_drops_the_sessions_of_the_previous_one() {
    let mut d = leader_with(&["w1"]);
    let reg = d.register(&id("w1"), description("w1"), "a", 0, 8).unwrap();
    d.on_leadership_lost();
    assert!(!d.is_leader());
    assert_eq!(d.node_count(), 0);
    assert_eq!(d.next_deadline_ms(), None);
    assert_eq!(
        d.heartbeat(&id("w1"), reg.session_id, 10, 1),
        Err(DispatcherError::NotLeader { node: id("w1") })
    );
    d.on_leadership(20, &[node("w1", NodeState::Ready, "")], 1)
        .unwrap();
    assert_eq!(
        d.heartbeat(&id("w1"), reg.session_id, 30, 1),
        Err(DispatcherError::UnknownSession {
            node: id("w1"),
            session: reg.session_id
        })
    );
    assert_consistent(&d);
}

#[test]
fn leadership_with_too_many_nodes_is_refused_and_changes_nothing() {
    let mut d = leader_with(&["w1"]);
    let reg = d.register(&id("w1"), description("w1"), "a", 0, 8).unwrap();
    let nodes: Vec<Node> = (0..=MAX_NODES)
        .map(|i| node(&format!("n{i}"), NodeState::Ready, ""))
        .collect();
    assert_eq!(
        d.on_leadership(0, &nodes, 1),
        Err(DispatcherError::TooManyNodes {
            count: MAX_NODES + 1,
            max: MAX_NODES
        })
    );
    assert_eq!(d.session(&id("w1")), Some(reg.session_id));
    // Exactly at the bound is accepted.
    let writes = d.on_leadership(0, &nodes[..MAX_NODES], 1).unwrap();
    assert_eq!(writes.len(), MAX_NODES);
    assert_eq!(d.node_count(), MAX_NODES);
    assert_consistent(&d);
}

#[test]
fn added_nodes_may_register_and_the_table_is_bounded() {
    let mut d = leader_with(&[]);
    d.node_added(&node("w1", NodeState::Unknown, ""), 0, 1)
        .unwrap();
    let reg = d.register(&id("w1"), description("w1"), "a", 0, 1).unwrap();
    // Adding an already tracked node keeps its session.
    d.node_added(&node("w1", NodeState::Unknown, ""), 0, 1)
        .unwrap();
    assert_eq!(d.session(&id("w1")), Some(reg.session_id));

    for i in 1..MAX_NODES {
        d.node_added(&node(&format!("n{i}"), NodeState::Unknown, ""), 0, 1)
            .unwrap();
    }
    assert_eq!(d.node_count(), MAX_NODES);
    assert_eq!(
        d.node_added(&node("one-more", NodeState::Unknown, ""), 0, 1),
        Err(DispatcherError::TooManyNodes {
            count: MAX_NODES + 1,
            max: MAX_NODES
        })
    );
    assert_consistent(&d);
}

#[test]
fn a_removed_node_loses_its_session_and_is_not_expired() {
    let mut d = leader_with(&["w1", "w2"]);
    let reg = d.register(&id("w1"), description("w1"), "a", 0, 1).unwrap();
    d.register(&id("w2"), description("w2"), "b", 0, 2).unwrap();
    assert!(d.node_removed(&id("w1")));
    assert!(!d.node_removed(&id("w1")));
    assert_eq!(d.session(&id("w1")), None);
    assert_eq!(
        d.heartbeat(&id("w1"), reg.session_id, 10, 1),
        Err(DispatcherError::NodeNotFound { node: id("w1") })
    );
    assert_eq!(
        d.register(&id("w1"), description("w1"), "a", 10, 1),
        Err(DispatcherError::NodeNotFound { node: id("w1") })
    );
    // Only w2 is expired.
    let writes = d.expire(u64::MAX);
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].node, id("w2"));
    assert_consistent(&d);
}

#[test]
fn expiry_writes_come_in_deadline_then_id_order() {
    let mut d = leader_with(&["a", "b", "c"]);
    // Equal deadlines for c and a (same time, same random), earlier for b.
    let rc = d.register(&id("c"), description("c"), "x", 100, 7).unwrap();
    let ra = d.register(&id("a"), description("a"), "x", 100, 7).unwrap();
    assert_eq!(rc.reply.period_ms, ra.reply.period_ms);
    d.register(&id("b"), description("b"), "x", 0, 7).unwrap();
    assert_eq!(d.next_deadline_ms(), d.deadline_ms(&id("b")));
    let order: Vec<NodeId> = d.expire(u64::MAX).into_iter().map(|w| w.node).collect();
    assert_eq!(order, vec![id("b"), id("a"), id("c")]);
}

#[test]
fn managers_are_bounded_and_sent_with_every_answer() {
    let mut d = leader_with(&["w1"]);
    let many: Vec<WeightedManager> = (0..=MAX_MANAGERS)
        .map(|i| WeightedManager::new(format!("m{i}"), format!("10.0.1.{i}:2377")))
        .collect();
    assert_eq!(
        d.set_managers(many.clone()),
        Err(DispatcherError::TooManyManagers {
            count: MAX_MANAGERS + 1,
            max: MAX_MANAGERS
        })
    );
    assert!(d.managers().is_empty());
    d.set_managers(many[..MAX_MANAGERS].to_vec()).unwrap();
    let reg = d.register(&id("w1"), description("w1"), "a", 0, 1).unwrap();
    assert_eq!(reg.reply.managers.len(), MAX_MANAGERS);
    d.set_managers(vec![WeightedManager::new("m9", "10.0.0.9:2377")])
        .unwrap();
    let reply = d.heartbeat(&id("w1"), reg.session_id, 10, 1).unwrap();
    assert_eq!(&*reply.managers, d.managers());
    assert_eq!(reply.managers[0].weight, DEFAULT_MANAGER_WEIGHT);
}

#[test]
fn a_changed_period_applies_to_the_next_answers() {
    let mut d = leader_with(&["w1"]);
    let reg = d.register(&id("w1"), description("w1"), "a", 0, 1).unwrap();
    let old_deadline = d.deadline_ms(&id("w1"));
    d.set_config(&DispatcherConfig {
        heartbeat_period: Duration::from_secs(5),
        heartbeat_grace_multiplier: 3,
    });
    assert_eq!(d.deadline_ms(&id("w1")), old_deadline);
    let reply = d.heartbeat(&id("w1"), reg.session_id, 100, 9).unwrap();
    assert!((4_500..=5_500).contains(&reply.period_ms));
    assert_eq!(d.deadline_ms(&id("w1")), Some(100 + 3 * reply.period_ms));
    assert_eq!(d.timing().period_ms(), 5_000);
}

#[test]
fn time_at_the_end_of_the_range_saturates() {
    let mut d = leader_with(&["w1"]);
    let reg = d
        .register(&id("w1"), description("w1"), "a", u64::MAX - 10, 1)
        .unwrap();
    assert_eq!(d.deadline_ms(&id("w1")), Some(u64::MAX));
    assert!(d.expire(u64::MAX - 1).is_empty());
    assert_eq!(d.expire(u64::MAX).len(), 1);
    assert!(reg.reply.period_ms > 0);
}

#[test]
fn a_repeated_node_in_the_store_list_keeps_one_deadline() {
    let mut d = Dispatcher::new(&DispatcherConfig::default());
    let nodes = vec![
        node("w1", NodeState::Ready, ""),
        node("w1", NodeState::Down, "heartbeat failure"),
        node("w2", NodeState::Ready, ""),
        node("w2", NodeState::Ready, ""),
    ];
    d.on_leadership(0, &nodes, 3).unwrap();
    assert_eq!(d.node_state(&id("w1")), Some(NodeState::Down));
    assert_eq!(d.deadline_ms(&id("w1")), None);
    assert_eq!(d.deadlines.len(), 1);
    assert_consistent(&d);
    let down: Vec<NodeId> = d.expire(u64::MAX).into_iter().map(|w| w.node).collect();
    assert_eq!(down, vec![id("w2")]);
}

#[test]
fn session_checks_refuse_what_heartbeats_refuse_and_move_no_deadline() {
    let mut d = leader_with(&["w1"]);
    assert_eq!(
        d.check_session(&id("w9"), SessionId(1)),
        Err(DispatcherError::NodeNotFound { node: id("w9") })
    );
    assert_eq!(
        d.check_session(&id("w1"), SessionId(5)),
        Err(DispatcherError::UnknownSession {
            node: id("w1"),
            session: SessionId(5)
        })
    );
    let reg = d
        .register(&id("w1"), description("w1"), "a", 0, 77)
        .unwrap();
    let deadline = d.deadline_ms(&id("w1"));
    assert_eq!(d.check_session(&id("w1"), reg.session_id), Ok(()));
    assert_eq!(d.deadline_ms(&id("w1")), deadline);
    d.on_leadership_lost();
    assert_eq!(
        d.check_session(&id("w1"), reg.session_id),
        Err(DispatcherError::NotLeader { node: id("w1") })
    );
}

#[test]
fn a_live_session_whose_record_lost_ready_is_written_ready_again() {
    // A new leader computes "unknown" for every node; the agent registers before that write
    // commits, so the record ends up unknown while the session is live.
    let mut d = Dispatcher::new(&DispatcherConfig::default());
    let writes = d
        .on_leadership(0, &[node("w1", NodeState::Ready, "")], 7)
        .unwrap();
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].state, NodeState::Unknown);
    // Before registering there is nothing to repair: the node is unknown to this leader.
    assert_eq!(d.repair_write(&id("w1"), NodeState::Unknown), None);
    let registration = d
        .register(&id("w1"), description("w1"), "10.0.0.1:1", 10, 3)
        .unwrap();
    assert_eq!(registration.write.state, NodeState::Ready);
    // The leadership's "unknown" committed after the registration's "ready".
    let repair = d.repair_write(&id("w1"), NodeState::Unknown).unwrap();
    assert_eq!(repair.state, NodeState::Ready);
    assert_eq!(repair.node, id("w1"));
    // Likewise a "down"; a record that says ready needs nothing, nor does an unknown node or a
    // follower.
    assert!(d.repair_write(&id("w1"), NodeState::Down).is_some());
    assert_eq!(d.repair_write(&id("w1"), NodeState::Ready), None);
    assert_eq!(d.repair_write(&id("w9"), NodeState::Down), None);
    // Once the session expired, the node is down for good here: no repair.
    let expired = d.expire(u64::MAX);
    assert_eq!(expired.len(), 1);
    assert_eq!(d.repair_write(&id("w1"), NodeState::Down), None);
    d.on_leadership_lost();
    assert_eq!(d.repair_write(&id("w1"), NodeState::Unknown), None);
}

#[test]
fn seed_1484_a_joined_node_that_never_registers_turns_down() {
    let mut d = leader_with(&[]);
    d.node_added(&node("lost", NodeState::Unknown, ""), 1_000, 7)
        .unwrap();
    d.node_added(&node("gone", NodeState::Down, "earlier"), 1_000, 8)
        .unwrap();
    // A node already down gets no deadline; the joined one gets the unknown grace.
    assert_eq!(d.deadline_ms(&id("gone")), None);
    let deadline_ms = d.deadline_ms(&id("lost")).unwrap();
    let timing = d.timing();
    let shortest = 1_000 + timing.unknown_grace_ms(timing.period_ms() - timing.jitter_ms());
    let longest = 1_000 + timing.unknown_grace_ms(timing.period_ms() + timing.jitter_ms());
    assert!(
        (shortest..=longest).contains(&deadline_ms),
        "{deadline_ms} not in {shortest}..={longest}"
    );
    assert!(d.expire(deadline_ms - 1).is_empty());
    let writes = d.expire(deadline_ms);
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].node, id("lost"));
    assert_eq!(writes[0].state, NodeState::Down);
    assert_eq!(d.node_state(&id("lost")), Some(NodeState::Down));
    // It may still register later, and is ready again.
    let reg = d
        .register(&id("lost"), description("lost"), "a", deadline_ms + 1, 3)
        .unwrap();
    assert_eq!(reg.write.state, NodeState::Ready);
    assert_consistent(&d);
}

#[test]
fn a_joined_node_that_registers_in_time_keeps_its_session_deadline() {
    let mut d = leader_with(&[]);
    d.node_added(&node("w1", NodeState::Unknown, ""), 0, 1)
        .unwrap();
    let reg = d
        .register(&id("w1"), description("w1"), "a", 10, 2)
        .unwrap();
    let session_deadline_ms = d.deadline_ms(&id("w1")).unwrap();
    assert_eq!(
        session_deadline_ms,
        10 + d.timing().grace_ms(reg.reply.period_ms)
    );
    assert!(d.expire(session_deadline_ms - 1).is_empty());
    assert_consistent(&d);
}
