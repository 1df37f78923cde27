//! Services, secrets and networks through the public control handle of a manager on
//! swarm-store's in-process network: references resolved and stored by id, refusals that
//! name the other object, secrets never read back, stale updates refused, and the allocator
//! step (run here by hand: its loop is not part of the node yet) giving a published port 0
//! a port of the dynamic range.

mod cluster_support;

use cluster_support::config;
use swarm_core::manager::allocator::{DYNAMIC_PORT_END, DYNAMIC_PORT_START};
use swarm_core::manager::control::ControlError;
use swarm_core::model::{
    EndpointSpec, FileTarget, NetworkAttachmentConfig, NetworkSpec, PortConfig, SecretReference,
    SecretSpec, ServiceSpec,
};
use swarm_core::node::{InProcNodes, Node, NodeError, NodeNetwork};
use swarm_store::testkit::inproc::InProcNetwork;

fn api_spec(name: &str, published_port: u32) -> ServiceSpec {
    let mut spec = ServiceSpec::new(name, "dockeronwindows/ch05-nerd-dinner-api:2e");
    spec.task_template.networks = vec![NetworkAttachmentConfig {
        target: "nd-swarm".into(),
        aliases: vec![],
    }];
    spec.endpoint_spec = Some(EndpointSpec {
        ports: vec![PortConfig {
            target_port: 80,
            published_port,
            ..PortConfig::default()
        }],
        ..EndpointSpec::default()
    });
    spec
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_secrets_and_networks_through_the_control_handle() {
    let root = tempfile::tempdir().unwrap();
    let net = InProcNodes::new(InProcNetwork::new(11));
    let mut c = config(root.path(), "m1");
    c.network = NodeNetwork::InProc(net.clone());
    c.advertise_addr = Some("m1:2377".into());
    c.rng_seed = Some(11);
    let m1 = Node::init(c, Default::default()).await.unwrap();
    let control = m1.control().unwrap();

    let network = control
        .create_network(&NetworkSpec::new("nd-swarm"))
        .await
        .unwrap();
    let stored = control.network("nd-swarm").await.unwrap();
    assert_eq!(stored.id, network);
    assert_eq!(stored.allocated_ipam[0].subnet, "10.0.0.0/24");

    let secret = control
        .create_secret(&SecretSpec::new(
            "nerd-dinner-api-secrets",
            b"{\"apiKey\":\"hunter2\"}".to_vec(),
        ))
        .await
        .unwrap();

    // The service names the network and the secret by name; both are stored by id.
    let mut spec = api_spec("nerd-dinner-api", 0);
    spec.task_template.container.secrets = vec![SecretReference {
        secret_id: "".into(),
        secret_name: "nerd-dinner-api-secrets".into(),
        target: FileTarget::new("secrets.json"),
    }];
    let api = control.create_service(&spec).await.unwrap();
    let by_name = control.service("nerd-dinner-api").await.unwrap();
    assert_eq!(by_name.id, api);
    let by_prefix = control.service(&api.as_str()[..6]).await.unwrap();
    assert_eq!(by_prefix.id, api);
    let template = &by_name.spec.task_template;
    assert_eq!(template.networks[0].target, network.as_str());
    assert_eq!(template.container.secrets[0].secret_id, secret);

    // The secret cannot go while the service uses it, and is never read back with its value.
    let err = control
        .remove_secret("nerd-dinner-api-secrets")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, NodeError::Control(ControlError::InUse { .. })),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains(&format!(r#"service "nerd-dinner-api" ({api})"#)),
        "{err}"
    );
    let info = control.secret("nerd-dinner-api-secrets").await.unwrap();
    assert_eq!(info.id, secret);
    let listed = serde_json::to_string(&control.secrets().await.unwrap()).unwrap();
    assert!(listed.contains("nerd-dinner-api-secrets"));
    assert!(!listed.contains("hunter2"));
    assert!(!serde_json::to_string(&info).unwrap().contains("hunter2"));

    // An update for the version read applies; another for that same version is stale. (The
    // allocator may still write the service's endpoint after the first read: read again then.)
    let mut attempts = 0;
    let (read, changed) = loop {
        let read = control.service("nerd-dinner-api").await.unwrap();
        let mut changed = read.spec.clone();
        changed.labels.insert("traefik.port".into(), "80".into());
        match control
            .update_service("nerd-dinner-api", read.meta.version, &changed)
            .await
        {
            Ok(()) => break (read, changed),
            // The allocator's write between the read and the update is a version conflict.
            Err(e) if (e.is_retryable() || is_conflict(&e)) && attempts < 20 => attempts += 1,
            Err(e) => panic!("{e}"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let err = control
        .update_service("nerd-dinner-api", read.meta.version, &changed)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            NodeError::Control(ControlError::ServiceVersionConflict { .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("nerd-dinner-api"), "{err}");
    let updated = control.service(api.as_str()).await.unwrap();
    assert_eq!(updated.spec_version.0, 2);
    assert_eq!(updated.previous_spec.unwrap().labels.len(), 0);

    // The allocator (the leader's orchestration loop) gives the port asked as 0 one of the
    // dynamic range, and a virtual IP.
    let endpoint = cluster_support::eventually(
        std::time::Duration::from_secs(20),
        "the service's endpoint allocated",
        || async {
            control
                .service("nerd-dinner-api")
                .await
                .ok()?
                .endpoint
                .filter(|e| e.spec.ports.len() == 1 && !e.ports.is_empty())
        },
    )
    .await;
    let port = endpoint.ports[0].published_port;
    assert!(
        (DYNAMIC_PORT_START..=DYNAMIC_PORT_END).contains(&port),
        "{port}"
    );
    assert_eq!(endpoint.virtual_ips[0].network_id, network);
    let vip = control
        .resolve("nd-swarm", "nerd-dinner-api")
        .await
        .unwrap();
    assert_eq!(vip, ["10.0.0.2".parse::<std::net::IpAddr>().unwrap()]);

    // Another service asking for that port is refused, naming the service that has it.
    let err = control
        .create_service(&api_spec("nerd-dinner-web", port))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, NodeError::Control(ControlError::PortInUse { .. })),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            r#"service "nerd-dinner-web": port {port}/tcp is already in use by service "nerd-dinner-api" ({api}) as an ingress port"#
        )
    );

    // Once the service is gone, so can the secret and the network be; the network once the
    // service's tasks, which hold addresses on it, are gone too (as with docker, where
    // `network rm` right after `service rm` says the network is in use by a task).
    control.remove_service("nerd-dinner-api").await.unwrap();
    control
        .remove_secret("nerd-dinner-api-secrets")
        .await
        .unwrap();
    cluster_support::eventually(
        std::time::Duration::from_secs(20),
        "the network removed once its tasks are gone",
        || async { control.remove_network("nd-swarm").await.ok() },
    )
    .await;
    assert!(control.networks().await.unwrap().is_empty());
    m1.shutdown().await;
}

/// Whether `e` refused a write made for a version that is no longer the current one.
fn is_conflict(e: &swarm_core::node::NodeError) -> bool {
    matches!(e, swarm_core::node::NodeError::Control(c) if c.is_conflict())
}
