//! Live TLS configs over real TCP on 127.0.0.1 with tokio-rustls: the node's certificate and
//! trust replaced under configs built once, new handshakes see the replacement, open
//! connections keep working.
#![allow(clippy::unwrap_used)] // test support functions outside #[test] functions

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustls_pki_types::{CertificateDer, ServerName};
use swarm_secrets::tls::{
    self, ClusterTrust, LiveCredentials, LiveTrust, authorize, peer_identity, role_server_name,
};
use swarm_secrets::{
    CertPolicy, ClusterCa, ClusterId, NodeCredentials, NodeId, NodeKey, RevocationList, Role,
    SecretsError,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// Bound on a handshake or exchange: never reached when things work, generous for a loaded
/// CI machine running debug builds in parallel.
const TIMEOUT: Duration = Duration::from_secs(60);

type ServerTls = tokio_rustls::server::TlsStream<TcpStream>;
type ClientTls = tokio_rustls::client::TlsStream<TcpStream>;

fn cluster() -> ClusterId {
    ClusterId::new("cluster-a").unwrap()
}

fn creds(ca: &ClusterCa, id: &str, role: Role) -> NodeCredentials {
    let key = NodeKey::generate().unwrap();
    let issued = ca
        .issue(&key.csr_der().unwrap(), &NodeId::new(id).unwrap(), role)
        .unwrap();
    NodeCredentials::new(&key, &issued.cert_der, ca.cert_der()).unwrap()
}

/// A renewed certificate for `id`: a new key, valid from an hour ago for `days`.
fn renewed(ca: &ClusterCa, id: &str, role: Role, days: u64) -> NodeCredentials {
    let key = NodeKey::generate().unwrap();
    let now = SystemTime::now();
    let issued = ca
        .issue_with_validity(
            &key.csr_der().unwrap(),
            &NodeId::new(id).unwrap(),
            role,
            now - Duration::from_secs(3600),
            now + Duration::from_secs(days * 86_400),
        )
        .unwrap();
    NodeCredentials::new(&key, &issued.cert_der, ca.cert_der()).unwrap()
}

/// One connection over a real TCP socket on 127.0.0.1: both ends, or why each failed.
struct Connection {
    server: Result<ServerTls, String>,
    client: Result<ClientTls, String>,
}

impl Connection {
    async fn open(
        server_cfg: &Arc<rustls::ServerConfig>,
        client_cfg: &Arc<rustls::ClientConfig>,
        name: ServerName<'static>,
    ) -> Connection {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = TlsAcceptor::from(server_cfg.clone());
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.map_err(|e| e.to_string())?;
            acceptor.accept(tcp).await.map_err(|e| e.to_string())
        });
        let connector = TlsConnector::from(client_cfg.clone());
        let client = async move {
            let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
            connector
                .connect(name, tcp)
                .await
                .map_err(|e| e.to_string())
        };
        let client = tokio::time::timeout(TIMEOUT, client)
            .await
            .unwrap_or_else(|_| Err("client timed out".into()));
        let server = tokio::time::timeout(TIMEOUT, server)
            .await
            .map_err(|_| "server timed out".to_string())
            .and_then(|j| j.map_err(|e| e.to_string()))
            .and_then(|r| r);
        Connection { server, client }
    }

    /// Both ends, after a ping/pong exchange proved the connection works.
    async fn working(mut self) -> (ServerTls, ClientTls) {
        let (server, client) = match (&mut self.server, &mut self.client) {
            (Ok(server), Ok(client)) => (server, client),
            _ => panic!(
                "connection failed: server {:?}, client {:?}",
                self.server.as_ref().err(),
                self.client.as_ref().err()
            ),
        };
        exchange(server, client, b"ping").await.unwrap();
        (self.server.unwrap(), self.client.unwrap())
    }

    /// Why the server refused the client, after checking the client got nothing through
    /// either (in TLS 1.3 the client's handshake may complete before the server refuses its
    /// certificate: the refusal then shows on its first read).
    async fn refused_by_server(self) -> String {
        let error = self.server.expect_err("the server accepted the client");
        if let Ok(mut client) = self.client {
            let mut buf = [0u8; 1];
            let read = tokio::time::timeout(TIMEOUT, client.read(&mut buf))
                .await
                .unwrap();
            assert!(
                matches!(read, Err(_) | Ok(0)),
                "the client read data from a server that refused it"
            );
        }
        error
    }

    /// Why the client refused the server.
    fn refused_by_client(self) -> String {
        self.client.expect_err("the client accepted the server")
    }
}

/// The client sends `msg`, the server echoes it back; both sides check what they received.
async fn exchange(
    server: &mut ServerTls,
    client: &mut ClientTls,
    msg: &[u8; 4],
) -> Result<(), String> {
    let round = async {
        client.write_all(msg).await.map_err(|e| e.to_string())?;
        client.flush().await.map_err(|e| e.to_string())?;
        let mut got = [0u8; 4];
        server
            .read_exact(&mut got)
            .await
            .map_err(|e| e.to_string())?;
        if &got != msg {
            return Err(format!("server received {got:?}"));
        }
        server.write_all(&got).await.map_err(|e| e.to_string())?;
        server.flush().await.map_err(|e| e.to_string())?;
        let mut back = [0u8; 4];
        client
            .read_exact(&mut back)
            .await
            .map_err(|e| e.to_string())?;
        if &back != msg {
            return Err(format!("client received {back:?}"));
        }
        Ok(())
    };
    tokio::time::timeout(TIMEOUT, round)
        .await
        .unwrap_or_else(|_| Err("exchange timed out".into()))
}

/// The end-entity certificate the peer presented, as seen from `conn`.
fn peer_cert(conn: &rustls::CommonState) -> CertificateDer<'static> {
    conn.peer_certificates().unwrap()[0].clone().into_owned()
}

#[tokio::test]
async fn a_renewed_certificate_is_presented_by_new_connections_while_open_ones_keep_working() {
    let ca = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    let trust =
        LiveTrust::new(ClusterTrust::new(ca.cert_der(), cluster(), RevocationList::new()).unwrap());
    let manager_v1 = creds(&ca, "manager-1", Role::Manager);
    let worker_v1 = creds(&ca, "worker-1", Role::Worker);
    let manager = LiveCredentials::new(&manager_v1).unwrap();
    let worker = LiveCredentials::new(&worker_v1).unwrap();
    // Built once, as a transport keeps them.
    let server_cfg = tls::live_server_config(&manager, &trust).unwrap();
    let client_cfg = tls::live_client_config(&worker, &trust).unwrap();

    let (mut server_1, mut client_1) =
        Connection::open(&server_cfg, &client_cfg, role_server_name(Role::Manager))
            .await
            .working()
            .await;
    assert_eq!(peer_cert(client_1.get_ref().1), *manager_v1.cert_der());
    assert_eq!(peer_cert(server_1.get_ref().1), *worker_v1.cert_der());

    // Both nodes renew (new keys, other validity).
    let manager_v2 = renewed(&ca, "manager-1", Role::Manager, 30);
    let worker_v2 = renewed(&ca, "worker-1", Role::Worker, 30);
    assert_ne!(manager_v1.cert_der(), manager_v2.cert_der());
    manager.replace(&manager_v2).unwrap();
    worker.replace(&worker_v2).unwrap();
    assert_eq!(manager.cert_der(), *manager_v2.cert_der());
    assert_eq!(manager.info(), *manager_v2.info());
    assert_eq!(manager.renew_at(), manager_v2.renew_at());
    assert_ne!(manager.info().not_after, manager_v1.info().not_after);

    // A new connection over the same configs: each side sees the other's new certificate.
    let (server_2, client_2) =
        Connection::open(&server_cfg, &client_cfg, role_server_name(Role::Manager))
            .await
            .working()
            .await;
    assert_eq!(peer_cert(client_2.get_ref().1), *manager_v2.cert_der());
    assert_eq!(peer_cert(server_2.get_ref().1), *worker_v2.cert_der());
    assert_eq!(
        peer_identity(server_2.get_ref().1)
            .unwrap()
            .node_id
            .as_str(),
        "worker-1"
    );

    // The connection opened before the replace still carries bytes, with its old certificates.
    exchange(&mut server_1, &mut client_1, b"more")
        .await
        .unwrap();
    assert_eq!(peer_cert(client_1.get_ref().1), *manager_v1.cert_der());
}

#[tokio::test]
async fn a_promotion_replaces_the_role_and_another_node_or_cluster_is_refused() {
    let ca = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    let trust = ClusterTrust::new(ca.cert_der(), cluster(), RevocationList::new()).unwrap();
    let live_trust = LiveTrust::new(trust.clone());
    let node = LiveCredentials::new(&creds(&ca, "node-1", Role::Worker)).unwrap();
    let server_cfg = tls::live_server_config(&node, &live_trust).unwrap();
    let client_cfg = tls::client_config(&creds(&ca, "worker-2", Role::Worker), &trust).unwrap();

    // As a worker, node-1 cannot answer as a manager.
    let e = Connection::open(&server_cfg, &client_cfg, role_server_name(Role::Manager))
        .await
        .refused_by_client();
    assert!(
        e.contains("not valid for name") || e.contains("NotValidForName"),
        "{e}"
    );

    // Promoted: the same node id with a manager certificate is accepted, and the same
    // server config now answers as a manager.
    let promoted = creds(&ca, "node-1", Role::Manager);
    node.replace(&promoted).unwrap();
    assert_eq!(node.info().role, Role::Manager);
    assert_eq!(node.info().node_id.as_str(), "node-1");
    let (_server, client) =
        Connection::open(&server_cfg, &client_cfg, role_server_name(Role::Manager))
            .await
            .working()
            .await;
    let seen = peer_identity(client.get_ref().1).unwrap();
    assert_eq!(
        (seen.node_id.as_str(), seen.role),
        ("node-1", Role::Manager)
    );

    // Another node's credentials are refused, naming both nodes; nothing changes.
    let e = node
        .replace(&creds(&ca, "node-2", Role::Manager))
        .unwrap_err();
    match &e {
        SecretsError::ReplacementForOtherNode { current, offered } => {
            assert_eq!((current.as_str(), offered.as_str()), ("node-1", "node-2"));
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert!(
        e.to_string().contains("node-1") && e.to_string().contains("node-2"),
        "{e}"
    );
    assert_eq!(node.cert_der(), *promoted.cert_der());

    // Another cluster's credentials for the same node id are refused too.
    let other_cluster = ClusterId::new("cluster-b").unwrap();
    let other_ca = ClusterCa::generate(other_cluster.clone(), CertPolicy::default()).unwrap();
    let e = node
        .replace(&creds(&other_ca, "node-1", Role::Manager))
        .unwrap_err();
    assert!(
        matches!(
            &e,
            SecretsError::ReplacementForOtherCluster { what: "credentials", current, offered }
                if current.as_str() == "cluster-a" && offered.as_str() == "cluster-b"
        ),
        "{e:?}"
    );
    assert_eq!(node.cert_der(), *promoted.cert_der());

    // And so is another cluster's trust.
    let foreign =
        ClusterTrust::new(other_ca.cert_der(), other_cluster, RevocationList::new()).unwrap();
    let e = live_trust.replace(foreign).unwrap_err();
    assert!(
        matches!(
            &e,
            SecretsError::ReplacementForOtherCluster { what: "trust", current, offered }
                if current.as_str() == "cluster-a" && offered.as_str() == "cluster-b"
        ),
        "{e:?}"
    );
    assert_eq!(live_trust.current().ca_cert_der(), ca.cert_der());
}

#[tokio::test]
async fn live_trust_accepts_both_roots_during_a_rotation_then_only_the_new_root() {
    let old_ca = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    let new_ca = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    let revocations = RevocationList::new();
    let old_only = ClusterTrust::new(old_ca.cert_der(), cluster(), revocations.clone()).unwrap();
    let both = old_only
        .clone()
        .with_additional_root(new_ca.cert_der())
        .unwrap();
    let new_only = ClusterTrust::new(new_ca.cert_der(), cluster(), revocations.clone()).unwrap();

    // The server: a manager already on the new root, trusting both roots.
    let server_trust = LiveTrust::new(both.clone());
    let manager = LiveCredentials::new(&creds(&new_ca, "manager-1", Role::Manager)).unwrap();
    let server_cfg = tls::live_server_config(&manager, &server_trust).unwrap();
    // Clients on either root (trusting both, so they accept the server).
    let old_client =
        tls::client_config(&creds(&old_ca, "worker-old", Role::Worker), &both).unwrap();
    let new_client =
        tls::client_config(&creds(&new_ca, "worker-new", Role::Worker), &both).unwrap();

    let (mut open_server, mut open_client) =
        Connection::open(&server_cfg, &old_client, role_server_name(Role::Manager))
            .await
            .working()
            .await;
    assert_eq!(
        peer_identity(open_server.get_ref().1)
            .unwrap()
            .node_id
            .as_str(),
        "worker-old"
    );
    let (server, _client) =
        Connection::open(&server_cfg, &new_client, role_server_name(Role::Manager))
            .await
            .working()
            .await;
    assert_eq!(
        peer_identity(server.get_ref().1).unwrap().node_id.as_str(),
        "worker-new"
    );

    // The rotation ends: the server trusts the new root alone.
    server_trust.replace(new_only.clone()).unwrap();
    let e = Connection::open(&server_cfg, &old_client, role_server_name(Role::Manager))
        .await
        .refused_by_server()
        .await;
    assert!(e.contains("invalid peer certificate"), "{e}");
    Connection::open(&server_cfg, &new_client, role_server_name(Role::Manager))
        .await
        .working()
        .await;
    // The connection of the old-root worker opened before is not cut.
    exchange(&mut open_server, &mut open_client, b"stay")
        .await
        .unwrap();

    // The client side reads its trust at each handshake too: a live client trusting both
    // roots reaches a manager still on the old root, then no longer once it trusts the new
    // root alone.
    let old_manager_cfg =
        tls::server_config(&creds(&old_ca, "manager-2", Role::Manager), &both).unwrap();
    let client_trust = LiveTrust::new(both);
    let worker = LiveCredentials::new(&creds(&new_ca, "worker-3", Role::Worker)).unwrap();
    let live_client = tls::live_client_config(&worker, &client_trust).unwrap();
    Connection::open(
        &old_manager_cfg,
        &live_client,
        role_server_name(Role::Manager),
    )
    .await
    .working()
    .await;
    client_trust.replace(new_only).unwrap();
    let e = Connection::open(
        &old_manager_cfg,
        &live_client,
        role_server_name(Role::Manager),
    )
    .await
    .refused_by_client();
    assert!(e.contains("invalid peer certificate"), "{e}");
    assert_eq!(client_trust.current().ca_cert_der(), new_ca.cert_der());
}

#[tokio::test]
async fn revocation_refuses_at_the_handshake_with_live_configs() {
    let ca = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    let other_root = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    let revocations = RevocationList::new();
    let trust = ClusterTrust::new(ca.cert_der(), cluster(), revocations.clone()).unwrap();
    let live_trust = LiveTrust::new(trust.clone());
    let manager = LiveCredentials::new(&creds(&ca, "manager-1", Role::Manager)).unwrap();
    let worker = LiveCredentials::new(&creds(&ca, "worker-9", Role::Worker)).unwrap();
    let server_cfg = tls::live_server_config(&manager, &live_trust).unwrap();
    let client_cfg = tls::live_client_config(&worker, &live_trust).unwrap();

    let (open_server, _open_client) =
        Connection::open(&server_cfg, &client_cfg, role_server_name(Role::Manager))
            .await
            .working()
            .await;

    // Revoked: the next handshake is refused by the server, also after the trust was
    // replaced by one built with the same shared revocation list.
    revocations.revoke(NodeId::new("worker-9").unwrap());
    let e = Connection::open(&server_cfg, &client_cfg, role_server_name(Role::Manager))
        .await
        .refused_by_server()
        .await;
    assert!(e.to_lowercase().contains("revoked"), "{e}");
    live_trust
        .replace(trust.with_additional_root(other_root.cert_der()).unwrap())
        .unwrap();
    let e = Connection::open(&server_cfg, &client_cfg, role_server_name(Role::Manager))
        .await
        .refused_by_server()
        .await;
    assert!(e.to_lowercase().contains("revoked"), "{e}");
    // The connection opened before is the transport's to re-check, per call.
    let e = authorize(
        open_server.get_ref().1,
        &live_trust.current(),
        &[Role::Worker],
    )
    .unwrap_err();
    assert!(matches!(e, SecretsError::Revoked(ref id) if id.as_str() == "worker-9"));

    // A revoked manager is refused by live clients.
    revocations.replace([NodeId::new("manager-1").unwrap()]);
    let other_worker = LiveCredentials::new(&creds(&ca, "worker-10", Role::Worker)).unwrap();
    let other_client = tls::live_client_config(&other_worker, &live_trust).unwrap();
    let e = Connection::open(&server_cfg, &other_client, role_server_name(Role::Manager))
        .await
        .refused_by_client();
    assert!(e.to_lowercase().contains("revoked"), "{e}");
}

#[tokio::test]
async fn the_live_join_endpoint_accepts_a_node_without_certificate_and_presents_the_renewed_one() {
    let ca = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    let trust = ClusterTrust::new(ca.cert_der(), cluster(), RevocationList::new()).unwrap();
    let manager = LiveCredentials::new(&creds(&ca, "manager-1", Role::Manager)).unwrap();
    let server_cfg =
        tls::live_server_config_accepting_joins(&manager, &LiveTrust::new(trust.clone())).unwrap();
    let join_client = tls::join_client_config(&trust).unwrap();

    let renewed_manager = renewed(&ca, "manager-1", Role::Manager, 10);
    manager.replace(&renewed_manager).unwrap();
    let (server, client) =
        Connection::open(&server_cfg, &join_client, role_server_name(Role::Manager))
            .await
            .working()
            .await;
    assert!(matches!(
        peer_identity(server.get_ref().1),
        Err(SecretsError::NoPeerCertificate)
    ));
    assert_eq!(peer_cert(client.get_ref().1), *renewed_manager.cert_der());

    // A node with a certificate is still verified and identified there.
    let worker = creds(&ca, "worker-1", Role::Worker);
    let (server, _client) = Connection::open(
        &server_cfg,
        &tls::client_config(&worker, &trust).unwrap(),
        role_server_name(Role::Manager),
    )
    .await
    .working()
    .await;
    assert_eq!(
        peer_identity(server.get_ref().1).unwrap().node_id.as_str(),
        "worker-1"
    );
}

#[test]
fn live_cells_are_send_sync_and_clones_share_the_cell() {
    fn check<T: Send + Sync + Clone>() {}
    check::<LiveCredentials>();
    check::<LiveTrust>();

    let ca = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    let live = LiveCredentials::new(&creds(&ca, "node-1", Role::Worker)).unwrap();
    let clone = live.clone();
    let promoted = creds(&ca, "node-1", Role::Manager);
    live.replace(&promoted).unwrap();
    assert_eq!(clone.cert_der(), *promoted.cert_der());
    assert!(format!("{live:?}").contains("[REDACTED]"));
}
