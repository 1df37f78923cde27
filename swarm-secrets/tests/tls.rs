//! Real mutual-TLS handshakes over 127.0.0.1 with tokio-rustls.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use swarm_secrets::tls::{
    self, ClusterTrust, PeerIdentity, authorize, node_server_name, peer_identity, role_server_name,
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

struct Outcome {
    server: Result<PeerIdentity, String>,
    client: Result<PeerIdentity, String>,
}

/// Runs one handshake plus a ping/pong exchange over a real TCP socket on 127.0.0.1.
async fn handshake(
    server_cfg: Arc<rustls::ServerConfig>,
    client_cfg: Arc<rustls::ClientConfig>,
    name: rustls_pki_types::ServerName<'static>,
) -> Outcome {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let mut tls = TlsAcceptor::from(server_cfg)
            .accept(tcp)
            .await
            .map_err(|e| e.to_string())?;
        let id = peer_identity(tls.get_ref().1).map_err(|e| e.to_string())?;
        let mut buf = [0u8; 4];
        tls.read_exact(&mut buf).await.map_err(|e| e.to_string())?;
        tls.write_all(b"pong").await.map_err(|e| e.to_string())?;
        tls.flush().await.map_err(|e| e.to_string())?;
        Ok::<_, String>(id)
    });
    let client = async move {
        let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let mut tls = TlsConnector::from(client_cfg)
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())?;
        let id = peer_identity(tls.get_ref().1).map_err(|e| e.to_string())?;
        tls.write_all(b"ping").await.map_err(|e| e.to_string())?;
        let mut buf = [0u8; 4];
        // In TLS 1.3 the server rejects a client certificate after the client's handshake
        // completed: the failure shows on the first read.
        tls.read_exact(&mut buf).await.map_err(|e| e.to_string())?;
        if &buf != b"pong" {
            return Err("bad reply".to_string());
        }
        Ok::<_, String>(id)
    };
    let client = tokio::time::timeout(TIMEOUT, client)
        .await
        .unwrap_or_else(|_| Err("client timed out".into()));
    let server = tokio::time::timeout(TIMEOUT, server)
        .await
        .map_err(|_| "server timed out".to_string())
        .and_then(|j| j.map_err(|e| e.to_string()))
        .and_then(|r| r);
    Outcome { server, client }
}

#[tokio::test]
async fn mutual_tls_reports_verified_node_ids_and_roles() {
    let ca = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    let revocations = RevocationList::new();
    let trust = ClusterTrust::new(ca.cert_der(), cluster(), revocations.clone()).unwrap();
    let manager = creds(&ca, "manager-1", Role::Manager);
    let worker = creds(&ca, "worker-1", Role::Worker);

    let out = handshake(
        tls::server_config(&manager, &trust).unwrap(),
        tls::client_config(&worker, &trust).unwrap(),
        role_server_name(Role::Manager),
    )
    .await;
    let seen_by_server = out.server.unwrap();
    let (node_id, role): (NodeId, Role) = seen_by_server.clone().into();
    assert_eq!((node_id.as_str(), role), ("worker-1", Role::Worker));
    assert_eq!(seen_by_server.node_id.as_str(), "worker-1");
    assert_eq!(
        seen_by_server.role,
        Role::Worker,
        "a worker certificate reports the worker role"
    );
    let seen_by_client = out.client.unwrap();
    assert_eq!(seen_by_client.node_id.as_str(), "manager-1");
    assert_eq!(seen_by_client.role, Role::Manager);

    // By node id as server name, too.
    let out = handshake(
        tls::server_config(&manager, &trust).unwrap(),
        tls::client_config(&worker, &trust).unwrap(),
        node_server_name(&NodeId::new("manager-1").unwrap()).unwrap(),
    )
    .await;
    assert!(out.server.is_ok() && out.client.is_ok());
}

#[tokio::test]
async fn a_worker_answering_as_manager_is_refused() {
    let ca = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    let trust = ClusterTrust::new(ca.cert_der(), cluster(), RevocationList::new()).unwrap();
    let worker_a = creds(&ca, "worker-a", Role::Worker);
    let worker_b = creds(&ca, "worker-b", Role::Worker);
    let out = handshake(
        tls::server_config(&worker_a, &trust).unwrap(),
        tls::client_config(&worker_b, &trust).unwrap(),
        role_server_name(Role::Manager),
    )
    .await;
    let e = out.client.unwrap_err();
    assert!(
        e.contains("not valid for name") || e.contains("NotValidForName"),
        "{e}"
    );
}

#[tokio::test]
async fn a_node_with_a_certificate_from_another_ca_is_refused() {
    let ca = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    let rogue_ca = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    let trust = ClusterTrust::new(ca.cert_der(), cluster(), RevocationList::new()).unwrap();
    let rogue_trust =
        ClusterTrust::new(rogue_ca.cert_der(), cluster(), RevocationList::new()).unwrap();
    let manager = creds(&ca, "manager-1", Role::Manager);
    let rogue = creds(&rogue_ca, "worker-1", Role::Worker);

    // A rogue client (its certificate from a CA with the same name but another key; it
    // trusts the real CA so it completes its side): the server refuses it.
    let out = handshake(
        tls::server_config(&manager, &trust).unwrap(),
        tls::client_config(&rogue, &trust).unwrap(),
        role_server_name(Role::Manager),
    )
    .await;
    let e = out.server.unwrap_err();
    assert!(e.contains("invalid peer certificate"), "{e}");
    assert!(out.client.is_err());

    // A rogue server: the client refuses it.
    let rogue_manager = creds(&rogue_ca, "manager-1", Role::Manager);
    let worker = creds(&ca, "worker-2", Role::Worker);
    let out = handshake(
        tls::server_config(&rogue_manager, &rogue_trust).unwrap(),
        tls::client_config(&worker, &trust).unwrap(),
        role_server_name(Role::Manager),
    )
    .await;
    assert!(out.client.is_err());
    assert!(out.server.is_err());
}

#[tokio::test]
async fn an_expired_certificate_is_refused() {
    let ca = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    let trust = ClusterTrust::new(ca.cert_der(), cluster(), RevocationList::new()).unwrap();
    let manager = creds(&ca, "manager-1", Role::Manager);
    let key = NodeKey::generate().unwrap();
    let now = SystemTime::now();
    let issued = ca
        .issue_with_validity(
            &key.csr_der().unwrap(),
            &NodeId::new("worker-old").unwrap(),
            Role::Worker,
            now - Duration::from_secs(3 * 86_400),
            now - Duration::from_secs(86_400),
        )
        .unwrap();
    let expired = NodeCredentials::new(&key, &issued.cert_der, ca.cert_der()).unwrap();
    let out = handshake(
        tls::server_config(&manager, &trust).unwrap(),
        tls::client_config(&expired, &trust).unwrap(),
        role_server_name(Role::Manager),
    )
    .await;
    let e = out.server.unwrap_err();
    assert!(e.to_lowercase().contains("expired"), "{e}");
    assert!(out.client.is_err());
}

#[tokio::test]
async fn a_revoked_node_is_refused_at_the_next_handshake() {
    let ca = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    let revocations = RevocationList::new();
    let trust = ClusterTrust::new(ca.cert_der(), cluster(), revocations.clone()).unwrap();
    let manager = creds(&ca, "manager-1", Role::Manager);
    let worker = creds(&ca, "worker-9", Role::Worker);
    let server_cfg = tls::server_config(&manager, &trust).unwrap();
    let client_cfg = tls::client_config(&worker, &trust).unwrap();

    let out = handshake(
        server_cfg.clone(),
        client_cfg.clone(),
        role_server_name(Role::Manager),
    )
    .await;
    assert!(out.server.is_ok(), "{:?}", out.server);

    // Remove the node: the same configs now refuse it (no session resumption bypass).
    revocations.revoke(NodeId::new("worker-9").unwrap());
    let out = handshake(
        server_cfg.clone(),
        client_cfg.clone(),
        role_server_name(Role::Manager),
    )
    .await;
    let e = out.server.unwrap_err();
    assert!(e.to_lowercase().contains("revoked"), "{e}");
    assert!(out.client.is_err());

    // A revoked manager is refused by clients too.
    revocations.replace([NodeId::new("manager-1").unwrap()]);
    let other_worker = creds(&ca, "worker-10", Role::Worker);
    let out = handshake(
        server_cfg,
        tls::client_config(&other_worker, &trust).unwrap(),
        role_server_name(Role::Manager),
    )
    .await;
    assert!(out.client.unwrap_err().to_lowercase().contains("revoked"));
}

#[tokio::test]
async fn another_cluster_from_the_same_ca_key_is_refused_and_authorize_checks_roles() {
    let ca = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    let revocations = RevocationList::new();
    let trust = ClusterTrust::new(ca.cert_der(), cluster(), revocations.clone()).unwrap();
    let manager = creds(&ca, "manager-1", Role::Manager);
    // A CA restored under another cluster id but with the same key and certificate.
    let twin = ClusterCa::from_parts(
        ClusterId::new("cluster-b").unwrap(),
        ca.cert_der(),
        &ca.key_pkcs8_der(),
        CertPolicy::default(),
    )
    .unwrap();
    let outsider = creds(&twin, "worker-1", Role::Worker);
    let out = handshake(
        tls::server_config(&manager, &trust).unwrap(),
        tls::client_config(&outsider, &trust).unwrap(),
        role_server_name(Role::Manager),
    )
    .await;
    assert!(out.server.is_err());

    // authorize(): role check and revocation at call time on an established connection.
    let worker = creds(&ca, "worker-2", Role::Worker);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server_cfg = tls::server_config(&manager, &trust).unwrap();
    let trust2 = trust.clone();
    let rev2 = revocations.clone();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let tls = TlsAcceptor::from(server_cfg).accept(tcp).await.unwrap();
        let conn = tls.get_ref().1;
        let as_worker = authorize(conn, &trust2, &[Role::Worker, Role::Manager]).unwrap();
        let manager_only = authorize(conn, &trust2, &[Role::Manager]).unwrap_err();
        rev2.revoke(NodeId::new("worker-2").unwrap());
        let after_revoke = authorize(conn, &trust2, &[Role::Worker]).unwrap_err();
        (as_worker, manager_only, after_revoke)
    });
    let tcp = TcpStream::connect(addr).await.unwrap();
    let _client = TlsConnector::from(tls::client_config(&worker, &trust).unwrap())
        .connect(role_server_name(Role::Manager), tcp)
        .await
        .unwrap();
    let (as_worker, manager_only, after_revoke) = tokio::time::timeout(TIMEOUT, server)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(as_worker.role, Role::Worker);
    assert!(
        matches!(
            &manager_only,
            SecretsError::RoleNotAllowed { role: Role::Worker, allowed, .. }
                if allowed == &[Role::Manager]
        ),
        "{manager_only}"
    );
    assert!(!manager_only.is_retryable());
    assert!(matches!(after_revoke, SecretsError::Revoked(_)));
}

#[tokio::test]
async fn a_joining_node_without_certificate_reaches_the_join_endpoint_only() {
    let ca = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    let trust = ClusterTrust::new(ca.cert_der(), cluster(), RevocationList::new()).unwrap();
    let manager = creds(&ca, "manager-1", Role::Manager);
    let join_client = tls::join_client_config(&trust).unwrap();
    // The strict server refuses an anonymous client.
    let out = handshake(
        tls::server_config(&manager, &trust).unwrap(),
        join_client.clone(),
        role_server_name(Role::Manager),
    )
    .await;
    assert!(out.server.is_err());
    // The join endpoint accepts it; the server sees no identity.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cfg = tls::server_config_accepting_joins(&manager, &trust).unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let tls = TlsAcceptor::from(cfg).accept(tcp).await.unwrap();
        peer_identity(tls.get_ref().1).unwrap_err()
    });
    let tcp = TcpStream::connect(addr).await.unwrap();
    let client = TlsConnector::from(join_client)
        .connect(role_server_name(Role::Manager), tcp)
        .await
        .unwrap();
    assert_eq!(
        peer_identity(client.get_ref().1).unwrap().role,
        Role::Manager
    );
    let e = tokio::time::timeout(TIMEOUT, server)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(e, SecretsError::NoPeerCertificate));
}

#[tokio::test]
async fn join_flow_pins_the_ca_from_the_token_then_renewal_changes_the_role() {
    use swarm_secrets::{JoinToken, JoinTokens};
    let ca = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    let trust = ClusterTrust::new(ca.cert_der(), cluster(), RevocationList::new()).unwrap();
    let manager = creds(&ca, "manager-1", Role::Manager);
    let tokens = JoinTokens::generate(ca.digest()).unwrap();
    let token = JoinToken::parse(&tokens.token(Role::Worker).expose()).unwrap();

    // A CA that does not match the token is refused before it is trusted.
    let rogue = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    assert!(matches!(
        ClusterTrust::for_join(&token, rogue.cert_der(), RevocationList::new()),
        Err(SecretsError::CaDigestMismatch)
    ));
    // The right one is trusted, with the cluster id read from the CA.
    let join_trust = ClusterTrust::for_join(&token, ca.cert_der(), RevocationList::new()).unwrap();
    assert_eq!(join_trust.cluster_id(), &cluster());

    // Join over TLS: anonymous client to the join endpoint, then issue from the token.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cfg = tls::server_config_accepting_joins(&manager, &trust).unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = TlsAcceptor::from(cfg).accept(tcp).await.unwrap();
        assert!(peer_identity(tls.get_ref().1).is_err());
        let mut len = [0u8; 2];
        tls.read_exact(&mut len).await.unwrap();
        let mut csr = vec![0u8; u16::from_be_bytes(len) as usize];
        tls.read_exact(&mut csr).await.unwrap();
        (csr, tls)
    });
    let key = NodeKey::generate().unwrap();
    let csr = key.csr_der().unwrap();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut client = TlsConnector::from(tls::join_client_config(&join_trust).unwrap())
        .connect(role_server_name(Role::Manager), tcp)
        .await
        .unwrap();
    client
        .write_all(&(csr.len() as u16).to_be_bytes())
        .await
        .unwrap();
    client.write_all(&csr).await.unwrap();
    client.flush().await.unwrap();
    let (received_csr, _server_tls) = tokio::time::timeout(TIMEOUT, server)
        .await
        .unwrap()
        .unwrap();
    let node_id = NodeId::new("worker-new").unwrap();
    let issued = ca
        .issue_for_join(&tokens, &token, &received_csr, &node_id)
        .unwrap();
    let worker = NodeCredentials::new(&key, &issued.cert_der, ca.cert_der()).unwrap();

    // Now a member: mutual TLS works and the server sees a worker.
    let out = handshake(
        tls::server_config(&manager, &trust).unwrap(),
        tls::client_config(&worker, &join_trust).unwrap(),
        role_server_name(Role::Manager),
    )
    .await;
    let peer = out.server.unwrap();
    assert_eq!(peer.role, Role::Worker);

    // Promotion: the manager renews for the authenticated peer with the new role.
    let promoted = ca
        .renew(&peer, &key.csr_der().unwrap(), Role::Manager)
        .unwrap();
    let as_manager = NodeCredentials::new(&key, &promoted.cert_der, ca.cert_der()).unwrap();
    let out = handshake(
        tls::server_config(&manager, &trust).unwrap(),
        tls::client_config(&as_manager, &trust).unwrap(),
        role_server_name(Role::Manager),
    )
    .await;
    let peer = out.server.unwrap();
    assert_eq!(
        (peer.node_id.as_str(), peer.role),
        ("worker-new", Role::Manager)
    );
    // A peer of another cluster cannot renew here.
    let foreign = PeerIdentity {
        cluster_id: ClusterId::new("elsewhere").unwrap(),
        ..peer
    };
    assert!(
        ca.renew(&foreign, &key.csr_der().unwrap(), Role::Worker)
            .is_err()
    );
}

#[test]
fn secret_holding_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<swarm_secrets::Keyring>();
    check::<ClusterCa>();
    check::<NodeCredentials>();
    check::<ClusterTrust>();
    check::<swarm_secrets::NodeSealKey>();
    check::<swarm_secrets::JoinTokens>();
}

#[tokio::test]
async fn root_rotation_trusts_both_roots_during_the_transition() {
    let old_ca = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    let new_ca = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    let old_only = ClusterTrust::new(old_ca.cert_der(), cluster(), RevocationList::new()).unwrap();
    let both = old_only
        .clone()
        .with_additional_root(new_ca.cert_der())
        .unwrap();
    let manager_new = creds(&new_ca, "manager-1", Role::Manager);
    let worker_old = creds(&old_ca, "worker-1", Role::Worker);

    // A manager already on the new root, a worker still on the old one: both trust both roots.
    let out = handshake(
        tls::server_config(&manager_new, &both).unwrap(),
        tls::client_config(&worker_old, &both).unwrap(),
        role_server_name(Role::Manager),
    )
    .await;
    assert_eq!(out.server.unwrap().node_id.as_str(), "worker-1");
    assert_eq!(out.client.unwrap().node_id.as_str(), "manager-1");

    // A node that trusts only the old root refuses the new manager.
    let out = handshake(
        tls::server_config(&manager_new, &both).unwrap(),
        tls::client_config(&worker_old, &old_only).unwrap(),
        role_server_name(Role::Manager),
    )
    .await;
    assert!(out.client.is_err());
}

/// A certificate for `cn` (any case) signed with the cluster CA's key by other tooling than
/// [`ClusterCa`], as rcgen lets anyone holding the key do; returns it with its private key.
fn foreign_tooling_cert(
    ca: &ClusterCa,
    cn: &str,
    role: Role,
) -> (
    rustls_pki_types::CertificateDer<'static>,
    rustls_pki_types::PrivateKeyDer<'static>,
) {
    use rcgen::{
        CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, Issuer, KeyPair,
        PKCS_ECDSA_P256_SHA256, SanType,
    };
    let ca_key = KeyPair::from_pkcs8_der_and_sign_algo(
        &rustls_pki_types::PrivatePkcs8KeyDer::from(ca.key_pkcs8_der().as_slice()),
        &PKCS_ECDSA_P256_SHA256,
    )
    .unwrap();
    let issuer = Issuer::from_ca_cert_der(ca.cert_der(), ca_key).unwrap();
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationalUnitName, role.as_ou());
    dn.push(DnType::OrganizationName, ca.cluster_id().as_str());
    params.distinguished_name = dn;
    params.subject_alt_names = vec![
        SanType::DnsName(cn.try_into().unwrap()),
        SanType::DnsName(role.as_ou().try_into().unwrap()),
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.use_authority_key_identifier_extension = true;
    let cert = params.signed_by(&key, &issuer).unwrap();
    let key_der = rustls_pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    (cert.der().clone(), key_der)
}

/// A client config presenting a raw certificate and key, verifying the server like
/// [`tls::client_config`].
fn raw_client_config(
    trust: &ClusterTrust,
    cert: rustls_pki_types::CertificateDer<'static>,
    key: rustls_pki_types::PrivateKeyDer<'static>,
) -> Arc<rustls::ClientConfig> {
    let mut config = rustls::ClientConfig::builder_with_provider(tls::crypto_provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(
            tls::ClusterServerCertVerifier::new(trust).unwrap(),
        ))
        .with_client_auth_cert(vec![cert], key)
        .unwrap();
    config.resumption = rustls::client::Resumption::disabled();
    Arc::new(config)
}

/// Issue 12, item 6: node ids are lowercase (as SwarmKit's base-36 ids), because TLS names
/// match without case: `Node-1` is refused when built, and a `Node-1` certificate is refused at
/// the handshake, so it can never pass as a node other than the revoked `node-1`.
#[tokio::test]
async fn item6_an_upper_case_node_id_is_refused_everywhere() {
    let ca = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    let revocations = RevocationList::new();
    let trust = ClusterTrust::new(ca.cert_der(), cluster(), revocations.clone()).unwrap();
    let manager = creds(&ca, "manager-1", Role::Manager);
    revocations.revoke(NodeId::new("node-1").unwrap());
    let (cert, key) = foreign_tooling_cert(&ca, "Node-1", Role::Worker);
    assert!(swarm_secrets::NodeCertInfo::parse(&cert).is_err());
    let out = handshake(
        tls::server_config(&manager, &trust).unwrap(),
        raw_client_config(&trust, cert, key),
        role_server_name(Role::Manager),
    )
    .await;
    assert!(
        out.server.is_err(),
        "a Node-1 certificate was accepted: {:?}",
        out.server
    );
    assert!(out.client.is_err());

    // The same tooling with a lowercase id is accepted: only the case is refused.
    let (cert, key) = foreign_tooling_cert(&ca, "node-2", Role::Worker);
    let out = handshake(
        tls::server_config(&manager, &trust).unwrap(),
        raw_client_config(&trust, cert, key),
        role_server_name(Role::Manager),
    )
    .await;
    assert_eq!(out.server.unwrap().node_id.as_str(), "node-2");

    // Refused at construction, parsing and deserialization, with the field named.
    let e = NodeId::new("Node-1").unwrap_err();
    assert!(
        matches!(
            &e,
            SecretsError::InvalidInput {
                field: "node id",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("lowercase"), "{e}");
    assert!("NODE-1".parse::<NodeId>().is_err());
    assert!(!deserializes_as_node_id("Node-1"));
    assert!(deserializes_as_node_id("node-1"));
}

/// Whether `text` deserializes as a node id, as from a stored document (serde goes through
/// `NodeId::new`).
fn deserializes_as_node_id(text: &str) -> bool {
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error, StringDeserializer};
    let de: StringDeserializer<Error> = text.to_string().into_deserializer();
    <NodeId as serde::Deserialize>::deserialize(de).is_ok()
}

/// Issue 12, item 2 (the swarm-secrets side): the role the CA put in a certificate is read,
/// verified, from the certificate alone, for transports that hand over the peer's certificate.
#[test]
fn item2_identify_certificate_gives_the_verified_node_id_and_role() {
    let ca = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    let revocations = RevocationList::new();
    let trust = ClusterTrust::new(ca.cert_der(), cluster(), revocations.clone()).unwrap();
    let key = NodeKey::generate().unwrap();
    let csr = key.csr_der().unwrap();
    let manager = ca
        .issue(&csr, &NodeId::new("m-1").unwrap(), Role::Manager)
        .unwrap();
    let worker = ca
        .issue(&csr, &NodeId::new("1").unwrap(), Role::Worker)
        .unwrap();

    let peer = trust.identify_certificate(&manager.cert_der).unwrap();
    assert_eq!(
        peer.node_and_role(),
        (&NodeId::new("m-1").unwrap(), Role::Manager)
    );
    assert_eq!(
        trust
            .authorize_certificate(&manager.cert_der, &[Role::Manager])
            .unwrap()
            .node_id
            .as_str(),
        "m-1"
    );
    // A worker certificate, whatever its node id, is not a manager.
    assert_eq!(
        trust.identify_certificate(&worker.cert_der).unwrap().role,
        Role::Worker
    );
    assert!(matches!(
        trust.authorize_certificate(&worker.cert_der, &[Role::Manager]),
        Err(SecretsError::RoleNotAllowed {
            role: Role::Worker,
            ..
        })
    ));
    // Revoked, another CA, another cluster, expired, garbage: refused.
    revocations.revoke(NodeId::new("m-1").unwrap());
    assert!(matches!(
        trust.identify_certificate(&manager.cert_der),
        Err(SecretsError::Revoked(_))
    ));
    let other_ca = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    let foreign = other_ca
        .issue(&csr, &NodeId::new("m-2").unwrap(), Role::Manager)
        .unwrap();
    assert!(matches!(
        trust.identify_certificate(&foreign.cert_der),
        Err(SecretsError::Certificate(_))
    ));
    let twin = ClusterCa::from_parts(
        ClusterId::new("cluster-b").unwrap(),
        ca.cert_der(),
        &ca.key_pkcs8_der(),
        CertPolicy::default(),
    )
    .unwrap();
    let outsider = twin
        .issue(&csr, &NodeId::new("m-3").unwrap(), Role::Manager)
        .unwrap();
    let e = trust.identify_certificate(&outsider.cert_der).unwrap_err();
    assert!(e.to_string().contains("cluster-b"), "{e}");
    let now = SystemTime::now();
    let expired = ca
        .issue_with_validity(
            &csr,
            &NodeId::new("m-4").unwrap(),
            Role::Manager,
            now - Duration::from_secs(3 * 86_400),
            now - Duration::from_secs(86_400),
        )
        .unwrap();
    assert!(trust.identify_certificate(&expired.cert_der).is_err());
    assert!(
        trust
            .identify_certificate(&rustls_pki_types::CertificateDer::from(vec![1, 2, 3]))
            .is_err()
    );
}

/// Serves one connection with `server_cfg`: writes `payload` and closes. Returns the client's
/// outcome: the bytes it read, or why the handshake or the read failed.
async fn fetch_over(
    server_cfg: Arc<rustls::ServerConfig>,
    client_cfg: Arc<rustls::ClientConfig>,
    payload: Vec<u8>,
) -> Result<Vec<u8>, String> {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        if let Ok(mut tls) = TlsAcceptor::from(server_cfg).accept(tcp).await {
            let _ = tls.write_all(&payload).await;
            let _ = tls.shutdown().await;
        }
    });
    let client = async move {
        let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let mut tls = TlsConnector::from(client_cfg)
            .connect(role_server_name(Role::Manager), tcp)
            .await
            .map_err(|e| e.to_string())?;
        let mut received = Vec::new();
        tls.read_to_end(&mut received)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(received)
    };
    let outcome = tokio::time::timeout(TIMEOUT, client)
        .await
        .unwrap_or_else(|_| Err("client timed out".into()));
    let _ = tokio::time::timeout(TIMEOUT, server).await;
    outcome
}

/// A joining node knows no CA yet: `ca_fetch_client_config` reaches a manager whose CA it does
/// not know (where `join_client_config` is refused), and what it downloads is trusted only once
/// it matches the digest in the join token.
#[tokio::test]
async fn the_ca_fetch_config_reaches_a_server_of_an_unknown_ca_and_trusts_nothing() {
    use swarm_secrets::{JoinToken, JoinTokens};
    let ca = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    let trust = ClusterTrust::new(ca.cert_der(), cluster(), RevocationList::new()).unwrap();
    let manager = creds(&ca, "manager-1", Role::Manager);
    let server_cfg = tls::server_config_accepting_joins(&manager, &trust).unwrap();
    let other = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    let other_trust =
        ClusterTrust::new(other.cert_der(), cluster(), RevocationList::new()).unwrap();

    // Verifying the manager against a CA it was not issued by fails the handshake.
    let refused = fetch_over(
        server_cfg.clone(),
        tls::join_client_config(&other_trust).unwrap(),
        ca.cert_der().to_vec(),
    )
    .await;
    assert!(refused.is_err(), "{refused:?}");

    // The CA fetch config accepts the unknown manager and reads what it sends.
    let downloaded = fetch_over(
        server_cfg,
        tls::ca_fetch_client_config().unwrap(),
        ca.cert_der().to_vec(),
    )
    .await
    .unwrap();
    assert_eq!(downloaded, ca.cert_der().to_vec());

    // Trusted only when the join token pins it.
    let right = JoinTokens::generate(ca.digest()).unwrap();
    let right = JoinToken::parse(&right.token(Role::Worker).expose()).unwrap();
    let wrong = JoinTokens::generate(other.digest()).unwrap();
    let wrong = JoinToken::parse(&wrong.token(Role::Worker).expose()).unwrap();
    assert!(matches!(
        ClusterTrust::for_join(&wrong, &downloaded, RevocationList::new()),
        Err(SecretsError::CaDigestMismatch)
    ));
    let pinned = ClusterTrust::for_join(&right, &downloaded, RevocationList::new()).unwrap();
    assert_eq!(pinned.cluster_id(), &cluster());
}

/// Serves a certificate with a key that is not the certificate's.
#[derive(Debug)]
struct MismatchedKey(Arc<rustls::sign::CertifiedKey>);

impl rustls::server::ResolvesServerCert for MismatchedKey {
    fn resolve(
        &self,
        _hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// The CA fetch config checks no chain, but a server must still prove it holds the key of the
/// certificate it presents: one signing the handshake with another key is refused.
#[tokio::test]
async fn the_ca_fetch_config_still_verifies_the_handshake_signature() {
    let ca = ClusterCa::generate(cluster(), CertPolicy::default()).unwrap();
    let (cert, _its_key) = foreign_tooling_cert(&ca, "manager-1", Role::Manager);
    let (_other_cert, other_key) = foreign_tooling_cert(&ca, "manager-2", Role::Manager);
    let provider = tls::crypto_provider();
    let signer = provider.key_provider.load_private_key(other_key).unwrap();
    let forged = rustls::sign::CertifiedKey::new(vec![cert], signer);
    let mut server_cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(MismatchedKey(Arc::new(forged))));
    server_cfg.send_tls13_tickets = 0;
    let outcome = fetch_over(
        Arc::new(server_cfg),
        tls::ca_fetch_client_config().unwrap(),
        ca.cert_der().to_vec(),
    )
    .await;
    let error = outcome.unwrap_err();
    assert!(error.contains("ignature"), "{error}");
}
