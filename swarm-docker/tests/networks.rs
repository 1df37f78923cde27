//! Cluster networks on one host against a real engine: tasks of two services on one cluster
//! network reach each other by alias, with exactly their allocated addresses; a task joins a
//! second network before it starts; the local network goes with its last task; two adapters
//! creating one network at once share it; a stale same-named network swarm made is replaced
//! unless a container uses it;
//! a task's host-mode port is bound on the host and its ingress ports are labelled.
//! Every test skips loudly without an engine (fails under `CI=true`).

mod common;

use bollard::models::NetworkCreateRequest;
use bollard::query_parameters::ListNetworksOptionsBuilder;
use common::{ClusterNet, LONG_RUNNING, assert_removed, connect, sh, task};
use std::collections::HashMap;
use std::time::Duration;
use swarm_core::model::{
    Endpoint, NetworkAttachment, PortConfig, PublishMode, ServiceId, Task, TaskSpec,
};
use swarm_core::runtime::{
    ErrorKind, ExitStatus, LogOptions, Runtime, RuntimeError, TaskFiles, collect_text,
};
use swarm_docker::{
    DockerRuntime, IngressPort, LABEL_INGRESS_PORTS, LABEL_MANAGED, LABEL_NAMESPACE,
    LABEL_NETWORK_ID,
};

/// Bound on every await of these tests, so a bug fails instead of hanging.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(STEP_TIMEOUT, fut)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {STEP_TIMEOUT:?}"))
}

/// A task of `service` running `spec`, attached to `networks`.
fn service_task(service: &str, spec: TaskSpec, networks: Vec<NetworkAttachment>) -> Task {
    let mut t = task(service, spec);
    t.service_id = ServiceId::new(service);
    t.networks = networks;
    t
}

/// Whether the engine has a network named exactly `name`.
async fn network_exists(rt: &DockerRuntime, name: &str) -> bool {
    match rt.client().inspect_network(name, None).await {
        Ok(_) => true,
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => false,
        Err(e) => panic!("inspecting network {name}: {e}"),
    }
}

#[tokio::test]
async fn two_services_reach_each_other_by_alias_on_one_cluster_network() {
    let Some(rt) = connect(common::test_config("net-alias")).await else {
        return;
    };
    let net = ClusterNet::free(rt.client(), "alias").await;
    let extra = ClusterNet::free(rt.client(), "extra").await;
    // "api" runs on two networks: the first is its network mode, the second is connected
    // before it starts.
    let api = service_task(
        "api",
        sh(LONG_RUNNING),
        vec![net.attach(2, &["api"]), extra.attach(7, &["api"])],
    );
    // "web" finds api by its alias through the engine's DNS, pings it, and looks itself up.
    let web = service_task(
        "web",
        sh("nslookup api && ping -c1 -W2 api && nslookup web"),
        vec![net.attach(3, &["web"])],
    );

    let api_ctl = rt.controller(&api, TaskFiles::new()).await.expect("api");
    within("prepare api", api_ctl.prepare())
        .await
        .expect("prepare api");
    within("start api", api_ctl.start())
        .await
        .expect("start api");

    // The local network: the cluster network's label, the allocated subnet, the first address
    // as gateway.
    let info = rt
        .client()
        .inspect_network(&net.local_name(), None)
        .await
        .expect("the local network exists");
    assert_eq!(info.driver.as_deref(), Some("bridge"));
    let labels = info.labels.clone().unwrap_or_default();
    assert_eq!(labels.get(LABEL_NETWORK_ID), Some(&net.id));
    assert_eq!(labels.get(LABEL_MANAGED).map(String::as_str), Some("true"));
    let pools = info.ipam.and_then(|i| i.config).unwrap_or_default();
    assert_eq!(pools.len(), 1, "{pools:?}");
    assert_eq!(pools[0].subnet.as_deref(), Some(net.subnet().as_str()));
    assert_eq!(pools[0].gateway.as_deref(), Some(net.ip(1).as_str()));

    // api holds exactly its allocated addresses, with its alias, on both networks, and not the
    // adapter's default network mode.
    let container = rt
        .client()
        .inspect_container(&rt.container_name(&api.id), None)
        .await
        .expect("inspect api");
    let mode = container.host_config.and_then(|h| h.network_mode);
    assert_eq!(mode.as_deref(), Some(net.local_name().as_str()));
    let joined = container
        .network_settings
        .and_then(|s| s.networks)
        .unwrap_or_default();
    assert_eq!(joined.len(), 2, "{:?}", joined.keys());
    for (cluster_net, host) in [(&net, 2), (&extra, 7)] {
        let ep = &joined[&cluster_net.local_name()];
        assert_eq!(
            ep.ip_address.as_deref(),
            Some(cluster_net.ip(host).as_str())
        );
        assert_eq!(ep.ip_prefix_len, Some(24));
        let aliases = ep.aliases.clone().unwrap_or_default();
        assert!(aliases.iter().any(|a| a == "api"), "{aliases:?}");
    }

    let web_ctl = rt.controller(&web, TaskFiles::new()).await.expect("web");
    within("prepare web", web_ctl.prepare())
        .await
        .expect("prepare web");
    let web_info = rt
        .client()
        .inspect_container(&rt.container_name(&web.id), None)
        .await
        .expect("inspect web");
    let requested = web_info
        .network_settings
        .and_then(|s| s.networks)
        .and_then(|mut n| n.remove(&net.local_name()))
        .and_then(|ep| ep.ipam_config)
        .and_then(|c| c.ipv4_address);
    assert_eq!(requested.as_deref(), Some(net.ip(3).as_str()));
    within("start web", web_ctl.start())
        .await
        .expect("start web");
    let status = within("wait web", web_ctl.wait()).await.expect("wait web");
    let out = collect_text(
        web_ctl
            .logs(LogOptions::default())
            .await
            .expect("web's logs"),
    )
    .await;
    assert_eq!(status, ExitStatus::Exited { code: 0 }, "{out}");
    // DNS answered with api's and web's allocated addresses, and the ping went to api's.
    assert!(out.contains(&format!("PING api ({})", net.ip(2))), "{out}");
    assert!(out.contains(&format!("Address: {}", net.ip(3))), "{out}");

    // The network stays while api uses it, and goes with it.
    within("remove web", web_ctl.remove())
        .await
        .expect("remove web");
    assert_removed(&rt, &web)
        .await
        .expect("nothing of web left");
    assert!(network_exists(&rt, &net.local_name()).await);
    within("remove api", api_ctl.remove())
        .await
        .expect("remove api");
    assert_removed(&rt, &api)
        .await
        .expect("nothing of api left");
    assert!(!network_exists(&rt, &net.local_name()).await);
    assert!(!network_exists(&rt, &extra.local_name()).await);
}

#[tokio::test]
async fn two_adapters_creating_one_network_at_once_share_it() {
    let Some(a) = connect(common::test_config("net-race-a")).await else {
        return;
    };
    let Some(b) = connect(common::test_config("net-race-b")).await else {
        return;
    };
    let net = ClusterNet::free(a.client(), "race").await;
    let ta = service_task("race-a", sh("exit 0"), vec![net.attach(2, &["a"])]);
    let tb = service_task("race-b", sh("exit 0"), vec![net.attach(3, &["b"])]);
    let ca = a.controller(&ta, TaskFiles::new()).await.expect("a");
    let cb = b.controller(&tb, TaskFiles::new()).await.expect("b");
    let (ra, rb) = within("both prepares", async {
        tokio::join!(ca.prepare(), cb.prepare())
    })
    .await;
    ra.expect("prepare a");
    rb.expect("prepare b");

    let filters = HashMap::from([("name", vec![net.local_name()])]);
    let opts = ListNetworksOptionsBuilder::default()
        .filters(&filters)
        .build();
    let same_name = a
        .client()
        .list_networks(Some(opts))
        .await
        .expect("list networks")
        .into_iter()
        .filter(|n| n.name.as_deref() == Some(net.local_name().as_str()))
        .count();
    assert_eq!(same_name, 1, "one local network per cluster network");

    // One adapter's removal leaves the network to the other's task; the last removal takes it.
    within("remove a", ca.remove()).await.expect("remove a");
    assert!(network_exists(&a, &net.local_name()).await);
    within("remove b", cb.remove()).await.expect("remove b");
    assert!(!network_exists(&a, &net.local_name()).await);
    assert_removed(&a, &ta).await.expect("nothing of a left");
    assert_removed(&b, &tb).await.expect("nothing of b left");
}

#[tokio::test]
async fn a_stale_network_swarm_made_is_replaced_unless_a_container_uses_it() {
    let Some(rt) = connect(common::test_config("net-conflict")).await else {
        return;
    };
    let net = ClusterNet::free(rt.client(), "conflict").await;
    // The name is taken by a network swarm made for another cluster network, on another
    // subnet (a cluster that is gone left it). Labelled with the test's namespace, so the
    // runtime's clean-up removes it even if an assertion fails.
    let labels = HashMap::from([
        (LABEL_MANAGED.to_owned(), "true".to_owned()),
        (LABEL_NAMESPACE.to_owned(), rt.config().namespace.clone()),
        (LABEL_NETWORK_ID.to_owned(), format!("{}-gone", net.id)),
    ]);
    rt.client()
        .create_network(NetworkCreateRequest {
            name: net.local_name(),
            driver: Some("bridge".to_owned()),
            ipam: Some(bollard::models::Ipam {
                config: Some(vec![bollard::models::IpamConfig {
                    subnet: Some(net.other_subnet()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            labels: Some(labels),
            ..Default::default()
        })
        .await
        .expect("create the stale network");
    // While a container is on it, it is refused, naming the network and why.
    let squatter = format!("{}-squatter", rt.config().namespace);
    rt.client()
        .create_container(
            Some(
                bollard::query_parameters::CreateContainerOptionsBuilder::default()
                    .name(&squatter)
                    .build(),
            ),
            bollard::models::ContainerCreateBody {
                image: Some(common::TEST_IMAGE.to_owned()),
                cmd: Some(vec!["true".to_owned()]),
                host_config: Some(bollard::models::HostConfig {
                    network_mode: Some(net.local_name()),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await
        .expect("create a container on the stale network");
    let t = service_task("conflict", sh("exit 0"), vec![net.attach(2, &["c"])]);
    let ctl = rt
        .controller(&t, TaskFiles::new())
        .await
        .expect("controller");
    let err = within("prepare", ctl.prepare())
        .await
        .expect_err("a network in use for another cluster network cannot serve");
    rt.client()
        .remove_container(&squatter, None)
        .await
        .expect("remove the container on the stale network");
    assert_eq!(err.kind(), ErrorKind::Permanent, "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&net.local_name()) && text.contains("-gone"),
        "{text}"
    );
    within("remove", ctl.remove()).await.expect("remove");
    // Once no container uses it, a task of the cluster network replaces it with its own.
    let t = service_task("conflict", sh("exit 0"), vec![net.attach(3, &["c"])]);
    let ctl = rt
        .controller(&t, TaskFiles::new())
        .await
        .expect("controller");
    within("prepare", ctl.prepare())
        .await
        .expect("the stale network is replaced");
    let info = rt
        .client()
        .inspect_network(&net.local_name(), None)
        .await
        .expect("the new network");
    let label = info
        .labels
        .unwrap_or_default()
        .get(LABEL_NETWORK_ID)
        .cloned();
    assert_eq!(label.as_deref(), Some(net.id.as_str()));
    let subnets: Vec<String> = info
        .ipam
        .and_then(|i| i.config)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| c.subnet)
        .collect();
    assert_eq!(subnets, [net.subnet()]);
    within("remove", ctl.remove()).await.expect("remove");
    assert_removed(&rt, &t).await.expect("nothing left");
    assert!(!network_exists(&rt, &net.local_name()).await);
}

#[tokio::test]
async fn a_network_made_by_someone_else_is_neither_used_nor_removed() {
    let Some(rt) = connect(common::test_config("net-foreign")).await else {
        return;
    };
    let net = ClusterNet::free(rt.client(), "foreign").await;
    // The local name, on the right subnet, but without the cluster network's label.
    rt.client()
        .create_network(NetworkCreateRequest {
            name: net.local_name(),
            driver: Some("bridge".to_owned()),
            ipam: Some(bollard::models::Ipam {
                config: Some(vec![bollard::models::IpamConfig {
                    subnet: Some(net.subnet()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect("create the foreign network");
    let t = service_task("foreign", sh("exit 0"), vec![net.attach(2, &["f"])]);
    let ctl = rt
        .controller(&t, TaskFiles::new())
        .await
        .expect("controller");
    let err = within("prepare", ctl.prepare())
        .await
        .expect_err("a network not made for the cluster network cannot serve");
    assert_eq!(err.kind(), ErrorKind::Permanent, "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&net.local_name()) && text.contains(LABEL_NETWORK_ID),
        "{text}"
    );
    within("remove", ctl.remove()).await.expect("remove");
    assert_removed(&rt, &t).await.expect("nothing left");
    rt.cleanup_orphans(&Default::default())
        .await
        .expect("clean-up");
    let still_there = network_exists(&rt, &net.local_name()).await;
    rt.client()
        .remove_network(&net.local_name())
        .await
        .expect("remove the foreign network");
    assert!(still_there, "someone else's network was removed");
}

#[tokio::test]
async fn a_malformed_address_is_refused_naming_its_field() {
    let Some(rt) = connect(common::test_config("net-invalid")).await else {
        return;
    };
    let net = ClusterNet::free(rt.client(), "invalid").await;
    let mut attachment = net.attach(2, &["x"]);
    attachment.addresses = vec![net.ip(2)];
    let t = service_task("invalid", sh("exit 0"), vec![attachment]);
    match rt.controller(&t, TaskFiles::new()).await {
        Err(RuntimeError::InvalidSpec { field, reason }) => {
            assert_eq!(field, "networks[0].addresses[0]", "{reason}");
        }
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("a malformed address was accepted"),
    }
    assert!(!network_exists(&rt, &net.local_name()).await);
    assert_removed(&rt, &t).await.expect("nothing created");
}

#[tokio::test]
async fn a_host_mode_port_is_bound_on_the_host_and_ingress_ports_are_labelled() {
    use tokio::io::AsyncReadExt;
    let Some(rt) = connect(common::test_config("ports")).await else {
        return;
    };
    let net = ClusterNet::free(rt.client(), "ports").await;
    let mut t = service_task(
        "ports",
        sh("exec nc -ll -p 80 -e echo hi"),
        vec![net.attach(2, &["ports"])],
    );
    t.endpoint = Some(Endpoint {
        ports: vec![
            // Published as 0: the engine picks the host port.
            PortConfig {
                target_port: 80,
                published_port: 0,
                publish_mode: PublishMode::Host,
                ..PortConfig::default()
            },
            PortConfig {
                target_port: 8080,
                published_port: 30080,
                ..PortConfig::default()
            },
        ],
        ..Endpoint::default()
    });
    let ctl = rt.controller(&t, TaskFiles::new()).await.expect("ports");
    within("prepare", ctl.prepare()).await.expect("prepare");
    within("start", ctl.start()).await.expect("start");

    let info = rt
        .client()
        .inspect_container(&rt.container_name(&t.id), None)
        .await
        .expect("inspect");
    let labels = info
        .config
        .as_ref()
        .and_then(|c| c.labels.clone())
        .unwrap_or_default();
    let ingress = IngressPort::parse_label(&labels[LABEL_INGRESS_PORTS]).expect("the label reads");
    assert_eq!(
        ingress.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["30080:8080/tcp"]
    );
    let host_port: u16 = info
        .network_settings
        .and_then(|s| s.ports)
        .and_then(|mut p| p.remove("80/tcp"))
        .flatten()
        .and_then(|b| b.into_iter().find_map(|b| b.host_port))
        .and_then(|p| p.parse().ok())
        .expect("80/tcp bound to a host port");
    assert_ne!(host_port, 0);
    // The host port reaches the task (once its nc listens).
    let answer = within("an answer on the host port", async {
        loop {
            if let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", host_port)).await {
                let mut out = String::new();
                if s.read_to_string(&mut out).await.is_ok() && out.trim() == "hi" {
                    return out;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert_eq!(answer.trim(), "hi");
    within("remove", ctl.remove()).await.expect("remove");
    assert_removed(&rt, &t).await.expect("nothing left");
}
