//! The secret, config and network control steps over a `ClusterState`.

use crate::manager::control::object_fixture::{Objects, at};
use crate::manager::control::{
    ControlError, ObjectType, create_network, create_secret, find_config, find_network,
    find_secret, list_secrets, remove_config, remove_network, remove_secret, remove_service,
    update_config, update_secret,
};
use crate::model::{
    ConfigReference, ConfigSpec, FileTarget, IpamConfig, IpamOptions, NetworkAttachment,
    NetworkAttachmentConfig, NetworkSpec, SecretReference, SecretSpec, ServiceSpec, TaskState,
    Version,
};

fn using_secret(name: &str, secret: &str) -> ServiceSpec {
    let mut spec = ServiceSpec::new(name, "app:1");
    spec.task_template.container.secrets = vec![SecretReference {
        secret_id: "".into(),
        secret_name: secret.into(),
        target: FileTarget::new(secret),
    }];
    spec
}

#[test]
fn a_secret_is_stored_with_its_value_and_never_read_back_with_it() {
    let mut o = Objects::new();
    let id = o.secret("db-password", b"s3cr3t-value");
    // The store holds the value (encrypted at rest by the managers' store).
    assert_eq!(o.state.secrets()[&id].spec.data.expose(), b"s3cr3t-value");
    let info = find_secret(&o.state, "db-password").unwrap();
    assert_eq!(info.id, id);
    assert_eq!(info.name, "db-password");
    let listed = list_secrets(&o.state);
    assert_eq!(listed, std::slice::from_ref(&info));
    let json = serde_json::to_string(&listed).unwrap();
    assert!(!json.contains("s3cr3t"));
    assert!(!format!("{info:?}").contains("s3cr3t"));

    // Names are unique; the size limit is swarm-secrets'.
    let state = o.state.clone();
    let again = SecretSpec::new("db-password", b"other".to_vec());
    let err = create_secret(&state, &again, at(5), &mut o.rng()).unwrap_err();
    assert!(matches!(
        err,
        ControlError::NameInUse {
            kind: ObjectType::Secret,
            ..
        }
    ));
    let big = SecretSpec::new(
        "big",
        vec![b'x'; swarm_secrets::limits::MAX_SECRET_BYTES + 1],
    );
    let ControlError::InvalidSpec(errors) =
        create_secret(&state, &big, at(5), &mut o.rng()).unwrap_err()
    else {
        panic!("invalid spec expected");
    };
    assert!(errors.has_field("data"));
}

#[test]
fn a_secret_in_use_is_not_removed_and_the_refusal_names_the_services() {
    let mut o = Objects::new();
    let secret = o.secret("api-keys", b"k");
    let api = o.service(using_secret("nerd-dinner-api", "api-keys"));
    o.service(using_secret("nerd-dinner-web", "api-keys"));
    let err = remove_secret(&o.state, "api-keys").unwrap_err();
    assert!(matches!(err, ControlError::InUse { .. }));
    let text = err.to_string();
    assert!(text.starts_with(&format!(r#"secret "api-keys" ({secret}) is in use by "#)));
    assert!(text.contains(&format!(r#"service "nerd-dinner-api" ({api})"#)));
    assert!(text.contains(r#"service "nerd-dinner-web""#));

    let writes = remove_service(&o.state, "nerd-dinner-api").unwrap();
    o.apply(&writes);
    let writes = remove_service(&o.state, "nerd-dinner-web").unwrap();
    o.apply(&writes);
    let writes = remove_secret(&o.state, &secret.as_str()[..10]).unwrap();
    o.apply(&writes);
    assert!(o.state.secrets().is_empty());
}

#[test]
fn configs_are_read_back_with_their_data_and_not_removed_while_used() {
    let mut o = Objects::new();
    let id = o.config("nerd-dinner-config", b"{\"a\":1}");
    assert_eq!(
        find_config(&o.state, "nerd-dinner-config")
            .unwrap()
            .spec
            .data
            .as_bytes(),
        b"{\"a\":1}"
    );
    let mut spec = ServiceSpec::new("web", "web:1");
    spec.task_template.container.configs = vec![ConfigReference {
        config_id: "".into(),
        config_name: "nerd-dinner-config".into(),
        target: FileTarget::new("config.json"),
    }];
    o.service(spec);
    let err = remove_config(&o.state, id.as_str()).unwrap_err();
    assert!(err.to_string().contains(r#"in use by service "web""#));
}

#[test]
fn networks_get_a_free_subnet_of_the_pool_or_their_own() {
    let mut o = Objects::new();
    let first = o.network(NetworkSpec::new("nd-swarm"));
    let second = o.network(NetworkSpec::new("backend"));
    fn ipam(o: &Objects, id: &crate::model::NetworkId) -> Vec<IpamConfig> {
        o.state.networks()[id].allocated_ipam.clone()
    }
    assert_eq!(
        ipam(&o, &first),
        [IpamConfig {
            subnet: "10.0.0.0/24".into(),
            range: None,
            gateway: Some("10.0.0.1".into()),
        }]
    );
    assert_eq!(ipam(&o, &second)[0].subnet, "10.0.1.0/24");

    let mut own = NetworkSpec::new("own");
    own.ipam = IpamOptions {
        configs: vec![IpamConfig {
            subnet: "10.0.2.0/23".into(),
            ..IpamConfig::default()
        }],
        ..IpamOptions::default()
    };
    let own = o.network(own);
    assert_eq!(ipam(&o, &own)[0].gateway.as_deref(), Some("10.0.2.1"));
    // The next carved subnet skips the /23.
    let next = o.network(NetworkSpec::new("next"));
    assert_eq!(ipam(&o, &next)[0].subnet, "10.0.4.0/24");

    let state = o.state.clone();
    let mut overlapping = NetworkSpec::new("clash");
    overlapping.ipam.configs = vec![IpamConfig {
        subnet: "10.0.1.128/25".into(),
        ..IpamConfig::default()
    }];
    let err = create_network(&state, &overlapping, at(5), &mut o.rng()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            r#"network "clash": subnet 10.0.1.128/25 overlaps 10.0.1.0/24 of network "backend" ({second})"#
        )
    );
    let mut bridge = NetworkSpec::new("local");
    bridge.driver = "bridge".into();
    assert!(matches!(
        create_network(&state, &bridge, at(5), &mut o.rng()),
        Err(ControlError::UnsupportedNetworkDriver { .. })
    ));
    assert!(matches!(
        create_network(&state, &NetworkSpec::new("backend"), at(5), &mut o.rng()),
        Err(ControlError::NameInUse { .. })
    ));
    let mut ingress = NetworkSpec::new("ingress");
    ingress.ingress = true;
    o.network(ingress.clone());
    ingress.name = "ingress-2".into();
    let state = o.state.clone();
    assert!(matches!(
        create_network(&state, &ingress, at(5), &mut o.rng()),
        Err(ControlError::SecondIngress { .. })
    ));
    assert_eq!(find_network(&o.state, "own").unwrap().id, own);
}

#[test]
fn a_network_in_use_by_a_service_or_a_task_is_not_removed() {
    let mut o = Objects::new();
    let net = o.network(NetworkSpec::new("nd-swarm"));
    let mut spec = ServiceSpec::new("nats", "nats:2");
    spec.task_template.networks = vec![NetworkAttachmentConfig {
        target: "nd-swarm".into(),
        aliases: vec![],
    }];
    let nats = o.service(spec);
    let task = o.task(&nats, 1);
    let err = remove_network(&o.state, "nd-swarm").unwrap_err();
    assert!(err.to_string().contains(r#"in use by service "nats""#));

    // The service is gone but its task still holds an address there.
    o.edit_task(&task, |t| {
        t.networks = vec![NetworkAttachment {
            network_id: net.clone(),
            network_name: "nd-swarm".into(),
            addresses: vec!["10.0.0.3/24".into()],
            aliases: vec!["nats".into()],
        }];
        t.status.state = TaskState::Running;
    });
    let writes = remove_service(&o.state, "nats").unwrap();
    o.apply(&writes);
    let err = remove_network(&o.state, "nd-swarm").unwrap_err();
    assert!(err.to_string().contains(&format!("in use by task {task}")));

    // Once it ended and is not wanted running, the network can go.
    o.edit_task(&task, |t| {
        t.status.state = TaskState::Shutdown;
        t.desired_state = TaskState::Shutdown;
    });
    let writes = remove_network(&o.state, "nd-swarm").unwrap();
    o.apply(&writes);
    assert!(o.state.networks().is_empty());
}

#[test]
fn only_the_labels_of_a_secret_or_config_change_and_the_refusal_names_it() {
    let mut o = Objects::new();
    let secret = o.secret("tls", b"certificate one");
    let config = o.config("app", b"{}");
    let version = o.state.secrets()[&secret].meta.version;

    // The same spec asks for no write; new labels are one write at the version read.
    let same = SecretSpec::new("tls", b"certificate one".to_vec());
    assert!(
        update_secret(&o.state, "tls", version, &same, at(5))
            .unwrap()
            .writes
            .is_empty()
    );
    let mut labelled = same.clone();
    labelled.labels.insert("env".into(), "prod".into());
    let writes = update_secret(&o.state, "tls", version, &labelled, at(5)).unwrap();
    o.apply(&writes);
    let stored = &o.state.secrets()[&secret];
    assert_eq!(stored.spec.labels["env"], "prod");
    assert_eq!(stored.spec.data.expose(), b"certificate one");
    assert_eq!(stored.meta.updated_at, at(5));

    // Another value, or a stale version, is refused naming the secret.
    let now = o.state.secrets()[&secret].meta.version;
    let other = SecretSpec::new("tls", b"certificate two".to_vec());
    let err = update_secret(&o.state, "tls", now, &other, at(6)).unwrap_err();
    assert!(
        matches!(err, ControlError::OnlyLabelsMayChange { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("\"tls\""), "{err}");
    assert!(err.to_string().contains("only updates to Labels"), "{err}");
    assert!(!err.to_string().contains("certificate"), "{err}");
    let err = update_secret(&o.state, "tls", Version(now.0 + 7), &labelled, at(6)).unwrap_err();
    assert!(err.is_conflict(), "{err}");

    let config_version = o.state.configs()[&config].meta.version;
    let mut spec = ConfigSpec::new("app", b"{}".to_vec());
    spec.labels.insert("tier".into(), "web".into());
    let writes = update_config(&o.state, "app", config_version, &spec, at(7)).unwrap();
    o.apply(&writes);
    assert_eq!(o.state.configs()[&config].spec.labels["tier"], "web");
    let now = o.state.configs()[&config].meta.version;
    let changed = ConfigSpec::new("app", b"{\"debug\":true}".to_vec());
    let err = update_config(&o.state, "app", now, &changed, at(8)).unwrap_err();
    assert!(
        matches!(err, ControlError::OnlyLabelsMayChange { .. }),
        "{err}"
    );
    let renamed = ConfigSpec::new("app2", b"{}".to_vec());
    assert!(update_config(&o.state, "app", now, &renamed, at(8)).is_err());
}

#[test]
fn an_update_without_data_changes_the_labels_and_keeps_the_data() {
    let mut o = Objects::new();
    let secret = o.secret("tls", b"certificate one");
    let config = o.config("app", b"{}");

    let version = o.state.secrets()[&secret].meta.version;
    let mut labels_only = SecretSpec::new("tls", Vec::new());
    labels_only.labels.insert("env".into(), "prod".into());
    let writes = update_secret(&o.state, "tls", version, &labels_only, at(5)).unwrap();
    o.apply(&writes);
    let stored = &o.state.secrets()[&secret];
    assert_eq!(stored.spec.labels["env"], "prod");
    assert_eq!(stored.spec.data.expose(), b"certificate one");
    // Invalid labels are still refused.
    let now = stored.meta.version;
    let mut bad = SecretSpec::new("tls", Vec::new());
    bad.labels.insert(String::new(), "x".into());
    let err = update_secret(&o.state, "tls", now, &bad, at(6)).unwrap_err();
    assert!(matches!(err, ControlError::InvalidSpec(_)), "{err}");

    let version = o.state.configs()[&config].meta.version;
    let mut labels_only = ConfigSpec::new("app", Vec::new());
    labels_only.labels.insert("tier".into(), "web".into());
    let writes = update_config(&o.state, "app", version, &labels_only, at(7)).unwrap();
    o.apply(&writes);
    let stored = &o.state.configs()[&config];
    assert_eq!(stored.spec.labels["tier"], "web");
    assert_eq!(stored.spec.data.as_bytes(), b"{}");
    // Without data the name must still match.
    let renamed = ConfigSpec::new("app2", Vec::new());
    let err = update_config(&o.state, "app", stored.meta.version, &renamed, at(8)).unwrap_err();
    assert!(
        matches!(err, ControlError::OnlyLabelsMayChange { .. }),
        "{err}"
    );
}
