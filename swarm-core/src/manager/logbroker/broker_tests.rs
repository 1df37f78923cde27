//! The broker's rules: routing to the nodes that run the selected tasks, authorisation of
//! publications, bounded buffers, close accounting and the ends of a subscription.

use super::*;
use crate::manager::cluster_state::ClusterState;
use crate::model::{
    Node, NodeDescription, NodeId, NodeState, ServiceId, Task, TaskId, TaskSpec, TaskState,
    TaskStatus,
};
use crate::runtime::LogStreamKind;
use std::time::{Duration, SystemTime};

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

fn rng() -> impl FnMut() -> u64 {
    let mut x = 1u64;
    move || {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        x
    }
}

struct World {
    state: ClusterState,
    broker: LogBroker,
    rng: Box<dyn FnMut() -> u64>,
}

impl World {
    /// Nodes n1..n4, ready; service web with t1 on n1 and t2 on n2 running, t3 assigned to
    /// n3; service db with t4 running on n3.
    fn new() -> World {
        let mut state = ClusterState::new();
        for n in ["n1", "n2", "n3", "n4"] {
            let mut node = Node {
                id: n.into(),
                description: Some(NodeDescription {
                    hostname: format!("host-{n}"),
                    ..NodeDescription::default()
                }),
                ..Node::default()
            };
            node.status.state = NodeState::Ready;
            state.put_node(node);
        }
        let mut w = World {
            state,
            broker: LogBroker::new(),
            rng: Box::new(rng()),
        };
        w.task("t1", "web", "n1", TaskState::Running);
        w.task("t2", "web", "n2", TaskState::Running);
        w.task("t3", "web", "n3", TaskState::Assigned);
        w.task("t4", "db", "n3", TaskState::Running);
        w
    }

    fn task(&mut self, id: &str, service: &str, node: &str, state: TaskState) {
        let mut task = Task::new(id.into(), service.into(), TaskSpec::default(), at(0));
        task.node_id = Some(node.into());
        task.status = TaskStatus::new(state, at(0), "test");
        self.state.put_task(task);
    }

    fn subscribe(&mut self, selector: LogSelector, follow: bool) -> LogSubscriptionId {
        let request = LogRequest {
            follow,
            ..LogRequest::default()
        };
        self.broker
            .subscribe(&self.state, selector, request, at(0), &mut self.rng)
            .unwrap()
    }

    fn node_down(&mut self, node: &str) {
        let mut n = self.state.node(&node.into()).unwrap().clone();
        n.status.state = NodeState::Down;
        self.state.put_node(n);
    }

    fn publish(
        &mut self,
        node: &str,
        id: &LogSubscriptionId,
        messages: Vec<LogMessage>,
        close: bool,
    ) -> Result<PublishOutcome, LogBrokerError> {
        self.broker
            .publish(&self.state, &node.into(), id, messages, close, at(1))
    }
}

fn services(names: &[&str]) -> LogSelector {
    LogSelector {
        services: names.iter().map(|s| ServiceId::from(*s)).collect(),
        ..LogSelector::default()
    }
}

fn line(node: &str, service: &str, task: &str, text: &str) -> LogMessage {
    LogMessage {
        context: LogContext {
            node: node.into(),
            service: service.into(),
            task: task.into(),
        },
        stream: LogStreamKind::Stdout,
        timestamp: at(1),
        line: text.as_bytes().to_vec(),
    }
}

fn ids(nodes: &[&str]) -> Vec<NodeId> {
    nodes.iter().map(|n| NodeId::from(*n)).collect()
}

#[test]
fn a_subscription_goes_to_the_nodes_that_run_the_selected_tasks() {
    let mut w = World::new();
    // Not following: the tasks that have started.
    let web = w.subscribe(services(&["web"]), false);
    assert_eq!(w.broker.open_nodes(&web).unwrap(), ids(&["n1", "n2"]));
    // Following: every task with a node, started or not.
    let web_f = w.subscribe(services(&["web"]), true);
    assert_eq!(
        w.broker.open_nodes(&web_f).unwrap(),
        ids(&["n1", "n2", "n3"])
    );
    // A task by id, and a node by id.
    let t4 = w.subscribe(
        LogSelector {
            tasks: vec!["t4".into()],
            ..LogSelector::default()
        },
        false,
    );
    assert_eq!(w.broker.open_nodes(&t4).unwrap(), ids(&["n3"]));
    let n4 = w.subscribe(
        LogSelector {
            nodes: vec!["n4".into()],
            ..LogSelector::default()
        },
        false,
    );
    assert_eq!(w.broker.open_nodes(&n4).unwrap(), ids(&["n4"]));

    let to = |w: &mut World, node: &str| -> Vec<LogSubscriptionId> {
        w.broker
            .node_subscriptions(&node.into(), at(1))
            .into_iter()
            .map(|s| s.id)
            .collect()
    };
    let mut n1 = vec![web.clone(), web_f.clone()];
    n1.sort();
    assert_eq!(to(&mut w, "n1"), n1);
    let mut n3 = vec![web_f.clone(), t4.clone()];
    n3.sort();
    assert_eq!(to(&mut w, "n3"), n3);
    assert_eq!(to(&mut w, "n4"), vec![n4]);
    let told = w.broker.node_subscriptions(&"n2".into(), at(1));
    let web_told = told.iter().find(|s| s.id == web).unwrap();
    assert_eq!(web_told.selector, services(&["web"]));
    assert!(!web_told.request.follow);
}

#[test]
fn empty_and_oversized_selectors_and_too_many_subscriptions_are_refused() {
    let mut w = World::new();
    let refused = w.broker.subscribe(
        &w.state,
        LogSelector::default(),
        LogRequest::default(),
        at(0),
        &mut w.rng,
    );
    assert_eq!(refused, Err(LogBrokerError::EmptySelector));
    let big = LogSelector {
        tasks: (0..=MAX_LOG_SELECTOR_IDS)
            .map(|i| TaskId::from(format!("t{i}")))
            .collect(),
        ..LogSelector::default()
    };
    let refused = w
        .broker
        .subscribe(&w.state, big, LogRequest::default(), at(0), &mut w.rng);
    assert!(matches!(
        refused,
        Err(LogBrokerError::SelectorTooLarge { ids, max }) if ids == max + 1
    ));
    for _ in 0..MAX_LOG_SUBSCRIPTIONS {
        w.subscribe(services(&["web"]), true);
    }
    let refused = w.broker.subscribe(
        &w.state,
        services(&["web"]),
        LogRequest::default(),
        at(0),
        &mut w.rng,
    );
    assert!(refused.as_ref().is_err_and(LogBrokerError::is_retryable));
    assert_eq!(w.broker.len(), MAX_LOG_SUBSCRIPTIONS);
}

#[test]
fn a_following_subscription_picks_up_tasks_started_later_and_one_that_does_not_follow_ignores_them()
{
    let mut w = World::new();
    let follow = w.subscribe(services(&["web"]), true);
    let once = w.subscribe(services(&["web"]), false);
    w.task("t5", "web", "n4", TaskState::Assigned);
    assert!(w.broker.refresh(&w.state, at(1)));
    assert_eq!(
        w.broker.open_nodes(&follow).unwrap(),
        ids(&["n1", "n2", "n3", "n4"])
    );
    assert_eq!(w.broker.open_nodes(&once).unwrap(), ids(&["n1", "n2"]));
    assert!(!w.broker.refresh(&w.state, at(1)), "nothing new");
    // A named task scheduled later joins a following subscription.
    let mut pending = Task::new("t6".into(), "db".into(), TaskSpec::default(), at(0));
    pending.status = TaskStatus::new(TaskState::Pending, at(0), "test");
    w.state.put_task(pending);
    let named = w.subscribe(
        LogSelector {
            tasks: vec!["t6".into()],
            ..LogSelector::default()
        },
        true,
    );
    assert!(w.broker.open_nodes(&named).unwrap().is_empty());
    w.task("t6", "db", "n2", TaskState::Assigned);
    w.broker.refresh(&w.state, at(1));
    assert_eq!(w.broker.open_nodes(&named).unwrap(), ids(&["n2"]));
}

#[test]
fn nodes_publish_only_their_own_selected_tasks_to_subscriptions_they_serve() {
    let mut w = World::new();
    let web = w.subscribe(services(&["web"]), false);
    let refusals = [
        // In the name of another node.
        (
            "n1",
            vec![line("n2", "web", "t2", "x")],
            "node n1 published a log message in the name of node n2",
        ),
        // Another node's task, named as its own.
        (
            "n1",
            vec![line("n1", "web", "t2", "x")],
            "node n1 published logs of task t2, which is not one of its tasks",
        ),
        // Its own task with the wrong service.
        (
            "n1",
            vec![line("n1", "db", "t1", "x")],
            "node n1 published logs of task t1, which is not one of its tasks",
        ),
        // A node without a part.
        (
            "n4",
            vec![line("n4", "web", "t1", "x")],
            "is not publishing to log subscription",
        ),
    ];
    for (node, messages, said) in refusals {
        let err = w.publish(node, &web, messages, false).unwrap_err();
        assert!(err.to_string().contains(said), "{err}");
    }
    // A task of the node that the subscription does not select.
    let t4_only = w.subscribe(
        LogSelector {
            tasks: vec!["t4".into()],
            ..LogSelector::default()
        },
        true,
    );
    w.task("t7", "web", "n3", TaskState::Running);
    let err = w
        .publish("n3", &t4_only, vec![line("n3", "web", "t7", "x")], false)
        .unwrap_err();
    assert!(matches!(err, LogBrokerError::NotSelected { .. }), "{err}");
    // Bounds.
    let many = vec![line("n1", "web", "t1", "x"); MAX_LOG_MESSAGES_PER_CALL + 1];
    assert!(matches!(
        w.publish("n1", &web, many, false),
        Err(LogBrokerError::TooManyMessages { .. })
    ));
    let mut long = line("n1", "web", "t1", "");
    long.line = vec![b'x'; MAX_LOG_LINE_BYTES + 1];
    assert!(matches!(
        w.publish("n1", &web, vec![long], false),
        Err(LogBrokerError::LineTooLong { .. })
    ));
    let heavy = vec![line("n1", "web", "t1", &"x".repeat(MAX_LOG_LINE_BYTES)); 5];
    assert!(matches!(
        w.publish("n1", &web, heavy, false),
        Err(LogBrokerError::TooManyBytes { .. })
    ));
    // One bad message refuses the whole publication: nothing was taken.
    let mixed = vec![
        line("n1", "web", "t1", "ok"),
        line("n1", "web", "t2", "bad"),
    ];
    assert!(w.publish("n1", &web, mixed, true).is_err());
    assert_eq!(w.broker.buffered(&web), 0);
    assert_eq!(w.broker.open_nodes(&web).unwrap(), ids(&["n1", "n2"]));
    // An unknown subscription.
    let gone = LogSubscriptionId("gone".into());
    assert!(matches!(
        w.publish("n1", &gone, vec![], true),
        Err(LogBrokerError::UnknownSubscription { .. })
    ));
}

#[test]
fn a_full_buffer_takes_nothing_until_the_client_reads() {
    let mut w = World::new();
    let web = w.subscribe(services(&["web"]), true);
    let batch = || vec![line("n1", "web", "t1", &"y".repeat(MAX_LOG_LINE_BYTES)); 3];
    let per_batch: usize = batch().iter().map(LogMessage::cost_bytes).sum();
    let fit = MAX_BUFFERED_LOG_BYTES / per_batch;
    for _ in 0..fit {
        assert_eq!(
            w.publish("n1", &web, batch(), false),
            Ok(PublishOutcome::Taken)
        );
    }
    assert_eq!(
        w.publish("n1", &web, batch(), true),
        Ok(PublishOutcome::Full(batch()))
    );
    assert_eq!(
        w.broker.buffered(&web),
        fit * 3,
        "the full one took nothing"
    );
    assert_eq!(
        w.broker.open_nodes(&web).unwrap().len(),
        3,
        "nor closed the part"
    );
    let read = w.broker.next(&web, 3, at(2)).unwrap();
    assert_eq!(read.messages.len(), 3);
    assert_eq!(read.end, None);
    assert_eq!(
        w.publish("n1", &web, batch(), false),
        Ok(PublishOutcome::Taken)
    );
}

#[test]
fn a_subscription_that_does_not_follow_ends_once_every_part_is_closed() {
    let mut w = World::new();
    let web = w.subscribe(services(&["web"]), false);
    let n1 = vec![line("n1", "web", "t1", "a"), line("n1", "web", "t1", "b")];
    assert_eq!(w.publish("n1", &web, n1, true), Ok(PublishOutcome::Taken));
    // A closed part publishes no more.
    assert!(matches!(
        w.publish("n1", &web, vec![line("n1", "web", "t1", "c")], false),
        Err(LogBrokerError::NotSubscribed { .. })
    ));
    let first = w.broker.next(&web, 100, at(2)).unwrap();
    let text: Vec<String> = first.messages.iter().map(|m| m.text().into()).collect();
    assert_eq!(text, ["a", "b"]);
    assert_eq!(first.end, None, "n2 has not closed");
    assert_eq!(
        w.publish("n2", &web, vec![line("n2", "web", "t2", "z")], true),
        Ok(PublishOutcome::Taken)
    );
    // The last messages come with the end; the subscription is gone after it.
    let last = w.broker.next(&web, 100, at(2)).unwrap();
    assert_eq!(last.messages.len(), 1);
    assert_eq!(last.end, Some(LogEnd::default()));
    assert!(matches!(
        w.broker.next(&web, 100, at(2)),
        Err(LogBrokerError::UnknownSubscription { .. })
    ));
    assert!(w.broker.is_empty());
    // A read takes at most what it asks for: the end waits for the rest.
    let again = w.subscribe(services(&["web"]), false);
    let three = vec![line("n1", "web", "t1", "x"); 3];
    w.publish("n1", &again, three, true).unwrap();
    w.publish("n2", &again, vec![], true).unwrap();
    assert_eq!(w.broker.next(&again, 2, at(2)).unwrap().end, None);
    let rest = w.broker.next(&again, 2, at(2)).unwrap();
    assert_eq!((rest.messages.len(), rest.end.is_some()), (1, true));
}

#[test]
fn a_down_or_silent_node_ends_its_part_and_the_end_says_why() {
    let mut w = World::new();
    let web = w.subscribe(services(&["web"]), false);
    w.publish("n1", &web, vec![line("n1", "web", "t1", "a")], true)
        .unwrap();
    w.node_down("n2");
    assert!(w.broker.refresh(&w.state, at(1)));
    let batch = w.broker.next(&web, 100, at(1)).unwrap();
    assert_eq!(batch.messages.len(), 1);
    let end = batch.end.expect("ended");
    assert_eq!(end.incomplete, ["node n2 (host-n2) is down"]);

    // A subscription made while the node is down fails its part at once.
    let again = w.subscribe(services(&["web"]), false);
    assert_eq!(w.broker.open_nodes(&again).unwrap(), ids(&["n1"]));

    // A node that neither polls nor publishes for the silence timeout fails its part.
    let t4 = w.subscribe(
        LogSelector {
            tasks: vec!["t4".into()],
            ..LogSelector::default()
        },
        false,
    );
    let just_in_time = at(0) + LOG_NODE_SILENCE_TIMEOUT;
    w.broker.refresh(&w.state, just_in_time);
    assert_eq!(w.broker.open_nodes(&t4).unwrap(), ids(&["n3"]));
    w.broker.node_subscriptions(&"n3".into(), just_in_time);
    w.broker
        .refresh(&w.state, just_in_time + LOG_NODE_SILENCE_TIMEOUT);
    assert_eq!(w.broker.open_nodes(&t4).unwrap(), ids(&["n3"]), "it polled");
    w.broker.refresh(
        &w.state,
        just_in_time + LOG_NODE_SILENCE_TIMEOUT + Duration::from_millis(1),
    );
    let end = w.broker.next(&t4, 1, at(20)).unwrap().end.expect("ended");
    assert_eq!(
        end.incomplete,
        ["node n3 (host-n3) did not answer within 5000 ms"]
    );
}

#[test]
fn a_following_subscription_lasts_until_cancelled_or_left_unread() {
    let mut w = World::new();
    let follow = w.subscribe(services(&["web"]), true);
    for node in ["n1", "n2", "n3"] {
        w.broker.node_subscriptions(&node.into(), at(0));
    }
    assert_eq!(w.broker.next(&follow, 10, at(1)).unwrap().end, None);
    assert!(w.broker.cancel(&follow));
    assert!(!w.broker.cancel(&follow));

    let unread = w.subscribe(services(&["web"]), true);
    let read_at = at(1);
    w.broker.next(&unread, 10, read_at).unwrap();
    w.broker
        .refresh(&w.state, read_at + LOG_READER_IDLE_TIMEOUT);
    assert_eq!(w.broker.len(), 1);
    w.broker.refresh(
        &w.state,
        read_at + LOG_READER_IDLE_TIMEOUT + Duration::from_secs(1),
    );
    assert!(w.broker.is_empty());
}

#[test]
fn a_named_task_without_a_node_is_reported_at_the_end() {
    let mut w = World::new();
    let mut pending = Task::new("t9".into(), "web".into(), TaskSpec::default(), at(0));
    pending.status = TaskStatus::new(TaskState::Pending, at(0), "test");
    w.state.put_task(pending);
    let id = w.subscribe(
        LogSelector {
            tasks: vec!["t9".into()],
            ..LogSelector::default()
        },
        false,
    );
    let end = w.broker.next(&id, 10, at(1)).unwrap().end.expect("ended");
    assert_eq!(end.incomplete, ["task t9 has not been scheduled"]);
}

#[test]
fn a_node_the_state_does_not_show_is_judged_by_its_silence_alone() {
    let mut w = World::new();
    let unseen = w.subscribe(
        LogSelector {
            nodes: vec!["n9".into()],
            ..LogSelector::default()
        },
        false,
    );
    w.broker.refresh(&w.state, at(1));
    assert_eq!(w.broker.open_nodes(&unseen).unwrap(), ids(&["n9"]));
    w.broker.refresh(&w.state, at(1) + LOG_NODE_SILENCE_TIMEOUT);
    let end = w
        .broker
        .next(&unseen, 1, at(7))
        .unwrap()
        .end
        .expect("ended");
    assert_eq!(end.incomplete, ["node n9 () did not answer within 5000 ms"]);
}
