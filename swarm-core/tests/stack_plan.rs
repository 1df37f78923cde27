//! `plan_deploy`: what a stack deploy creates, updates (only changed services), prunes, and
//! what it cannot do (missing external objects, clashes).
#![allow(clippy::unwrap_used)]

mod stack_support;

use stack_support::{convert_one, env, load_one};
use swarm_core::model::{
    Config, ConfigSpec, Meta, Network, NetworkSpec, Secret, SecretSpec, Service, ServiceSpec,
    Version,
};
use swarm_core::stack::{
    ExistingStack, NAMESPACE_LABEL, PlanConflict, StackObjectKind, StackObjects, convert,
    plan_deploy,
};

const STACK: &str = r#"
services:
  web:
    image: web:1
    networks: [front]
    secrets: [tls]
    configs: [site]
  api:
    image: api:1
    networks: [front]
networks:
  front:
secrets:
  tls:
    file: tls.pem
configs:
  site:
    file: site.conf
"#;

fn objects(yaml: &str) -> StackObjects {
    let files = [("tls.pem", "KEY"), ("site.conf", "conf")];
    convert(&load_one(yaml, &env(&[]), &files).unwrap(), "demo").unwrap()
}

/// A stored service made from `spec` as the control API stores it: references by id.
fn stored(id: &str, version: u64, spec: &ServiceSpec, net_ids: &[(&str, &str)]) -> Service {
    let mut spec = spec.clone();
    for n in &mut spec.task_template.networks {
        if let Some((_, id)) = net_ids.iter().find(|(name, _)| *name == n.target) {
            n.target = (*id).to_owned();
        }
    }
    for r in &mut spec.task_template.container.secrets {
        r.secret_id = format!("secret-of-{}", r.secret_name).into();
    }
    for r in &mut spec.task_template.container.configs {
        r.config_id = format!("config-of-{}", r.config_name).into();
    }
    Service {
        id: id.into(),
        meta: Meta {
            version: Version(version),
            ..Meta::default()
        },
        spec,
        ..Service::default()
    }
}

fn network(id: &str, spec: NetworkSpec) -> Network {
    Network {
        id: id.into(),
        spec,
        ..Network::default()
    }
}

/// The cluster after `objects` was deployed.
fn deployed(objects: &StackObjects) -> ExistingStack {
    let net_ids: Vec<(String, String)> = objects
        .networks
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.clone(), format!("net{i}")))
        .collect();
    let net_refs: Vec<(&str, &str)> = net_ids
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    ExistingStack {
        services: objects
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| stored(&format!("svc{i}"), 10 + i as u64, s, &net_refs))
            .collect(),
        networks: objects
            .networks
            .iter()
            .zip(&net_ids)
            .map(|(n, (_, id))| network(id, n.clone()))
            .collect(),
        secrets: objects
            .secrets
            .iter()
            .map(|s| Secret {
                id: format!("secret-of-{}", s.name).into(),
                spec: s.clone(),
                ..Secret::default()
            })
            .collect(),
        configs: objects
            .configs
            .iter()
            .map(|c| Config {
                id: format!("config-of-{}", c.name).into(),
                spec: c.clone(),
                ..Config::default()
            })
            .collect(),
    }
}

#[test]
fn a_first_deploy_creates_everything_in_order() {
    let objects = objects(STACK);
    let plan = plan_deploy(&objects, &ExistingStack::default(), true);
    assert!(plan.is_deployable());
    let names = |v: Vec<&str>| v.into_iter().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        plan.create
            .networks
            .iter()
            .map(|n| n.name.as_str())
            .collect::<Vec<_>>(),
        names(vec!["demo_front"])
    );
    assert_eq!(plan.create.secrets[0].name, "demo_tls");
    assert_eq!(plan.create.configs[0].name, "demo_site");
    assert_eq!(
        plan.create
            .services
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        names(vec!["demo_api", "demo_web"])
    );
    assert!(plan.update.is_empty() && plan.unchanged.is_empty() && plan.remove.is_empty());
}

#[test]
fn a_redeploy_of_the_same_files_changes_nothing() {
    let objects = objects(STACK);
    let plan = plan_deploy(&objects, &deployed(&objects), true);
    assert!(plan.is_deployable());
    assert!(plan.create.is_empty(), "{:?}", plan.create);
    assert!(plan.update.is_empty() && plan.remove.is_empty());
    assert_eq!(plan.unchanged, ["demo_api", "demo_web"]);
}

#[test]
fn only_services_whose_spec_changed_are_updated_and_force_update_is_kept() {
    let before = objects(STACK);
    let mut existing = deployed(&before);
    // The web service was force-updated by hand since: a stack deploy keeps the counter.
    let web = existing
        .services
        .iter_mut()
        .find(|s| s.spec.name == "demo_web")
        .unwrap();
    web.spec.task_template.force_update = 3;
    let (web_id, web_version) = (web.id.clone(), web.meta.version);

    let after = objects(&STACK.replace("web:1", "web:2"));
    let plan = plan_deploy(&after, &existing, false);
    assert!(plan.is_deployable() && plan.create.is_empty());
    assert_eq!(plan.unchanged, ["demo_api"]);
    assert_eq!(plan.update.len(), 1);
    let update = &plan.update[0];
    assert_eq!((update.id.clone(), update.version), (web_id, web_version));
    assert_eq!(update.spec.task_template.container.image, "web:2");
    assert_eq!(update.spec.labels["com.docker.stack.image"], "web:2");
    assert_eq!(update.spec.task_template.force_update, 3);
    // References stay by name: the control API resolves them on update.
    assert_eq!(update.spec.task_template.networks[0].target, "demo_front");

    // A changed replica count is a change too.
    let scaled = objects(&STACK.replace("image: api:1", "image: api:1\n    deploy: {replicas: 4}"));
    let plan = plan_deploy(&scaled, &deployed(&before), false);
    assert_eq!(plan.update.len(), 1);
    assert_eq!(plan.update[0].spec.name, "demo_api");
}

#[test]
fn prune_removes_only_this_stacks_services_no_longer_in_the_files() {
    let before = objects(STACK);
    let mut existing = deployed(&before);
    let mut other = ServiceSpec::new("other_web", "x");
    other.labels.insert(NAMESPACE_LABEL.into(), "other".into());
    existing.services.push(stored("svc-other", 99, &other, &[]));
    existing.services.push(stored(
        "svc-plain",
        98,
        &ServiceSpec::new("plain", "x"),
        &[],
    ));

    let without_api = STACK.replace("  api:\n    image: api:1\n    networks: [front]\n", "");
    let smaller = objects(&without_api);
    let kept = plan_deploy(&smaller, &existing, false);
    assert!(kept.remove.is_empty());
    let pruned = plan_deploy(&smaller, &existing, true);
    assert_eq!(pruned.remove.len(), 1);
    let removal = &pruned.remove[0];
    assert_eq!(removal.name, "demo_api");
    assert_eq!(removal.id.as_str(), "svc0");
    assert_eq!(removal.version, Version(10));
    assert_eq!(pruned.unchanged, ["demo_web"]);
}

#[test]
fn missing_external_objects_are_reported_in_dockers_words() {
    let yaml = r#"
services:
  db:
    image: db
    networks: [backend]
    secrets: [db-password]
  web:
    image: web
    networks: [backend]
    configs: [site]
    secrets: [db-password]
networks:
  backend:
    external: true
    name: nd-swarm
secrets:
  db-password: {external: true}
configs:
  site: {external: true}
"#;
    let objects = convert_one(yaml).unwrap();
    let plan = plan_deploy(&objects, &ExistingStack::default(), false);
    assert!(!plan.is_deployable());
    let messages: Vec<String> = plan
        .missing_external
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        messages,
        [
            "network \"nd-swarm\" is declared as external, but could not be found. You need to create a swarm-scoped network before the stack is deployed",
            "service db: secret not found: db-password",
            "service web: config not found: site",
        ]
    );
    assert_eq!(plan.missing_external[1].services, ["db", "web"]);
    assert_eq!(plan.missing_external[2].kind, StackObjectKind::Config);

    // Present by name (the network also by id), nothing is missing.
    let existing = ExistingStack {
        networks: vec![network("nd-swarm-id", NetworkSpec::new("other-name"))],
        secrets: vec![Secret {
            spec: SecretSpec::new("db-password", b"pw".to_vec()),
            ..Secret::default()
        }],
        configs: vec![Config {
            spec: ConfigSpec::new("site", b"conf".to_vec()),
            ..Config::default()
        }],
        ..ExistingStack::default()
    };
    let by_id = convert_one(&yaml.replace("name: nd-swarm", "name: nd-swarm-id")).unwrap();
    let plan = plan_deploy(&by_id, &existing, false);
    assert!(
        plan.missing_external.is_empty(),
        "{:?}",
        plan.missing_external
    );
    assert!(plan.is_deployable());
}

#[test]
fn clashes_with_objects_outside_the_stack_are_conflicts() {
    let objects = objects(STACK);
    let mut existing = deployed(&objects);
    // The network and the api service exist, but not as part of the stack.
    for n in &mut existing.networks {
        n.spec.labels.clear();
    }
    for s in &mut existing.services {
        if s.spec.name == "demo_api" {
            s.spec.labels.clear();
        }
    }
    // The secret exists with other data.
    existing.secrets[0].spec = SecretSpec::new("demo_tls", b"OTHER".to_vec());
    let plan = plan_deploy(&objects, &existing, true);
    assert!(!plan.is_deployable());
    assert_eq!(
        plan.conflicts,
        [
            PlanConflict::NotInStack {
                kind: StackObjectKind::Network,
                name: "demo_front".into()
            },
            PlanConflict::DataChanged {
                kind: StackObjectKind::Secret,
                name: "demo_tls".into()
            },
            PlanConflict::NotInStack {
                kind: StackObjectKind::Service,
                name: "demo_api".into()
            },
        ]
    );
    assert_eq!(
        plan.conflicts[1].to_string(),
        "failed to update secret demo_tls: only updates to Labels are allowed (remove the secret or give the new data another name)"
    );
    assert_eq!(
        plan.conflicts[0].to_string(),
        "network demo_front already exists and is not part of the stack"
    );
    // The foreign service is not pruned either.
    assert!(plan.remove.is_empty());
    assert_eq!(plan.unchanged, ["demo_web"]);
}
