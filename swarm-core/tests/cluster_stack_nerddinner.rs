//! The chapter's stack end to end on a running cluster: three managers and three workers on
//! the in-process network with the mock runtime, driven only through `swarm_core::stack` and
//! the public `Control` handle, as the chapter drives a swarm with `docker secret create`,
//! `docker config create`, `docker stack deploy`, `docker stack ps` and `docker stack rm`.
#![allow(clippy::unwrap_used)]

mod cluster_support;
use cluster_support::inproc::{Member, start_cluster};
mod stack_support;

use cluster_support::{converged, eventually};
use stack_support::{nerddinner, nerddinner_dir, read_nerddinner, reader};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};
use swarm_core::manager::control::{ServiceFilter, TaskFilter};
use swarm_core::model::{
    ConfigId, ConfigSpec, NetworkSpec, NodeId, NodeRole, SecretId, SecretSpec, ServiceSpec, Task,
    TaskState,
};
use swarm_core::node::{Control, Node};
use swarm_core::runtime::FileKind;
use swarm_core::stack::{
    ComposeFile, DeployOptions, PlanConflict, StackAction, StackDeployError, StackObjectKind,
    StackObjects, convert, deploy, list, load, ps, remove, render_stack_ls, services,
};

const CONVERGE: Duration = Duration::from_secs(30);
const STACK: &str = "nerd-dinner";
const CHAPTER: [&str; 2] = ["docker-compose.yml", "docker-compose.swarm.yml"];

/// The tests of this file run one at a time (each runs a whole cluster).
static ONE_CLUSTER_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The chapter's files leave the homepage with docker's default update policy (stop-first,
/// one task at a time: one of its two replicas is down while it is replaced). This file asks
/// for start-first, so that both replicas serve throughout the update.
const START_FIRST: &str = "version: '3.7'\nservices:\n  nerd-dinner-homepage:\n    deploy:\n      \
                           update_config:\n        order: start-first\n        monitor: 1s\n";

/// The configs and secrets `apply-configuration.ps1` creates, with the files they are read
/// from (the client certificates are not in the fixtures: stand-in values).
const CONFIGS: [(&str, &str); 2] = [
    (
        "nerd-dinner-api-config",
        "configs/nerd-dinner-api-config.json",
    ),
    ("nerd-dinner-config", "configs/nerd-dinner-config.json"),
];
const SECRETS: [(&str, Option<&str>); 7] = [
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
];

fn secret_value(name: &str, file: Option<&str>) -> Vec<u8> {
    match file {
        Some(f) => std::fs::read(nerddinner_dir().join(f)).unwrap(),
        None => format!("certificate {name}").into_bytes(),
    }
}

fn files(names: &[&str]) -> Vec<ComposeFile> {
    names.iter().map(|n| nerddinner(n)).collect()
}

/// `docker stack deploy -c <names…> [extra] <stack>` as objects.
fn stack_of(names: &[&str], extra: Option<ComposeFile>, stack: &str) -> StackObjects {
    let mut all = files(names);
    all.extend(extra);
    let project = load(&all, &BTreeMap::new(), &read_nerddinner).unwrap();
    convert(&project, stack).unwrap()
}

fn start_first() -> ComposeFile {
    ComposeFile::new("start-first.yml", START_FIRST)
}

/// The tasks of `service` meant to run.
async fn live_tasks(control: &Control, service: &str) -> Vec<Task> {
    let filter = TaskFilter {
        services: vec![service.to_owned()],
        ..TaskFilter::default()
    };
    control
        .tasks(&filter)
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.desired_state <= TaskState::Running)
        .collect()
}

/// Checks that every task of the stack sees exactly its service's secrets and configs at their
/// targets, with their values, on the node that runs it; and that each node holds exactly the
/// secrets and configs its tasks use.
async fn files_reach_exactly_their_tasks(members: &[Member], control: &Control) {
    let secret_ids: BTreeMap<String, SecretId> = control
        .secrets()
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.id.to_string(), s.id))
        .collect();
    let secret_values: BTreeMap<SecretId, Vec<u8>> = {
        let mut values = BTreeMap::new();
        for (name, file) in SECRETS {
            let info = control.secret(name).await.unwrap();
            values.insert(info.id, secret_value(name, file));
        }
        values
    };
    let config_values: BTreeMap<ConfigId, Vec<u8>> = control
        .configs()
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.id.clone(), c.spec.data.as_bytes().to_vec()))
        .collect();
    let stack_services = services(control, STACK).await.unwrap();
    let mut wanted_secrets: BTreeMap<NodeId, BTreeSet<SecretId>> = BTreeMap::new();
    let mut wanted_configs: BTreeMap<NodeId, BTreeSet<ConfigId>> = BTreeMap::new();
    for service in &stack_services.services {
        for task in live_tasks(control, service.id.as_str()).await {
            let node = task.node_id.clone().unwrap();
            let member = members.iter().find(|m| m.node.id() == &node).unwrap();
            let mut seen: Vec<(&str, String, Vec<u8>)> = member
                .runtime
                .visible_files(&task.id)
                .into_iter()
                .map(|f| (f.kind.as_str(), f.target, f.data.expose().to_vec()))
                .collect();
            seen.sort();
            let container = &service.spec.task_template.container;
            let mut expected = Vec::new();
            for r in &container.secrets {
                assert!(secret_ids.contains_key(r.secret_id.as_str()));
                expected.push((
                    FileKind::Secret.as_str(),
                    r.target.name.clone(),
                    secret_values[&r.secret_id].clone(),
                ));
                wanted_secrets
                    .entry(node.clone())
                    .or_default()
                    .insert(r.secret_id.clone());
            }
            for r in &container.configs {
                expected.push((
                    FileKind::Config.as_str(),
                    r.target.name.clone(),
                    config_values[&r.config_id].clone(),
                ));
                wanted_configs
                    .entry(node.clone())
                    .or_default()
                    .insert(r.config_id.clone());
            }
            expected.sort();
            assert_eq!(
                seen, expected,
                "{}: the files of task {}",
                service.spec.name, task.id
            );
        }
    }
    // Every secret and config of apply-configuration.ps1 is used by some task.
    let held: BTreeSet<&SecretId> = wanted_secrets.values().flatten().collect();
    assert_eq!(held.len(), SECRETS.len());
    eventually(CONVERGE, "each node holds what its tasks use", || async {
        members
            .iter()
            .all(|m| {
                let view = m.node.agent_snapshot();
                let secrets: BTreeSet<SecretId> = view.held_secrets.into_iter().collect();
                let configs: BTreeSet<ConfigId> = view.held_configs.into_iter().collect();
                secrets == wanted_secrets.get(m.node.id()).cloned().unwrap_or_default()
                    && configs == wanted_configs.get(m.node.id()).cloned().unwrap_or_default()
            })
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chapter_deploys_updates_the_homepage_without_downtime_and_is_removed() {
    let _serial = ONE_CLUSTER_AT_A_TIME.lock().await;
    let root = tempfile::tempdir().unwrap();
    let members = start_cluster(root.path(), 31, 3, 3).await;
    let managers: Vec<&Node> = members.iter().take(3).map(|m| &m.node).collect();
    let control = cluster_support::leader_control(&managers).await;
    let chapter = stack_of(&CHAPTER, Some(start_first()), STACK);

    // Before `docker network create` and apply-configuration.ps1: refused, naming what is
    // missing in docker's words, and nothing is created.
    let err = deploy(&control, &chapter, &DeployOptions::default())
        .await
        .unwrap_err();
    let StackDeployError::MissingExternal(missing) = &err else {
        panic!("{err}");
    };
    assert_eq!(missing.len(), 10);
    let message = err.to_string();
    assert!(
        message.starts_with("network \"nd-swarm\" is declared as external, but could not be found"),
        "{message}"
    );
    assert!(
        message.contains("service reverse-proxy: secret not found: docker-client-ca"),
        "{message}"
    );
    assert!(
        message.contains("service nerd-dinner-web: config not found: nerd-dinner-config"),
        "{message}"
    );
    assert!(
        control
            .services(&ServiceFilter::default())
            .await
            .unwrap()
            .is_empty()
    );

    control
        .create_network(&NetworkSpec::new("nd-swarm"))
        .await
        .unwrap();
    for (name, file) in CONFIGS {
        let data = std::fs::read(nerddinner_dir().join(file)).unwrap();
        control
            .create_config(&ConfigSpec::new(name, data))
            .await
            .unwrap();
    }
    for (name, file) in SECRETS {
        control
            .create_secret(&SecretSpec::new(name, secret_value(name, file)))
            .await
            .unwrap();
    }

    // docker stack deploy -c docker-compose.yml -c docker-compose.swarm.yml nerd-dinner
    let report = deploy(&control, &chapter, &DeployOptions::default())
        .await
        .unwrap();
    assert_eq!(
        report.warnings,
        ["network nd-net: network.external.name is deprecated in favor of network.name"]
    );
    let lines: Vec<String> = report.steps.iter().map(ToString::to_string).collect();
    let expected: Vec<String> = chapter
        .services
        .iter()
        .map(|s| format!("Creating service {}", s.name))
        .collect();
    assert_eq!(lines, expected, "only services: the rest is external");
    assert!(
        report
            .render()
            .ends_with("Creating service nerd-dinner_reverse-proxy\n")
    );

    let replicas = [
        ("message-queue", 1),
        ("elasticsearch", 1),
        ("reverse-proxy", 1),
        ("kibana", 1),
        ("nerd-dinner-db", 1),
        ("nerd-dinner-save-handler", 3),
        ("nerd-dinner-index-handler", 2),
        ("nerd-dinner-api", 2),
        ("nerd-dinner-homepage", 2),
        ("nerd-dinner-web", 2),
    ];
    for (key, count) in replicas {
        converged(&control, &format!("{STACK}_{key}"), count).await;
    }
    // The reverse proxy runs on a manager.
    for task in live_tasks(&control, "nerd-dinner_reverse-proxy").await {
        let node = control
            .node(task.node_id.as_ref().unwrap().as_str())
            .await
            .unwrap();
        assert_eq!(node.spec.role, NodeRole::Manager);
    }
    files_reach_exactly_their_tasks(&members, &control).await;

    // docker stack ls / services / ps
    let stacks = list(&control).await.unwrap();
    assert_eq!(
        render_stack_ls(&stacks),
        "NAME          SERVICES\nnerd-dinner   10\n"
    );
    let table = services(&control, STACK).await.unwrap().render();
    assert_eq!(table.lines().count(), 11, "{table}");
    let save_handler = table
        .lines()
        .find(|l| l.contains("nerd-dinner_nerd-dinner-save-handler"))
        .unwrap();
    assert!(save_handler.contains(" 3/3 "), "{table}");
    let proxy = table.lines().find(|l| l.contains("reverse-proxy")).unwrap();
    assert!(proxy.contains("*:80->80/tcp, *:8080->8080/tcp"), "{table}");
    let tasks = ps(&control, STACK).await.unwrap();
    assert_eq!(tasks.tasks.len(), 16);
    let table = tasks.render(SystemTime::now());
    assert!(table.starts_with("ID "), "{table}");
    assert!(
        table.contains("nerd-dinner_nerd-dinner-save-handler.3 "),
        "{table}"
    );
    assert_eq!(table.lines().count(), 17, "{table}");
    // Every task is meant to run and runs (DESIRED STATE and CURRENT STATE).
    assert!(
        table
            .lines()
            .skip(1)
            .all(|l| l.matches("Running").count() == 2),
        "{table}"
    );

    // The same files again: nothing changes.
    let versions = |services: &[swarm_core::model::Service]| -> BTreeMap<String, (u64, u64)> {
        services
            .iter()
            .map(|s| (s.spec.name.clone(), (s.meta.version.0, s.spec_version.0)))
            .collect()
    };
    let before = versions(&services(&control, STACK).await.unwrap().services);
    let again = deploy(
        &control,
        &chapter,
        &DeployOptions::default().with_prune(true),
    )
    .await
    .unwrap();
    assert!(again.steps.is_empty(), "{:?}", again.steps);
    assert_eq!(again.unchanged_services.len(), 10);
    assert_eq!(
        versions(&services(&control, STACK).await.unwrap().services),
        before
    );

    // docker stack deploy -c docker-compose.yml -c docker-compose.swarm.yml -c new-homepage.yml:
    // only the homepage is updated, and two homepage tasks run at every instant.
    let homepage = control
        .service("nerd-dinner_nerd-dinner-homepage")
        .await
        .unwrap();
    let leader = managers.iter().find(|m| m.is_leader()).unwrap();
    let mut events = leader.events();
    let old: BTreeSet<_> = converged(&control, &homepage.spec.name, 2)
        .await
        .into_iter()
        .map(|t| t.id)
        .collect();
    let redeploy = {
        let mut all = files(&CHAPTER);
        all.push(nerddinner("new-homepage.yml"));
        all.push(start_first());
        convert(
            &load(&all, &BTreeMap::new(), &read_nerddinner).unwrap(),
            STACK,
        )
        .unwrap()
    };
    let report = deploy(&control, &redeploy, &DeployOptions::default())
        .await
        .unwrap();
    assert_eq!(
        report.render().lines().last().unwrap(),
        format!(
            "Updating service nerd-dinner_nerd-dinner-homepage (id: {})",
            homepage.id
        )
    );
    assert_eq!(
        report.updated_services(),
        ["nerd-dinner_nerd-dinner-homepage"]
    );
    assert_eq!(report.unchanged_services.len(), 9);
    let fewest =
        cluster_support::fewest_running(&mut events, &homepage.id, old.clone(), |running| {
            running.len() == 2 && running.is_disjoint(&old)
        })
        .await;
    assert!(
        fewest >= 2,
        "only {fewest} homepage tasks ran at one point of the update"
    );
    let new = converged(&control, &homepage.spec.name, 2).await;
    assert!(
        new.iter()
            .all(|t| t.spec.container.image == "dockeronwindows/ch07-nerd-dinner-homepage:2e")
    );
    let after = versions(&services(&control, STACK).await.unwrap().services);
    for (name, version) in &before {
        if name.ends_with("_nerd-dinner-homepage") {
            assert_ne!(&after[name], version);
        } else {
            assert_eq!(&after[name], version, "{name} was not touched");
        }
    }

    // The single-host variant as a second stack: its external network stands in for the
    // Windows `nat` network; docker's warnings, and the npipe mount it cannot apply yet.
    control
        .create_network(&NetworkSpec::new("nat"))
        .await
        .unwrap();
    let local = stack_of(
        &["docker-compose.yml", "docker-compose.local.yml"],
        None,
        "nd-local",
    );
    let report = deploy(&control, &local, &DeployOptions::default())
        .await
        .unwrap();
    assert_eq!(
        report.warnings,
        [
            "network nd-net: network.external.name is deprecated in favor of network.name",
            "docker-compose.local.yml: services.reverse-proxy.volumes[0] (type npipe): not supported yet, not applied",
        ]
    );
    assert_eq!(report.steps.len(), 10);
    assert!(
        report
            .render()
            .starts_with("network nd-net: network.external.name is deprecated")
    );
    converged(&control, "nd-local_nerd-dinner-web", 1).await;

    // A stack that owns a network and a secret: a changed secret file is refused, naming it;
    // a changed label is applied; a service of a stack name outside the stack is a clash.
    let shop = |value: &str, label: &str| {
        let yaml = format!(
            "version: '3.7'\nservices:\n  web:\n    image: mock/web:1\n    secrets: [tls]\n\
             secrets:\n  tls:\n    file: ./tls.pem\n    labels:\n      tier: {label}\n"
        );
        let read = reader(&[("tls.pem", value)]);
        let project = load(
            &[ComposeFile::new("shop.yml", yaml)],
            &BTreeMap::new(),
            &read,
        )
        .unwrap();
        convert(&project, "shop").unwrap()
    };
    let report = deploy(&control, &shop("one", "front"), &DeployOptions::default())
        .await
        .unwrap();
    let lines: Vec<String> = report.steps.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "Creating network shop_default",
            "Creating secret shop_tls",
            "Creating service shop_web",
        ]
    );
    converged(&control, "shop_web", 1).await;
    let err = deploy(&control, &shop("two", "front"), &DeployOptions::default())
        .await
        .unwrap_err();
    let StackDeployError::Conflicts(conflicts) = &err else {
        panic!("{err}");
    };
    assert_eq!(
        conflicts,
        &[PlanConflict::DataChanged {
            kind: StackObjectKind::Secret,
            name: "shop_tls".into()
        }]
    );
    assert!(
        err.to_string()
            .contains("secret shop_tls: only updates to Labels are allowed"),
        "{err}"
    );
    let report = deploy(&control, &shop("one", "back"), &DeployOptions::default())
        .await
        .unwrap();
    assert!(report.steps.is_empty());
    assert_eq!(
        control.secret("shop_tls").await.unwrap().labels["tier"],
        "back"
    );
    control
        .create_service(&ServiceSpec::new("shop_api", "mock/api:1"))
        .await
        .unwrap();
    let with_api = {
        let yaml = "version: '3.7'\nservices:\n  web:\n    image: mock/web:1\n  api:\n    image: mock/api:1\n";
        let project = load(
            &[ComposeFile::new("shop.yml", yaml)],
            &BTreeMap::new(),
            &reader(&[]),
        )
        .unwrap();
        convert(&project, "shop").unwrap()
    };
    let err = deploy(&control, &with_api, &DeployOptions::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "service shop_api already exists and is not part of the stack"
    );
    control.remove_service("shop_api").await.unwrap();

    // docker stack rm nerd-dinner: its services only (the rest is external); the other stacks
    // and the external objects stay.
    let report = remove(&control, STACK).await.unwrap();
    let expected: Vec<String> = chapter
        .services
        .iter()
        .map(|s| format!("Removing service {}", s.name))
        .collect();
    assert_eq!(report.render().lines().collect::<Vec<_>>(), expected);
    assert!(services(&control, STACK).await.unwrap().services.is_empty());
    eventually(CONVERGE, "the stack's tasks are gone", || async {
        let filter = TaskFilter {
            labels: BTreeMap::from([(
                swarm_core::stack::NAMESPACE_LABEL.to_owned(),
                Some(STACK.to_owned()),
            )]),
            ..TaskFilter::default()
        };
        control.tasks(&filter).await.ok()?.is_empty().then_some(())
    })
    .await;
    assert_eq!(control.secrets().await.unwrap().len(), SECRETS.len() + 1);
    assert_eq!(control.configs().await.unwrap().len(), CONFIGS.len());
    assert!(control.network("nd-swarm").await.is_ok());
    let stacks = list(&control).await.unwrap();
    assert_eq!(
        render_stack_ls(&stacks),
        "NAME       SERVICES\nnd-local   10\nshop       1\n"
    );
    assert!(matches!(
        ps(&control, STACK).await,
        Err(StackDeployError::NothingFound { .. })
    ));

    // docker stack rm shop: service, then secret, then network (once its task let go of it).
    let report = remove(&control, "shop").await.unwrap();
    let steps: Vec<(StackAction, StackObjectKind, &str)> = report
        .steps
        .iter()
        .map(|s| (s.action, s.kind, s.name.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            (StackAction::Remove, StackObjectKind::Service, "shop_web"),
            (StackAction::Remove, StackObjectKind::Secret, "shop_tls"),
            (
                StackAction::Remove,
                StackObjectKind::Network,
                "shop_default"
            ),
        ]
    );
    assert!(control.network("shop_default").await.is_err());
    assert_eq!(
        remove(&control, "shop").await.unwrap().render(),
        "Nothing found in stack: shop\n"
    );
    assert_eq!(list(&control).await.unwrap().len(), 1);
}
