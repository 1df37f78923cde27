//! The model round-trips through JSON, fills SwarmKit's defaults and never prints secret data.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};
use swarm_core::model::*;

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

fn round_trip<T>(value: &T) -> T
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let json = serde_json::to_string(value).expect("model types serialize");
    serde_json::from_str(&json).expect("what was serialized deserializes")
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn full_service_spec() -> ServiceSpec {
    let mut spec = ServiceSpec::new(
        "nerd-dinner-homepage",
        "dockeronwindows/ch07-nerd-dinner-homepage:2e",
    );
    spec.labels = labels(&[("com.example.tier", "web")]);
    spec.mode = ServiceMode::ReplicatedJob {
        max_concurrent: 2,
        total_completions: 10,
    };
    let c = &mut spec.task_template.container;
    c.command = vec!["/bin/app".into()];
    c.args = vec!["--port".into(), "80".into()];
    c.env = vec!["A=1".into()];
    c.workdir = Some("/app".into());
    c.user = Some("1000:1000".into());
    c.hostname = Some("web".into());
    c.mounts = vec![Mount {
        kind: MountType::Tmpfs,
        source: String::new(),
        target: "/cache".into(),
        read_only: true,
    }];
    c.secrets = vec![SecretReference {
        secret_id: "sec1".into(),
        secret_name: "db-password".into(),
        target: FileTarget {
            name: "password".into(),
            uid: "1000".into(),
            gid: "1000".into(),
            mode: 0o400,
        },
    }];
    c.configs = vec![ConfigReference {
        config_id: "cfg1".into(),
        config_name: "homepage".into(),
        target: FileTarget::new("/usr/share/nginx/html/index.html"),
    }];
    c.healthcheck = Some(HealthCheck {
        test: vec!["CMD-SHELL".into(), "curl -f http://localhost/".into()],
        interval: Duration::from_secs(10),
        timeout: Duration::from_millis(2500),
        retries: 5,
        start_period: Duration::from_secs(30),
    });
    c.stop_signal = Some("SIGQUIT".into());
    c.stop_grace_period = Duration::from_secs(30);
    spec.task_template.resources = ResourceRequirements {
        limits: Some(Resources {
            nano_cpus: 1_500_000_000,
            memory_bytes: 512 << 20,
            generic: Vec::new(),
        }),
        reservations: Some(Resources {
            nano_cpus: 250_000_000,
            memory_bytes: 128 << 20,
            generic: vec![GenericResource::Discrete {
                kind: "gpu".into(),
                value: 1,
            }],
        }),
    };
    spec.task_template.restart_policy = RestartPolicy {
        condition: RestartCondition::OnFailure,
        delay: Duration::from_secs(1),
        max_attempts: 3,
        window: Duration::from_secs(120),
    };
    spec.task_template.placement = Placement {
        constraints: vec!["node.platform.os==linux".into()],
        preferences: vec![PlacementPreference::Spread {
            spread_descriptor: "node.labels.zone".into(),
        }],
        max_replicas: 2,
        platforms: vec![Platform::new("linux", "amd64")],
    };
    spec.task_template.networks = vec![NetworkAttachmentConfig {
        target: "nd-net".into(),
        aliases: vec!["homepage".into()],
    }];
    spec.task_template.force_update = 2;
    spec.update_config = Some(UpdateConfig {
        parallelism: 5,
        delay: Duration::from_secs(10),
        failure_action: FailureAction::Rollback,
        monitor: Duration::from_secs(30),
        max_failure_ratio: 0.2,
        order: UpdateOrder::StartFirst,
    });
    spec.rollback_config = Some(UpdateConfig {
        failure_action: FailureAction::Continue,
        ..UpdateConfig::default()
    });
    spec.endpoint_spec = Some(EndpointSpec {
        mode: ResolutionMode::Dnsrr,
        ports: vec![PortConfig {
            name: "http".into(),
            protocol: Protocol::Sctp,
            target_port: 80,
            published_port: 8080,
            publish_mode: PublishMode::Host,
        }],
    });
    spec
}

#[test]
fn a_full_service_round_trips_in_snake_case() {
    let spec = full_service_spec();
    let service = Service {
        id: "svc1".into(),
        meta: Meta::new(Version(42), at(0)),
        spec: spec.clone(),
        spec_version: Version(3),
        previous_spec: Some(ServiceSpec::new("nerd-dinner-homepage", "old:1")),
        previous_spec_version: Some(Version(2)),
        update_status: Some(UpdateStatus {
            state: UpdateState::RollbackPaused,
            started_at: at(10),
            completed_at: Some(at(20)),
            message: "paused".into(),
        }),
        endpoint: Some(Endpoint {
            spec: EndpointSpec::default(),
            ports: vec![],
            virtual_ips: vec![VirtualIp {
                network_id: "net1".into(),
                addr: "10.0.1.2/24".into(),
            }],
        }),
        job_status: None,
    };
    assert_eq!(round_trip(&service), service);
    let json = serde_json::to_string(&spec).unwrap();
    for needle in [
        r#""replicated_job":{"max_concurrent":2,"total_completions":10}"#,
        r#""condition":"on_failure""#,
        r#""order":"start_first""#,
        r#""failure_action":"rollback""#,
        r#""mode":"dnsrr""#,
        r#""publish_mode":"host""#,
        r#""protocol":"sctp""#,
        r#""type":"tmpfs""#,
        r#""spread":{"spread_descriptor":"node.labels.zone"}"#,
        r#""task_template":"#,
        r#""memory_bytes":536870912"#,
    ] {
        assert!(json.contains(needle), "{needle} not in {json}");
    }
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["update_config"]["max_failure_ratio"], 0.2);
}

#[test]
fn a_minimal_service_gets_swarmkit_defaults() {
    let spec: ServiceSpec =
        serde_json::from_str(r#"{"name":"web","task_template":{"container":{"image":"nginx"}}}"#)
            .unwrap();
    assert_eq!(spec, ServiceSpec::new("web", "nginx"));
    assert_eq!(spec.mode, ServiceMode::Replicated { replicas: 1 });
    let t = &spec.task_template;
    assert_eq!(t.restart_policy.condition, RestartCondition::Any);
    assert_eq!(t.restart_policy.delay, Duration::from_secs(5));
    assert_eq!(t.restart_policy.max_attempts, 0);
    assert_eq!(t.container.stop_grace_period, Duration::from_secs(10));
    assert_eq!(
        ContainerSpec::default().stop_grace_period,
        DEFAULT_STOP_GRACE_PERIOD
    );
    for u in [
        spec.effective_update_config(),
        spec.effective_rollback_config(),
    ] {
        assert_eq!(u.parallelism, 1);
        assert_eq!(u.delay, Duration::ZERO);
        assert_eq!(u.failure_action, FailureAction::Pause);
        assert_eq!(u.monitor, Duration::from_secs(5));
        assert_eq!(u.max_failure_ratio, 0.0);
        assert_eq!(u.order, UpdateOrder::StopFirst);
    }
    assert_eq!(DEFAULT_TASK_HISTORY_RETENTION_LIMIT, 5);
    // A file target without owner or mode gets Docker's.
    let target: FileTarget = serde_json::from_str(r#"{"name":"password"}"#).unwrap();
    assert_eq!(target, FileTarget::new("password"));
    assert_eq!(
        (target.uid.as_str(), target.gid.as_str(), target.mode),
        ("0", "0", 0o444)
    );
}

#[test]
fn docker_style_spellings_are_accepted() {
    let mode: ServiceMode =
        serde_json::from_str(r#"{"replicated-job":{"max_concurrent":1,"total_completions":1}}"#)
            .unwrap();
    assert!(mode.is_job() && !mode.is_global());
    assert_eq!(
        serde_json::from_str::<ServiceMode>(r#""global-job""#).unwrap(),
        ServiceMode::GlobalJob
    );
    assert_eq!(
        serde_json::from_str::<RestartCondition>(r#""on-failure""#).unwrap(),
        RestartCondition::OnFailure
    );
    assert_eq!(
        serde_json::from_str::<UpdateOrder>(r#""start-first""#).unwrap(),
        UpdateOrder::StartFirst
    );
    assert!(serde_json::from_str::<Protocol>(r#""icmp""#).is_err());
}

#[test]
fn a_full_node_round_trips() {
    let node = Node {
        id: "n1".into(),
        meta: Meta::new(Version(7), at(1)),
        spec: NodeSpec {
            name: "edge-1".into(),
            labels: labels(&[("zone", "eu-1"), ("ssd", "true")]),
            role: NodeRole::Manager,
            availability: NodeAvailability::Drain,
            membership: NodeMembership::Accepted,
        },
        description: Some(NodeDescription {
            hostname: "edge-1.local".into(),
            platform: Platform::new("linux", "arm64"),
            resources: Resources {
                nano_cpus: 4_000_000_000,
                memory_bytes: 8 << 30,
                generic: vec![
                    GenericResource::Discrete {
                        kind: "ssd".into(),
                        value: 2,
                    },
                    GenericResource::Named {
                        kind: "gpu".into(),
                        value: "GPU-7a1c".into(),
                    },
                ],
            },
            engine: EngineDescription {
                engine_version: "28.3.2".into(),
                labels: labels(&[("storage", "zfs")]),
            },
            seal_public_key: None,
        }),
        status: NodeStatus {
            state: NodeState::Disconnected,
            message: "heartbeat failure".into(),
            addr: "10.0.0.7".into(),
        },
        manager_status: Some(ManagerStatus {
            raft_id: 3,
            leader: true,
            reachability: Reachability::Reachable,
            addr: "10.0.0.7:2377".into(),
        }),
        advertise_addr: "10.0.0.7:2377".into(),
        certificate_not_after: Some(at(90)),
        certificate_root: Some(swarm_secrets::CaDigest::of_certificate(b"root")),
    };
    assert_eq!(round_trip(&node), node);
    assert_eq!(node.display_name(), "edge-1");
    let json = serde_json::to_string(&node).unwrap();
    assert!(json.contains(r#""availability":"drain""#), "{json}");
    assert!(json.contains(r#""state":"disconnected""#), "{json}");
    // An empty node gets defaults everywhere.
    let bare: Node = serde_json::from_str(r#"{"id":"n2"}"#).unwrap();
    assert_eq!(bare.spec.role, NodeRole::Worker);
    assert_eq!(bare.spec.availability, NodeAvailability::Active);
    assert_eq!(bare.status.state, NodeState::Unknown);
    assert_eq!(bare.display_name(), "n2");
}

#[test]
fn a_task_round_trips() {
    let mut task = Task::new(
        "t1".into(),
        "svc1".into(),
        full_service_spec().task_template,
        at(0),
    );
    task.slot = Some(3);
    task.node_id = Some("n1".into());
    task.spec_version = 4;
    task.assigned_resources = Some(Resources {
        nano_cpus: 250_000_000,
        memory_bytes: 128 << 20,
        generic: vec![GenericResource::Named {
            kind: "gpu".into(),
            value: "GPU-7a1c".into(),
        }],
    });
    let mut status = TaskStatus::new(TaskState::Failed, at(9), "exited");
    status.err = Some("non-zero exit".into());
    status.exit_code = Some(2);
    task.update_status(status).unwrap();
    task.set_desired_state(TaskState::Shutdown).unwrap();
    assert_eq!(round_trip(&task), task);
}

#[test]
fn secrets_configs_and_networks_round_trip() {
    let secret = Secret {
        id: "s1".into(),
        meta: Meta::new(Version(1), at(0)),
        spec: SecretSpec {
            name: "db-password".into(),
            labels: labels(&[("app", "nd")]),
            data: SecretData::new(vec![0, 1, 2, 255]),
        },
    };
    assert_eq!(round_trip(&secret), secret);
    let config = Config {
        id: "c1".into(),
        meta: Meta::default(),
        spec: ConfigSpec::new("homepage", b"<h1>hi</h1>".to_vec()),
    };
    assert_eq!(round_trip(&config), config);
    let network = Network {
        id: "net1".into(),
        meta: Meta::new(Version(2), at(3)),
        spec: NetworkSpec {
            name: "nd-net".into(),
            labels: labels(&[("a", "b")]),
            driver: "overlay".into(),
            driver_options: labels(&[("encrypted", "")]),
            ipam: IpamOptions {
                driver: "default".into(),
                configs: vec![IpamConfig {
                    subnet: "10.0.9.0/24".into(),
                    range: Some("10.0.9.0/25".into()),
                    gateway: Some("10.0.9.1".into()),
                }],
            },
            attachable: true,
            internal: true,
            ingress: false,
            ipv6_enabled: true,
        },
        allocated_ipam: vec![IpamConfig {
            subnet: "10.0.9.0/24".into(),
            range: None,
            gateway: Some("10.0.9.1".into()),
        }],
    };
    assert_eq!(round_trip(&network), network);
    let bare: NetworkSpec = serde_json::from_str(r#"{"name":"n"}"#).unwrap();
    assert_eq!(bare, NetworkSpec::new("n"));
    assert_eq!(bare.driver, DEFAULT_NETWORK_DRIVER);
    assert_eq!(bare.ipam.driver, "default");
}

#[test]
fn debug_never_prints_secret_or_config_data() {
    let secret = Secret {
        id: "s1".into(),
        meta: Meta::default(),
        spec: SecretSpec::new("db-password", b"correct horse battery staple".to_vec()),
    };
    let printed = format!("{secret:?} {secret:#?}");
    assert!(!printed.contains("correct horse"), "{printed}");
    assert!(
        printed.contains("SecretData(<redacted, 28 bytes>)"),
        "{printed}"
    );
    // Not even as a byte list.
    let bytes = format!("{:?}", b"correct horse battery staple".to_vec());
    assert!(!printed.contains(&bytes[1..20]), "{printed}");

    let config = ConfigSpec::new("homepage", b"password=hunter2".to_vec());
    let printed = format!("{config:?}");
    assert!(!printed.contains("hunter2"), "{printed}");
    assert!(printed.contains("ConfigData(<16 bytes>)"), "{printed}");
}

#[test]
fn secret_data_equality_and_access() {
    let a = SecretData::new(b"abc".to_vec());
    assert_eq!(a, SecretData::from(&b"abc"[..]));
    assert_ne!(a, SecretData::new(b"abd".to_vec()));
    assert_ne!(a, SecretData::new(b"ab".to_vec()));
    assert_eq!(a.expose(), b"abc");
    assert_eq!(a.len(), 3);
    assert!(SecretData::default().is_empty());
    // JSON holds the bytes as numbers; a non-byte is refused.
    assert_eq!(serde_json::to_string(&a).unwrap(), "[97,98,99]");
    assert!(serde_json::from_str::<SecretData>("[1,256]").is_err());
    // A JSON string is read as its UTF-8 bytes, handy for text configs.
    assert_eq!(
        serde_json::from_str::<ConfigData>(r#""<h1>hi</h1>""#).unwrap(),
        ConfigData::new(b"<h1>hi</h1>".to_vec())
    );
    assert!(serde_json::from_str::<ConfigData>("{}").is_err());
}

#[test]
fn meta_records_versions_and_times() {
    let mut meta = Meta::new(Version(1), at(0));
    meta.touch(Version(5), at(9));
    assert_eq!(meta.version.index(), 5);
    assert_eq!(meta.created_at, at(0));
    assert_eq!(meta.updated_at, at(9));
    assert_eq!(round_trip(&meta), meta);
    assert_eq!(serde_json::to_value(Version(5)).unwrap(), 5);
}

#[test]
fn displays_use_the_docker_words() {
    assert_eq!(NodeRole::Manager.to_string(), "manager");
    assert_eq!(NodeAvailability::Pause.to_string(), "pause");
    assert_eq!(NodeState::Down.to_string(), "down");
    assert_eq!(Reachability::Unreachable.to_string(), "unreachable");
    assert_eq!(RestartCondition::OnFailure.to_string(), "on-failure");
    assert_eq!(UpdateOrder::StartFirst.to_string(), "start-first");
    assert_eq!(FailureAction::Continue.to_string(), "continue");
    assert_eq!(ResolutionMode::Vip.to_string(), "vip");
    assert_eq!(PublishMode::Ingress.to_string(), "ingress");
    assert_eq!(Protocol::Udp.to_string(), "udp");
    assert_eq!(
        UpdateState::RollbackCompleted.to_string(),
        "rollback_completed"
    );
    assert_eq!(
        ServiceMode::Replicated { replicas: 3 }.to_string(),
        "replicated (3)"
    );
    assert_eq!(ServiceMode::GlobalJob.to_string(), "global-job");
}

#[test]
fn the_cluster_round_trips() {
    let mut cluster = Cluster {
        id: "c1".into(),
        meta: Meta::new(Version(1), at(0)),
        spec: ClusterSpec::default(),
        join_tokens: ClusterJoinTokens::default(),
        unlock_key: None,
        revoked_nodes: Default::default(),
        root_rotation: None,
    };
    cluster.spec.dispatcher.heartbeat_period = Duration::from_secs(1);
    cluster.spec.dispatcher.heartbeat_grace_multiplier = 3;
    cluster.spec.orchestration.task_history_retention_limit = 2;
    assert_eq!(round_trip(&cluster), cluster);
    assert_eq!(
        cluster.spec.dispatcher.heartbeat_grace_period(),
        Duration::from_secs(3)
    );
}
