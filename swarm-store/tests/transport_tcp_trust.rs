//! Who a TCP server serves and for how long, on 127.0.0.1 with real mutual TLS: revocation of
//! open connections (item 1 of the trust review), certificates of a SwarmKit-style CA and the
//! errors a misconfigured member gets (item 2), the limits one peer meets (item 5) and upper
//! case in node ids (item 6).

#![allow(clippy::unwrap_used)] // test helpers fail loudly on setup errors

use bytes::Bytes;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use swarm_store::storage::{MemLogStorage, MemSnapshotStore};
use swarm_store::testkit::{TestCa, common_name_identifier, member_id_from_common_name};
use swarm_store::transport::tcp::{
    MANAGER_ROLE_OU, MAX_BUFFERED_REQUEST_BYTES_PER_CONNECTION, MAX_CONNECTIONS_PER_PEER,
    MemberNames, PeerAddress, PeerIdentifier, PeerRefused, TcpConfig, TcpServer, TcpTransport,
    manager_identifier,
};
use swarm_store::transport::{MemberId, RpcHandler, Transport, TransportError};
use swarm_store::{Store, StoreConfig, StoreError, StoreRpc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

const CLIENT: MemberId = MemberId(1);
const SERVER: MemberId = MemberId(2);
/// How long a test waits for something that should happen at once.
const PATIENCE: Duration = Duration::from_secs(10);
const WORKER_ROLE_OU: &str = "swarm-worker";

/// Answers `"<from>:<request>"`; holds requests starting with `hold` forever, counting them.
#[derive(Clone, Default)]
struct Handler {
    held: Arc<AtomicUsize>,
}

impl RpcHandler for Handler {
    async fn handle(&self, from: MemberId, request: Bytes) -> Result<Bytes, String> {
        if request.starts_with(b"hold") {
            self.held.fetch_add(1, Ordering::SeqCst);
            std::future::pending::<()>().await;
        }
        if let Some(ms) = request.strip_prefix(b"sleep:") {
            let ms: u64 = String::from_utf8_lossy(ms).parse().unwrap();
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        Ok(Bytes::from(format!(
            "{}:{}",
            from.0,
            String::from_utf8_lossy(&request)
        )))
    }
}

fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn b(s: &str) -> Bytes {
    Bytes::from(s.to_owned())
}

/// An identifier reading the member id from the common name, refusing the revoked ones.
fn revocable(revoked: Arc<Mutex<BTreeSet<MemberId>>>) -> PeerIdentifier {
    let read = common_name_identifier();
    Arc::new(move |cert| {
        let member = read(cert)?;
        if revoked.lock().unwrap().contains(&member) {
            return Err(PeerRefused::new(format!("{member} is revoked")));
        }
        Ok(member)
    })
}

async fn server_with(ca: &TestCa, identify: PeerIdentifier, config: TcpConfig) -> TcpServer {
    TcpServer::bind(
        any_port(),
        ca.server_config(SERVER),
        identify,
        config,
        Handler::default(),
    )
    .await
    .unwrap()
}

fn client_with(ca: &TestCa, identify: PeerIdentifier, server: SocketAddr) -> TcpTransport {
    let client = TcpTransport::new(
        CLIENT,
        ca.client_config(CLIENT),
        identify,
        TcpConfig::default(),
    );
    client.set_peer(SERVER, PeerAddress::with_ip(server));
    client
}

/// A raw TLS connection presenting the certificate of `member`.
async fn raw_tls(
    ca: &TestCa,
    member: MemberId,
    server: SocketAddr,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let connector = tokio_rustls::TlsConnector::from(ca.client_config(member));
    let tcp = TcpStream::connect(server).await.unwrap();
    connector
        .connect(
            rustls_pki_types::ServerName::IpAddress(server.ip().into()),
            tcp,
        )
        .await
        .unwrap()
}

/// Reads until the server closes the connection; returns how long that took, or fails the
/// test if it stays open for `PATIENCE`.
async fn closed_by_server<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(PATIENCE, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the server kept the connection open");
    started.elapsed()
}

/// Item 1: identity and revocation were checked once, at the handshake, so a member revoked
/// afterwards kept being served on its open connection. Now every connection asks the
/// identifier again every `peer_recheck_interval` (and at once on `recheck_peers`), and a
/// revoked peer loses its open connections; reconnecting is refused, with the reason.
#[tokio::test]
async fn item_1_a_revoked_peer_loses_its_open_connections_within_the_recheck_interval() {
    let ca = TestCa::new("test ca");
    let revoked = Arc::new(Mutex::new(BTreeSet::new()));
    let recheck = Duration::from_millis(200);
    let server = server_with(
        &ca,
        revocable(revoked.clone()),
        TcpConfig {
            peer_recheck_interval: recheck,
            ..TcpConfig::default()
        },
    )
    .await;
    let client = client_with(&ca, common_name_identifier(), server.local_addr());
    assert_eq!(client.call(SERVER, b("before")).await.unwrap(), "1:before");
    assert_eq!(server.connections_of(CLIENT), 1);

    // Revoked with no hook called: the open connection is cut within the interval.
    revoked.lock().unwrap().insert(CLIENT);
    let revoked_at = Instant::now();
    let cut = tokio::time::timeout(PATIENCE, async {
        while server.connections_of(CLIENT) > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(cut.is_ok(), "a revoked peer kept its open connection");
    assert!(
        revoked_at.elapsed() < recheck * 3,
        "cut after {:?}",
        revoked_at.elapsed()
    );
    // Its next call reconnects and is refused, saying why. A call may still find the cut
    // connection before the client has seen it close: that one fails as unreachable, and the
    // call after it reconnects.
    let mut err = client.call(SERVER, b("after")).await.unwrap_err();
    if matches!(err, TransportError::Unreachable { .. }) {
        err = client.call(SERVER, b("after")).await.unwrap_err();
    }
    assert!(
        matches!(&err, TransportError::Auth { detail, .. } if detail.contains("revoked")),
        "{err:?}"
    );

    // With the hook, at once: a request on an open connection after `recheck_peers` fails.
    revoked.lock().unwrap().clear();
    let other = client_with(&ca, common_name_identifier(), server.local_addr());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(other.call(SERVER, b("again")).await.unwrap(), "1:again");
    let slow = Arc::new(server);
    let pending = {
        let other = Arc::new(other);
        let call = {
            let other = other.clone();
            tokio::spawn(async move { other.call(SERVER, b("sleep:2000")).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        revoked.lock().unwrap().insert(CLIENT);
        slow.recheck_peers();
        call
    };
    let started = Instant::now();
    let err = pending.await.unwrap().unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "the call in flight was still served"
    );
    assert!(matches!(err, TransportError::Unreachable { .. }), "{err:?}");
    assert_eq!(slow.connections_of(CLIENT), 0);
}

/// Item 1, the calling side: a transport stops sending to a server whose certificate its
/// identifier no longer accepts (revoked), at once after `recheck_peers`.
#[tokio::test]
async fn item_1_a_transport_drops_its_connection_to_a_revoked_server() {
    let ca = TestCa::new("test ca");
    let server = server_with(&ca, common_name_identifier(), TcpConfig::default()).await;
    let revoked = Arc::new(Mutex::new(BTreeSet::new()));
    let client = client_with(&ca, revocable(revoked.clone()), server.local_addr());
    assert_eq!(client.call(SERVER, b("before")).await.unwrap(), "1:before");
    revoked.lock().unwrap().insert(SERVER);
    client.recheck_peers();
    let gone = tokio::time::timeout(PATIENCE, async {
        while server.connections_of(CLIENT) > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(
        gone.is_ok(),
        "the transport kept its connection to a revoked server"
    );
    let err = client.call(SERVER, b("after")).await.unwrap_err();
    assert!(
        matches!(&err, TransportError::Auth { detail, .. } if detail.contains("revoked")),
        "{err:?}"
    );
}

/// Item 2: the shipped identifier took a worker's certificate (CN `3` or `member-3`) for
/// store member 3. The identifier for certificates of swarm-secrets' CA requires the manager
/// role and maps the node id through the member names; the test CA's scheme (CN = member id)
/// is test support only.
#[test]
fn item_2_a_worker_certificate_is_never_a_store_member() {
    let ca = TestCa::new("test ca");
    let names = MemberNames::new();
    names.insert(MemberId(3), "3").unwrap();
    names.insert(MemberId(4), "k3v8x2").unwrap();
    let identify = manager_identifier(names.clone());
    for cn in ["3", "member-3", "k3v8x2"] {
        let (worker, _) = ca.node_identity(cn, WORKER_ROLE_OU);
        let e = identify(&worker[0]).unwrap_err();
        assert!(e.reason.contains("swarm-worker"), "{cn}: {e}");
    }
    let (manager, _) = ca.node_identity("k3v8x2", MANAGER_ROLE_OU);
    assert_eq!(identify(&manager[0]), Ok(MemberId(4)));
    let (manager, _) = ca.node_identity("3", MANAGER_ROLE_OU);
    assert_eq!(identify(&manager[0]), Ok(MemberId(3)));
    // A manager the names do not know is refused, naming it.
    let (stranger, _) = ca.node_identity("p9q2r7", MANAGER_ROLE_OU);
    let e = identify(&stranger[0]).unwrap_err();
    assert!(e.reason.contains("p9q2r7"), "{e}");
    // A certificate without a role (the test CA's member certificates) is refused too.
    let (no_role, _) = ca.identity(MemberId(3));
    assert_eq!(member_id_from_common_name(&no_role[0]), Some(MemberId(3)));
    assert!(identify(&no_role[0]).is_err());
    // The table is read at every call: a member removed from it is refused from then on.
    names.remove(MemberId(4));
    let (manager, _) = ca.node_identity("k3v8x2", MANAGER_ROLE_OU);
    assert!(identify(&manager[0]).is_err());
}

/// One store member over TCP: its store, its server, and its transport's names.
struct Running {
    store: Store,
    _server: TcpServer,
}

/// Starts member `id` as node `node_id` with a certificate of role `role_ou`, calling the
/// others by their node ids, as a user of swarm-secrets' CA writes it.
async fn start_member(
    ca: &TestCa,
    names: &MemberNames,
    addrs: &[(u64, &str, SocketAddr)],
    id: u64,
    role_ou: &str,
    listener: tokio::net::TcpListener,
) -> Running {
    let (_, node_id, addr) = *addrs.iter().find(|(m, _, _)| *m == id).unwrap();
    let rpc = StoreRpc::new();
    let server = TcpServer::serve(
        listener,
        ca.server_config_for(ca.node_identity(node_id, role_ou)),
        manager_identifier(names.clone()),
        TcpConfig::default(),
        rpc.clone(),
    )
    .unwrap();
    let transport = TcpTransport::new(
        MemberId(id),
        ca.client_config_for(ca.node_identity(node_id, role_ou), ca),
        manager_identifier(names.clone()),
        TcpConfig::default(),
    );
    for (peer, peer_node, peer_addr) in addrs {
        if *peer != id {
            transport.set_peer(
                MemberId(*peer),
                PeerAddress::new(*peer_addr, peer_node).unwrap(),
            );
        }
    }
    let config = StoreConfig::new(MemberId(id), addr.to_string()).fast_failover();
    let store = Store::open(
        config,
        MemLogStorage::new(),
        MemSnapshotStore::new(),
        transport,
        &rpc,
    )
    .await
    .unwrap();
    Running {
        store,
        _server: server,
    }
}

/// Item 2, as a new user tries it: members with node certificates of a SwarmKit-style CA (CN =
/// node id, OU = role, a DNS name and no IP address) join when each is named by its node id;
/// a member running with a worker's certificate is refused, and the refusal names it (in
/// `QuorumRisk` and in `status()`), instead of a bare `QuorumRisk { reachable: 1, quorum: 2 }`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_2_members_with_node_certificates_join_and_a_misconfigured_one_names_itself() {
    let ca = TestCa::new("test ca");
    let mut listeners = Vec::new();
    let mut addrs = Vec::new();
    for (id, node) in [(1, "a7k2m9"), (2, "b4n8q1"), (3, "c6p3r5")] {
        let l = tokio::net::TcpListener::bind(any_port()).await.unwrap();
        addrs.push((id, node, l.local_addr().unwrap()));
        listeners.push(l);
    }
    let names = MemberNames::new();
    for (id, node, _) in &addrs {
        names.insert(MemberId(*id), node).unwrap();
    }
    let mut listeners = listeners.into_iter();
    let one = start_member(
        &ca,
        &names,
        &addrs,
        1,
        MANAGER_ROLE_OU,
        listeners.next().unwrap(),
    )
    .await;
    let _two = start_member(
        &ca,
        &names,
        &addrs,
        2,
        MANAGER_ROLE_OU,
        listeners.next().unwrap(),
    )
    .await;
    // Member 3's operator installed a worker's certificate.
    let _three = start_member(
        &ca,
        &names,
        &addrs,
        3,
        WORKER_ROLE_OU,
        listeners.next().unwrap(),
    )
    .await;
    one.store.bootstrap().await.unwrap();
    one.store
        .add_learner(MemberId(3), addrs[2].2.to_string())
        .await
        .unwrap();
    let err = one.store.promote(MemberId(3), false).await.unwrap_err();
    match &err {
        StoreError::QuorumRisk {
            reachable: 1,
            quorum: 2,
            unreachable,
        } => {
            assert_eq!(unreachable.len(), 1, "{err}");
            assert_eq!(unreachable[0].0, MemberId(3));
            assert!(unreachable[0].1.contains("swarm-worker"), "{err}");
        }
        other => panic!("expected a quorum refusal naming member 3, got {other}"),
    }
    assert!(err.to_string().contains("member-3"), "{err}");
    let status = one.store.status();
    let three = status.members.iter().find(|m| m.id == MemberId(3)).unwrap();
    let why = three.last_error.as_deref().unwrap_or_default();
    assert!(why.contains("swarm-worker"), "{status:#?}");

    // The member with a manager's certificate, named by its node id, joins.
    one.store.remove(MemberId(3), false).await.unwrap();
    one.store
        .add_learner(MemberId(2), addrs[1].2.to_string())
        .await
        .unwrap();
    one.store.promote(MemberId(2), false).await.unwrap();
    let kv = one.store.collection::<String>("kv");
    kv.put("k", &"v".to_string()).await.unwrap();
    let status = one.store.status();
    assert_eq!(status.voters(), vec![MemberId(1), MemberId(2)]);
    // Cleared by the next successful call (a heartbeat at the latest).
    let cleared = tokio::time::timeout(PATIENCE, async {
        loop {
            let status = one.store.status();
            let two = status.members.iter().find(|m| m.id == MemberId(2)).unwrap();
            if two.last_error.is_none() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(cleared.is_ok(), "{:#?}", one.store.status());
}

/// Item 5: a peer could announce a 16 MiB frame and never send it, and nothing timed out.
/// Now the rest of a frame must arrive within `frame_read_timeout` of its first byte.
#[tokio::test]
async fn item_5_a_frame_announced_and_never_sent_is_cut_off() {
    let ca = TestCa::new("test ca");
    let frame_read_timeout = Duration::from_millis(300);
    let server = server_with(
        &ca,
        common_name_identifier(),
        TcpConfig {
            frame_read_timeout,
            ..TcpConfig::default()
        },
    )
    .await;
    let mut tls = raw_tls(&ca, CLIENT, server.local_addr()).await;
    // 16 MiB announced, 3 bytes sent.
    tls.write_all(&[0x01, 0x00, 0x00, 0x00, 1, 0, 7])
        .await
        .unwrap();
    tls.flush().await.unwrap();
    let took = closed_by_server(&mut tls).await;
    assert!(took >= frame_read_timeout / 2, "closed after {took:?}");
    // A header cut short is a frame begun too.
    let mut tls = raw_tls(&ca, CLIENT, server.local_addr()).await;
    tls.write_all(&[0x00, 0x00]).await.unwrap();
    tls.flush().await.unwrap();
    closed_by_server(&mut tls).await;
    // The members' own traffic is unaffected.
    let client = client_with(&ca, common_name_identifier(), server.local_addr());
    assert_eq!(client.call(SERVER, b("fine")).await.unwrap(), "1:fine");
}

/// Item 5: a connection with no frame either way and nothing in flight is closed after
/// `idle_timeout`; one whose request is still being handled is not.
#[tokio::test]
async fn item_5_an_idle_connection_is_closed_and_a_busy_one_is_not() {
    let ca = TestCa::new("test ca");
    let idle_timeout = Duration::from_millis(300);
    let server = server_with(
        &ca,
        common_name_identifier(),
        TcpConfig {
            idle_timeout,
            ..TcpConfig::default()
        },
    )
    .await;
    let mut silent = raw_tls(&ca, CLIENT, server.local_addr()).await;
    let took = closed_by_server(&mut silent).await;
    assert!(took >= idle_timeout / 2, "closed after {took:?}");
    let client = client_with(&ca, common_name_identifier(), server.local_addr());
    assert_eq!(
        client.call(SERVER, b("sleep:900")).await.unwrap(),
        "1:sleep:900",
        "a connection with a request in flight is not idle"
    );
    // Closed once idle; the next call reconnects.
    tokio::time::sleep(idle_timeout * 3).await;
    assert_eq!(server.connections_of(CLIENT), 0);
    assert_eq!(client.call(SERVER, b("later")).await.unwrap(), "1:later");
}

/// Item 5: one member holds at most `MAX_CONNECTIONS_PER_PEER` connections; a newer one
/// closes its oldest.
#[tokio::test]
async fn item_5_one_member_holds_at_most_the_per_peer_connection_limit() {
    let ca = TestCa::new("test ca");
    let server = server_with(&ca, common_name_identifier(), TcpConfig::default()).await;
    let mut connections = Vec::new();
    for _ in 0..MAX_CONNECTIONS_PER_PEER + 2 {
        let mut tls = raw_tls(&ca, CLIENT, server.local_addr()).await;
        // A request, so the connection is authenticated and registered before the next.
        let frame = [0, 0, 0, 8, 1, 0, 5, b'h', b'e', b'l', b'l', b'o'];
        tls.write_all(&frame).await.unwrap();
        tls.flush().await.unwrap();
        let mut answer = [0u8; 4];
        tls.read_exact(&mut answer).await.unwrap();
        connections.push(tls);
    }
    assert_eq!(server.connections_of(CLIENT), MAX_CONNECTIONS_PER_PEER);
    closed_by_server(&mut connections[0]).await;
    closed_by_server(&mut connections[1]).await;
    // Another member is not affected by this one's connections.
    let mut other = raw_tls(&ca, MemberId(7), server.local_addr()).await;
    other
        .write_all(&[0, 0, 0, 8, 1, 0, 5, b'h', b'e', b'l', b'l', b'o'])
        .await
        .unwrap();
    let mut answer = [0u8; 4];
    other.read_exact(&mut answer).await.unwrap();
    assert_eq!(server.connections_of(MemberId(7)), 1);
}

/// Item 5: requests read and not yet answered on one connection hold at most
/// `MAX_BUFFERED_REQUEST_BYTES_PER_CONNECTION` bytes; the server stops reading beyond it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_5_buffered_request_bytes_per_connection_are_bounded() {
    let ca = TestCa::new("test ca");
    let handler = Handler::default();
    let server = TcpServer::bind(
        any_port(),
        ca.server_config(SERVER),
        common_name_identifier(),
        TcpConfig::default(),
        handler.clone(),
    )
    .await
    .unwrap();
    let client = Arc::new(client_with(
        &ca,
        common_name_identifier(),
        server.local_addr(),
    ));
    let request_bytes = 12 * 1024 * 1024;
    let fit = MAX_BUFFERED_REQUEST_BYTES_PER_CONNECTION / (request_bytes + 64);
    let mut calls = Vec::new();
    for _ in 0..fit + 2 {
        let client = client.clone();
        let mut body = b"hold".to_vec();
        body.resize(request_bytes, 0);
        calls.push(tokio::spawn(async move {
            client
                .call_with_timeout(SERVER, Bytes::from(body), Duration::from_secs(30))
                .await
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        handler.held.load(Ordering::SeqCst),
        fit,
        "the server read past its buffer budget"
    );
    for call in calls {
        call.abort();
    }
}

/// Item 6: node ids are lowercase and TLS names ignore case, so a node id with upper case is
/// refused wherever the store takes one: in the member names, in a peer address, and in a
/// certificate (a `Node-1` certificate is not node `node-1`, nor a new member).
#[tokio::test]
async fn item_6_upper_case_node_ids_are_refused_everywhere() {
    let names = MemberNames::new();
    assert!(names.insert(CLIENT, "Node-1").is_err());
    assert!(names.insert(CLIENT, "swarm-manager").is_err());
    names.insert(CLIENT, "node-1").unwrap();
    let addr = any_port();
    assert!(PeerAddress::new(addr, "Node-1").is_err());
    assert!(PeerAddress::new(addr, "node-1").is_ok());

    let ca = TestCa::new("test ca");
    let identify = manager_identifier(names.clone());
    let (upper, _) = ca.node_identity("Node-1", MANAGER_ROLE_OU);
    let e = identify(&upper[0]).unwrap_err();
    assert!(e.reason.contains("upper case"), "{e}");
    let (lower, _) = ca.node_identity("node-1", MANAGER_ROLE_OU);
    assert_eq!(identify(&lower[0]), Ok(CLIENT));

    // Over TLS: the server knows node-1 and refuses a client presenting `Node-1`, saying why.
    let server_names = MemberNames::new();
    server_names.insert(CLIENT, "node-1").unwrap();
    server_names.insert(SERVER, "node-2").unwrap();
    let server = TcpServer::bind(
        any_port(),
        ca.server_config_for(ca.node_identity("node-2", MANAGER_ROLE_OU)),
        manager_identifier(server_names.clone()),
        TcpConfig::default(),
        Handler::default(),
    )
    .await
    .unwrap();
    let client = TcpTransport::new(
        CLIENT,
        ca.client_config_for(ca.node_identity("Node-1", MANAGER_ROLE_OU), &ca),
        manager_identifier(server_names.clone()),
        TcpConfig::default(),
    );
    client.set_peer(
        SERVER,
        PeerAddress::new(server.local_addr(), "node-2").unwrap(),
    );
    let err = client.call(SERVER, b("x")).await.unwrap_err();
    assert!(
        matches!(&err, TransportError::Auth { detail, .. } if detail.contains("upper case")),
        "{err:?}"
    );
    // The same member with its real certificate gets in.
    let client = TcpTransport::new(
        CLIENT,
        ca.client_config_for(ca.node_identity("node-1", MANAGER_ROLE_OU), &ca),
        manager_identifier(server_names),
        TcpConfig::default(),
    );
    client.set_peer(
        SERVER,
        PeerAddress::new(server.local_addr(), "node-2").unwrap(),
    );
    assert_eq!(client.call(SERVER, b("x")).await.unwrap(), "1:x");
}
