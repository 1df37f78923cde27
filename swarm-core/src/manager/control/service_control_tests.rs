//! The service and task control steps over a `ClusterState`.

use crate::manager::control::object_fixture::{Objects, at};
use crate::manager::control::{
    ControlError, ObjectType, ServiceFilter, ServiceModeKind, TaskFilter, create_service,
    find_service, find_task, list_services, list_tasks, remove_service, rollback_service,
    scale_service, update_service,
};
use crate::manager::writes::{ManagerWrite, ObjectWrite};
use crate::model::{
    ConfigReference, EndpointSpec, FileTarget, NetworkAttachmentConfig, NetworkSpec, PortConfig,
    PublishMode, SecretReference, ServiceMode, ServiceSpec, TaskState, UpdateState, Version,
};

fn with_port(name: &str, published: u32, mode: PublishMode) -> ServiceSpec {
    let mut spec = ServiceSpec::new(name, "nginx:1.27");
    spec.endpoint_spec = Some(EndpointSpec {
        ports: vec![PortConfig {
            target_port: 80,
            published_port: published,
            publish_mode: mode,
            ..PortConfig::default()
        }],
        ..EndpointSpec::default()
    });
    spec
}

fn create_err(o: &mut Objects, spec: &ServiceSpec) -> ControlError {
    let state = o.state.clone();
    create_service(&state, spec, at(5), &mut o.rng()).unwrap_err()
}

#[test]
fn create_stores_references_by_id_and_starts_at_spec_version_one() {
    let mut o = Objects::new();
    let net = o.network(NetworkSpec::new("nd-net"));
    let secret = o.secret("db-password", b"s3cr3t");
    let config = o.config("homepage", b"<h1>hi</h1>");
    let mut spec = ServiceSpec::new("nerd-dinner-web", "dinner:2e");
    spec.task_template.networks = vec![NetworkAttachmentConfig {
        target: "nd-net".into(),
        aliases: vec!["web".into()],
    }];
    spec.task_template.container.secrets = vec![SecretReference {
        secret_id: "".into(),
        secret_name: "db-password".into(),
        target: FileTarget::new("db-password"),
    }];
    // A config named by its id in the id field.
    spec.task_template.container.configs = vec![ConfigReference {
        config_id: config.clone(),
        config_name: String::new(),
        target: FileTarget::new("index.html"),
    }];
    let state = o.state.clone();
    let created = create_service(&state, &spec, at(5), &mut o.rng()).unwrap();
    assert_eq!(created.id.as_str().len(), 25);
    let [ManagerWrite::Service(ObjectWrite::Create(service))] = created.writes.writes.as_slice()
    else {
        panic!("one service create expected");
    };
    assert_eq!(service.spec_version, Version(1));
    assert_eq!(service.endpoint, None);
    assert_eq!(service.job_status, None);
    let template = &service.spec.task_template;
    assert_eq!(template.networks[0].target, net.as_str());
    assert_eq!(template.networks[0].aliases, ["web"]);
    assert_eq!(template.container.secrets[0].secret_id, secret);
    assert_eq!(template.container.secrets[0].secret_name, "db-password");
    assert_eq!(template.container.configs[0].config_id, config);
    assert_eq!(template.container.configs[0].config_name, "homepage");
}

#[test]
fn create_refuses_a_taken_name_a_missing_reference_and_an_invalid_spec() {
    let mut o = Objects::new();
    let web = o.service(ServiceSpec::new("web", "nginx"));
    let err = create_err(&mut o, &ServiceSpec::new("web", "httpd"));
    assert!(matches!(
        err,
        ControlError::NameInUse {
            kind: ObjectType::Service,
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        format!(r#"service name "web" is already used by service "web" ({web})"#)
    );

    let mut spec = ServiceSpec::new("api", "api:1");
    spec.task_template.networks = vec![NetworkAttachmentConfig {
        target: "nd-swarm".into(),
        aliases: vec![],
    }];
    assert_eq!(
        create_err(&mut o, &spec).to_string(),
        r#"service "api": task_template.networks[0].target: no network matches "nd-swarm""#
    );

    let mut spec = ServiceSpec::new("api", "api:1");
    spec.task_template.container.secrets = vec![SecretReference {
        secret_id: "".into(),
        secret_name: "nerd-dinner-api-secrets".into(),
        target: FileTarget::new("secrets.json"),
    }];
    let err = create_err(&mut o, &spec);
    assert!(matches!(
        err,
        ControlError::MissingReference {
            kind: ObjectType::Secret,
            ..
        }
    ));
    assert!(err.to_string().contains("nerd-dinner-api-secrets"));

    let err = create_err(&mut o, &ServiceSpec::new("-bad", "api:1"));
    let ControlError::InvalidSpec(errors) = err else {
        panic!("invalid spec expected");
    };
    assert!(errors.has_field("name"));
    assert_eq!(o.state.services().len(), 1);
}

#[test]
fn inspect_finds_by_id_name_or_unique_prefix() {
    let mut o = Objects::new();
    let web = o.service(ServiceSpec::new("web", "nginx"));
    let api = o.service(ServiceSpec::new("api", "api:1"));
    assert_eq!(find_service(&o.state, web.as_str()).unwrap().id, web);
    assert_eq!(find_service(&o.state, "api").unwrap().id, api);
    assert_eq!(find_service(&o.state, &web.as_str()[..6]).unwrap().id, web);
    let err = find_service(&o.state, "db").unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"no service matches "db" (by id, name or id prefix)"#
    );
    assert!(matches!(
        find_service(&o.state, ""),
        Err(ControlError::NotFound { .. })
    ));
}

#[test]
fn update_needs_the_version_read_and_keeps_name_and_mode() {
    let mut o = Objects::new();
    let web = o.service(ServiceSpec::new("web", "nginx:1.26"));
    let read = o.state.service(&web).unwrap().clone();
    let mut spec = read.spec.clone();
    spec.task_template.container.image = "nginx:1.27".into();
    let writes = update_service(&o.state, "web", read.meta.version, &spec, at(9)).unwrap();
    o.apply(&writes);
    let updated = o.state.service(&web).unwrap().clone();
    assert_eq!(updated.spec.task_template.container.image, "nginx:1.27");
    assert_eq!(
        updated
            .previous_spec
            .as_ref()
            .unwrap()
            .task_template
            .container
            .image,
        "nginx:1.26"
    );
    assert_eq!(updated.spec_version, Version(2));
    assert_eq!(updated.meta.updated_at, at(9));

    // The version read before that update is stale now.
    let err = update_service(&o.state, "web", read.meta.version, &spec, at(10)).unwrap_err();
    assert!(err.is_conflict());
    assert_eq!(
        err.to_string(),
        format!(
            r#"service "web" ({web}) was changed: the update is for version 1, the service is at version 2; read it again"#
        )
    );

    let version = updated.meta.version;
    let mut renamed = spec.clone();
    renamed.name = "www".into();
    assert!(matches!(
        update_service(&o.state, "web", version, &renamed, at(10)),
        Err(ControlError::ServiceRename { .. })
    ));
    let mut global = spec.clone();
    global.mode = ServiceMode::Global;
    let err = update_service(&o.state, "web", version, &global, at(10)).unwrap_err();
    assert!(matches!(err, ControlError::ServiceModeChange { .. }));
    assert!(err.to_string().contains("replicated (1) to global"));
}

#[test]
fn rollback_swaps_back_and_forth_and_needs_a_previous_spec() {
    let mut o = Objects::new();
    let web = o.service(ServiceSpec::new("web", "nginx:1.26"));
    let err = rollback_service(&o.state, "web", at(5)).unwrap_err();
    assert!(matches!(err, ControlError::NoPreviousSpec { .. }));
    assert_eq!(
        err.to_string(),
        format!(r#"service "web" ({web}) does not have a previous spec to roll back to"#)
    );

    let read = o.state.service(&web).unwrap().clone();
    let mut spec = read.spec.clone();
    spec.task_template.container.image = "nginx:1.27".into();
    o.apply(&update_service(&o.state, "web", read.meta.version, &spec, at(9)).unwrap());
    let updated = o.state.service(&web).unwrap().clone();
    assert_eq!(
        (updated.spec_version, updated.previous_spec_version),
        (Version(2), Some(Version(1)))
    );
    assert_eq!(updated.update_status, None);

    o.apply(&rollback_service(&o.state, "web", at(10)).unwrap());
    let back = o.state.service(&web).unwrap().clone();
    assert_eq!(back.spec.task_template.container.image, "nginx:1.26");
    assert_eq!(
        (back.spec_version, back.previous_spec_version),
        (Version(1), Some(Version(2)))
    );
    let status = back.update_status.clone().unwrap();
    assert_eq!(status.state, UpdateState::RollbackStarted);
    assert_eq!(status.message, "manually requested rollback");
    assert_eq!((status.started_at, status.completed_at), (at(10), None));
    assert_eq!(back.meta.updated_at, at(10));

    // A second rollback goes forward again; an update after it gets a fresh version.
    o.apply(&rollback_service(&o.state, "web", at(11)).unwrap());
    let forward = o.state.service(&web).unwrap().clone();
    assert_eq!(forward.spec.task_template.container.image, "nginx:1.27");
    assert_eq!(forward.spec_version, Version(2));
    o.apply(&rollback_service(&o.state, "web", at(12)).unwrap());
    let read = o.state.service(&web).unwrap().clone();
    spec.task_template.container.image = "nginx:1.28".into();
    o.apply(&update_service(&o.state, "web", read.meta.version, &spec, at(13)).unwrap());
    let newest = o.state.service(&web).unwrap();
    assert_eq!(newest.spec_version, Version(3), "past both versions in use");
    assert_eq!(
        newest.update_status, None,
        "a new update supersedes the rollback"
    );
}

/// Seed 621 of the simulation: a job's rollback was left `rollback_started` forever (the
/// update supervisor has no updates for jobs, so nothing ends one).
#[test]
fn a_job_rollback_starts_a_new_iteration_without_an_update_status() {
    let mut o = Objects::new();
    let mut job = ServiceSpec::new("migrate", "db:1");
    job.mode = ServiceMode::ReplicatedJob {
        max_concurrent: 1,
        total_completions: 2,
    };
    let id = o.service(job);
    let read = o.state.service(&id).unwrap().clone();
    let mut changed = read.spec.clone();
    changed.task_template.container.image = "db:2".into();
    o.apply(&update_service(&o.state, "migrate", read.meta.version, &changed, at(5)).unwrap());
    let updated = o.state.service(&id).unwrap().clone();
    o.apply(&rollback_service(&o.state, "migrate", at(10)).unwrap());
    let rolled_back = o.state.service(&id).unwrap();
    assert_eq!(rolled_back.spec.task_template.container.image, "db:1");
    assert_eq!(rolled_back.update_status, None);
    assert_eq!(
        rolled_back.job_status.as_ref().unwrap().job_iteration,
        updated.meta.version,
        "a new iteration, numbered by the version read"
    );
}

#[test]
fn scale_changes_the_count_of_replicated_services_and_jobs_only() {
    let mut o = Objects::new();
    let web = o.service(ServiceSpec::new("web", "nginx"));
    let writes = scale_service(&o.state, "web", 5, at(9)).unwrap();
    o.apply(&writes);
    let web = o.state.service(&web).unwrap();
    assert_eq!(web.spec.mode, ServiceMode::Replicated { replicas: 5 });
    assert_eq!(web.spec_version, Version(2));

    let mut job = ServiceSpec::new("migrate", "db:1");
    job.mode = ServiceMode::ReplicatedJob {
        max_concurrent: 1,
        total_completions: 1,
    };
    let job = o.service(job);
    let created = o.state.service(&job).unwrap().clone();
    assert_eq!(
        created.job_status.as_ref().unwrap().job_iteration,
        Version(0)
    );
    let writes = scale_service(&o.state, "migrate", 4, at(9)).unwrap();
    o.apply(&writes);
    let scaled = o.state.service(&job).unwrap();
    assert_eq!(
        scaled.spec.mode,
        ServiceMode::ReplicatedJob {
            max_concurrent: 1,
            total_completions: 4
        }
    );
    // A new iteration, numbered by the version read.
    assert_eq!(
        scaled.job_status.as_ref().unwrap().job_iteration,
        created.meta.version
    );

    let mut global = ServiceSpec::new("node-exporter", "exporter:1");
    global.mode = ServiceMode::Global;
    o.service(global);
    let err = scale_service(&o.state, "node-exporter", 2, at(9)).unwrap_err();
    assert!(matches!(err, ControlError::NotScalable { .. }));
    assert!(err.to_string().contains(r#"service "node-exporter""#));
}

#[test]
fn remove_deletes_at_the_version_read() {
    let mut o = Objects::new();
    let web = o.service(ServiceSpec::new("web", "nginx"));
    let writes = remove_service(&o.state, "web").unwrap();
    assert_eq!(
        writes.writes,
        [ManagerWrite::Service(ObjectWrite::Delete {
            id: web.as_str().to_owned(),
            expected_version: Version(1),
        })]
    );
    o.apply(&writes);
    assert!(o.state.services().is_empty());
}

#[test]
fn a_published_port_in_use_is_refused_naming_the_other_service() {
    let mut o = Objects::new();
    let proxy = o.service(with_port("reverse-proxy", 80, PublishMode::Ingress));
    let err = create_err(&mut o, &with_port("web", 80, PublishMode::Ingress));
    assert_eq!(
        err.to_string(),
        format!(
            r#"service "web": port 80/tcp is already in use by service "reverse-proxy" ({proxy}) as an ingress port"#
        )
    );
    // Host mode against an ingress port conflicts too; two host ports do not.
    assert!(matches!(
        create_err(&mut o, &with_port("web", 80, PublishMode::Host)),
        ControlError::PortInUse { .. }
    ));
    o.service(with_port("edge-a", 8443, PublishMode::Host));
    o.service(with_port("edge-b", 8443, PublishMode::Host));
    // Port 0 asks the cluster for one: it never conflicts.
    o.service(with_port("any-a", 0, PublishMode::Ingress));
    o.service(with_port("any-b", 0, PublishMode::Ingress));

    // A port the allocator gave another service counts, and an update is checked too.
    let any_a = o.state.service_by_name("any-a").unwrap().clone();
    let mut allocated = any_a.clone();
    let mut endpoint = crate::model::Endpoint {
        spec: any_a.spec.endpoint_spec.clone().unwrap(),
        ..Default::default()
    };
    endpoint.ports = endpoint.spec.ports.clone();
    endpoint.ports[0].published_port = 30000;
    allocated.endpoint = Some(endpoint);
    o.apply_all(&[ManagerWrite::Service(ObjectWrite::Update {
        object: allocated,
        expected_version: any_a.meta.version,
    })]);
    let edge_a = o.state.service_by_name("edge-a").unwrap().clone();
    let mut spec = with_port("edge-a", 30000, PublishMode::Host);
    spec.task_template = edge_a.spec.task_template.clone();
    let err = update_service(&o.state, "edge-a", edge_a.meta.version, &spec, at(9)).unwrap_err();
    assert!(err.to_string().contains(r#"in use by service "any-a""#));
    // Its own ports do not conflict with themselves.
    let spec = with_port("reverse-proxy", 80, PublishMode::Ingress);
    let read = o.state.service(&proxy).unwrap().meta.version;
    assert!(update_service(&o.state, "reverse-proxy", read, &spec, at(9)).is_ok());
}

#[test]
fn service_ls_filters_by_id_name_label_and_mode() {
    let mut o = Objects::new();
    let mut web = ServiceSpec::new("nerd-dinner-web", "web:1");
    web.labels.insert("traefik.port".into(), "80".into());
    let web = o.service(web);
    let mut api = ServiceSpec::new("nerd-dinner-api", "api:1");
    api.labels.insert("traefik.port".into(), "8080".into());
    let api = o.service(api);
    let mut global = ServiceSpec::new("monitor", "mon:1");
    global.mode = ServiceMode::Global;
    let monitor = o.service(global);
    let ids = |f: &ServiceFilter| -> Vec<String> {
        list_services(&o.state, f)
            .iter()
            .map(|s| s.spec.name.clone())
            .collect()
    };
    let mut all = vec!["nerd-dinner-web", "nerd-dinner-api", "monitor"];
    let mut sorted: Vec<(&crate::model::ServiceId, &str)> =
        [(&web, all[0]), (&api, all[1]), (&monitor, all[2])].into();
    sorted.sort();
    all = sorted.into_iter().map(|(_, n)| n).collect();
    assert_eq!(ids(&ServiceFilter::default()), all);
    let by_name = ServiceFilter {
        name_prefixes: vec!["nerd-dinner".into()],
        ..ServiceFilter::default()
    };
    assert_eq!(ids(&by_name).len(), 2);
    let by_label = ServiceFilter {
        labels: [("traefik.port".to_owned(), Some("80".to_owned()))].into(),
        ..ServiceFilter::default()
    };
    assert_eq!(ids(&by_label), ["nerd-dinner-web"]);
    let any_label = ServiceFilter {
        labels: [("traefik.port".to_owned(), None)].into(),
        ..ServiceFilter::default()
    };
    assert_eq!(ids(&any_label).len(), 2);
    let by_mode = ServiceFilter {
        modes: vec![ServiceModeKind::Global],
        ..ServiceFilter::default()
    };
    assert_eq!(ids(&by_mode), ["monitor"]);
    let by_id = ServiceFilter {
        id_prefixes: vec![api.as_str()[..8].to_owned()],
        ..ServiceFilter::default()
    };
    assert_eq!(ids(&by_id), ["nerd-dinner-api"]);
}

#[test]
fn task_ls_filters_by_service_name_node_desired_state_and_service_labels() {
    let mut o = Objects::new();
    let mut web = ServiceSpec::new("web", "nginx");
    web.labels
        .insert("com.docker.stack.namespace".into(), "nd".into());
    let web = o.service(web);
    let api = o.service(ServiceSpec::new("api", "api:1"));
    let n1 = o.node("node-1-id", "win2019-dev-02");
    let t1 = o.task(&web, 1);
    let t2 = o.task(&web, 2);
    let t3 = o.task(&api, 1);
    o.edit_task(&t1, |t| t.node_id = Some(n1.clone()));
    o.edit_task(&t2, |t| t.desired_state = TaskState::Shutdown);
    let ids = |f: &TaskFilter| -> Vec<String> {
        list_tasks(&o.state, f)
            .unwrap()
            .iter()
            .map(|t| t.id.to_string())
            .collect()
    };
    assert_eq!(ids(&TaskFilter::default()).len(), 3);
    let by_service = TaskFilter {
        services: vec!["web".into()],
        ..TaskFilter::default()
    };
    assert_eq!(ids(&by_service), [t1.as_str(), t2.as_str()]);
    let by_node = TaskFilter {
        nodes: vec!["win2019-dev-02".into()],
        ..TaskFilter::default()
    };
    assert_eq!(ids(&by_node), [t1.as_str()]);
    let running = TaskFilter {
        desired_states: vec![TaskState::Running],
        ..TaskFilter::default()
    };
    assert_eq!(ids(&running), [t1.as_str(), t3.as_str()]);
    let by_label = TaskFilter {
        labels: [(
            "com.docker.stack.namespace".to_owned(),
            Some("nd".to_owned()),
        )]
        .into(),
        ..TaskFilter::default()
    };
    assert_eq!(ids(&by_label), [t1.as_str(), t2.as_str()]);
    let unknown = TaskFilter {
        services: vec!["db".into()],
        ..TaskFilter::default()
    };
    assert!(matches!(
        list_tasks(&o.state, &unknown),
        Err(ControlError::NotFound {
            kind: ObjectType::Service,
            ..
        })
    ));
    assert_eq!(find_task(&o.state, "task003").unwrap().id, t3);
    assert_eq!(
        find_task(&o.state, "task00").unwrap_err().to_string(),
        format!(r#""task00" is ambiguous: it matches task {t1}, task {t2}, task {t3}"#)
    );
}
