//! Every node, secret, config and network rule, with the exact message it produces.

use swarm_core::model::{
    ConfigSpec, IpamConfig, MAX_CONFIG_DATA_BYTES, NetworkSpec, Node, NodeDescription, NodeSpec,
    SecretSpec,
};
use swarm_core::validate::{PREDEFINED_NETWORK_LABEL, Validate};
use swarm_secrets::limits::MAX_SECRET_BYTES;

fn err(v: &impl Validate) -> String {
    match v.validate() {
        Ok(()) => panic!("unexpectedly valid"),
        Err(e) => e.to_string(),
    }
}

fn ok(v: &impl Validate) {
    if let Err(e) = v.validate() {
        panic!("unexpectedly invalid: {e}");
    }
}

const NAME_RULE: &str = "is not a valid name (letters, digits, '-', '_' and '.', starting and ending with a letter or digit)";

// ---- nodes

#[test]
fn a_node_name_is_optional_but_a_host_name_when_set() {
    ok(&NodeSpec::default());
    ok(&NodeSpec {
        name: "worker-1.eu.example".into(),
        ..NodeSpec::default()
    });
    let spec = NodeSpec {
        name: "bad name".into(),
        ..NodeSpec::default()
    };
    assert_eq!(
        err(&spec),
        r#"node "bad name": name: "bad name" is not a valid DNS name (dot-separated labels of letters, digits, '-' and '_', at most 253 characters)"#
    );
}

#[test]
fn node_label_keys_must_not_be_empty_and_the_node_is_named_by_its_hostname() {
    let mut node = Node {
        id: "n1".into(),
        description: Some(NodeDescription {
            hostname: "edge-7".into(),
            ..NodeDescription::default()
        }),
        ..Node::default()
    };
    ok(&node);
    node.spec.labels.insert(String::new(), "x".into());
    assert_eq!(
        err(&node),
        r#"node "edge-7": labels: an entry has an empty key"#
    );
    node.description = None;
    assert_eq!(
        err(&node),
        r#"node "n1": labels: an entry has an empty key"#
    );
}

// ---- secrets

#[test]
fn a_secret_with_a_name_and_data_is_valid() {
    ok(&SecretSpec::new(
        "nerd-dinner-db-password",
        b"s3cr3t".to_vec(),
    ));
    ok(&SecretSpec::new("a.b_c-1", vec![0u8; MAX_SECRET_BYTES]));
}

#[test]
fn secret_name_rules() {
    assert_eq!(
        err(&SecretSpec::new("", b"x".to_vec())),
        r#"secret "": name: must not be empty"#
    );
    for bad in [".hidden", "trailing-", "with space", "slash/y"] {
        assert_eq!(
            err(&SecretSpec::new(bad, b"x".to_vec())),
            format!(r#"secret {bad:?}: name: {bad:?} {NAME_RULE}"#)
        );
    }
    let long = "s".repeat(65);
    assert_eq!(
        err(&SecretSpec::new(long.as_str(), b"x".to_vec())),
        format!(r#"secret "{long}": name: 65 characters is above the maximum of 64"#)
    );
    ok(&SecretSpec::new("s".repeat(64), b"x".to_vec()));
}

#[test]
fn secret_data_is_between_1_byte_and_500_kib() {
    assert_eq!(
        err(&SecretSpec::new("pw", Vec::new())),
        r#"secret "pw": data: must not be empty"#
    );
    assert_eq!(
        err(&SecretSpec::new("pw", vec![7u8; 600 * 1024])),
        r#"secret "pw": data: 600 KiB is above the maximum of 500 KiB"#
    );
    assert_eq!(
        err(&SecretSpec::new("pw", vec![7u8; MAX_SECRET_BYTES + 1])),
        r#"secret "pw": data: 512001 bytes is above the maximum of 500 KiB"#
    );
}

#[test]
fn secret_label_keys_must_not_be_empty() {
    let mut s = SecretSpec::new("pw", b"x".to_vec());
    s.labels.insert(String::new(), String::new());
    assert_eq!(err(&s), r#"secret "pw": labels: an entry has an empty key"#);
}

// ---- configs

#[test]
fn config_rules() {
    ok(&ConfigSpec::new("homepage", b"<h1>hi</h1>".to_vec()));
    ok(&ConfigSpec::new("big", vec![b'x'; MAX_CONFIG_DATA_BYTES]));
    assert_eq!(
        err(&ConfigSpec::new("big", vec![b'x'; 1001 * 1024])),
        r#"config "big": data: 1001 KiB is above the maximum of 1000 KiB"#
    );
    assert_eq!(
        err(&ConfigSpec::new("-c", Vec::new())),
        format!(r#"config "-c": name: "-c" {NAME_RULE}; config "-c": data: must not be empty"#)
    );
    let mut c = ConfigSpec::new("c", b"x".to_vec());
    c.labels.insert(String::new(), String::new());
    assert_eq!(err(&c), r#"config "c": labels: an entry has an empty key"#);
}

// ---- networks

fn pool(subnet: &str, range: Option<&str>, gateway: Option<&str>) -> IpamConfig {
    IpamConfig {
        subnet: subnet.into(),
        range: range.map(String::from),
        gateway: gateway.map(String::from),
    }
}

#[test]
fn a_plain_overlay_network_is_valid() {
    ok(&NetworkSpec::new("nd-net"));
    let mut n = NetworkSpec::new("nd-net");
    n.attachable = true;
    n.ipam.configs = vec![
        pool("10.0.9.0/24", Some("10.0.9.128/25"), Some("10.0.9.1")),
        pool("10.0.10.0/24", None, None),
        pool("fd00:1::/64", Some("fd00:1::/80"), Some("fd00:1::1")),
    ];
    ok(&n);
}

#[test]
fn network_name_rules() {
    assert_eq!(
        err(&NetworkSpec::new("")),
        r#"network "": name: must not be empty"#
    );
    assert_eq!(
        err(&NetworkSpec::new("my.net")),
        r#"network "my.net": name: "my.net" is not a valid DNS label (letters, digits, '-' and '_', starting and ending with a letter or digit)"#
    );
}

#[test]
fn network_driver_labels_and_ingress_rules() {
    let mut n = NetworkSpec::new("net");
    n.driver.clear();
    n.ipam.driver.clear();
    n.attachable = true;
    n.ingress = true;
    n.labels
        .insert(PREDEFINED_NETWORK_LABEL.into(), "true".into());
    n.labels.insert(String::new(), String::new());
    n.driver_options.insert(String::new(), "1".into());
    assert_eq!(
        err(&n),
        [
            r#"network "net": labels: an entry has an empty key"#,
            r#"network "net": labels: label "com.docker.swarm.predefined" is reserved for networks the cluster creates"#,
            r#"network "net": driver: must not be empty"#,
            r#"network "net": driver_options: an entry has an empty key"#,
            r#"network "net": attachable: an ingress network cannot be attachable"#,
            r#"network "net": ipam.driver: must not be empty"#,
        ]
        .join("; ")
    );
}

#[test]
fn ipam_subnets_ranges_and_gateways() {
    let mut n = NetworkSpec::new("net");
    n.ipam.configs = vec![
        pool("10.0.0.0/33", None, None),
        pool("10.1.0.0/16", Some("10.2.0.0/24"), Some("10.2.0.1")),
        pool("10.3.0.0/16", Some("10.3.0.0/8"), Some("not-an-ip")),
        pool("10.4.0.0/16", Some("garbage"), Some("fd00::1")),
        pool("10.1.5.0/24", None, None),
        pool("fd00::/200", None, None),
        pool("10.5.0.0", None, None),
    ];
    assert_eq!(
        err(&n),
        [
            r#"network "net": ipam.configs[0].subnet: "10.0.0.0/33" is not a valid CIDR subnet"#,
            r#"network "net": ipam.configs[1].range: "10.2.0.0/24" is not inside subnet "10.1.0.0/16""#,
            r#"network "net": ipam.configs[1].gateway: "10.2.0.1" is not inside subnet "10.1.0.0/16""#,
            r#"network "net": ipam.configs[2].range: "10.3.0.0/8" is not inside subnet "10.3.0.0/16""#,
            r#"network "net": ipam.configs[2].gateway: "not-an-ip" is not a valid IP address"#,
            r#"network "net": ipam.configs[3].range: "garbage" is not a valid CIDR subnet"#,
            r#"network "net": ipam.configs[3].gateway: "fd00::1" is not inside subnet "10.4.0.0/16""#,
            r#"network "net": ipam.configs[4].subnet: "10.1.5.0/24" overlaps "10.1.0.0/16" of ipam.configs[1]"#,
            r#"network "net": ipam.configs[5].subnet: "fd00::/200" is not a valid CIDR subnet"#,
            r#"network "net": ipam.configs[6].subnet: "10.5.0.0" is not a valid CIDR subnet"#,
        ]
        .join("; ")
    );
}

#[test]
fn a_wider_later_subnet_overlaps_an_earlier_narrower_one() {
    let mut n = NetworkSpec::new("net");
    n.ipam.configs = vec![
        pool("192.168.1.0/24", None, None),
        pool("192.168.0.0/16", None, None),
    ];
    assert_eq!(
        err(&n),
        r#"network "net": ipam.configs[1].subnet: "192.168.0.0/16" overlaps "192.168.1.0/24" of ipam.configs[0]"#
    );
    n.ipam.configs = vec![pool("0.0.0.0/0", None, None), pool("::/0", None, None)];
    ok(&n);
}

// ---- cluster

#[test]
fn the_default_cluster_spec_is_valid_and_follows_swarmkit() {
    use std::time::Duration;
    use swarm_core::model::ClusterSpec;
    let spec = ClusterSpec::default();
    ok(&spec);
    assert_eq!(spec.dispatcher.heartbeat_period, Duration::from_millis(500));
    assert_eq!(spec.dispatcher.heartbeat_grace_multiplier, 4);
    assert_eq!(spec.raft.snapshot_interval_entries, 10_000);
    assert_eq!(
        spec.ca_config.node_cert_expiry,
        Duration::from_secs(90 * 86_400)
    );
    let bare: ClusterSpec = serde_json::from_str("{}").unwrap();
    assert_eq!(bare, spec);
}

#[test]
fn cluster_rules() {
    use std::time::Duration;
    use swarm_core::model::ClusterSpec;
    let mut spec = ClusterSpec {
        name: "prod_eu".into(),
        ..ClusterSpec::default()
    };
    spec.dispatcher.heartbeat_period = Duration::from_millis(1);
    spec.raft.heartbeat_interval = Duration::from_millis(50);
    spec.raft.election_timeout = Duration::from_millis(150);
    spec.ca_config.node_cert_expiry = Duration::from_secs(3600);
    ok(&spec);

    spec.dispatcher.heartbeat_period = Duration::ZERO;
    spec.dispatcher.heartbeat_grace_multiplier = 0;
    spec.raft.snapshot_interval_entries = 0;
    spec.raft.heartbeat_interval = Duration::from_secs(2);
    spec.raft.election_timeout = Duration::from_secs(2);
    spec.ca_config.node_cert_expiry = Duration::from_secs(59 * 60);
    assert_eq!(
        err(&spec),
        [
            r#"cluster "prod_eu": dispatcher.heartbeat_period: 0ns is below the minimum of 1ms"#,
            r#"cluster "prod_eu": dispatcher.heartbeat_grace_multiplier: 0 is below the minimum of 1"#,
            r#"cluster "prod_eu": raft.snapshot_interval_entries: 0 is below the minimum of 1"#,
            r#"cluster "prod_eu": raft.election_timeout: 2s must be above the heartbeat interval of 2s"#,
            r#"cluster "prod_eu": ca_config.node_cert_expiry: 59m is below the minimum of 1h"#,
        ]
        .join("; ")
    );

    let mut spec = ClusterSpec::default();
    spec.name.clear();
    spec.ca_config.node_cert_expiry = Duration::from_secs(11 * 365 * 86_400);
    spec.dispatcher.heartbeat_period = Duration::from_secs(400 * 86_400);
    assert_eq!(
        err(&spec),
        [
            r#"cluster "": name: must not be empty"#,
            r#"cluster "": dispatcher.heartbeat_period: 400d is above the maximum of 365d"#,
            r#"cluster "": ca_config.node_cert_expiry: 4015d is above the maximum of 3650d"#,
        ]
        .join("; ")
    );
}
