//! Reading compose files: interpolation, anchors and merge keys, override rules, each short and
//! long syntax, docker's warnings, and errors that name the file, the service and the field.
#![allow(clippy::unwrap_used)]

mod stack_support;

use proptest::prelude::*;
use stack_support::{convert_one, env, load_one, reader};
use std::collections::BTreeMap;
use std::time::Duration;
use swarm_core::model::{
    FailureAction, FileTarget, GenericResource, HealthCheck, MountType, PlacementPreference,
    PortConfig, Protocol, PublishMode, ResolutionMode, RestartCondition, ServiceMode, ServiceSpec,
    UpdateOrder,
};
use swarm_core::stack::{ComposeFile, Origin, StackError, StackObjects, convert, load};

fn no_env() -> BTreeMap<String, String> {
    BTreeMap::new()
}

fn web(objects: &StackObjects) -> &ServiceSpec {
    objects.service("web").unwrap()
}

fn error_of(yaml: &str) -> String {
    match convert_one(yaml) {
        Ok(_) => panic!("no error for {yaml}"),
        Err(e) => e.to_string(),
    }
}

fn merged(files: &[(&str, &str)]) -> StackObjects {
    let files: Vec<ComposeFile> = files
        .iter()
        .map(|(n, y)| ComposeFile::new(*n, *y))
        .collect();
    convert(&load(&files, &no_env(), &reader(&[])).unwrap(), "demo").unwrap()
}

fn port(published: u32, target: u32, protocol: Protocol, mode: PublishMode) -> PortConfig {
    PortConfig {
        name: String::new(),
        protocol,
        target_port: target,
        published_port: published,
        publish_mode: mode,
    }
}

// ---- interpolation

#[test]
fn interpolation_fills_every_form_from_the_given_environment() {
    let yaml = r#"
services:
  web:
    image: "nginx:${TAG}"
    hostname: "${HOST:-fallback}-$SUFFIX"
    user: "${EMPTY-unset-only}"
    working_dir: "${EMPTY:-/srv}"
    environment:
      PRICE: "$$5 and $${NOT_A_VAR}"
      REQUIRED: "${TAG?must be set}"
    deploy:
      replicas: ${REPLICAS}
"#;
    let vars = env(&[
        ("TAG", "1.27"),
        ("SUFFIX", "a"),
        ("EMPTY", ""),
        ("REPLICAS", "3"),
    ]);
    let objects = convert(&load_one(yaml, &vars, &[]).unwrap(), "demo").unwrap();
    let c = &web(&objects).task_template.container;
    assert_eq!(c.image, "nginx:1.27");
    assert_eq!(c.hostname.as_deref(), Some("fallback-a"));
    assert_eq!(c.user.as_deref(), Some(""));
    assert_eq!(c.workdir.as_deref(), Some("/srv"));
    assert_eq!(c.env, ["PRICE=$5 and ${NOT_A_VAR}", "REQUIRED=1.27"]);
    assert_eq!(web(&objects).mode, ServiceMode::Replicated { replicas: 3 });
}

#[test]
fn interpolation_errors_name_the_file_and_field() {
    let yaml = "services:\n  web:\n    image: \"nginx:${TAG:?set TAG to the release}\"\n";
    let err = load_one(yaml, &env(&[("TAG", "")]), &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "stack.yml: services.web.image: required variable TAG is missing a value: set TAG to the release"
    );
    let yaml = "services:\n  web:\n    image: nginx\n    environment:\n      - A=${B?no B}\n";
    let err = load_one(yaml, &no_env(), &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "stack.yml: services.web.environment[0]: required variable B is missing a value: no B"
    );
    let yaml = "services:\n  web:\n    image: \"cost $ 5\"\n";
    let err = load_one(yaml, &no_env(), &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "stack.yml: services.web.image: invalid interpolation format \"cost $ 5\": you may need to escape any $ with another $"
    );
}

// ---- YAML anchors and merge keys

#[test]
fn anchors_aliases_and_merge_keys_are_resolved() {
    let yaml = r#"
version: "3.8"
x-defaults: &defaults
  image: app:1
  environment:
    MODE: prod
  deploy: &deploy
    replicas: 2
    restart_policy:
      condition: on-failure
services:
  web:
    <<: *defaults
    deploy:
      <<: *deploy
      replicas: 4
  worker:
    <<: *defaults
    command: ["work", "--fast"]
"#;
    let objects = convert_one(yaml).unwrap();
    let w = web(&objects);
    assert_eq!(w.task_template.container.image, "app:1");
    assert_eq!(w.task_template.container.env, ["MODE=prod"]);
    assert_eq!(w.mode, ServiceMode::Replicated { replicas: 4 });
    assert_eq!(
        w.task_template.restart_policy.condition,
        RestartCondition::OnFailure
    );
    let worker = objects.service("worker").unwrap();
    assert_eq!(worker.mode, ServiceMode::Replicated { replicas: 2 });
    assert_eq!(worker.task_template.container.args, ["work", "--fast"]);
}

// ---- override rules

#[test]
fn later_files_override_scalars_and_merge_lists_and_maps_as_docker() {
    let base = r#"
services:
  web:
    image: web:1
    command: serve --port 80
    environment: [A=1, B=2]
    labels: {tier: front, team: a}
    ports: ["8080:80", "443"]
    secrets:
      - source: tls
        target: /certs/old.pem
      - db
    configs: [site]
    volumes: ["data:/var/lib/data", "/logs:/var/log:ro"]
    networks:
      front:
        aliases: [www]
      back:
    deploy:
      labels: [lb=on]
      placement:
        constraints: ["node.role == worker"]
      update_config:
        parallelism: 2
        delay: 5s
networks:
  front:
  back:
volumes:
  data:
secrets:
  tls: {external: true}
  db: {external: true}
configs:
  site: {external: true}
"#;
    let over = r#"
services:
  web:
    image: web:2
    environment: {B: "3", C: "4"}
    labels: {team: b}
    ports:
      - target: 8000
        published: 8080
      - "9000:9000/udp"
    secrets:
      - source: tls
        target: /certs/new.pem
    volumes: ["cache:/var/lib/data"]
    networks:
      front:
      back:
        aliases: [api]
    deploy:
      placement:
        constraints: ["node.labels.zone == a"]
      update_config:
        order: start-first
volumes:
  cache:
"#;
    let objects = merged(&[("base.yml", base), ("over.yml", over)]);
    let w = web(&objects);
    let c = &w.task_template.container;
    assert_eq!(c.image, "web:2");
    assert_eq!(c.args, ["serve", "--port", "80"]);
    assert_eq!(c.env, ["A=1", "B=3", "C=4"]);
    assert_eq!(c.labels["tier"], "front");
    assert_eq!(c.labels["team"], "b");
    // Ports merge by published port; the unpublished one stays.
    assert_eq!(
        w.endpoint_spec.as_ref().unwrap().ports,
        [
            port(0, 443, Protocol::Tcp, PublishMode::Ingress),
            port(8080, 8000, Protocol::Tcp, PublishMode::Ingress),
            port(9000, 9000, Protocol::Udp, PublishMode::Ingress),
        ]
    );
    // Secrets merge by source, the later target winning.
    let secrets: Vec<(&str, &str)> = c
        .secrets
        .iter()
        .map(|r| (r.secret_name.as_str(), r.target.name.as_str()))
        .collect();
    assert_eq!(secrets, [("db", "db"), ("tls", "/certs/new.pem")]);
    assert_eq!(c.configs[0].config_name, "site");
    // Volumes merge by target.
    let mounts: Vec<(MountType, &str, &str, bool)> = c
        .mounts
        .iter()
        .map(|m| (m.kind, m.source.as_str(), m.target.as_str(), m.read_only))
        .collect();
    assert_eq!(
        mounts,
        [
            (MountType::Volume, "demo_cache", "/var/lib/data", false),
            (MountType::Bind, "/logs", "/var/log", true),
        ]
    );
    // Networks merge by name; later aliases replace earlier ones, an attachment without
    // aliases keeps the earlier ones. The compose name is always an alias.
    let nets: Vec<(&str, Vec<&str>)> = w
        .task_template
        .networks
        .iter()
        .map(|n| {
            (
                n.target.as_str(),
                n.aliases.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        nets,
        [
            ("demo_back", vec!["api", "web"]),
            ("demo_front", vec!["www", "web"])
        ]
    );
    // Constraints are appended; policies merge field by field; deploy labels kept.
    assert_eq!(
        w.task_template.placement.constraints,
        ["node.role == worker", "node.labels.zone == a"]
    );
    let update = w.update_config.as_ref().unwrap();
    assert_eq!(
        (update.parallelism, update.delay, update.order),
        (2, Duration::from_secs(5), UpdateOrder::StartFirst)
    );
    assert_eq!(w.labels["lb"], "on");
    assert_eq!(objects.networks.len(), 2);
}

#[test]
fn a_later_top_level_definition_replaces_the_earlier_one_whole() {
    let base = "services:\n  web:\n    image: a\n    networks: [net]\nnetworks:\n  net:\n    driver: overlay\n    attachable: true\n    labels: {x: y}\n";
    let over = "networks:\n  net:\n    external: true\n    name: shared-net\n";
    let objects = merged(&[("base.yml", base), ("over.yml", over)]);
    assert!(objects.networks.is_empty());
    assert!(objects.external.networks.contains_key("shared-net"));
    assert_eq!(web(&objects).task_template.networks[0].target, "shared-net");
}

#[test]
fn a_later_command_replaces_the_earlier_one() {
    let base =
        "services:\n  web:\n    image: a\n    command: [one, two]\n    entrypoint: /bin/sh -c\n";
    let over = "services:\n  web:\n    command: three\n";
    let objects = merged(&[("base.yml", base), ("over.yml", over)]);
    let c = &web(&objects).task_template.container;
    assert_eq!(c.args, ["three"]);
    assert_eq!(c.command, ["/bin/sh", "-c"]);
}

// ---- short and long syntax

#[test]
fn ports_in_short_and_long_syntax() {
    let yaml = r#"
services:
  web:
    image: a
    ports:
      - "8080:80"
      - "53:53/udp"
      - 9000
      - "7000-7001:7100-7101"
      - target: 443
        published: 8443
        protocol: tcp
        mode: host
"#;
    let objects = convert_one(yaml).unwrap();
    let endpoint = web(&objects).endpoint_spec.clone().unwrap();
    assert_eq!(endpoint.mode, ResolutionMode::Vip);
    assert_eq!(
        endpoint.ports,
        [
            port(0, 9000, Protocol::Tcp, PublishMode::Ingress),
            port(53, 53, Protocol::Udp, PublishMode::Ingress),
            port(7000, 7100, Protocol::Tcp, PublishMode::Ingress),
            port(7001, 7101, Protocol::Tcp, PublishMode::Ingress),
            port(8080, 80, Protocol::Tcp, PublishMode::Ingress),
            port(8443, 443, Protocol::Tcp, PublishMode::Host),
        ]
    );
    let dnsrr =
        convert_one("services:\n  web:\n    image: a\n    deploy:\n      endpoint_mode: dnsrr\n")
            .unwrap();
    assert_eq!(
        web(&dnsrr).endpoint_spec.as_ref().unwrap().mode,
        ResolutionMode::Dnsrr
    );
    let none = convert_one("services:\n  web:\n    image: a\n").unwrap();
    assert_eq!(web(&none).endpoint_spec, None);
}

#[test]
fn a_host_ip_in_a_port_is_ignored_with_dockers_warning() {
    let objects =
        convert_one("services:\n  web:\n    image: a\n    ports: [\"127.0.0.1:5000:5000\"]\n")
            .unwrap();
    assert_eq!(
        objects.warnings,
        ["ignoring IP-address (127.0.0.1:5000:5000/tcp) service will listen on '0.0.0.0'"]
    );
    assert_eq!(
        web(&objects).endpoint_spec.as_ref().unwrap().ports[0].published_port,
        5000
    );
}

#[test]
fn secrets_and_configs_in_short_and_long_syntax_from_files() {
    let yaml = r#"
services:
  web:
    image: a
    secrets:
      - db_password
      - source: tls
        target: /etc/tls/key.pem
        uid: "103"
        gid: "104"
        mode: 0440
    configs:
      - source: site
        target: /etc/nginx/nginx.conf
        mode: 292
secrets:
  db_password:
    file: ./secrets/db.txt
  tls:
    file: /abs/tls.pem
    name: shared-tls
    labels: [owner=ops]
configs:
  site:
    file: nginx.conf
"#;
    let files = [
        ("secrets/db.txt", "hunter2"),
        ("/abs/tls.pem", "KEY"),
        ("nginx.conf", "events {}"),
    ];
    let project = load_one(yaml, &no_env(), &files).unwrap();
    let objects = convert(&project, "demo").unwrap();
    let c = &web(&objects).task_template.container;
    assert_eq!(c.secrets[0].secret_name, "demo_db_password");
    assert_eq!(c.secrets[0].target, FileTarget::new("db_password"));
    assert_eq!(c.secrets[1].secret_name, "shared-tls");
    assert_eq!(
        c.secrets[1].target,
        FileTarget {
            name: "/etc/tls/key.pem".into(),
            uid: "103".into(),
            gid: "104".into(),
            mode: 0o440
        }
    );
    assert_eq!(c.configs[0].config_name, "demo_site");
    assert_eq!(c.configs[0].target.mode, 0o444);
    let names: Vec<&str> = objects.secrets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["demo_db_password", "shared-tls"]);
    assert_eq!(objects.secrets[0].data.expose(), b"hunter2");
    assert_eq!(objects.secrets[1].labels["owner"], "ops");
    assert_eq!(
        objects.secrets[1].labels["com.docker.stack.namespace"],
        "demo"
    );
    assert_eq!(objects.configs[0].name, "demo_site");
    assert_eq!(objects.configs[0].data.as_bytes(), b"events {}");
    assert!(objects.external.is_empty());
}

#[test]
fn external_objects_by_flag_by_external_name_and_by_name() {
    let yaml = r#"
version: "3.4"
services:
  web:
    image: a
    networks: [pub, priv]
    secrets: [s1, s2]
    configs: [c1]
networks:
  pub:
    external:
      name: public-net
  priv:
    external: true
secrets:
  s1:
    external: true
    name: real-s1
  s2:
    external:
      name: real-s2
configs:
  c1:
    external: true
"#;
    let objects = convert_one(yaml).unwrap();
    let keys = |m: &BTreeMap<String, _>| m.keys().cloned().collect::<Vec<String>>();
    assert_eq!(keys(&objects.external.networks), ["priv", "public-net"]);
    assert_eq!(keys(&objects.external.secrets), ["real-s1", "real-s2"]);
    assert_eq!(keys(&objects.external.configs), ["c1"]);
    assert!(objects.networks.is_empty());
    // `external.name` is deprecated from 3.5 on (networks, secrets, configs): no warning at 3.4.
    assert!(objects.warnings.is_empty());
    let err = error_of(
        "services:\n  web:\n    image: a\nnetworks:\n  n:\n    name: x\n    external:\n      name: y\n",
    );
    assert_eq!(
        err,
        "stack.yml: networks.n: network n: network.external.name and network.name conflict; only use network.name"
    );
}

#[test]
fn environment_as_list_or_map_with_env_files_and_the_callers_values() {
    let yaml = r#"
services:
  web:
    image: a
    env_file: [common.env, web.env]
    environment:
      - FROM_LIST=1
      - FROM_CALLER
      - NOT_SET
  map:
    image: a
    env_file: web.env
    environment:
      NUMBER: 42
      EMPTY: ""
      NULL_VALUE:
      FROM_CALLER:
"#;
    let files = [
        ("common.env", "# shared\nA=common\nB=common\n"),
        ("web.env", "B=web\nEMPTY_IN_FILE=\n"),
    ];
    let vars = env(&[("FROM_CALLER", "caller"), ("EMPTY_IN_FILE", "filled")]);
    let objects = convert(&load_one(yaml, &vars, &files).unwrap(), "demo").unwrap();
    assert_eq!(
        web(&objects).task_template.container.env,
        [
            "A=common",
            "B=web",
            "EMPTY_IN_FILE=filled",
            "FROM_CALLER=caller",
            "FROM_LIST=1",
            "NOT_SET"
        ]
    );
    assert_eq!(
        objects.service("map").unwrap().task_template.container.env,
        [
            "B=web",
            "EMPTY=",
            "EMPTY_IN_FILE=filled",
            "FROM_CALLER=caller",
            "NULL_VALUE",
            "NUMBER=42"
        ]
    );
}

#[test]
fn command_entrypoint_healthcheck_and_container_fields() {
    let yaml = r#"
services:
  web:
    image: a
    entrypoint: ["/entry.sh"]
    command: sh -c 'echo "hello world"'
    hostname: web-host
    user: "1000:1000"
    working_dir: /srv
    stop_signal: SIGINT
    stop_grace_period: 1m30s
    healthcheck:
      test: curl -f http://localhost/
      interval: 10s
      timeout: 2s
      retries: 5
      start_period: 1m
  checked:
    image: a
    healthcheck:
      test: ["CMD", "true"]
  silent:
    image: a
    healthcheck:
      disable: true
"#;
    let objects = convert_one(yaml).unwrap();
    let c = &web(&objects).task_template.container;
    assert_eq!(c.command, ["/entry.sh"]);
    assert_eq!(c.args, ["sh", "-c", "echo \"hello world\""]);
    assert_eq!(c.hostname.as_deref(), Some("web-host"));
    assert_eq!(c.user.as_deref(), Some("1000:1000"));
    assert_eq!(c.workdir.as_deref(), Some("/srv"));
    assert_eq!(c.stop_signal.as_deref(), Some("SIGINT"));
    assert_eq!(c.stop_grace_period, Duration::from_secs(90));
    assert_eq!(
        c.healthcheck,
        Some(HealthCheck {
            test: vec!["CMD-SHELL".into(), "curl -f http://localhost/".into()],
            interval: Duration::from_secs(10),
            timeout: Duration::from_secs(2),
            retries: 5,
            start_period: Duration::from_secs(60),
        })
    );
    let checked = objects
        .service("checked")
        .unwrap()
        .task_template
        .container
        .healthcheck
        .clone()
        .unwrap();
    assert_eq!(checked.test, ["CMD", "true"]);
    assert_eq!(checked.interval, Duration::from_secs(30));
    let silent = objects
        .service("silent")
        .unwrap()
        .task_template
        .container
        .healthcheck
        .clone()
        .unwrap();
    assert_eq!(silent.test, ["NONE"]);
    assert_eq!(
        error_of(
            "services:\n  web:\n    image: a\n    healthcheck:\n      test: [CMD, x]\n      disable: true\n"
        ),
        "stack.yml: services.web.healthcheck: test and disable can't be set at the same time"
    );
}

#[test]
fn the_deploy_section() {
    let yaml = r#"
services:
  web:
    image: a
    labels: [container=yes]
    deploy:
      mode: replicated
      replicas: 6
      labels: {service: "yes"}
      resources:
        limits:
          cpus: "0.5"
          memory: 512M
        reservations:
          cpus: '0.25'
          memory: 20M
          generic_resources:
            - discrete_resource_spec:
                kind: gpu
                value: 2
      restart_policy:
        condition: on-failure
        delay: 5s
        max_attempts: 3
        window: 120s
      update_config:
        parallelism: 3
        delay: 10s
        failure_action: rollback
        monitor: 60s
        max_failure_ratio: 0.3
        order: start-first
      rollback_config:
        parallelism: 0
      placement:
        constraints: [node.role == worker]
        preferences:
          - spread: node.labels.zone
        max_replicas_per_node: 2
  monitor:
    image: a
    deploy: {mode: global}
  batch:
    image: a
    deploy: {mode: replicated-job, replicas: 4}
  sweep:
    image: a
    deploy: {mode: global-job}
    restart: on-failure:2
"#;
    let objects = convert_one(yaml).unwrap();
    let w = web(&objects);
    assert_eq!(w.mode, ServiceMode::Replicated { replicas: 6 });
    assert_eq!(w.labels["service"], "yes");
    assert!(!w.labels.contains_key("container"));
    assert_eq!(w.task_template.container.labels["container"], "yes");
    let limits = w.task_template.resources.limits.clone().unwrap();
    assert_eq!(
        (limits.nano_cpus, limits.memory_bytes),
        (500_000_000, 512 * 1024 * 1024)
    );
    let reservations = w.task_template.resources.reservations.clone().unwrap();
    assert_eq!(
        (reservations.nano_cpus, reservations.memory_bytes),
        (250_000_000, 20 * 1024 * 1024)
    );
    assert_eq!(
        reservations.generic,
        [GenericResource::Discrete {
            kind: "gpu".into(),
            value: 2
        }]
    );
    let r = &w.task_template.restart_policy;
    assert_eq!(
        (r.condition, r.delay, r.max_attempts, r.window),
        (
            RestartCondition::OnFailure,
            Duration::from_secs(5),
            3,
            Duration::from_secs(120)
        )
    );
    let u = w.update_config.clone().unwrap();
    assert_eq!(
        (
            u.parallelism,
            u.delay,
            u.failure_action,
            u.monitor,
            u.max_failure_ratio,
            u.order
        ),
        (
            3,
            Duration::from_secs(10),
            FailureAction::Rollback,
            Duration::from_secs(60),
            0.3,
            UpdateOrder::StartFirst
        )
    );
    let rb = w.rollback_config.clone().unwrap();
    assert_eq!(
        (rb.parallelism, rb.failure_action),
        (0, FailureAction::Pause)
    );
    let p = &w.task_template.placement;
    assert_eq!(p.constraints, ["node.role == worker"]);
    assert_eq!(
        p.preferences,
        [PlacementPreference::Spread {
            spread_descriptor: "node.labels.zone".into()
        }]
    );
    assert_eq!(p.max_replicas, 2);
    assert_eq!(
        objects.service("monitor").unwrap().mode,
        ServiceMode::Global
    );
    assert_eq!(
        objects.service("batch").unwrap().mode,
        ServiceMode::ReplicatedJob {
            max_concurrent: 4,
            total_completions: 4
        }
    );
    let sweep = objects.service("sweep").unwrap();
    assert_eq!(sweep.mode, ServiceMode::GlobalJob);
    // The legacy `restart:` is listed as ignored, yet read as docker reads it.
    assert_eq!(
        sweep.task_template.restart_policy.condition,
        RestartCondition::OnFailure
    );
    assert_eq!(sweep.task_template.restart_policy.max_attempts, 2);
    assert_eq!(objects.warnings, ["Ignoring unsupported options: restart"]);
    assert_eq!(
        error_of(
            "services:\n  web:\n    image: a\n    deploy:\n      mode: global\n      replicas: 2\n"
        ),
        "stack.yml: services.web.deploy.replicas: replicas can only be used with replicated or replicated-job mode"
    );
    assert_eq!(
        error_of("services:\n  web:\n    image: a\n    deploy:\n      mode: daemon\n"),
        "stack.yml: services.web.deploy.mode: unknown mode: daemon"
    );
}

#[test]
fn volumes_and_networks_of_the_stack() {
    let yaml = r#"
services:
  web:
    image: a
    volumes:
      - data:/data
      - /anonymous
      - ./site:/usr/share/site:ro
      - ~/cache:/cache
      - type: tmpfs
        target: /tmp
      - type: volume
        source: named
        target: /named
        read_only: true
  lonely:
    image: a
volumes:
  data:
  named:
    name: real-volume
networks:
  unused:
"#;
    let project = load_one(yaml, &env(&[("HOME", "/home/me")]), &[]).unwrap();
    let objects = convert(&project, "demo").unwrap();
    let mounts: Vec<(MountType, &str, &str, bool)> = web(&objects)
        .task_template
        .container
        .mounts
        .iter()
        .map(|m| (m.kind, m.source.as_str(), m.target.as_str(), m.read_only))
        .collect();
    assert_eq!(
        mounts,
        [
            (MountType::Volume, "demo_data", "/data", false),
            (MountType::Volume, "", "/anonymous", false),
            (MountType::Bind, "site", "/usr/share/site", true),
            (MountType::Bind, "/home/me/cache", "/cache", false),
            (MountType::Tmpfs, "", "/tmp", false),
            (MountType::Volume, "real-volume", "/named", true),
        ]
    );
    // Only the default network is used: it is created, as an overlay, with the namespace label.
    assert_eq!(objects.networks.len(), 1);
    let net = &objects.networks[0];
    assert_eq!(
        (net.name.as_str(), net.driver.as_str()),
        ("demo_default", "overlay")
    );
    assert_eq!(net.labels["com.docker.stack.namespace"], "demo");
    let lonely = objects.service("lonely").unwrap();
    assert_eq!(lonely.task_template.networks[0].target, "demo_default");
    assert_eq!(lonely.task_template.networks[0].aliases, ["lonely"]);
}

#[test]
fn declared_networks_keep_their_options() {
    let yaml = r#"
services:
  web:
    image: a
    networks: [back]
networks:
  back:
    driver: overlay
    attachable: true
    internal: true
    driver_opts: {encrypted: ""}
    labels: {purpose: db}
    ipam:
      config:
        - subnet: 10.20.0.0/24
"#;
    let objects = convert_one(yaml).unwrap();
    let net = &objects.networks[0];
    assert_eq!(net.name, "demo_back");
    assert!(net.attachable && net.internal);
    assert_eq!(net.driver_options["encrypted"], "");
    assert_eq!(net.labels["purpose"], "db");
    assert_eq!(net.ipam.configs[0].subnet, "10.20.0.0/24");
}

// ---- ignored, deprecated and not yet supported options

#[test]
fn ignored_options_are_listed_in_one_warning_as_docker_prints_it() {
    let yaml = r#"
services:
  web:
    image: a
    build: .
    links: [db]
    depends_on: [db]
    container_name: web1
  db:
    image: b
    privileged: true
    expose: ["5432"]
    tmpfs: /run
"#;
    let objects = convert_one(yaml).unwrap();
    assert_eq!(
        objects.warnings,
        [
            "Ignoring unsupported options: build, links, privileged".to_owned(),
            "Ignoring deprecated options:\n\ncontainer_name: Setting the container name is not supported.\n\nexpose: Exposing ports is unnecessary - services on the same network can access each other's containers on any port.".to_owned(),
        ]
    );
    assert!(objects.not_supported.is_empty());
}

#[test]
fn options_the_model_lacks_are_returned_apart_not_as_ignored() {
    let yaml = r#"
services:
  web:
    image: a
    extra_hosts: ["db:10.0.0.5"]
    dns: 8.8.8.8
    init: true
    tty: true
    read_only: true
    sysctls: {net.core.somaxconn: 1024}
    ulimits: {nofile: 1024}
    cap_add: [NET_ADMIN]
    logging: {driver: syslog}
    deploy:
      resources:
        limits:
          pids: 100
"#;
    let objects = convert_one(yaml).unwrap();
    assert!(objects.warnings.is_empty());
    let fields: Vec<String> = objects
        .not_supported
        .iter()
        .map(|o| o.field.clone())
        .collect();
    assert_eq!(
        fields,
        [
            "services.web.cap_add",
            "services.web.deploy.resources.limits.pids",
            "services.web.dns",
            "services.web.extra_hosts",
            "services.web.init",
            "services.web.logging",
            "services.web.read_only",
            "services.web.sysctls",
            "services.web.tty",
            "services.web.ulimits",
        ]
    );
    assert_eq!(
        objects.not_supported[0],
        Origin::new("stack.yml", "services.web.cap_add")
    );
}

// ---- errors name the file, the service and the field

#[test]
fn errors_name_the_file_the_service_and_the_field() {
    let cases = [
        (
            "services:\n  web:\n    image: a\n    ports: [\"80:80\", \"80:abc\"]\n",
            "stack.yml: services.web.ports[1]: invalid port \"80:abc\": invalid containerPort: abc",
        ),
        (
            "services:\n  web:\n    image: a\n    secrets: [nope]\n",
            "stack.yml: services.web.secrets[0]: undefined secret \"nope\"",
        ),
        (
            "services:\n  web:\n    image: a\n    configs: [{source: nope}]\n",
            "stack.yml: services.web.configs[0]: undefined config \"nope\"",
        ),
        (
            "services:\n  web:\n    image: a\n    volumes: [\"nope:/data\"]\n",
            "stack.yml: services.web.volumes[0]: undefined volume \"nope\"",
        ),
        (
            "services:\n  web:\n    image: a\n    networks: {nope: {aliases: [x]}}\n",
            "stack.yml: services.web.networks.nope: undefined network \"nope\"",
        ),
        (
            "services:\n  web:\n    image: a\n    colour: blue\n",
            "stack.yml: services.web.colour: unknown option",
        ),
        (
            "services:\n  web:\n    image: a\n    deploy:\n      resources:\n        limits:\n          cpus: \"lots\"\n",
            "stack.yml: services.web.deploy.resources.limits.cpus: failed to parse \"lots\" as a rational number",
        ),
        (
            "services:\n  web:\n    image: a\n    deploy:\n      resources:\n        limits:\n          memory: 12X\n",
            "stack.yml: services.web.deploy.resources.limits.memory: invalid size: \"12X\"",
        ),
        (
            "services:\n  web:\n    image: a\n    stop_grace_period: 10\n",
            "stack.yml: services.web.stop_grace_period: must be a duration string such as \"10s\", not a number",
        ),
        (
            "services:\n  web:\n    image: a\n    deploy:\n      update_config:\n        delay: 10 seconds\n",
            "stack.yml: services.web.deploy.update_config.delay: invalid duration \"10 seconds\": missing or unknown unit (use ns, us, ms, s, m or h)",
        ),
        (
            "services:\n  web:\n    image: a\n    deploy:\n      replicas: -1\n",
            "stack.yml: services.web.deploy.replicas: must be a non-negative integer, not -1",
        ),
        (
            "services:\n  web:\n    image: a\n    command: echo 'unclosed\n",
            "stack.yml: services.web.command: EOF found when expecting closing quote",
        ),
        (
            "services:\n  web:\n    image: a\n    env_file: missing.env\n",
            "stack.yml: services.web.env_file: cannot read missing.env: no such file",
        ),
        (
            "services:\n  web:\n    image: a\nsecrets:\n  s: {}\n",
            "stack.yml: secrets.s: secret s needs a file (or external: true)",
        ),
        (
            "services:\n  web: []\n",
            "stack.yml: services.web: must be a mapping, not a list",
        ),
        (
            "flavour: 1\n",
            "stack.yml: flavour: unknown top-level option",
        ),
        (
            "- a\n",
            "stack.yml: (top level): top-level object must be a mapping",
        ),
    ];
    for (yaml, want) in cases {
        let got = match load_one(yaml, &no_env(), &[]) {
            Ok(project) => match convert(&project, "demo") {
                Ok(_) => panic!("no error for {yaml}"),
                Err(e) => e.to_string(),
            },
            Err(e) => e.to_string(),
        };
        assert_eq!(got, want, "{yaml}");
    }
}

#[test]
fn errors_of_merged_files_name_the_file_that_wrote_the_value() {
    let base = ComposeFile::new(
        "docker-compose.yml",
        "version: '3.7'\nservices:\n  web:\n    image: a\n",
    );
    let over = ComposeFile::new(
        "docker-compose.swarm.yml",
        "version: '3.7'\nservices:\n  web:\n    secrets: [db]\n",
    );
    let project = load(&[base, over], &no_env(), &reader(&[])).unwrap();
    assert_eq!(
        convert(&project, "demo").unwrap_err().to_string(),
        "docker-compose.swarm.yml: services.web.secrets[0]: undefined secret \"db\""
    );
    let only_over = ComposeFile::new(
        "b.yml",
        "services:\n  web:\n    deploy:\n      replicas: 2\n",
    );
    let project = load(
        &[ComposeFile::new("a.yml", "services: {}\n"), only_over],
        &no_env(),
        &reader(&[]),
    )
    .unwrap();
    assert_eq!(
        convert(&project, "demo").unwrap_err().to_string(),
        "b.yml: services.web.image: no image specified"
    );
}

#[test]
fn file_level_errors_as_docker() {
    let err = load_one("version: '2.4'\nservices: {}\n", &no_env(), &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "stack.yml: unsupported Compose file version: 2.4"
    );
    let files = [
        ComposeFile::new("a.yml", "version: '3.7'\nservices: {}\n"),
        ComposeFile::new("b.yml", "version: '3.8'\nservices: {}\n"),
    ];
    let err = load(&files, &no_env(), &reader(&[])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "b.yml: version mismatched between two composefiles : 3.7 and 3.8"
    );
    let err = load_one(
        "services:\n  web:\n    image: a\n    mem_limit: 1g\n    extends: base\n",
        &no_env(),
        &[],
    )
    .unwrap_err();
    assert!(matches!(err, StackError::Forbidden { .. }));
    assert_eq!(
        err.to_string(),
        "stack.yml: compose file contains unsupported options:\n\nextends: Support for `extends` is not implemented yet.\n\nmem_limit: Set resource limits using deploy.resources"
    );
    let err = load_one("services:\n  web: {image: [}\n", &no_env(), &[]).unwrap_err();
    assert!(matches!(err, StackError::Yaml { .. }), "{err}");
    assert!(
        err.to_string().starts_with("stack.yml: invalid YAML: "),
        "{err}"
    );
    assert!(matches!(
        load(&[], &no_env(), &reader(&[])),
        Err(StackError::NoFiles)
    ));
    let project = load_one("services: {}\n", &no_env(), &[]).unwrap();
    assert_eq!(
        convert(&project, " ").unwrap_err().to_string(),
        "invalid stack name: \" \""
    );
}

#[test]
fn a_file_without_version_reads_as_the_latest_3x() {
    let project = load_one("services:\n  web:\n    image: a\n", &no_env(), &[]).unwrap();
    assert_eq!(project.version, "3.13");
    let project = load_one("version: 3\nservices: {}\n", &no_env(), &[]).unwrap();
    assert_eq!(project.version, "3.13");
}

proptest! {
    /// Arbitrary bytes never panic the reader: they load or give an error.
    #[test]
    fn arbitrary_bytes_load_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let file = ComposeFile::new("fuzz.yml", bytes);
        if let Ok(project) = load(&[file], &no_env(), &reader(&[])) {
            let _ = convert(&project, "fuzz");
        }
    }

    /// Compose-shaped text built from compose words and YAML punctuation never panics either.
    #[test]
    fn compose_shaped_text_loads_or_fails_cleanly(
        words in proptest::collection::vec(
            prop_oneof![
                Just("services:"), Just("web:"), Just("image: a"), Just("ports:"), Just("- \"80:80\""),
                Just("- 8080"), Just("deploy:"), Just("replicas: 2"), Just("mode: global"),
                Just("secrets:"), Just("- s"), Just("s: {external: true}"), Just("networks:"),
                Just("<<: *x"), Just("&x"), Just("${A:?b}"), Just("$$"), Just("volumes:"),
                Just("- data:/d"), Just("healthcheck: {test: x, disable: true}"), Just("{"), Just("]"),
                Just("  "), Just("    "), Just("\n"), Just("- "), Just(":"), Just("0440"),
            ],
            0..40,
        )
    ) {
        let text: String = words.concat();
        let file = ComposeFile::new("fuzz.yml", text);
        if let Ok(project) = load(&[file], &no_env(), &reader(&[])) {
            let _ = convert(&project, "fuzz");
        }
    }
}
