//! The TCP transport on 127.0.0.1 with real mutual TLS (rustls, ring), certificates made by the
//! testkit's CA (CN = member id).

#![allow(clippy::unwrap_used)] // test helpers fail loudly on setup errors

use bytes::Bytes;
use futures::future::join_all;
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use swarm_store::testkit::transport_conformance::{
    SuiteHandler, TransportHarness, run_transport_suite,
};
use swarm_store::testkit::{TestCa, common_name_identifier, member_id_from_common_name};
use swarm_store::transport::tcp::{
    MAX_SERVER_CONNECTIONS, PeerAddress, TcpConfig, TcpServer, TcpTransport,
};
use swarm_store::transport::{MAX_FRAME_BYTES, MemberId, RpcHandler, Transport, TransportError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const CLIENT: MemberId = MemberId(1);
const SERVER: MemberId = MemberId(2);
/// How long a test waits for something that should happen at once.
const PATIENCE: Duration = Duration::from_secs(10);

/// Answers `"<from>:<request>"`, fails on `"fail"`, sleeps on `"sleep:<ms>"`, answers too big
/// on `"huge"`; tracks concurrency.
#[derive(Clone, Default)]
struct Handler {
    calls: Arc<AtomicUsize>,
    running: Arc<AtomicUsize>,
    max_running: Arc<AtomicUsize>,
}

impl RpcHandler for Handler {
    async fn handle(&self, from: MemberId, request: Bytes) -> Result<Bytes, String> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(now, Ordering::SeqCst);
        let text = String::from_utf8_lossy(&request).into_owned();
        let result = if text == "fail" {
            Err("asked to fail".to_owned())
        } else if text == "huge" {
            Ok(Bytes::from(vec![7u8; MAX_FRAME_BYTES]))
        } else {
            if let Some(ms) = text.strip_prefix("sleep:") {
                let ms: u64 = ms.split(':').next().unwrap().parse().unwrap();
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            Ok(Bytes::from(format!("{}:{text}", from.0)))
        };
        self.running.fetch_sub(1, Ordering::SeqCst);
        result
    }
}

async fn start_server(ca: &TestCa, addr: SocketAddr, handler: Handler) -> TcpServer {
    TcpServer::bind(
        addr,
        ca.server_config(SERVER),
        common_name_identifier(),
        TcpConfig::default(),
        handler,
    )
    .await
    .unwrap()
}

fn client_for(ca: &TestCa, server: SocketAddr) -> TcpTransport {
    client_with(ca.client_config(CLIENT), server)
}

fn client_with(config: Arc<ClientConfig>, server: SocketAddr) -> TcpTransport {
    let client = TcpTransport::new(
        CLIENT,
        config,
        common_name_identifier(),
        TcpConfig::default(),
    );
    client.set_peer(SERVER, PeerAddress::with_ip(server));
    client
}

fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn b(s: &str) -> Bytes {
    Bytes::from(s.to_owned())
}

/// Reads until the server closes the connection; fails the test if it stays open.
async fn assert_closed_by_server<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) {
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
    assert!(
        closed.is_ok(),
        "the server kept a misbehaving connection open"
    );
}

#[test]
fn member_id_is_read_from_the_common_name() {
    let ca = TestCa::new("test ca");
    let (chain, _) = ca.identity(MemberId(42));
    assert_eq!(member_id_from_common_name(&chain[0]), Some(MemberId(42)));
    assert_eq!(member_id_from_common_name(ca.certificate()), None);
}

#[tokio::test]
async fn round_trip_with_mutual_tls() {
    let ca = TestCa::new("test ca");
    let handler = Handler::default();
    let server = start_server(&ca, any_port(), handler.clone()).await;
    let client = client_for(&ca, server.local_addr());
    assert_eq!(client.call(SERVER, b("hello")).await.unwrap(), "1:hello");
    // Handler errors come back as Remote.
    let err = client.call(SERVER, b("fail")).await.unwrap_err();
    assert!(
        matches!(&err, TransportError::Remote { detail, .. } if detail == "asked to fail"),
        "{err:?}"
    );
    // Unknown members have no address.
    assert!(matches!(
        client.call(MemberId(9), b("x")).await,
        Err(TransportError::UnknownPeer(MemberId(9)))
    ));
    // Per-call timeout.
    let err = client
        .call_with_timeout(SERVER, b("sleep:2000"), Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::Timeout(SERVER)), "{err:?}");
    // The connection is still good afterwards.
    assert_eq!(client.call(SERVER, b("after")).await.unwrap(), "1:after");
    assert_eq!(handler.calls.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn a_thousand_concurrent_calls_are_pipelined_and_matched() {
    let ca = TestCa::new("test ca");
    let handler = Handler::default();
    let server = start_server(&ca, any_port(), handler.clone()).await;
    let client = client_for(&ca, server.local_addr());
    let calls = (0..1000).map(|i| {
        let client = &client;
        async move {
            let reply = client
                .call(SERVER, Bytes::from(format!("sleep:{}:{i}", i % 7)))
                .await
                .unwrap();
            assert_eq!(reply, format!("1:sleep:{}:{i}", i % 7));
        }
    });
    join_all(calls).await;
    assert_eq!(handler.calls.load(Ordering::SeqCst), 1000);
    assert!(
        handler.max_running.load(Ordering::SeqCst) > 1,
        "calls were not pipelined"
    );
}

#[tokio::test]
async fn oversized_frames_are_refused_both_ways() {
    let ca = TestCa::new("test ca");
    let handler = Handler::default();
    let server = start_server(&ca, any_port(), handler.clone()).await;
    let client = client_for(&ca, server.local_addr());
    let err = client
        .call(SERVER, Bytes::from(vec![0u8; MAX_FRAME_BYTES]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TransportError::FrameTooLarge { peer: SERVER, bytes, limit: MAX_FRAME_BYTES } if bytes > MAX_FRAME_BYTES),
        "{err:?}"
    );
    assert_eq!(handler.calls.load(Ordering::SeqCst), 0, "sent anyway");
    let err = client.call(SERVER, b("huge")).await.unwrap_err();
    assert!(
        matches!(err, TransportError::FrameTooLarge { peer: SERVER, bytes, .. } if bytes > MAX_FRAME_BYTES),
        "{err:?}"
    );
    assert_eq!(client.call(SERVER, b("fine")).await.unwrap(), "1:fine");
}

#[tokio::test]
async fn garbage_closes_only_the_guilty_connection() {
    let ca = TestCa::new("test ca");
    let handler = Handler::default();
    let server = start_server(&ca, any_port(), handler.clone()).await;
    let addr = server.local_addr();
    let client = client_for(&ca, addr);
    assert!(client.call(SERVER, b("before")).await.is_ok());

    // Plain bytes where a TLS handshake should be.
    let mut raw = TcpStream::connect(addr).await.unwrap();
    raw.write_all(b"GET / HTTP/1.1\r\n\r\n\x00\xff\xfe garbage")
        .await
        .unwrap();
    assert_closed_by_server(&mut raw).await;
    assert!(client.call(SERVER, b("during-1")).await.is_ok());

    let connector = tokio_rustls::TlsConnector::from(ca.client_config(MemberId(5)));
    let server_name = ServerName::IpAddress(addr.ip().into());
    let garbage: [&[u8]; 3] = [
        // A length prefix far beyond MAX_FRAME_BYTES.
        &[0xff, 0xff, 0xff, 0xff, 1, 2, 3],
        // A well-formed frame holding an undecodable envelope (kind 9 does not exist).
        &[0, 0, 0, 4, 1, 9, 0, 0],
        // A response where a request belongs.
        &[0, 0, 0, 3, 1, 1, 0],
    ];
    for bytes in garbage {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut tls = connector.connect(server_name.clone(), tcp).await.unwrap();
        tls.write_all(bytes).await.unwrap();
        tls.flush().await.unwrap();
        assert_closed_by_server(&mut tls).await;
        assert!(client.call(SERVER, b("during-2")).await.is_ok());
    }
    assert_eq!(handler.calls.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn a_server_sending_garbage_is_cut_off_by_the_client() {
    let ca = TestCa::new("test ca");
    let listener = TcpListener::bind(any_port()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(ca.server_config(SERVER));
    let evil = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = acceptor.accept(tcp).await.unwrap();
        let mut buf = [0u8; 64];
        let _ = tls.read(&mut buf).await;
        tls.write_all(&[0, 0, 0, 2, 0xff, 0xff]).await.unwrap();
        tls.flush().await.unwrap();
        // Hold the connection open: the client must close it itself.
        assert_closed_by_server(&mut tls).await;
    });
    let client = client_for(&ca, addr);
    let err = client.call(SERVER, b("x")).await.unwrap_err();
    assert!(
        matches!(&err, TransportError::Unreachable { detail, .. } if detail.contains("protocol")),
        "{err:?}"
    );
    tokio::time::timeout(PATIENCE, evil)
        .await
        .expect("client kept the connection open")
        .unwrap();
}

#[tokio::test]
async fn a_client_certificate_from_another_ca_is_refused() {
    let ca = TestCa::new("test ca");
    let other = TestCa::new("other ca");
    let handler = Handler::default();
    let server = start_server(&ca, any_port(), handler.clone()).await;
    // Trusts the right CA but presents a certificate issued by another.
    let intruder = client_with(
        other.client_config_trusting(CLIENT, &ca),
        server.local_addr(),
    );
    let err = intruder.call(SERVER, b("x")).await.unwrap_err();
    assert!(
        matches!(
            err,
            TransportError::Auth { .. } | TransportError::Unreachable { .. }
        ),
        "{err:?}"
    );
    assert_eq!(handler.calls.load(Ordering::SeqCst), 0);
    // The server is fine for legitimate clients.
    let client = client_for(&ca, server.local_addr());
    assert!(client.call(SERVER, b("x")).await.is_ok());
}

#[tokio::test]
async fn a_server_of_another_ca_or_member_is_refused() {
    let ca = TestCa::new("test ca");
    let other = TestCa::new("other ca");
    let server = start_server(&other, any_port(), Handler::default()).await;
    let client = client_with(ca.client_config(CLIENT), server.local_addr());
    let err = client.call(SERVER, b("x")).await.unwrap_err();
    assert!(matches!(err, TransportError::Auth { .. }), "{err:?}");

    // Right CA, wrong member: the address of member 2 registered for member 3.
    let server = start_server(&ca, any_port(), Handler::default()).await;
    let client = client_for(&ca, server.local_addr());
    client.set_peer(MemberId(3), PeerAddress::with_ip(server.local_addr()));
    let err = client.call(MemberId(3), b("x")).await.unwrap_err();
    assert!(
        matches!(&err, TransportError::Auth { detail, .. } if detail.contains("member-2")),
        "{err:?}"
    );
    assert!(client.call(SERVER, b("x")).await.is_ok());
}

#[tokio::test]
async fn reconnects_after_the_server_restarts() {
    let ca = TestCa::new("test ca");
    let handler = Handler::default();
    let server = start_server(&ca, any_port(), handler.clone()).await;
    let addr = server.local_addr();
    let client = client_for(&ca, addr);
    assert!(client.call(SERVER, b("one")).await.is_ok());

    server.shutdown().await;
    let err = client.call(SERVER, b("down")).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");

    let _server = start_server(&ca, addr, handler.clone()).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match client.call(SERVER, b("two")).await {
            Ok(reply) => {
                assert_eq!(reply, "1:two");
                break;
            }
            Err(err) => {
                assert!(err.is_retryable(), "{err:?}");
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "never reconnected: {err}"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

#[tokio::test]
async fn changing_a_peer_address_moves_the_connection() {
    let ca = TestCa::new("test ca");
    let first = Handler::default();
    let second = Handler::default();
    let server_a = start_server(&ca, any_port(), first.clone()).await;
    let server_b = start_server(&ca, any_port(), second.clone()).await;
    let client = client_for(&ca, server_a.local_addr());
    assert!(client.call(SERVER, b("x")).await.is_ok());
    client.set_peer(SERVER, PeerAddress::with_ip(server_b.local_addr()));
    assert!(client.call(SERVER, b("x")).await.is_ok());
    assert_eq!(first.calls.load(Ordering::SeqCst), 1);
    assert_eq!(second.calls.load(Ordering::SeqCst), 1);
    client.remove_peer(SERVER);
    assert!(matches!(
        client.call(SERVER, b("x")).await,
        Err(TransportError::UnknownPeer(SERVER))
    ));
}

/// Serves members over TCP with mutual TLS; restarted members keep their address.
struct TcpHarness {
    ca: TestCa,
    servers: std::collections::HashMap<MemberId, TcpServer>,
    addresses: std::collections::HashMap<MemberId, SocketAddr>,
    transports: Vec<Arc<TcpTransport>>,
}

impl TransportHarness for TcpHarness {
    type Transport = Arc<TcpTransport>;
    async fn serve(&mut self, member: MemberId, handler: SuiteHandler) {
        let addr = self
            .addresses
            .get(&member)
            .copied()
            .unwrap_or_else(any_port);
        let server = TcpServer::bind(
            addr,
            self.ca.server_config(member),
            common_name_identifier(),
            TcpConfig::default(),
            handler,
        )
        .await
        .unwrap();
        self.addresses.insert(member, server.local_addr());
        for t in &self.transports {
            t.set_peer(member, PeerAddress::with_ip(server.local_addr()));
        }
        self.servers.insert(member, server);
    }
    async fn stop(&mut self, member: MemberId) {
        if let Some(server) = self.servers.remove(&member) {
            server.shutdown().await;
        }
    }
    async fn transport(&mut self, member: MemberId) -> Arc<TcpTransport> {
        let t = Arc::new(TcpTransport::new(
            member,
            self.ca.client_config(member),
            common_name_identifier(),
            TcpConfig::default(),
        ));
        for (m, addr) in &self.addresses {
            t.set_peer(*m, PeerAddress::with_ip(*addr));
        }
        self.transports.push(t.clone());
        t
    }
}

#[tokio::test]
async fn passes_the_transport_conformance_suite() {
    run_transport_suite(TcpHarness {
        ca: TestCa::new("suite ca"),
        servers: Default::default(),
        addresses: Default::default(),
        transports: Vec::new(),
    })
    .await;
}

/// A server (echo handler, default limits) that gives each TLS handshake `handshake_timeout`.
async fn server_with_handshake_timeout(ca: &TestCa, handshake_timeout: Duration) -> TcpServer {
    TcpServer::bind(
        any_port(),
        ca.server_config(SERVER),
        common_name_identifier(),
        TcpConfig {
            handshake_timeout,
            ..TcpConfig::default()
        },
        Handler::default(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_silent_client_is_cut_off_after_the_handshake_timeout() {
    let ca = TestCa::new("test ca");
    let server = server_with_handshake_timeout(&ca, Duration::from_millis(200)).await;
    // Connects and says nothing: the server must not wait forever.
    let mut silent = TcpStream::connect(server.local_addr()).await.unwrap();
    assert_closed_by_server(&mut silent).await;
    let client = client_for(&ca, server.local_addr());
    assert!(client.call(SERVER, b("x")).await.is_ok());
}

#[tokio::test]
async fn a_silent_server_connection_is_abandoned_after_timeouts() {
    let ca = TestCa::new("test ca");
    let listener = TcpListener::bind(any_port()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(ca.server_config(SERVER));
    // Completes the handshake, swallows every request, never answers.
    let black_hole = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = acceptor.accept(tcp).await.unwrap();
        assert_closed_by_server(&mut tls).await;
    });
    let client = TcpTransport::new(
        CLIENT,
        ca.client_config(CLIENT),
        common_name_identifier(),
        TcpConfig {
            call_timeout: Duration::from_millis(150),
            ..TcpConfig::default()
        },
    );
    client.set_peer(SERVER, PeerAddress::with_ip(addr));
    let err = client.call(SERVER, b("anyone?")).await.unwrap_err();
    assert!(matches!(err, TransportError::Timeout(SERVER)), "{err:?}");
    // Until the reconnection backoff passes, calls fail at once, saying why.
    let err = client.call(SERVER, b("anyone?")).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    // The client gave up on the connection: the black hole sees it closed.
    tokio::time::timeout(PATIENCE, black_hole)
        .await
        .expect("the client kept a dead connection open")
        .unwrap();
}

/// More half-open connections than the server's whole connection limit connect and never
/// start their TLS handshake, and stay open (the handshake timeout is long). Before, they used
/// up `MAX_SERVER_CONNECTIONS` and a member's connection was refused until they timed out; now
/// pending handshakes have their own small limit (the oldest is evicted), so the member gets in
/// while the flood is held.
#[tokio::test]
async fn a_member_gets_in_while_a_flood_of_half_open_connections_is_held() {
    let ca = TestCa::new("test ca");
    let server = server_with_handshake_timeout(&ca, Duration::from_secs(120)).await;
    let flood_size = MAX_SERVER_CONNECTIONS + 64;
    let mut flood = Vec::with_capacity(flood_size);
    for _ in 0..flood_size {
        flood.push(TcpStream::connect(server.local_addr()).await.unwrap());
    }
    // Let the server accept the whole flood before the member connects.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let client = client_for(&ca, server.local_addr());
    let answer = tokio::time::timeout(PATIENCE, async {
        loop {
            match client.call(SERVER, b("hello")).await {
                Ok(answer) => return answer,
                Err(e) if e.is_retryable() => tokio::time::sleep(Duration::from_millis(50)).await,
                Err(e) => panic!("{e:?}"),
            }
        }
    })
    .await
    .expect("the member got in while the flood was held");
    assert_eq!(answer, b("1:hello"));
    // The flood is still connected from its side; the server closed all but the newest
    // pending handshakes. A second member connection gets in too.
    let again = client_for(&ca, server.local_addr());
    assert_eq!(again.call(SERVER, b("again")).await.unwrap(), b("1:again"));
    drop(flood);
}
