//! Probes of a manager's listener as an attacker or a misconfigured node would make them:
//! every call is authorised by the role in the caller's certificate, and certificates of
//! another CA, expired or revoked ones are refused.

use crate::manager::logbroker::{LogContext, LogMessage, LogRequest, LogSubscriptionId, LogTarget};
use crate::model::{ClusterSpec, NodeRole, NodeState};
use crate::node::config::NodeConfig;
use crate::node::manager_core::ManagerCore;
use crate::node::node::Node;
use crate::node::peers::{JOIN_TARGET, link_id};
use crate::node::wire::{
    ControlCall, ControlReply, LogCall, NodeCall, NodeReply, RefusalKind, decode_reply,
    encode_call, encode_store,
};
use crate::runtime::mock::MockRuntime;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use swarm_secrets::tls::ClusterTrust;
use swarm_secrets::{
    CertPolicy, ClusterCa, ClusterId, NodeCredentials, NodeId, NodeKey, RevocationList, Role,
};
use swarm_store::MemberId;
use swarm_store::transport::tcp::{PeerAddress, TcpConfig, TcpTransport};
use swarm_store::transport::{Transport, TransportError};

fn config(root: &std::path::Path, name: &str) -> NodeConfig {
    let mut c = NodeConfig::new(
        root.join(name),
        "127.0.0.1:0".parse().unwrap(),
        Arc::new(MockRuntime::new()),
    );
    c.hostname = Some(name.to_owned());
    c
}

/// A client presenting a certificate for `node` with `role` from `ca`, calling `manager`.
fn client(
    ca: &ClusterCa,
    trust: &ClusterTrust,
    node: &str,
    role: Role,
    manager: &Node,
) -> (TcpTransport, MemberId) {
    let key = NodeKey::generate().unwrap();
    let cert = ca
        .issue(&key.csr_der().unwrap(), &NodeId::new(node).unwrap(), role)
        .unwrap();
    let creds = NodeCredentials::new(&key, &cert.cert_der, ca.cert_der()).unwrap();
    client_with(&creds, trust, manager)
}

fn client_with(
    creds: &NodeCredentials,
    trust: &ClusterTrust,
    manager: &Node,
) -> (TcpTransport, MemberId) {
    let tls = swarm_secrets::tls::client_config(creds, trust).unwrap();
    let trust = trust.clone();
    let transport = TcpTransport::new(
        MemberId(0),
        tls,
        Arc::new(move |cert: &rustls_pki_types::CertificateDer<'_>| {
            let peer = trust
                .identify_certificate(cert)
                .map_err(|e| swarm_store::transport::tcp::PeerRefused::new(e.to_string()))?;
            Ok(link_id(&crate::model::NodeId::from(&peer.node_id)))
        }),
        TcpConfig::default(),
    );
    let id = link_id(manager.id());
    transport.set_peer(
        id,
        PeerAddress::new(manager.listen_addr().unwrap(), manager.id().as_str()).unwrap(),
    );
    (transport, id)
}

async fn call(
    t: &TcpTransport,
    to: MemberId,
    call: &NodeCall,
) -> Result<NodeReply, TransportError> {
    let bytes = t.call(to, encode_call(call).unwrap()).await?;
    Ok(decode_reply(&bytes).unwrap())
}

fn core(node: &Node) -> Arc<ManagerCore> {
    node.shared.core().unwrap()
}

fn denied(reply: NodeReply) -> String {
    match reply {
        NodeReply::Refused(r) if r.kind == RefusalKind::PermissionDenied => r.message,
        other => panic!("expected a permission refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_may_not_make_control_or_raft_calls() {
    let root = tempfile::tempdir().unwrap();
    let m1 = Node::init(config(root.path(), "m1"), ClusterSpec::default())
        .await
        .unwrap();
    let core = core(&m1);
    let (worker, to) = client(
        &core.ca().unwrap(),
        &core.peers.trust(),
        "probe",
        Role::Worker,
        &m1,
    );
    let control = NodeCall::Control(ControlCall::ListNodes(Default::default()));
    let message = denied(call(&worker, to, &control).await.unwrap());
    assert!(message.contains("worker probe"), "{message}");
    let rotate = NodeCall::Control(ControlCall::RotateJoinToken(NodeRole::Manager));
    denied(call(&worker, to, &rotate).await.unwrap());
    // A forwarded dispatcher call is a manager's privilege too.
    let forwarded = NodeCall::Forwarded {
        origin: crate::node::wire::Origin {
            node: crate::model::NodeId::new("someone"),
            role: NodeRole::Manager,
            addr: String::new(),
        },
        call: Box::new(NodeCall::Renew {
            csr_der: Vec::new(),
        }),
    };
    denied(call(&worker, to, &forwarded).await.unwrap());
    // Raft traffic from a worker is refused before the store sees it.
    let raft = worker
        .call(to, encode_store(b"anything"))
        .await
        .unwrap_err();
    assert!(
        matches!(&raft, TransportError::Remote { detail: m, .. } if m.contains("only managers take part in Raft")),
        "{raft:?}"
    );
    // The cluster is unchanged and its tokens were not rotated by the refused call.
    let cluster = core.state.cluster().await.unwrap().unwrap();
    assert_eq!(cluster.meta.version.0, 1);
    m1.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_without_a_certificate_may_only_fetch_the_ca_and_join() {
    let root = tempfile::tempdir().unwrap();
    let m1 = Node::init(config(root.path(), "m1"), ClusterSpec::default())
        .await
        .unwrap();
    let core = core(&m1);
    let trust = core.peers.trust();
    let tls = swarm_secrets::tls::join_client_config(&trust).unwrap();
    let anonymous = TcpTransport::new(
        JOIN_TARGET,
        tls,
        crate::node::peers::join_identifier(trust),
        TcpConfig::default(),
    );
    anonymous.set_peer(
        JOIN_TARGET,
        PeerAddress::new(m1.listen_addr().unwrap(), m1.id().as_str()).unwrap(),
    );
    assert!(matches!(
        call(&anonymous, JOIN_TARGET, &NodeCall::GetRootCa)
            .await
            .unwrap(),
        NodeReply::RootCa { .. }
    ));
    let control = NodeCall::Control(ControlCall::InspectCluster);
    let message = denied(call(&anonymous, JOIN_TARGET, &control).await.unwrap());
    assert!(message.contains("without a certificate"), "{message}");
    let register = NodeCall::Register {
        description: Default::default(),
    };
    denied(call(&anonymous, JOIN_TARGET, &register).await.unwrap());
    // Nor can it read an assignment set or report task states.
    let session = crate::manager::dispatcher::SessionId(1);
    let assignments = NodeCall::Assignments {
        session,
        known_generation: 0,
        held: Vec::new(),
    };
    denied(call(&anonymous, JOIN_TARGET, &assignments).await.unwrap());
    let report = NodeCall::UpdateTaskStatus {
        session,
        updates: Vec::new(),
    };
    denied(call(&anonymous, JOIN_TARGET, &report).await.unwrap());
    // Nor learn log subscriptions or publish logs.
    let subscriptions = NodeCall::LogSubscriptions {
        session,
        known: Vec::new(),
    };
    denied(call(&anonymous, JOIN_TARGET, &subscriptions).await.unwrap());
    let publish = NodeCall::PublishLogs {
        session,
        subscription: LogSubscriptionId("any".into()),
        messages: Vec::new(),
        close: true,
    };
    denied(call(&anonymous, JOIN_TARGET, &publish).await.unwrap());
    let raft = anonymous
        .call(JOIN_TARGET, encode_store(b"anything"))
        .await
        .unwrap_err();
    assert!(matches!(raft, TransportError::Remote { .. }), "{raft:?}");
    m1.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_of_another_ca_or_expired_are_refused_at_the_handshake() {
    let root = tempfile::tempdir().unwrap();
    let m1 = Node::init(config(root.path(), "m1"), ClusterSpec::default())
        .await
        .unwrap();
    let core = core(&m1);
    let trust = core.peers.trust();
    // Another CA, even one naming the same cluster id.
    let cluster = ClusterId::new(core.cluster_id.as_str()).unwrap();
    let other = ClusterCa::generate(cluster.clone(), CertPolicy::default()).unwrap();
    let other_trust = ClusterTrust::new(other.cert_der(), cluster, RevocationList::new()).unwrap();
    let (foreign, to) = client(&other, &other_trust, "intruder", Role::Manager, &m1);
    let control = NodeCall::Control(ControlCall::ListNodes(Default::default()));
    let refused = call(&foreign, to, &control).await.unwrap_err();
    assert!(
        !matches!(refused, TransportError::Remote { .. }),
        "no call may be served: {refused:?}"
    );
    // An expired certificate of the right CA.
    let ca = core.ca().unwrap();
    let key = NodeKey::generate().unwrap();
    let now = SystemTime::now();
    let expired = ca
        .issue_with_validity(
            &key.csr_der().unwrap(),
            &NodeId::new("old").unwrap(),
            Role::Manager,
            now - Duration::from_secs(7200),
            now - Duration::from_secs(3600),
        )
        .unwrap();
    let creds = NodeCredentials::new(&key, &expired.cert_der, ca.cert_der()).unwrap();
    let (stale, to) = client_with(&creds, &trust, &m1);
    let refused = call(&stale, to, &control).await.unwrap_err();
    assert!(
        !matches!(refused, TransportError::Remote { .. }),
        "{refused:?}"
    );
    // The right CA and role are served (the probe is not a fluke of the client).
    let (manager, to) = client(&ca, &trust, "admin", Role::Manager, &m1);
    assert!(matches!(
        call(&manager, to, &control).await.unwrap(),
        NodeReply::Control(_)
    ));
    m1.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_node_loses_its_connections_and_cannot_come_back() {
    let root = tempfile::tempdir().unwrap();
    let m1 = Node::init(config(root.path(), "m1"), ClusterSpec::default())
        .await
        .unwrap();
    let control = m1.control().unwrap();
    let token = control.join_token(NodeRole::Worker).await.unwrap();
    let w1 = Node::join(config(root.path(), "w1"), &m1.advertise_addr(), &token)
        .await
        .unwrap();
    let id = w1.id().clone();
    let wait_ready = async {
        for _ in 0..200 {
            if control
                .node(id.as_str())
                .await
                .is_ok_and(|n| n.status.state == NodeState::Ready)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the worker never became ready");
    };
    wait_ready.await;
    // A probe holding the worker's own certificate keeps a connection open.
    let (creds, trust) = w1.shared.credentials().unwrap();
    let (probe, to) = client_with(&creds, &trust, &m1);
    let heartbeat = NodeCall::Heartbeat {
        session: crate::manager::dispatcher::SessionId(1),
    };
    assert!(call(&probe, to, &heartbeat).await.is_ok());
    control.remove_node(id.as_str(), true).await.unwrap();
    assert!(control.node(id.as_str()).await.is_err());
    // Within the peer recheck interval the open connection is cut, and no new one is let in.
    let mut cut = false;
    for _ in 0..100 {
        if call(&probe, to, &heartbeat).await.is_err() {
            cut = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(cut, "a revoked node's connection stayed open");
    assert!(call(&probe, to, &heartbeat).await.is_err());
    // The node itself restarted never comes back into node ls.
    w1.shutdown().await;
    let w1 = Node::start(config(root.path(), "w1")).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(control.node(id.as_str()).await.is_err());
    assert_eq!(
        control.nodes(&Default::default()).await.unwrap().len(),
        1,
        "only the manager is left"
    );
    w1.shutdown().await;
    m1.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_publishes_logs_only_in_its_own_name_about_its_own_tasks() {
    let root = tempfile::tempdir().unwrap();
    let m1 = Node::init(config(root.path(), "m1"), ClusterSpec::default())
        .await
        .unwrap();
    let core = core(&m1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    // The node's own session, as its agent holds it.
    let session = loop {
        if let Some(link) = m1.shared.agent_link.borrow().clone() {
            break link.session;
        }
        assert!(tokio::time::Instant::now() < deadline, "no session");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // A following subscription to the node's logs.
    let target = LogTarget {
        nodes: vec![m1.id().to_string()],
        ..LogTarget::default()
    };
    let request = LogRequest {
        follow: true,
        ..LogRequest::default()
    };
    let subscription = loop {
        let subscribe = LogCall::Subscribe {
            target: target.clone(),
            request: request.clone(),
        };
        match core.exec_log_call(subscribe).await {
            Ok(ControlReply::LogSubscribed(id)) => break id,
            Err(e) if e.is_retryable() => {}
            other => panic!("subscribe: {other:?}"),
        }
        assert!(tokio::time::Instant::now() < deadline, "no subscription");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // A client with a certificate naming the node: its calls come from that node.
    let (agent, to) = client(
        &core.ca().unwrap(),
        &core.peers.trust(),
        m1.id().as_str(),
        Role::Worker,
        &m1,
    );
    let message = |node: &str, task: &str| LogMessage {
        context: LogContext {
            node: node.into(),
            service: "web".into(),
            task: task.into(),
        },
        stream: crate::runtime::LogStreamKind::Stdout,
        timestamp: SystemTime::now(),
        line: b"forged".to_vec(),
    };
    let publish = |m: LogMessage| NodeCall::PublishLogs {
        session,
        subscription: subscription.clone(),
        messages: vec![m],
        close: false,
    };
    let foreign = denied(
        call(&agent, to, &publish(message("elsewhere", "t1")))
            .await
            .unwrap(),
    );
    assert!(
        foreign.contains("in the name of node elsewhere"),
        "{foreign}"
    );
    let not_own = denied(
        call(&agent, to, &publish(message(m1.id().as_str(), "t1")))
            .await
            .unwrap(),
    );
    assert!(
        not_own.contains("which is not one of its tasks"),
        "{not_own}"
    );
    assert_eq!(core.logs.lock().buffered(&subscription), 0);
    // A subscription that does not exist.
    let unknown = NodeCall::PublishLogs {
        session,
        subscription: LogSubscriptionId("none".into()),
        messages: Vec::new(),
        close: true,
    };
    match call(&agent, to, &unknown).await.unwrap() {
        NodeReply::Refused(r) => assert_eq!(r.kind, RefusalKind::NotFound, "{r:?}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    m1.shutdown().await;
}
