//! The allocator step over `ClusterState` fixtures.

use crate::manager::allocator::{DYNAMIC_PORT_START, PENDING_MESSAGE, allocate, resolve};
use crate::manager::control::ControlError;
use crate::manager::control::object_fixture::{Objects, at};
use crate::manager::writes::{ManagerWrite, ObjectWrite};
use crate::model::{
    EndpointSpec, Network, NetworkAttachmentConfig, NetworkSpec, PortConfig, PublishMode,
    ResolutionMode, ServiceId, ServiceSpec, TaskId, TaskState, VirtualIp,
};
use std::net::IpAddr;

fn on(name: &str, network: &str, aliases: &[&str]) -> ServiceSpec {
    let mut spec = ServiceSpec::new(name, "app:1");
    spec.task_template.networks = vec![NetworkAttachmentConfig {
        target: network.into(),
        aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
    }];
    spec
}

fn publishing(mut spec: ServiceSpec, ports: &[(u32, u32)]) -> ServiceSpec {
    spec.endpoint_spec = Some(EndpointSpec {
        ports: ports
            .iter()
            .map(|(target, published)| PortConfig {
                target_port: *target,
                published_port: *published,
                ..PortConfig::default()
            })
            .collect(),
        ..EndpointSpec::default()
    });
    spec
}

/// Runs the allocator at `secs` and applies its writes; returns them.
fn run(o: &mut Objects, secs: u64) -> Vec<ManagerWrite> {
    let writes = allocate(&o.state, at(secs));
    o.apply_all(&writes);
    writes
}

fn vips(o: &Objects, service: &ServiceId) -> Vec<VirtualIp> {
    o.state.services()[service]
        .endpoint
        .clone()
        .unwrap()
        .virtual_ips
}

fn addresses(o: &Objects, task: &TaskId) -> Vec<String> {
    o.state.tasks()[task]
        .networks
        .iter()
        .flat_map(|a| a.addresses.clone())
        .collect()
}

#[test]
fn a_network_without_subnets_gets_a_free_one_and_keeps_it() {
    let mut o = Objects::new();
    o.network(NetworkSpec::new("nd-swarm")); // 10.0.0.0/24, allocated at create
    let bare = Network {
        id: "bare".into(),
        spec: NetworkSpec::new("bare"),
        ..Network::default()
    };
    o.apply_all(&[ManagerWrite::Network(ObjectWrite::Create(bare))]);
    let writes = run(&mut o, 10);
    assert_eq!(writes.len(), 1);
    let bare = &o.state.networks()["bare"];
    assert_eq!(bare.allocated_ipam[0].subnet, "10.0.1.0/24");
    assert_eq!(bare.allocated_ipam[0].gateway.as_deref(), Some("10.0.1.1"));
    assert_eq!(bare.meta.updated_at, at(10));
    assert!(run(&mut o, 11).is_empty());
}

#[test]
fn tasks_get_unique_addresses_after_their_service_s_virtual_ip_and_move_to_pending() {
    let mut o = Objects::new();
    let net = o.network(NetworkSpec::new("nd-swarm"));
    let web = o.service(on("web", "nd-swarm", &["www"]));
    let t1 = o.task(&web, 1);
    let t2 = o.task(&web, 2);
    let writes = run(&mut o, 10);
    // The service's endpoint, then both tasks: one write each.
    assert_eq!(writes.len(), 3);
    assert!(matches!(writes[0], ManagerWrite::Service(_)));
    assert_eq!(
        vips(&o, &web),
        [VirtualIp {
            network_id: net.clone(),
            addr: "10.0.0.2/24".into()
        }]
    );
    assert_eq!(addresses(&o, &t1), ["10.0.0.3/24"]);
    assert_eq!(addresses(&o, &t2), ["10.0.0.4/24"]);
    let task = &o.state.tasks()[&t1];
    assert_eq!(task.status.state, TaskState::Pending);
    assert_eq!(task.status.message, PENDING_MESSAGE);
    assert_eq!(task.status.timestamp, at(10));
    assert_eq!(task.networks[0].network_name, "nd-swarm");
    assert_eq!(task.networks[0].aliases, ["web", "www"]);
    // Nothing left to do: the same state gives no writes.
    assert!(run(&mut o, 11).is_empty());
}

#[test]
fn an_address_is_reused_once_its_task_ended_and_is_not_wanted_running() {
    let mut o = Objects::new();
    o.network(NetworkSpec::new("nd-swarm"));
    let mut spec = on("db", "nd-swarm", &[]);
    spec.endpoint_spec = Some(EndpointSpec {
        mode: ResolutionMode::Dnsrr,
        ports: vec![],
    });
    let db = o.service(spec);
    let old = o.task(&db, 1);
    run(&mut o, 10);
    // dnsrr: no virtual IP, the task takes the first address after the gateway.
    assert!(vips(&o, &db).is_empty());
    assert_eq!(addresses(&o, &old), ["10.0.0.2/24"]);

    // Failed but still wanted running: the address stays taken.
    o.report(&old, TaskState::Failed);
    let replacement = o.task(&db, 1);
    run(&mut o, 11);
    assert_eq!(addresses(&o, &replacement), ["10.0.0.3/24"]);

    // Once the old one is also asked to shut down, its address is free again.
    o.edit_task(&old, |t| t.desired_state = TaskState::Shutdown);
    let third = o.task(&db, 1);
    run(&mut o, 12);
    assert_eq!(addresses(&o, &third), ["10.0.0.2/24"]);
}

#[test]
fn a_task_whose_network_is_missing_stays_new_with_the_error_written_once() {
    let mut o = Objects::new();
    o.network(NetworkSpec::new("nd-swarm"));
    let web = o.service(on("web", "nd-swarm", &[]));
    let task = o.task(&web, 1);
    o.edit_task(&task, |t| t.spec.networks[0].target = "gone".into());
    let writes = run(&mut o, 10);
    assert_eq!(writes.len(), 2, "the endpoint and the task's error");
    let t = &o.state.tasks()[&task];
    assert_eq!(t.status.state, TaskState::New);
    assert_eq!(t.status.err.as_deref(), Some(r#"network "gone" not found"#));
    assert!(t.networks.is_empty());
    assert!(
        run(&mut o, 11).is_empty(),
        "the same error is not written again"
    );
}

#[test]
fn port_zero_gets_the_lowest_free_dynamic_port_and_keeps_it() {
    let mut o = Objects::new();
    let a = o.service(publishing(ServiceSpec::new("a", "a:1"), &[(80, 0)]));
    let b = o.service(publishing(
        ServiceSpec::new("b", "b:1"),
        &[(80, DYNAMIC_PORT_START), (81, 0)],
    ));
    run(&mut o, 10);
    let ports = |o: &Objects, s: &ServiceId| -> Vec<u32> {
        o.state.services()[s]
            .endpoint
            .as_ref()
            .unwrap()
            .ports
            .iter()
            .map(|p| p.published_port)
            .collect()
    };
    // 30000 is published by b's spec: a gets 30001, b's port 0 the next one.
    assert_eq!(ports(&o, &a), [30001]);
    assert_eq!(ports(&o, &b), [30000, 30002]);

    // Adding a port re-allocates b's endpoint and keeps the port it had.
    let read = o.state.services()[&b].clone();
    let mut spec = read.spec.clone();
    spec.endpoint_spec.as_mut().unwrap().ports.push(PortConfig {
        target_port: 82,
        published_port: 0,
        ..PortConfig::default()
    });
    let writes =
        crate::manager::control::update_service(&o.state, "b", read.meta.version, &spec, at(11))
            .unwrap();
    o.apply(&writes);
    run(&mut o, 12);
    assert_eq!(ports(&o, &b), [30000, 30002, 30003]);
}

#[test]
fn a_task_carries_its_service_s_endpoint_with_the_ports_the_cluster_picked() {
    let mut o = Objects::new();
    let mut spec = publishing(ServiceSpec::new("web", "web:1"), &[(80, 0), (443, 8443)]);
    if let Some(e) = spec.endpoint_spec.as_mut() {
        e.ports.push(PortConfig {
            target_port: 9000,
            published_port: 9000,
            publish_mode: PublishMode::Host,
            ..PortConfig::default()
        });
    }
    let web = o.service(spec);
    let t1 = o.task(&web, 1);
    assert_eq!(o.state.tasks()[&t1].endpoint, None);
    run(&mut o, 10);
    let task = &o.state.tasks()[&t1];
    assert_eq!(task.status.state, TaskState::Pending);
    let endpoint = task.endpoint.as_ref().expect("the task's endpoint");
    assert_eq!(Some(endpoint), o.state.services()[&web].endpoint.as_ref());
    let published: Vec<(u32, u32, PublishMode)> = endpoint
        .ports
        .iter()
        .map(|p| (p.target_port, p.published_port, p.publish_mode))
        .collect();
    assert_eq!(
        published,
        [
            (80, DYNAMIC_PORT_START, PublishMode::Ingress),
            (443, 8443, PublishMode::Ingress),
            (9000, 9000, PublishMode::Host)
        ]
    );
}

#[test]
fn a_port_another_service_was_given_leaves_the_service_unallocated_and_says_so() {
    let mut o = Objects::new();
    let a = o.service(publishing(ServiceSpec::new("a", "a:1"), &[(80, 0)]));
    run(&mut o, 10);
    // b asks for the port a was given (created concurrently, past the control check).
    let mut b = publishing(ServiceSpec::new("b", "b:1"), &[(80, 30000)]);
    b.task_template.container.image = "b:1".into();
    let b_service = crate::model::Service {
        id: "b".into(),
        spec: b,
        spec_version: crate::model::Version(1),
        ..crate::model::Service::default()
    };
    o.apply_all(&[ManagerWrite::Service(ObjectWrite::Create(b_service))]);
    let task = o.task(&"b".into(), 1);
    let writes = run(&mut o, 11);
    assert_eq!(writes.len(), 1, "only the task's error");
    assert!(o.state.services()["b"].endpoint.is_none());
    let err = o.state.tasks()[&task].status.err.clone().unwrap();
    assert_eq!(
        err,
        format!(
            r#"service "b": port 30000/tcp is already in use by service "a" ({a}) as an ingress port"#
        )
    );
    assert!(run(&mut o, 12).is_empty());
}

#[test]
fn a_network_added_to_a_service_gets_a_virtual_ip_and_the_old_one_is_kept() {
    let mut o = Objects::new();
    let front = o.network(NetworkSpec::new("front"));
    let back = o.network(NetworkSpec::new("back"));
    let web = o.service(on("web", "front", &[]));
    run(&mut o, 10);
    assert_eq!(vips(&o, &web)[0].addr, "10.0.0.2/24");
    let read = o.state.services()[&web].clone();
    let mut spec = read.spec.clone();
    spec.task_template.networks.push(NetworkAttachmentConfig {
        target: "back".into(),
        aliases: vec![],
    });
    let writes =
        crate::manager::control::update_service(&o.state, "web", read.meta.version, &spec, at(11))
            .unwrap();
    o.apply(&writes);
    run(&mut o, 12);
    assert_eq!(
        vips(&o, &web),
        [
            VirtualIp {
                network_id: front.clone(),
                addr: "10.0.0.2/24".into()
            },
            VirtualIp {
                network_id: back,
                addr: "10.0.1.2/24".into()
            },
        ]
    );
    // Dropping "front" frees its virtual IP for the next service there.
    let read = o.state.services()[&web].clone();
    let mut spec = read.spec.clone();
    spec.task_template.networks.remove(0);
    let writes =
        crate::manager::control::update_service(&o.state, "web", read.meta.version, &spec, at(13))
            .unwrap();
    o.apply(&writes);
    let api = o.service(on("api", "front", &[]));
    run(&mut o, 14);
    assert_eq!(vips(&o, &web).len(), 1);
    assert_eq!(vips(&o, &api)[0].addr, "10.0.0.2/24");
}

#[test]
fn resolve_answers_virtual_ips_running_tasks_slots_and_aliases() {
    let mut o = Objects::new();
    o.network(NetworkSpec::new("nd-swarm"));
    let web = o.service(on("web", "nd-swarm", &["www"]));
    let mut dnsrr = on("db", "nd-swarm", &[]);
    dnsrr.endpoint_spec = Some(EndpointSpec {
        mode: ResolutionMode::Dnsrr,
        ports: vec![],
    });
    let db = o.service(dnsrr);
    let w1 = o.task(&web, 1);
    let d1 = o.task(&db, 1);
    let d2 = o.task(&db, 2);
    run(&mut o, 10);
    let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
    assert_eq!(
        resolve(&o.state, "nd-swarm", "web").unwrap(),
        [ip("10.0.0.2")]
    );
    assert_eq!(
        resolve(&o.state, "nd-swarm", "www").unwrap(),
        [ip("10.0.0.2")]
    );
    // No task of db runs yet.
    assert!(resolve(&o.state, "nd-swarm", "db").unwrap().is_empty());
    for t in [&w1, &d1, &d2] {
        o.report(t, TaskState::Running);
    }
    let d1_addr = ip(addresses(&o, &d1)[0].split('/').next().unwrap());
    let d2_addr = ip(addresses(&o, &d2)[0].split('/').next().unwrap());
    assert_eq!(
        resolve(&o.state, "nd-swarm", "db").unwrap(),
        [d1_addr, d2_addr]
    );
    assert_eq!(resolve(&o.state, "nd-swarm", "db.2").unwrap(), [d2_addr]);
    let w1_addr = ip(addresses(&o, &w1)[0].split('/').next().unwrap());
    assert_eq!(resolve(&o.state, "nd-swarm", "web.1").unwrap(), [w1_addr]);
    let err = resolve(&o.state, "nd-swarm", "cache").unwrap_err();
    assert!(matches!(err, ControlError::NameNotResolved { .. }));
    assert!(err.to_string().contains(r#"network "nd-swarm""#));
    assert!(matches!(
        resolve(&o.state, "other", "web"),
        Err(ControlError::NotFound { .. })
    ));
}

#[test]
fn the_same_state_gives_the_same_writes() {
    let mut o = Objects::new();
    o.network(NetworkSpec::new("nd-swarm"));
    let web = o.service(publishing(on("web", "nd-swarm", &[]), &[(80, 0)]));
    for slot in 1..=3 {
        o.task(&web, slot);
    }
    let first = allocate(&o.state, at(10));
    let second = allocate(&o.state, at(10));
    assert_eq!(first, second);
    assert_eq!(first.len(), 4);
}

#[test]
fn an_ingress_port_attaches_the_service_to_the_ingress_network_and_host_port_zero_stays_zero() {
    let mut o = Objects::new();
    let mut ingress = NetworkSpec::new("ingress");
    ingress.ingress = true;
    let ingress = o.network(ingress);
    o.network(NetworkSpec::new("nd-swarm"));
    let mut spec = publishing(on("proxy", "nd-swarm", &[]), &[(80, 80), (8080, 0)]);
    spec.endpoint_spec.as_mut().unwrap().ports[1].publish_mode = PublishMode::Host;
    let proxy = o.service(spec);
    let task = o.task(&proxy, 1);
    run(&mut o, 10);
    let endpoint = o.state.services()[&proxy].endpoint.clone().unwrap();
    assert_eq!(endpoint.ports[0].published_port, 80);
    // A host-mode port asked as 0 is left to the node, as Docker does.
    assert_eq!(endpoint.ports[1].published_port, 0);
    assert_eq!(endpoint.virtual_ips.len(), 2);
    assert_eq!(endpoint.virtual_ips[1].network_id, ingress);
    let t = &o.state.tasks()[&task];
    assert_eq!(t.networks.len(), 2);
    assert_eq!(t.networks[1].network_id, ingress);
    assert!(t.networks[1].aliases.is_empty());
}
