//! Placement constraints as swarm-core reads them: through swarm-sched's parser, the one home of
//! the constraint language.

use swarm_core::model::ServiceSpec;
use swarm_core::validate::Validate;
use swarm_sched::{Constraint, ConstraintErrorKind, ConstraintKey, Operator};

#[test]
fn keys_name_node_attributes() {
    let exprs = [
        "node.id==x",
        "node.hostname==x",
        "NODE.ROLE==worker",
        "node.ip==10.0.0.1",
        "node.platform.os==linux",
        "node.platform.arch==arm64",
        "node.labels.Zone==eu",
        "Engine.Labels.gpu==yes",
    ];
    let keys: Vec<ConstraintKey> = exprs
        .iter()
        .map(|e| Constraint::parse(e).map(|c| c.key))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        keys,
        [
            ConstraintKey::NodeId,
            ConstraintKey::Hostname,
            ConstraintKey::Role,
            ConstraintKey::Ip,
            ConstraintKey::PlatformOs,
            ConstraintKey::PlatformArch,
            ConstraintKey::NodeLabel("Zone".into()),
            ConstraintKey::EngineLabel("gpu".into()),
        ]
    );
    // swarm-core's validation accepts every one of them.
    let mut spec = ServiceSpec::new("web", "nginx:1.27");
    spec.task_template.placement.constraints = exprs.map(String::from).to_vec();
    assert_eq!(spec.validate(), Ok(()));
}

#[test]
fn operators_and_spaces() {
    let c = Constraint::parse("  node.labels.ssd  !=  true ").unwrap();
    assert_eq!(c.op, Operator::Ne);
    assert_eq!(c.value, "true");
    assert_eq!(c.to_string(), "node.labels.ssd!=true");
    assert_eq!(Constraint::parse(&c.to_string()).unwrap(), c);
    // One operator per constraint: the first one found splits key from value, and a second one
    // is refused.
    assert_eq!(
        Constraint::parse("node.labels.a!=b==c").unwrap_err().kind,
        ConstraintErrorKind::SecondOperator
    );
    // node.ip takes an address or a subnet.
    for good in [
        "node.ip==10.0.0.7",
        "node.ip!=10.0.0.0/8",
        "node.ip==fd00::1",
        "node.ip==fd00::/64",
    ] {
        assert!(Constraint::parse(good).is_ok(), "{good}");
    }
    // Values may hold regex-like characters and paths.
    assert!(Constraint::parse("node.labels.path==/srv/data(1)|[x]*").is_ok());
}

#[test]
fn errors() {
    assert_eq!(
        Constraint::parse("node.labels.==x")
            .unwrap_err()
            .to_string(),
        r#"invalid constraint "node.labels.==x" at position 12: label name missing after "labels.""#
    );
    assert_eq!(
        Constraint::parse("a==b").unwrap_err().to_string(),
        r#"invalid constraint "a==b" at position 0: unknown key "a" (expected node.id, node.hostname, node.role, node.ip, node.platform.os, node.platform.arch, node.labels.<name> or engine.labels.<name>)"#
    );
    assert_eq!(
        Constraint::parse("node.labels.a==b~c")
            .unwrap_err()
            .to_string(),
        r#"invalid constraint "node.labels.a==b~c" at position 16: character '~' is not allowed in a value"#
    );
    // A malformed constraint makes a spec invalid, and retrying does not help.
    let mut spec = ServiceSpec::new("web", "nginx:1.27");
    spec.task_template.placement.constraints = vec!["x".into()];
    assert!(!spec.validate().unwrap_err().is_retryable());
}

#[test]
fn parsed_constraint_has_key_operator_and_trimmed_value() {
    let c = Constraint::parse("node.labels.zone == eu-1").unwrap();
    assert_eq!(c.key, ConstraintKey::NodeLabel("zone".into()));
    assert_eq!(c.op, Operator::Eq);
    assert_eq!(c.value, "eu-1");
    assert_eq!(
        Constraint::parse("node.role=manager")
            .unwrap_err()
            .to_string(),
        r#"invalid constraint "node.role=manager" at position 9: expected operator "==" or "!=", found "=""#,
    );
}
