//! The chapter's stack files (`tests/fixtures/nerddinner`) through `load`, `convert` and
//! `plan_deploy`, and the plan applied through the control API.
#![allow(clippy::unwrap_used)]

mod stack_support;

use stack_support::{load_nerddinner, nerddinner_dir, nerddinner_stack};
use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};
use swarm_core::manager::cluster_state::ClusterState;
use swarm_core::manager::control::{
    create_config, create_network, create_secret, create_service, update_service,
};
use swarm_core::model::{
    ConfigSpec, FileTarget, MountType, NetworkSpec, PortConfig, Protocol, PublishMode, SecretSpec,
    ServiceMode, ServiceSpec,
};
use swarm_core::stack::{
    ExistingStack, IMAGE_LABEL, NAMESPACE_LABEL, Origin, StackObjects, convert, plan_deploy,
};

const CHAPTER: [&str; 2] = ["docker-compose.yml", "docker-compose.swarm.yml"];

fn service<'a>(objects: &'a StackObjects, key: &str) -> &'a ServiceSpec {
    objects
        .service(key)
        .unwrap_or_else(|| panic!("no service {key}"))
}

fn replicas(spec: &ServiceSpec) -> u64 {
    match spec.mode {
        ServiceMode::Replicated { replicas } => replicas,
        other => panic!("{} is {other}", spec.name),
    }
}

#[test]
fn every_compose_file_of_the_chapter_loads() {
    for name in [
        "docker-compose.yml",
        "docker-compose.swarm.yml",
        "docker-compose.local.yml",
        "new-homepage.yml",
    ] {
        let project = load_nerddinner(&[name]).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!project.services.is_empty(), "{name}");
        assert_eq!(project.version, "3.7", "{name}");
    }
    // The script the chapter runs merges exactly the two files the stack is deployed from.
    let script = std::fs::read_to_string(nerddinner_dir().join("create-stack-yaml.ps1")).unwrap();
    assert!(CHAPTER.iter().all(|f| script.contains(f)));
    for names in [
        &CHAPTER[..],
        &[
            "docker-compose.yml",
            "docker-compose.swarm.yml",
            "new-homepage.yml",
        ],
        &["docker-compose.yml", "docker-compose.local.yml"],
    ] {
        let project = load_nerddinner(names).unwrap();
        assert_eq!(project.services.len(), 10, "{names:?}");
    }
}

#[test]
fn the_chapter_merge_gives_the_chapter_services() {
    let objects = nerddinner_stack(&CHAPTER);
    let names: Vec<&str> = objects.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "nerd-dinner_elasticsearch",
            "nerd-dinner_kibana",
            "nerd-dinner_message-queue",
            "nerd-dinner_nerd-dinner-api",
            "nerd-dinner_nerd-dinner-db",
            "nerd-dinner_nerd-dinner-homepage",
            "nerd-dinner_nerd-dinner-index-handler",
            "nerd-dinner_nerd-dinner-save-handler",
            "nerd-dinner_nerd-dinner-web",
            "nerd-dinner_reverse-proxy",
        ]
    );
    // Images come from the base file, replicas from the swarm file.
    let expected = [
        ("message-queue", "dockeronwindows/ch05-nats:2e", 1),
        (
            "elasticsearch",
            "sixeyed/elasticsearch:5.6.11-windowsservercore-ltsc2019",
            1,
        ),
        (
            "reverse-proxy",
            "sixeyed/traefik:v1.7.8-windowsservercore-ltsc2019",
            1,
        ),
        (
            "kibana",
            "sixeyed/kibana:5.6.11-windowsservercore-ltsc2019",
            1,
        ),
        (
            "nerd-dinner-db",
            "dockeronwindows/ch07-nerd-dinner-db:2e",
            1,
        ),
        (
            "nerd-dinner-save-handler",
            "dockeronwindows/ch05-nerd-dinner-save-handler:2e",
            3,
        ),
        (
            "nerd-dinner-index-handler",
            "dockeronwindows/ch05-nerd-dinner-index-handler:2e",
            2,
        ),
        (
            "nerd-dinner-api",
            "dockeronwindows/ch07-nerd-dinner-api:2e",
            2,
        ),
        (
            "nerd-dinner-homepage",
            "dockeronwindows/ch03-nerd-dinner-homepage:2e",
            2,
        ),
        (
            "nerd-dinner-web",
            "dockeronwindows/ch07-nerd-dinner-web:2e",
            2,
        ),
    ];
    for (key, image, count) in expected {
        let s = service(&objects, key);
        assert_eq!(s.task_template.container.image, image, "{key}");
        assert_eq!(replicas(s), count, "{key}");
        assert_eq!(s.labels[NAMESPACE_LABEL], "nerd-dinner");
        assert_eq!(s.labels[IMAGE_LABEL], image);
        assert_eq!(
            s.task_template.container.labels[NAMESPACE_LABEL],
            "nerd-dinner"
        );
        // Every service joins the external network by its real name, answering to its key.
        let nets = &s.task_template.networks;
        assert_eq!(nets.len(), 1, "{key}");
        assert_eq!(nets[0].target, "nd-swarm");
        assert_eq!(nets[0].aliases, [key]);
    }

    let proxy = service(&objects, "reverse-proxy");
    assert_eq!(
        proxy.task_template.placement.constraints,
        ["node.role == manager"]
    );
    let port = |published, target| PortConfig {
        name: String::new(),
        protocol: Protocol::Tcp,
        target_port: target,
        published_port: published,
        publish_mode: PublishMode::Ingress,
    };
    assert_eq!(
        proxy.endpoint_spec.as_ref().unwrap().ports,
        [port(80, 80), port(8080, 8080)]
    );
    let args = &proxy.task_template.container.args;
    assert_eq!(args.len(), 8);
    assert_eq!(args[0], "--docker");
    assert_eq!(args[3], "--docker.endpoint=tcp://win2019-dev-02:2376");
    assert_eq!(args[7], "--api");
    let secrets: Vec<(&str, &FileTarget)> = proxy
        .task_template
        .container
        .secrets
        .iter()
        .map(|r| (r.secret_name.as_str(), &r.target))
        .collect();
    assert_eq!(
        secrets,
        [
            ("docker-client-ca", &FileTarget::new("C:\\certs\\ca.pem")),
            (
                "docker-client-cert",
                &FileTarget::new("C:\\certs\\cert.pem")
            ),
            ("docker-client-key", &FileTarget::new("C:\\certs\\key.pem")),
        ]
    );
    assert!(
        proxy
            .task_template
            .container
            .secrets
            .iter()
            .all(|r| r.secret_id.as_str().is_empty())
    );

    let api = service(&objects, "nerd-dinner-api");
    let config = &api.task_template.container.configs[0];
    assert_eq!(config.config_name, "nerd-dinner-api-config");
    assert_eq!(config.target.name, "C:\\dinner-api\\config\\config.json");
    assert_eq!(
        api.labels["traefik.frontend.rule"],
        "Host:api.nerddinner.swarm"
    );
    assert_eq!(api.labels["traefik.port"], "80");
    let db = service(&objects, "nerd-dinner-db");
    assert_eq!(
        db.task_template.container.secrets[0].secret_name,
        "nerd-dinner-db-sa-password"
    );
    assert_eq!(
        db.task_template.container.secrets[0].target.name,
        "C:\\secrets\\sa-password"
    );
    let web = service(&objects, "nerd-dinner-web");
    assert_eq!(
        web.labels["traefik.frontend.rule"],
        "Host:nerddinner.swarm;PathPrefix:/"
    );
    assert_eq!(
        web.labels["traefik.backend.loadbalancer.stickiness"],
        "true"
    );

    // Nothing is created but the services: the network, secrets and configs are external.
    assert!(
        objects.networks.is_empty() && objects.secrets.is_empty() && objects.configs.is_empty()
    );
    let all: BTreeSet<String> = objects
        .services
        .iter()
        .map(|s| s.name.trim_start_matches("nerd-dinner_").to_owned())
        .collect();
    assert_eq!(
        objects.external.networks.keys().collect::<Vec<_>>(),
        ["nd-swarm"]
    );
    assert_eq!(objects.external.networks["nd-swarm"], all);
    assert_eq!(
        objects.external.secrets.keys().collect::<Vec<_>>(),
        [
            "docker-client-ca",
            "docker-client-cert",
            "docker-client-key",
            "nerd-dinner-api-secrets",
            "nerd-dinner-db-sa-password",
            "nerd-dinner-save-handler-secrets",
            "nerd-dinner-secrets",
        ]
    );
    assert_eq!(
        objects.external.configs.keys().collect::<Vec<_>>(),
        ["nerd-dinner-api-config", "nerd-dinner-config"]
    );
    assert_eq!(
        objects.external.configs["nerd-dinner-config"],
        BTreeSet::from(["nerd-dinner-web".to_owned()])
    );
    // Docker's only word on these files: `external.name` is deprecated since 3.5.
    assert_eq!(
        objects.warnings,
        ["network nd-net: network.external.name is deprecated in favor of network.name"]
    );
    assert!(objects.not_supported.is_empty());
}

#[test]
fn the_base_file_alone_names_its_undefined_network() {
    let project = load_nerddinner(&["docker-compose.yml"]).unwrap();
    let err = convert(&project, "nerd-dinner").unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"docker-compose.yml: services.elasticsearch.networks[0]: undefined network "nd-net""#
    );
    let project = load_nerddinner(&["docker-compose.swarm.yml"]).unwrap();
    let err = convert(&project, "nerd-dinner").unwrap_err();
    assert_eq!(
        err.to_string(),
        "docker-compose.swarm.yml: services.kibana.image: no image specified"
    );
}

#[test]
fn the_local_variant_reads_env_files_volumes_and_warns_as_docker() {
    let objects = nerddinner_stack(&["docker-compose.yml", "docker-compose.local.yml"]);
    let web = service(&objects, "nerd-dinner-web");
    assert_eq!(
        web.task_template.container.env,
        [
            "Apis:BingMaps:Key=[your-key-here]",
            "Apis:IpInfoDb:Key=[your-key-here]",
            "DinnerApi:Enabled=true",
            "HomePage:Enabled=false",
        ]
    );
    assert_eq!(
        web.task_template.container.labels["traefik.frontend.rule"],
        "Host:nerddinner.local;PathPrefix:/"
    );
    assert!(!web.labels.contains_key("traefik.frontend.rule"));
    let es = service(&objects, "elasticsearch");
    assert_eq!(
        es.task_template.container.env,
        ["ES_JAVA_OPTS=-Xms500m -Xmx500m"]
    );
    let mount = &es.task_template.container.mounts[0];
    assert_eq!(
        (mount.kind, mount.source.as_str(), mount.target.as_str()),
        (MountType::Volume, "nerd-dinner_ch07-es-data", "C:\\data")
    );
    let proxy = service(&objects, "reverse-proxy");
    let ports = &proxy.endpoint_spec.as_ref().unwrap().ports;
    let targets: Vec<(u32, u32)> = ports
        .iter()
        .map(|p| (p.published_port, p.target_port))
        .collect();
    assert_eq!(targets, [(0, 80), (0, 8080)]);
    assert!(proxy.task_template.container.mounts.is_empty());
    assert_eq!(
        objects.external.networks.keys().collect::<Vec<_>>(),
        ["nat"]
    );
    // `depends_on`, `volumes` and `env_file` draw no "Ignoring unsupported options" from docker.
    assert_eq!(
        objects.warnings,
        ["network nd-net: network.external.name is deprecated in favor of network.name"]
    );
    // The named pipe mount is applied by docker but not expressible yet.
    assert_eq!(
        objects.not_supported,
        [Origin::new(
            "docker-compose.local.yml",
            "services.reverse-proxy.volumes[0] (type npipe)"
        )]
    );
}

/// A cluster with what `docker network create` and `apply-configuration.ps1` made.
fn prepared_cluster(rng: &mut dyn FnMut() -> u64) -> ClusterState {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
    let mut state = ClusterState::new();
    let created = create_network(&state, &NetworkSpec::new("nd-swarm"), now, rng).unwrap();
    state.apply(&created.writes.writes).unwrap();
    let dir = nerddinner_dir();
    for (name, file) in [
        (
            "nerd-dinner-api-config",
            "configs/nerd-dinner-api-config.json",
        ),
        ("nerd-dinner-config", "configs/nerd-dinner-config.json"),
    ] {
        let data = std::fs::read(dir.join(file)).unwrap();
        let created = create_config(&state, &ConfigSpec::new(name, data), now, rng).unwrap();
        state.apply(&created.writes.writes).unwrap();
    }
    for (name, file) in [
        (
            "nerd-dinner-secrets",
            Some("secrets/nerd-dinner-secrets.json"),
        ),
        (
            "nerd-dinner-save-handler-secrets",
            Some("secrets/save-handler-secrets.json"),
        ),
        (
            "nerd-dinner-api-secrets",
            Some("secrets/nerd-dinner-api-secrets.json"),
        ),
        (
            "nerd-dinner-db-sa-password",
            Some("secrets/nerd-dinner-db-sa-password.txt"),
        ),
        ("docker-client-ca", None),
        ("docker-client-cert", None),
        ("docker-client-key", None),
    ] {
        let data = match file {
            Some(f) => std::fs::read(dir.join(f)).unwrap(),
            None => format!("certificate {name}").into_bytes(),
        };
        let created = create_secret(&state, &SecretSpec::new(name, data), now, rng).unwrap();
        state.apply(&created.writes.writes).unwrap();
    }
    state
}

#[test]
fn the_chapter_deploys_through_the_control_api_and_the_new_homepage_updates_one_service() {
    let mut n = 0u64;
    let mut rng = move || {
        n += 1;
        n
    };
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(2_000);
    let mut state = prepared_cluster(&mut rng);
    let objects = nerddinner_stack(&CHAPTER);

    // Before the external objects exist, the plan says which are missing, in docker's words.
    let empty = plan_deploy(&objects, &ExistingStack::default(), false);
    assert!(!empty.is_deployable());
    assert_eq!(empty.missing_external.len(), 10);
    assert_eq!(
        empty.missing_external[0].to_string(),
        "network \"nd-swarm\" is declared as external, but could not be found. You need to create a swarm-scoped network before the stack is deployed"
    );

    let plan = plan_deploy(&objects, &ExistingStack::from_state(&state), false);
    assert!(plan.is_deployable(), "{plan:?}");
    assert_eq!(plan.create.services.len(), 10);
    assert!(plan.update.is_empty() && plan.remove.is_empty() && plan.unchanged.is_empty());
    // Every converted spec passes the control API's validation and reference checks.
    for spec in &plan.create.services {
        let created = create_service(&state, spec, now, &mut rng)
            .unwrap_or_else(|e| panic!("{}: {e}", spec.name));
        state.apply(&created.writes.writes).unwrap();
    }
    let stored = state.service_by_name("nerd-dinner_reverse-proxy").unwrap();
    let nd_swarm = state
        .networks()
        .values()
        .find(|n| n.spec.name == "nd-swarm")
        .unwrap();
    assert_eq!(
        stored.spec.task_template.networks[0].target,
        nd_swarm.id.as_str()
    );
    assert!(
        !stored.spec.task_template.container.secrets[0]
            .secret_id
            .as_str()
            .is_empty()
    );

    // Deploying the same files again changes nothing.
    let again = plan_deploy(&objects, &ExistingStack::from_state(&state), true);
    assert!(again.create.is_empty() && again.update.is_empty() && again.remove.is_empty());
    assert_eq!(again.unchanged.len(), 10);

    // Adding new-homepage.yml updates the homepage only.
    let redeploy = nerddinner_stack(&[
        "docker-compose.yml",
        "docker-compose.swarm.yml",
        "new-homepage.yml",
    ]);
    let plan = plan_deploy(&redeploy, &ExistingStack::from_state(&state), false);
    assert!(plan.is_deployable() && plan.create.is_empty() && plan.remove.is_empty());
    assert_eq!(plan.unchanged.len(), 9);
    assert_eq!(plan.update.len(), 1);
    let update = &plan.update[0];
    assert_eq!(update.spec.name, "nerd-dinner_nerd-dinner-homepage");
    assert_eq!(
        update.spec.task_template.container.image,
        "dockeronwindows/ch07-nerd-dinner-homepage:2e"
    );
    let homepage = state
        .service_by_name("nerd-dinner_nerd-dinner-homepage")
        .unwrap();
    assert_eq!(update.id, homepage.id);
    assert_eq!(update.version, homepage.meta.version);
    let writes = update_service(
        &state,
        update.id.as_str(),
        update.version,
        &update.spec,
        now,
    )
    .unwrap();
    state.apply(&writes.writes).unwrap();
    let after = plan_deploy(&redeploy, &ExistingStack::from_state(&state), false);
    assert!(after.update.is_empty());
    assert_eq!(after.unchanged.len(), 10);
}
