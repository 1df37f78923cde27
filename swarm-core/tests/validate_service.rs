//! Every service rule, with the exact message it produces.

use std::time::Duration;
use swarm_core::model::{
    ConfigReference, EndpointSpec, FailureAction, FileTarget, GenericResource, HealthCheck, Mount,
    MountType, NetworkAttachmentConfig, PlacementPreference, Platform, PortConfig, Protocol,
    PublishMode, ResolutionMode, Resources, SecretReference, ServiceMode, ServiceSpec,
    UpdateConfig,
};
use swarm_core::validate::{MAX_REPORTED_ERRORS, Validate};

fn web() -> ServiceSpec {
    ServiceSpec::new("web", "nginx:1.27")
}

/// The full error text of an invalid spec.
fn err(spec: &ServiceSpec) -> String {
    match spec.validate() {
        Ok(()) => panic!("spec {spec:?} unexpectedly valid"),
        Err(e) => e.to_string(),
    }
}

fn ok(spec: &ServiceSpec) {
    if let Err(e) = spec.validate() {
        panic!("spec unexpectedly invalid: {e}");
    }
}

const DNS_RULE: &str = "is not a valid DNS label (letters, digits, '-' and '_', starting and ending with a letter or digit)";

#[test]
fn a_default_service_is_valid() {
    ok(&web());
    let mut s = web();
    s.name = "nerd-dinner_homepage2".into();
    s.mode = ServiceMode::Global;
    s.update_config = Some(UpdateConfig::default());
    s.rollback_config = Some(UpdateConfig::default());
    s.endpoint_spec = Some(EndpointSpec::default());
    ok(&s);
}

#[test]
fn name_must_not_be_empty() {
    let mut s = web();
    s.name.clear();
    assert_eq!(err(&s), r#"service "": name: must not be empty"#);
}

#[test]
fn name_at_most_63_characters() {
    let mut s = web();
    s.name = "a".repeat(63);
    ok(&s);
    s.name = "a".repeat(64);
    assert_eq!(
        err(&s),
        format!(
            r#"service "{}": name: 64 characters is above the maximum of 63"#,
            s.name
        )
    );
}

#[test]
fn name_must_be_a_dns_label() {
    for bad in ["-web", "web-", "web.app", "we b", "wéb", "_web"] {
        let mut s = web();
        s.name = bad.into();
        assert_eq!(
            err(&s),
            format!(r#"service {bad:?}: name: {bad:?} {DNS_RULE}"#)
        );
    }
    for good in ["Web", "w", "9lives", "a-_b", "a__b"] {
        let mut s = web();
        s.name = good.into();
        ok(&s);
    }
}

#[test]
fn long_and_invalid_name_reports_both_rules() {
    let mut s = web();
    s.name = format!("{}!", "a".repeat(70));
    assert_eq!(
        err(&s),
        format!(
            r#"service "{n}": name: 71 characters is above the maximum of 63; service "{n}": name: "{n}" {DNS_RULE}"#,
            n = s.name
        )
    );
}

#[test]
fn label_keys_must_not_be_empty() {
    let mut s = web();
    s.labels.insert(String::new(), "x".into());
    assert_eq!(
        err(&s),
        r#"service "web": labels: an entry has an empty key"#
    );
}

#[test]
fn replicated_job_needs_at_least_one_concurrent_task_and_completion() {
    let mut s = web();
    s.mode = ServiceMode::ReplicatedJob {
        max_concurrent: 0,
        total_completions: 0,
    };
    assert_eq!(
        err(&s),
        r#"service "web": mode.replicated_job.max_concurrent: 0 is below the minimum of 1; service "web": mode.replicated_job.total_completions: 0 is below the minimum of 1"#
    );
}

#[test]
fn replicated_job_max_concurrent_at_most_total_completions() {
    let mut s = web();
    s.mode = ServiceMode::ReplicatedJob {
        max_concurrent: 5,
        total_completions: 3,
    };
    assert_eq!(
        err(&s),
        r#"service "web": mode.replicated_job.max_concurrent: 5 is above total_completions (3)"#
    );
    s.mode = ServiceMode::ReplicatedJob {
        max_concurrent: 3,
        total_completions: 3,
    };
    ok(&s);
}

#[test]
fn jobs_cannot_have_update_or_rollback_configs() {
    let mut s = web();
    s.mode = ServiceMode::GlobalJob;
    ok(&s);
    s.update_config = Some(UpdateConfig::default());
    s.rollback_config = Some(UpdateConfig::default());
    assert_eq!(
        err(&s),
        r#"service "web": update_config: job services cannot have an update or rollback config; service "web": rollback_config: job services cannot have an update or rollback config"#
    );
}

#[test]
fn image_must_not_be_empty() {
    let mut s = web();
    s.task_template.container.image.clear();
    assert_eq!(
        err(&s),
        r#"service "web": task_template.container.image: must not be empty"#
    );
}

#[test]
fn env_entries_have_a_key_and_a_bare_key_unsets() {
    let mut s = web();
    s.task_template.container.env = vec![
        "A=1".into(),
        "EMPTY=".into(),
        "FOO".into(),
        "=bar".into(),
        "B=x=y".into(),
    ];
    assert_eq!(
        err(&s),
        r#"service "web": task_template.container.env[3]: "=bar" has an empty key"#
    );
}

#[test]
fn workdir_is_absolute_and_user_not_empty() {
    let mut s = web();
    s.task_template.container.workdir = Some("/app".into());
    s.task_template.container.user = Some("1000:1000".into());
    ok(&s);
    s.task_template.container.workdir = Some("app".into());
    s.task_template.container.user = Some(String::new());
    assert_eq!(
        err(&s),
        r#"service "web": task_template.container.workdir: "app" is not an absolute path; service "web": task_template.container.user: must not be empty"#
    );
    s.task_template.container.user = None;
    s.task_template.container.workdir = Some(String::new());
    assert_eq!(
        err(&s),
        r#"service "web": task_template.container.workdir: must not be empty"#
    );
}

fn mount(kind: MountType, source: &str, target: &str) -> Mount {
    Mount {
        kind,
        source: source.into(),
        target: target.into(),
        read_only: false,
    }
}

#[test]
fn mounts_have_absolute_unique_targets_and_fitting_sources() {
    let mut s = web();
    s.task_template.container.mounts = vec![
        mount(MountType::Bind, "/srv/data", "/data"),
        mount(MountType::Volume, "", "/anon"),
        mount(MountType::Tmpfs, "", "/tmp"),
    ];
    ok(&s);
    s.task_template.container.mounts = vec![
        mount(MountType::Volume, "db", "/data"),
        mount(MountType::Bind, "srv", "data"),
        mount(MountType::Bind, "", "/data"),
        mount(MountType::Tmpfs, "/x", "/t"),
    ];
    assert_eq!(
        err(&s),
        [
            r#"service "web": task_template.container.mounts[1].target: "data" is not an absolute path"#,
            r#"service "web": task_template.container.mounts[1].source: "srv" is not an absolute path"#,
            r#"service "web": task_template.container.mounts[2].target: "/data" is already mounted by mounts[0]"#,
            r#"service "web": task_template.container.mounts[2].source: must not be empty"#,
            r#"service "web": task_template.container.mounts[3].source: "/x" must be empty for a tmpfs mount"#,
        ]
        .join("; ")
    );
}

fn secret(name: &str, target: &str) -> SecretReference {
    SecretReference {
        secret_id: format!("id-{name}").as_str().into(),
        secret_name: name.into(),
        target: FileTarget::new(target),
    }
}

fn config(name: &str, target: &str) -> ConfigReference {
    ConfigReference {
        config_id: format!("id-{name}").as_str().into(),
        config_name: name.into(),
        target: FileTarget::new(target),
    }
}

#[test]
fn windows_paths_from_the_nerd_dinner_stack_are_absolute() {
    let mut s = web();
    s.task_template.container.workdir = Some(r"C:\dinner-api".into());
    s.task_template.container.mounts = vec![
        mount(MountType::Volume, "ch07-es-data", r"C:\data"),
        mount(
            MountType::Bind,
            r"\\.\pipe\docker_engine",
            r"\\.\pipe\docker_engine",
        ),
        mount(MountType::Bind, "D:/srv", "D:/srv"),
    ];
    s.task_template.container.secrets = vec![
        secret("docker-client-ca", r"C:\certs\ca.pem"),
        secret("docker-client-cert", r"C:\certs\cert.pem"),
    ];
    s.task_template.container.configs = vec![config(
        "nerd-dinner-api-config",
        r"C:\dinner-api\config\config.json",
    )];
    ok(&s);
    s.task_template.container.mounts = vec![mount(MountType::Volume, "v", r"C:data")];
    s.task_template.container.secrets = vec![secret("a", r"..\..\Windows\x")];
    assert_eq!(
        err(&s),
        [
            r#"service "web": task_template.container.mounts[0].target: "C:data" is not an absolute path"#,
            r#"service "web": task_template.container.secrets[0].target.name: "..\\..\\Windows\\x" must not contain '..' components"#,
        ]
        .join("; ")
    );
}

#[test]
fn two_secrets_to_the_same_target_name_both() {
    let mut s = web();
    s.task_template.container.secrets = vec![
        secret("db-password", "password"),
        secret("api-key", "password"),
    ];
    assert_eq!(
        err(&s),
        r#"service "web": task_template.container.secrets[1].target.name: secret "db-password" and secret "api-key" both target "password""#
    );
}

#[test]
fn two_configs_to_the_same_target_name_both() {
    let mut s = web();
    s.task_template.container.configs = vec![
        config("homepage-v1", "/usr/share/nginx/html/index.html"),
        config("homepage-v2", "/usr/share/nginx/html/index.html"),
    ];
    assert_eq!(
        err(&s),
        r#"service "web": task_template.container.configs[1].target.name: config "homepage-v1" and config "homepage-v2" both target "/usr/share/nginx/html/index.html""#
    );
}

#[test]
fn a_secret_and_a_config_may_share_a_target_name() {
    // They land in different directories (/run/secrets and the config directory).
    let mut s = web();
    s.task_template.container.secrets = vec![secret("a", "app.conf")];
    s.task_template.container.configs = vec![config("a", "app.conf")];
    ok(&s);
}

#[test]
fn secret_references_need_id_name_and_target() {
    let mut s = web();
    s.task_template.container.secrets = vec![SecretReference {
        secret_id: "".into(),
        secret_name: String::new(),
        target: FileTarget::new(""),
    }];
    assert_eq!(
        err(&s),
        [
            r#"service "web": task_template.container.secrets[0].secret_id: must not be empty"#,
            r#"service "web": task_template.container.secrets[0].secret_name: must not be empty"#,
            r#"service "web": task_template.container.secrets[0].target.name: must not be empty"#,
        ]
        .join("; ")
    );
}

#[test]
fn config_references_need_id_and_name() {
    let mut s = web();
    s.task_template.container.configs = vec![ConfigReference {
        config_id: "".into(),
        config_name: String::new(),
        target: FileTarget::new("x"),
    }];
    assert_eq!(
        err(&s),
        r#"service "web": task_template.container.configs[0].config_id: must not be empty; service "web": task_template.container.configs[0].config_name: must not be empty"#
    );
}

#[test]
fn referenced_secret_and_config_names_follow_the_name_rule() {
    let mut s = web();
    s.task_template.container.secrets = vec![secret("bad name", "a")];
    s.task_template.container.configs = vec![config(".dot", "b")];
    assert_eq!(
        err(&s),
        [
            r#"service "web": task_template.container.secrets[0].secret_name: "bad name" is not a valid name (letters, digits, '-', '_' and '.', starting and ending with a letter or digit)"#,
            r#"service "web": task_template.container.configs[0].config_name: ".dot" is not a valid name (letters, digits, '-', '_' and '.', starting and ending with a letter or digit)"#,
        ]
        .join("; ")
    );
}

#[test]
fn file_targets_stay_inside_their_directory() {
    let mut s = web();
    s.task_template.container.secrets = vec![secret("a", "../../etc/shadow")];
    assert_eq!(
        err(&s),
        r#"service "web": task_template.container.secrets[0].target.name: "../../etc/shadow" must not contain '..' components"#
    );
    s.task_template.container.secrets =
        vec![secret("a", "conf/..data/x"), secret("b", "/etc/app/key")];
    ok(&s);
}

#[test]
fn file_owner_ids_are_numeric_and_mode_at_most_0o777() {
    let mut s = web();
    let mut r = secret("a", "a");
    r.target.uid = "root".into();
    r.target.gid = "+5".into();
    r.target.mode = 0o1777;
    s.task_template.container.secrets = vec![r];
    assert_eq!(
        err(&s),
        [
            r#"service "web": task_template.container.secrets[0].target.uid: "root" is not a numeric id"#,
            r#"service "web": task_template.container.secrets[0].target.gid: "+5" is not a numeric id"#,
            r#"service "web": task_template.container.secrets[0].target.mode: 0o1777 is not a valid file mode (the maximum is 0o777)"#,
        ]
        .join("; ")
    );
    let mut r = config("c", "c");
    r.target.uid = "1000".into();
    r.target.gid = String::new();
    r.target.mode = 0o400;
    s.task_template.container.secrets.clear();
    s.task_template.container.configs = vec![r];
    assert_eq!(
        err(&s),
        r#"service "web": task_template.container.configs[0].target.gid: "" is not a numeric id"#
    );
}

#[test]
fn healthcheck_test_has_a_known_form() {
    let mut s = web();
    for good in [
        vec![],
        vec!["NONE"],
        vec!["CMD", "curl", "-f", "http://localhost"],
        vec!["CMD-SHELL", "curl -f http://localhost || exit 1"],
    ] {
        s.task_template.container.healthcheck = Some(HealthCheck {
            test: good.into_iter().map(String::from).collect(),
            ..HealthCheck::default()
        });
        ok(&s);
    }
    for bad in [
        vec!["CURL", "x"],
        vec!["CMD"],
        vec!["CMD-SHELL", "a", "b"],
        vec!["NONE", "x"],
    ] {
        let test: Vec<String> = bad.into_iter().map(String::from).collect();
        s.task_template.container.healthcheck = Some(HealthCheck {
            test: test.clone(),
            ..HealthCheck::default()
        });
        assert_eq!(
            err(&s),
            format!(
                r#"service "web": task_template.container.healthcheck.test: {test:?} must be ["NONE"], ["CMD", program, args...] or ["CMD-SHELL", command]"#
            )
        );
    }
}

#[test]
fn healthcheck_durations_are_at_least_1ms_when_set() {
    let mut s = web();
    s.task_template.container.healthcheck = Some(HealthCheck {
        test: vec!["CMD".into(), "true".into()],
        interval: Duration::from_micros(500),
        timeout: Duration::from_nanos(1),
        start_period: Duration::from_micros(999),
        retries: 3,
    });
    assert_eq!(
        err(&s),
        [
            r#"service "web": task_template.container.healthcheck.interval: 500µs is below the minimum of 1ms"#,
            r#"service "web": task_template.container.healthcheck.timeout: 1ns is below the minimum of 1ms"#,
            r#"service "web": task_template.container.healthcheck.start_period: 999µs is below the minimum of 1ms"#,
        ]
        .join("; ")
    );
    s.task_template.container.healthcheck = Some(HealthCheck {
        test: vec!["CMD".into(), "true".into()],
        interval: Duration::from_millis(1),
        timeout: Duration::ZERO,
        start_period: Duration::ZERO,
        retries: 0,
    });
    ok(&s);
}

#[test]
fn stop_signal_is_a_known_signal() {
    let mut s = web();
    for good in [
        "SIGTERM",
        "TERM",
        "sigquit",
        "9",
        "64",
        "SIGRTMIN+3",
        "RTMAX-2",
        "SIGWINCH",
    ] {
        s.task_template.container.stop_signal = Some(good.into());
        ok(&s);
    }
    for bad in ["SIGFOO", "0", "65", "", "SIGRTMIN+31", "RTMIN+x"] {
        s.task_template.container.stop_signal = Some(bad.into());
        assert_eq!(
            err(&s),
            format!(
                r#"service "web": task_template.container.stop_signal: {bad:?} is not a known signal"#
            )
        );
    }
}

const MIB: i64 = 1024 * 1024;

fn reserve(nano_cpus: i64, memory_bytes: i64) -> Option<Resources> {
    Some(Resources {
        nano_cpus,
        memory_bytes,
        generic: Vec::new(),
    })
}

#[test]
fn memory_reservation_below_4_mib_is_refused() {
    let mut s = web();
    s.task_template.resources.reservations = reserve(0, MIB);
    assert_eq!(
        err(&s),
        r#"service "web": task_template.resources.reservations.memory_bytes: 1 MiB is below the minimum of 4 MiB"#
    );
    s.task_template.resources.reservations = reserve(0, 4 * MIB);
    ok(&s);
}

#[test]
fn memory_limit_below_4_mib_or_negative_is_refused() {
    let mut s = web();
    s.task_template.resources.limits = reserve(0, 3_000_000);
    assert_eq!(
        err(&s),
        r#"service "web": task_template.resources.limits.memory_bytes: 3000000 bytes is below the minimum of 4 MiB"#
    );
    s.task_template.resources.limits = reserve(0, -MIB);
    assert_eq!(
        err(&s),
        r#"service "web": task_template.resources.limits.memory_bytes: must not be negative, got -1 MiB"#
    );
}

#[test]
fn cpu_below_a_hundredth_or_negative_is_refused() {
    let mut s = web();
    s.task_template.resources.limits = reserve(5_000_000, 0);
    s.task_template.resources.reservations = reserve(-1, 0);
    assert_eq!(
        err(&s),
        r#"service "web": task_template.resources.limits.nano_cpus: 0.005 CPU is below the minimum of 0.01 CPU; service "web": task_template.resources.reservations.nano_cpus: must not be negative, got -0.000000001 CPU"#
    );
    s.task_template.resources.limits = reserve(10_000_000, 0);
    s.task_template.resources.reservations = reserve(10_000_000, 0);
    ok(&s);
}

#[test]
fn reservations_must_fit_within_limits() {
    let mut s = web();
    s.task_template.resources.limits = reserve(1_500_000_000, 256 * MIB);
    s.task_template.resources.reservations = reserve(2_000_000_000, 512 * MIB);
    assert_eq!(
        err(&s),
        r#"service "web": task_template.resources.reservations.memory_bytes: reservation of 512 MiB is above the limit of 256 MiB; service "web": task_template.resources.reservations.nano_cpus: reservation of 2 CPU is above the limit of 1.5 CPU"#
    );
    // No limit means unlimited.
    s.task_template.resources.limits = reserve(0, 0);
    ok(&s);
}

#[test]
fn generic_resources_are_reserved_as_positive_unique_counts() {
    let mut s = web();
    s.task_template.resources.limits = Some(Resources {
        generic: vec![GenericResource::Discrete {
            kind: "gpu".into(),
            value: 1,
        }],
        ..Resources::default()
    });
    s.task_template.resources.reservations = Some(Resources {
        generic: vec![
            GenericResource::Discrete {
                kind: "ssd".into(),
                value: 1,
            },
            GenericResource::Discrete {
                kind: "ssd".into(),
                value: 0,
            },
            GenericResource::Named {
                kind: "gpu".into(),
                value: "GPU-1".into(),
            },
            GenericResource::Discrete {
                kind: String::new(),
                value: 2,
            },
        ],
        ..Resources::default()
    });
    assert_eq!(
        err(&s),
        [
            r#"service "web": task_template.resources.limits.generic[0]: generic resources can be reserved, not limited"#,
            r#"service "web": task_template.resources.reservations.generic[1]: "ssd" is already reserved by generic[0]"#,
            r#"service "web": task_template.resources.reservations.generic[1].value: 0 is below the minimum of 1"#,
            r#"service "web": task_template.resources.reservations.generic[2]: named resource "gpu"="GPU-1" cannot be reserved by a task, reserve a count of "gpu" instead"#,
            r#"service "web": task_template.resources.reservations.generic[3].kind: must not be empty"#,
        ]
        .join("; ")
    );
}

#[test]
fn constraints_are_key_op_value_over_known_attributes() {
    let mut s = web();
    s.task_template.placement.constraints = vec![
        "node.role==manager".into(),
        "node.labels.zone != eu-1".into(),
        "engine.labels.os==linux".into(),
        "node.platform.arch==x86_64".into(),
        "node.hostname==host-1".into(),
        "node.id==abc".into(),
        "node.ip==10.0.0.0/8".into(),
        "node.platform.os==linux".into(),
    ];
    ok(&s);
    s.task_template.placement.constraints = vec![
        "node.role=manager".into(),
        "1abc==x".into(),
        "node.rol==manager".into(),
        "node.labels.a==<x".into(),
        "node.role==boss".into(),
        "node.labels.a==".into(),
        "node.ip==10.0.0.300".into(),
    ];
    assert_eq!(
        err(&s),
        [
            r#"service "web": task_template.placement.constraints[0]: invalid constraint "node.role=manager" at position 9: expected operator "==" or "!=", found "=""#,
            r#"service "web": task_template.placement.constraints[1]: invalid constraint "1abc==x" at position 0: unknown key "1abc" (expected node.id, node.hostname, node.role, node.ip, node.platform.os, node.platform.arch, node.labels.<name> or engine.labels.<name>)"#,
            r#"service "web": task_template.placement.constraints[2]: invalid constraint "node.rol==manager" at position 0: unknown key "node.rol" (expected node.id, node.hostname, node.role, node.ip, node.platform.os, node.platform.arch, node.labels.<name> or engine.labels.<name>)"#,
            r#"service "web": task_template.placement.constraints[3]: invalid constraint "node.labels.a==<x" at position 15: character '<' is not allowed in a value"#,
            r#"service "web": task_template.placement.constraints[4]: "node.role==boss" compares node.role with "boss", which is neither manager nor worker"#,
            r#"service "web": task_template.placement.constraints[5]: invalid constraint "node.labels.a==" at position 15: empty value after the operator"#,
            r#"service "web": task_template.placement.constraints[6]: invalid constraint "node.ip==10.0.0.300" at position 9: "10.0.0.300" is neither an IP address nor a CIDR block"#,
        ]
        .join("; ")
    );
}

#[test]
fn spread_preferences_name_a_node_attribute() {
    let mut s = web();
    s.task_template.placement.preferences = vec![
        PlacementPreference::Spread {
            spread_descriptor: "node.labels.zone".into(),
        },
        PlacementPreference::Spread {
            spread_descriptor: "zone".into(),
        },
        PlacementPreference::Spread {
            spread_descriptor: String::new(),
        },
        PlacementPreference::Spread {
            spread_descriptor: "engine.labels.rack".into(),
        },
    ];
    assert_eq!(
        err(&s),
        [
            r#"service "web": task_template.placement.preferences[1].spread.spread_descriptor: "zone" is not a node or engine label (use node.labels.<name> or engine.labels.<name>)"#,
            r#"service "web": task_template.placement.preferences[2].spread.spread_descriptor: must not be empty"#,
        ]
        .join("; ")
    );
}

#[test]
fn max_replicas_per_node_only_for_replicated_services() {
    let mut s = web();
    s.task_template.placement.max_replicas = 2;
    ok(&s);
    // The CLI allows --replicas-max-per-node on a replicated job, and SwarmKit applies it.
    s.mode = ServiceMode::ReplicatedJob {
        max_concurrent: 1,
        total_completions: 3,
    };
    ok(&s);
    s.mode = ServiceMode::Global;
    assert_eq!(
        err(&s),
        r#"service "web": task_template.placement.max_replicas: only replicated services and replicated jobs can limit tasks per node, this one is global"#
    );
}

#[test]
fn platforms_name_an_os() {
    let mut s = web();
    s.task_template.placement.platforms =
        vec![Platform::new("linux", ""), Platform::new("", "arm64")];
    assert_eq!(
        err(&s),
        r#"service "web": task_template.placement.platforms[1].os: must not be empty"#
    );
}

#[test]
fn networks_are_named_once_with_dns_aliases() {
    let mut s = web();
    s.task_template.networks = vec![
        NetworkAttachmentConfig {
            target: "front".into(),
            aliases: vec!["www".into(), "www.nerd-dinner.local".into()],
        },
        NetworkAttachmentConfig {
            target: "front".into(),
            aliases: vec!["-bad".into(), String::new()],
        },
        NetworkAttachmentConfig::default(),
    ];
    assert_eq!(
        err(&s),
        [
            r#"service "web": task_template.networks[1].target: "front" is already attached by networks[0]"#,
            r#"service "web": task_template.networks[1].aliases[0]: "-bad" is not a valid DNS name (dot-separated labels of letters, digits, '-' and '_', at most 253 characters)"#,
            r#"service "web": task_template.networks[1].aliases[1]: must not be empty"#,
            r#"service "web": task_template.networks[2].target: must not be empty"#,
        ]
        .join("; ")
    );
}

#[test]
fn max_failure_ratio_is_between_0_and_1() {
    let mut s = web();
    for good in [0.0, 0.25, 1.0] {
        s.update_config = Some(UpdateConfig {
            max_failure_ratio: good,
            ..UpdateConfig::default()
        });
        ok(&s);
    }
    for (bad, shown) in [(1.5, "1.5"), (-0.1, "-0.1"), (f64::NAN, "NaN")] {
        s.update_config = Some(UpdateConfig {
            max_failure_ratio: bad,
            ..UpdateConfig::default()
        });
        assert_eq!(
            err(&s),
            format!(
                r#"service "web": update_config.max_failure_ratio: {shown} is not between 0 and 1"#
            )
        );
    }
    s.update_config = None;
    s.rollback_config = Some(UpdateConfig {
        max_failure_ratio: 2.0,
        ..UpdateConfig::default()
    });
    assert_eq!(
        err(&s),
        r#"service "web": rollback_config.max_failure_ratio: 2 is not between 0 and 1"#
    );
}

#[test]
fn a_rollback_cannot_fail_into_a_rollback() {
    let mut s = web();
    s.update_config = Some(UpdateConfig {
        failure_action: FailureAction::Rollback,
        ..UpdateConfig::default()
    });
    ok(&s);
    s.rollback_config = Some(UpdateConfig {
        failure_action: FailureAction::Rollback,
        ..UpdateConfig::default()
    });
    assert_eq!(
        err(&s),
        r#"service "web": rollback_config.failure_action: rollback is not a valid failure action of a rollback (use pause or continue)"#
    );
}

fn port(target: u32, published: u32, protocol: Protocol, mode: PublishMode) -> PortConfig {
    PortConfig {
        name: String::new(),
        protocol,
        target_port: target,
        published_port: published,
        publish_mode: mode,
    }
}

#[test]
fn ports_are_in_range() {
    let mut s = web();
    s.endpoint_spec = Some(EndpointSpec {
        mode: ResolutionMode::Vip,
        ports: vec![
            port(0, 0, Protocol::Tcp, PublishMode::Ingress),
            port(70000, 70000, Protocol::Udp, PublishMode::Host),
            port(65535, 65535, Protocol::Sctp, PublishMode::Ingress),
        ],
    });
    assert_eq!(
        err(&s),
        [
            r#"service "web": endpoint_spec.ports[0].target_port: 0 is not between 1 and 65535"#,
            r#"service "web": endpoint_spec.ports[1].target_port: 70000 is not between 1 and 65535"#,
            r#"service "web": endpoint_spec.ports[1].published_port: 70000 is above the maximum of 65535"#,
        ]
        .join("; ")
    );
}

#[test]
fn a_published_port_and_protocol_is_used_once() {
    let mut s = web();
    s.endpoint_spec = Some(EndpointSpec {
        mode: ResolutionMode::Vip,
        ports: vec![
            port(80, 8080, Protocol::Tcp, PublishMode::Ingress),
            port(80, 8080, Protocol::Udp, PublishMode::Ingress),
            port(81, 0, Protocol::Tcp, PublishMode::Ingress),
            port(82, 0, Protocol::Tcp, PublishMode::Ingress),
            port(443, 8080, Protocol::Tcp, PublishMode::Host),
        ],
    });
    assert_eq!(
        err(&s),
        r#"service "web": endpoint_spec.ports[4].published_port: 8080/tcp is already published by ports[0]"#
    );
}

#[test]
fn dnsrr_cannot_publish_through_ingress() {
    let mut s = web();
    s.endpoint_spec = Some(EndpointSpec {
        mode: ResolutionMode::Dnsrr,
        ports: vec![
            port(80, 80, Protocol::Tcp, PublishMode::Host),
            port(81, 81, Protocol::Tcp, PublishMode::Ingress),
        ],
    });
    assert_eq!(
        err(&s),
        r#"service "web": endpoint_spec.ports[1].publish_mode: ingress publishing cannot be used with dnsrr resolution mode"#
    );
}

#[test]
fn every_broken_rule_is_reported_in_field_order() {
    let mut s = web();
    s.task_template.container.image.clear();
    s.task_template.resources.reservations = reserve(0, MIB);
    s.update_config = Some(UpdateConfig {
        max_failure_ratio: 3.0,
        ..UpdateConfig::default()
    });
    let e = s.validate().unwrap_err();
    assert_eq!(e.total(), 3);
    let fields: Vec<&str> = e.errors().iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "task_template.container.image",
            "task_template.resources.reservations.memory_bytes",
            "update_config.max_failure_ratio",
        ]
    );
    assert!(e.has_field("task_template.container.image"));
    assert!(!e.is_retryable());
    assert_eq!(e.errors()[1].object, "web");
}

#[test]
fn errors_beyond_the_cap_are_counted_not_kept() {
    let mut s = web();
    s.task_template.container.env = vec!["=bad".to_owned(); MAX_REPORTED_ERRORS + 50];
    let e = s.validate().unwrap_err();
    assert_eq!(e.errors().len(), MAX_REPORTED_ERRORS);
    assert_eq!(e.total(), MAX_REPORTED_ERRORS + 50);
    assert!(e.to_string().ends_with("; and 50 more"), "{e}");
}

#[test]
fn durations_are_at_most_a_year() {
    use swarm_core::validate::MAX_SPEC_DURATION;
    let year_and_a_bit = MAX_SPEC_DURATION + Duration::from_secs(90);
    let mut s = web();
    s.task_template.container.stop_grace_period = MAX_SPEC_DURATION;
    ok(&s);
    s.task_template.container.stop_grace_period = year_and_a_bit;
    s.task_template.container.healthcheck = Some(HealthCheck {
        test: vec!["NONE".into()],
        timeout: Duration::from_secs(400 * 86_400 + 3_600),
        ..HealthCheck::default()
    });
    s.task_template.restart_policy.delay = year_and_a_bit;
    s.task_template.restart_policy.window = year_and_a_bit;
    s.update_config = Some(UpdateConfig {
        delay: year_and_a_bit,
        monitor: year_and_a_bit,
        ..UpdateConfig::default()
    });
    s.rollback_config = Some(UpdateConfig {
        monitor: year_and_a_bit,
        ..UpdateConfig::default()
    });
    let max = "is above the maximum of 365d";
    assert_eq!(
        err(&s),
        [
            format!(r#"service "web": task_template.container.healthcheck.timeout: 400d1h {max}"#),
            format!(r#"service "web": task_template.container.stop_grace_period: 365d1m30s {max}"#),
            format!(r#"service "web": task_template.restart_policy.delay: 365d1m30s {max}"#),
            format!(r#"service "web": task_template.restart_policy.window: 365d1m30s {max}"#),
            format!(r#"service "web": update_config.delay: 365d1m30s {max}"#),
            format!(r#"service "web": update_config.monitor: 365d1m30s {max}"#),
            format!(r#"service "web": rollback_config.monitor: 365d1m30s {max}"#),
        ]
        .join("; ")
    );
}

#[test]
fn replicas_and_concurrency_are_bounded() {
    use swarm_core::validate::MAX_SERVICE_TASKS;
    let mut s = web();
    s.mode = ServiceMode::Replicated {
        replicas: MAX_SERVICE_TASKS,
    };
    ok(&s);
    s.mode = ServiceMode::Replicated {
        replicas: MAX_SERVICE_TASKS * 10,
    };
    assert_eq!(
        err(&s),
        r#"service "web": mode.replicated.replicas: 10000000 is above the maximum of 1000000"#
    );
    s.mode = ServiceMode::ReplicatedJob {
        max_concurrent: u64::MAX,
        total_completions: u64::MAX,
    };
    assert_eq!(
        err(&s),
        r#"service "web": mode.replicated_job.max_concurrent: 18446744073709551615 is above the maximum of 1000000"#
    );
}
