//! Parsing of placement constraints.

use swarm_core::model::{Constraint, ConstraintError, ConstraintKey, ConstraintOp};

#[test]
fn keys_name_node_attributes() {
    let cases = [
        ("node.id==x", ConstraintKey::NodeId),
        ("node.hostname==x", ConstraintKey::NodeHostname),
        ("NODE.ROLE==worker", ConstraintKey::NodeRole),
        ("node.ip==10.0.0.1", ConstraintKey::NodeIp),
        ("node.platform.os==linux", ConstraintKey::PlatformOs),
        ("node.platform.arch==arm64", ConstraintKey::PlatformArch),
        (
            "node.labels.Zone==eu",
            ConstraintKey::NodeLabel("Zone".into()),
        ),
        (
            "Engine.Labels.gpu==yes",
            ConstraintKey::EngineLabel("gpu".into()),
        ),
    ];
    for (expr, key) in cases {
        assert_eq!(Constraint::parse(expr).unwrap().key, key, "{expr}");
    }
}

#[test]
fn operators_and_spaces() {
    let c = Constraint::parse("  node.labels.ssd  !=  true ").unwrap();
    assert_eq!(c.op, ConstraintOp::NotEq);
    assert_eq!(c.value, "true");
    assert_eq!(c.to_string(), "node.labels.ssd!=true");
    assert_eq!(Constraint::parse(&c.to_string()).unwrap(), c);
    // SwarmKit splits on `==` first.
    assert!(matches!(
        Constraint::parse("node.labels.a!=b==c"),
        Err(ConstraintError::InvalidKey { .. })
    ));
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
        r#""node.labels.==x" has an unknown key "node.labels." (use node.id, node.hostname, node.role, node.ip, node.platform.os, node.platform.arch, node.labels.<name> or engine.labels.<name>)"#
    );
    assert_eq!(
        Constraint::parse("a==b").unwrap_err().to_string(),
        r#""a==b" has an invalid key "a""#
    );
    assert_eq!(
        Constraint::parse("node.labels.a==b~c")
            .unwrap_err()
            .to_string(),
        r#""node.labels.a==b~c" has an invalid value "b~c""#
    );
    assert!(!Constraint::parse("x").unwrap_err().is_retryable());
}
