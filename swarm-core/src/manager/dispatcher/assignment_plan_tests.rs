//! The assignment set: only the node's tasks, only the items they need, sealed for that node,
//! nothing held sent again, and the generation that tells an agent whether to wait.

use super::*;
use crate::model::{
    Config, ConfigReference, ConfigSpec, FileTarget, Meta, Node, NodeDescription, Secret,
    SecretReference, SecretSpec, TaskSpec,
};
use std::time::SystemTime;
use swarm_secrets::NodeSealKey;

fn node(id: &str, key: Option<&NodeSealKey>) -> Node {
    Node {
        id: NodeId::new(id),
        description: Some(NodeDescription {
            seal_public_key: key.map(|k| k.public_key().as_bytes().to_vec()),
            ..NodeDescription::default()
        }),
        ..Node::default()
    }
}

fn secret(id: &str, value: &[u8]) -> Secret {
    Secret {
        id: id.into(),
        meta: Meta::new(Version(3), SystemTime::UNIX_EPOCH),
        spec: SecretSpec::new(format!("name-{id}"), value.to_vec()),
    }
}

fn config(id: &str, value: &[u8]) -> Config {
    Config {
        id: id.into(),
        meta: Meta::new(Version(4), SystemTime::UNIX_EPOCH),
        spec: ConfigSpec::new(format!("name-{id}"), value.to_vec()),
    }
}

fn task(id: &str, node: &str, state: TaskState, secrets: &[&str], configs: &[&str]) -> Task {
    let mut spec = TaskSpec::default();
    spec.container.secrets = secrets
        .iter()
        .map(|s| SecretReference {
            secret_id: (*s).into(),
            secret_name: format!("name-{s}"),
            target: FileTarget::new(*s),
        })
        .collect();
    spec.container.configs = configs
        .iter()
        .map(|c| ConfigReference {
            config_id: (*c).into(),
            config_name: format!("name-{c}"),
            target: FileTarget::new(*c),
        })
        .collect();
    let mut t = Task::new(id.into(), "svc".into(), spec, SystemTime::UNIX_EPOCH);
    t.node_id = Some(NodeId::new(node));
    t.status.state = state;
    t.meta.version = Version(1);
    t
}

struct World {
    state: ClusterState,
    k1: NodeSealKey,
}

/// Nodes n1 (task a: s1 + c1; task b: s1; task old: ended, s3) and n2 (task c: s2), a task
/// still pending on n1, and an unreferenced secret s9.
fn world() -> World {
    let k1 = NodeSealKey::generate().unwrap();
    let k2 = NodeSealKey::generate().unwrap();
    let mut state = ClusterState::new();
    state.put_node(node("n1", Some(&k1)));
    state.put_node(node("n2", Some(&k2)));
    for s in [
        secret("s1", b"one"),
        secret("s2", b"two"),
        secret("s3", b"three"),
        secret("s9", b"nine"),
    ] {
        state.put_secret(s);
    }
    state.put_config(config("c1", b"port = 80"));
    state.put_task(task("a", "n1", TaskState::Assigned, &["s1"], &["c1"]));
    state.put_task(task("b", "n1", TaskState::Running, &["s1"], &[]));
    state.put_task(task("old", "n1", TaskState::Failed, &["s3"], &[]));
    state.put_task(task("p", "n1", TaskState::Pending, &["s9"], &[]));
    state.put_task(task("c", "n2", TaskState::Assigned, &["s2"], &[]));
    World { state, k1 }
}

fn ids(tasks: &[Task]) -> Vec<&str> {
    tasks.iter().map(|t| t.id.as_str()).collect()
}

fn held(kind: &str, id: &str, version: u64) -> HeldItem {
    let item = match kind {
        "secret" => ItemId::Secret(id.into()),
        _ => ItemId::Config(id.into()),
    };
    HeldItem {
        item,
        version: Version(version),
    }
}

#[test]
fn a_node_gets_its_assigned_tasks_and_only_the_items_they_need() {
    let w = world();
    let a = AssignmentPlan::for_node(&w.state, &"n1".into(), &[]).seal();
    // The pending task is not the node's yet; the ended one stays in the set.
    assert_eq!(ids(&a.tasks), ["a", "b", "old"]);
    // s1 (a and b) and c1; not s3 (its task ended), s2 (another node's) or s9.
    let secrets: Vec<_> = a.secrets.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(secrets, ["s1"]);
    let configs: Vec<_> = a.configs.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(configs, ["c1"]);
    assert_eq!(a.configs[0].data.as_bytes(), b"port = 80");
    assert_eq!(a.keep, [held("secret", "s1", 3), held("config", "c1", 4)]);
    assert!(a.unavailable.is_empty());
    assert!(a.complete);
}

#[test]
fn a_secret_is_sealed_for_its_node_and_the_tasks_using_it() {
    let w = world();
    let a = AssignmentPlan::for_node(&w.state, &"n1".into(), &[]).seal();
    let sealed = &a.secrets[0];
    let tasks = [TaskId::new("a"), TaskId::new("b")];
    let binding = delivery_binding(&"n1".into(), &tasks, &sealed.held()).unwrap();
    assert_eq!(binding.item(), "secret/s1@3");
    assert_eq!(
        w.k1.open(&sealed.sealed, &binding).unwrap().expose_secret(),
        b"one"
    );

    // Another node's key does not open it, nor does the binding of other tasks or version.
    let other = NodeSealKey::generate().unwrap();
    assert!(other.open(&sealed.sealed, &binding).is_err());
    let fewer = delivery_binding(&"n1".into(), &tasks[..1], &sealed.held()).unwrap();
    assert!(w.k1.open(&sealed.sealed, &fewer).is_err());
    let older = delivery_binding(&"n1".into(), &tasks, &held("secret", "s1", 2)).unwrap();
    assert!(w.k1.open(&sealed.sealed, &older).is_err());
    let n2 = delivery_binding(&"n2".into(), &tasks, &sealed.held()).unwrap();
    assert!(w.k1.open(&sealed.sealed, &n2).is_err());
}

#[test]
fn held_items_are_not_sent_again_and_stale_ones_are_not_kept() {
    let w = world();
    let holding = [held("secret", "s1", 3), held("config", "c1", 4)];
    let a = AssignmentPlan::for_node(&w.state, &"n1".into(), &holding).seal();
    assert!(a.secrets.is_empty() && a.configs.is_empty());
    assert_eq!(a.keep, holding);

    // An older version held is replaced: sent again, and only the current one kept.
    let stale = [held("secret", "s1", 2), held("config", "c1", 4)];
    let a = AssignmentPlan::for_node(&w.state, &"n1".into(), &stale).seal();
    assert_eq!(a.secrets.len(), 1);
    assert!(!a.keep.contains(&stale[0]));
}

#[test]
fn the_generation_moves_with_tasks_and_items_and_an_up_to_date_agent_waits() {
    let mut w = world();
    let n1 = NodeId::new("n1");
    let plan = AssignmentPlan::for_node(&w.state, &n1, &[]);
    let generation = plan.generation();
    assert_ne!(generation, 0);
    let holding = plan.items_to_send();
    assert!(AssignmentPlan::unchanged(
        &w.state, &n1, generation, &holding
    ));
    // Missing an item, holding one not needed, or an older generation: answer now.
    assert!(!AssignmentPlan::unchanged(
        &w.state,
        &n1,
        generation,
        &holding[..1]
    ));
    let mut extra = holding.clone();
    extra.push(held("secret", "s9", 3));
    assert!(!AssignmentPlan::unchanged(
        &w.state, &n1, generation, &extra
    ));
    assert!(!AssignmentPlan::unchanged(&w.state, &n1, 0, &holding));

    // Another node's change leaves n1's generation alone.
    let mut c = w.state.task(&"c".into()).unwrap().clone();
    c.meta.version = Version(2);
    w.state.put_task(c);
    assert!(AssignmentPlan::unchanged(
        &w.state, &n1, generation, &holding
    ));

    // A desired shutdown changes the task's version: a new set, in which s1 is needed only
    // by b.
    let mut a = w.state.task(&"a".into()).unwrap().clone();
    a.desired_state = TaskState::Shutdown;
    a.meta.version = Version(2);
    w.state.put_task(a);
    let next = AssignmentPlan::for_node(&w.state, &n1, &holding);
    assert_ne!(next.generation(), generation);
    let sealed = next.seal();
    assert_eq!(sealed.keep, [held("secret", "s1", 3)]);

    // Once b stops too, nothing is kept: the agent drops s1.
    let mut b = w.state.task(&"b".into()).unwrap().clone();
    b.status.state = TaskState::Shutdown;
    b.meta.version = Version(2);
    w.state.put_task(b);
    let last = AssignmentPlan::for_node(&w.state, &n1, &holding).seal();
    assert!(last.keep.is_empty());
}

#[test]
fn items_not_there_yet_are_waited_for_not_refused() {
    let mut w = world();
    // n1's record shows no seal key yet; a task references a secret this view does not have.
    w.state.put_node(node("n1", None));
    w.state
        .put_task(task("d", "n1", TaskState::Assigned, &["later"], &[]));
    let n1 = NodeId::new("n1");
    let plan = AssignmentPlan::for_node(&w.state, &n1, &[]);
    let generation = plan.generation();
    let waiting: Vec<_> = plan.waiting().iter().map(|u| u.reason.as_str()).collect();
    assert_eq!(
        waiting,
        [
            "secret later does not exist",
            "secret s1 cannot be sealed yet: node n1 has published no seal key",
        ]
    );
    let a = plan.seal();
    assert!(a.secrets.is_empty());
    assert!(a.unavailable.is_empty(), "the agent is not told to reject");
    assert_eq!(a.configs.len(), 1, "configs need no seal key");
    // An agent holding the config waits: nothing else can be delivered now.
    let holding = [held("config", "c1", 4)];
    assert!(AssignmentPlan::unchanged(
        &w.state, &n1, generation, &holding
    ));

    // The secret appears: a new generation. The key is published: s1 is deliverable.
    w.state.put_secret(secret("later", b"x"));
    assert!(!AssignmentPlan::unchanged(
        &w.state, &n1, generation, &holding
    ));
    let plan = AssignmentPlan::for_node(&w.state, &n1, &holding);
    assert_ne!(plan.generation(), generation);
    let generation = plan.generation();
    assert!(AssignmentPlan::unchanged(
        &w.state, &n1, generation, &holding
    ));
    w.state.put_node(node("n1", Some(&w.k1)));
    assert!(!AssignmentPlan::unchanged(
        &w.state, &n1, generation, &holding
    ));
    let a = AssignmentPlan::for_node(&w.state, &n1, &holding).seal();
    let secrets: Vec<_> = a.secrets.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(secrets, ["later", "s1"]);
}

#[test]
fn a_secret_that_cannot_be_sealed_for_the_node_is_named_unavailable() {
    // A node id that is not a DNS label cannot be bound into a delivery.
    let key = NodeSealKey::generate().unwrap();
    let mut state = ClusterState::new();
    state.put_node(node("n_1", Some(&key)));
    state.put_secret(secret("s1", b"one"));
    state.put_task(task("a", "n_1", TaskState::Assigned, &["s1"], &[]));
    let n = NodeId::new("n_1");
    let plan = AssignmentPlan::for_node(&state, &n, &[]);
    let generation = plan.generation();
    let a = plan.seal();
    assert!(a.secrets.is_empty());
    assert_eq!(a.unavailable.len(), 1);
    assert_eq!(a.unavailable[0].item, ItemId::Secret("s1".into()));
    assert!(
        a.unavailable[0]
            .reason
            .starts_with("secret s1 cannot be sealed: "),
        "{}",
        a.unavailable[0].reason
    );
    // The agent is not asked to come back for it at once.
    assert!(AssignmentPlan::unchanged(&state, &n, generation, &[]));
}

#[test]
fn an_answer_carries_a_bounded_number_of_item_bytes() {
    let mut w = world();
    let big = vec![7u8; swarm_secrets::limits::MAX_SECRET_BYTES];
    let names: Vec<String> = (0..20).map(|i| format!("big{i:02}")).collect();
    for name in &names {
        w.state.put_secret(secret(name, &big));
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    w.state
        .put_task(task("e", "n1", TaskState::Assigned, &refs, &[]));
    let plan = AssignmentPlan::for_node(&w.state, &"n1".into(), &[]);
    let first = plan.items_to_send();
    assert!(plan.deferred() > 0);
    let bytes: usize = plan.secrets.iter().map(|s| s.data.len()).sum();
    assert!(bytes <= MAX_ASSIGNMENT_ITEM_BYTES);
    assert!(!plan.seal().complete);

    // The next call, holding those, gets the rest.
    let next = AssignmentPlan::for_node(&w.state, &"n1".into(), &first);
    let rest = next.items_to_send();
    assert!(rest.iter().all(|i| !first.contains(i)));
    assert_eq!(first.len() + rest.len(), 22, "20 big secrets, s1 and c1");
    assert!(next.seal().complete);
}

#[test]
fn a_node_with_too_many_tasks_gets_its_unfinished_ones_first() {
    let mut state = ClusterState::new();
    for i in 0..MAX_ASSIGNED_TASKS {
        state.put_task(task(&format!("a{i:05}"), "n1", TaskState::Failed, &[], &[]));
    }
    state.put_task(task("z-live", "n1", TaskState::Running, &[], &[]));
    let tasks = assigned_tasks(&state, &"n1".into());
    assert_eq!(tasks.len(), MAX_ASSIGNED_TASKS);
    assert_eq!(tasks.last().map(|t| t.id.as_str()), Some("z-live"));
    assert!(tasks.windows(2).all(|w| w[0].id < w[1].id));
}

#[test]
fn a_status_the_agent_reported_is_no_new_set_and_for_node_if_changed_agrees() {
    let mut w = world();
    let n1 = NodeId::new("n1");
    let plan = AssignmentPlan::for_node(&w.state, &n1, &[]);
    let (generation, holding) = (plan.generation(), plan.items_to_send());
    assert!(AssignmentPlan::for_node_if_changed(&w.state, &n1, generation, &holding).is_none());
    // b (running) reports again, with a newer status: the same set.
    let mut b = w.state.task(&"b".into()).unwrap().clone();
    b.status.message = "still running".into();
    b.meta.version = Version(2);
    w.state.put_task(b);
    assert!(AssignmentPlan::unchanged(
        &w.state, &n1, generation, &holding
    ));
    // a goes from assigned to accepted: no news either. Then it is asked to stop: a new set.
    let mut a = w.state.task(&"a".into()).unwrap().clone();
    a.status.state = TaskState::Accepted;
    a.meta.version = Version(2);
    w.state.put_task(a.clone());
    assert!(AssignmentPlan::unchanged(
        &w.state, &n1, generation, &holding
    ));
    a.desired_state = TaskState::Shutdown;
    a.meta.version = Version(3);
    w.state.put_task(a);
    let changed = AssignmentPlan::for_node_if_changed(&w.state, &n1, generation, &holding)
        .expect("a new set");
    let fresh = AssignmentPlan::for_node(&w.state, &n1, &holding);
    assert_eq!(changed.generation(), fresh.generation());
    assert_ne!(changed.generation(), generation);
    assert_eq!(ids(changed.tasks()), ids(fresh.tasks()));
    // The agent applied it and keeps what it is told to keep: nothing more to learn.
    let (generation, keep) = (fresh.generation(), fresh.seal().keep);
    assert!(AssignmentPlan::for_node_if_changed(&w.state, &n1, generation, &keep).is_none());
}

#[test]
fn an_agent_that_knows_the_last_set_sent_gets_the_changes_only() {
    let mut w = world();
    let n1 = NodeId::new("n1");
    let mut first = AssignmentPlan::for_node(&w.state, &n1, &[]);
    let sent = first.take_sent();
    let whole = first.seal();
    assert_eq!((whole.base_generation, whole.removed.len()), (0, 0));
    let keep = whole.keep.clone();
    // The pending task is placed, b is asked to stop, old is deleted.
    let mut placed = w.state.task(&"p".into()).unwrap().clone();
    placed.status.state = TaskState::Assigned;
    placed.meta.version = Version(2);
    w.state.put_task(placed);
    let mut stop = w.state.task(&"b".into()).unwrap().clone();
    stop.desired_state = TaskState::Shutdown;
    stop.meta.version = Version(2);
    w.state.put_task(stop);
    w.state.remove_task(&"old".into());
    let mut plan =
        AssignmentPlan::for_node_since(&w.state, &n1, whole.generation, &keep, Some(&sent))
            .expect("the set changed");
    assert_eq!(plan.base_generation(), whole.generation);
    let next = plan.take_sent();
    let changes = plan.seal();
    assert_eq!(ids(&changes.tasks), ["b", "p"], "a is unchanged");
    assert_eq!(changes.removed, [TaskId::new("old")]);
    // The same generation as the whole set would have; the items are for the whole set.
    let again = AssignmentPlan::for_node(&w.state, &n1, &keep).seal();
    assert_eq!(changes.generation, again.generation);
    assert_eq!(next.generation, again.generation);
    assert_eq!(changes.keep, again.keep);
    assert_eq!(ids(&again.tasks), ["a", "b", "p"]);
    // An agent at another generation (an answer lost), or one that knows none, gets it all.
    for known in [0, whole.generation ^ 1] {
        let plan = AssignmentPlan::for_node_since(&w.state, &n1, known, &keep, Some(&sent))
            .expect("changed");
        assert_eq!(plan.base_generation(), 0);
        assert_eq!(ids(plan.tasks()), ["a", "b", "p"]);
    }
}
