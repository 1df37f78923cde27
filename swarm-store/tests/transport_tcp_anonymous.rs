//! Clients without a certificate (a node that is joining) on the same TCP server as the
//! members, on 127.0.0.1 with real TLS: served as `TcpConfig::anonymous_peer` only when it is
//! set, under their own frame and connection limits.

#![allow(clippy::unwrap_used)] // setup failures fail the test loudly

use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use swarm_store::testkit::{TestCa, common_name_identifier};
use swarm_store::transport::tcp::{
    MAX_ANONYMOUS_CONNECTIONS, MAX_ANONYMOUS_FRAME_BYTES, PeerAddress, TcpConfig, TcpServer,
    TcpTransport,
};
use swarm_store::transport::{MemberId, RpcHandler, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MEMBER: MemberId = MemberId(1);
const SERVER: MemberId = MemberId(2);
/// The id the server gives clients without a certificate; no member has it.
const ANONYMOUS: MemberId = MemberId(999);
/// How long a test waits for something that should happen at once.
const PATIENCE: Duration = Duration::from_secs(10);

/// Answers `"<from>:<length of the request>"`, counting calls.
#[derive(Clone, Default)]
struct Handler {
    calls: Arc<AtomicUsize>,
}

impl RpcHandler for Handler {
    async fn handle(&self, from: MemberId, request: Bytes) -> Result<Bytes, String> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(Bytes::from(format!("{}:{}", from.0, request.len())))
    }
}

/// A server whose TLS makes client certificates optional, serving anonymous clients as
/// `anonymous_peer`.
async fn server(ca: &TestCa, anonymous_peer: Option<MemberId>, handler: Handler) -> TcpServer {
    TcpServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        ca.server_config_accepting_anonymous(SERVER),
        common_name_identifier(),
        TcpConfig {
            anonymous_peer,
            ..TcpConfig::default()
        },
        handler,
    )
    .await
    .unwrap()
}

/// A transport calling the server with `config` (with or without a client certificate).
fn transport(config: Arc<rustls::ClientConfig>, server: SocketAddr) -> TcpTransport {
    let transport = TcpTransport::new(
        MEMBER,
        config,
        common_name_identifier(),
        TcpConfig::default(),
    );
    transport.set_peer(SERVER, PeerAddress::with_ip(server));
    transport
}

/// A raw TLS connection presenting no certificate.
async fn raw_anonymous(
    ca: &TestCa,
    server: SocketAddr,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let connector = tokio_rustls::TlsConnector::from(ca.anonymous_client_config());
    let tcp = TcpStream::connect(server).await.unwrap();
    connector
        .connect(
            rustls_pki_types::ServerName::IpAddress(server.ip().into()),
            tcp,
        )
        .await
        .unwrap()
}

/// Sends one request (id 1, body `hello`) and reads the response frame's length: the
/// connection is served (and registered) once this returns.
async fn request_answered<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(tls: &mut S) {
    let frame = [0, 0, 0, 8, 1, 0, 5, b'h', b'e', b'l', b'l', b'o'];
    tls.write_all(&frame).await.unwrap();
    tls.flush().await.unwrap();
    let mut header = [0u8; 4];
    tokio::time::timeout(PATIENCE, tls.read_exact(&mut header))
        .await
        .unwrap()
        .unwrap();
    let mut body = vec![0u8; u32::from_be_bytes(header) as usize];
    tls.read_exact(&mut body).await.unwrap();
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
    assert!(closed.is_ok(), "the server kept the connection open");
}

#[tokio::test]
async fn an_anonymous_client_is_served_as_the_configured_id_beside_members() {
    let ca = TestCa::new("test ca");
    let server = server(&ca, Some(ANONYMOUS), Handler::default()).await;
    let addr = server.local_addr();

    let anonymous = transport(ca.anonymous_client_config(), addr);
    let answer = anonymous.call(SERVER, Bytes::from_static(b"join")).await;
    assert_eq!(answer.unwrap(), "999:4");
    assert_eq!(server.connections_of(ANONYMOUS), 1);

    // A member on the same server is still identified by its certificate.
    let member = transport(ca.client_config(MEMBER), addr);
    let answer = member.call(SERVER, Bytes::from_static(b"raft")).await;
    assert_eq!(answer.unwrap(), "1:4");
    assert_eq!(server.connections_of(MEMBER), 1);
    assert_eq!(server.connections_of(ANONYMOUS), 1);
}

#[tokio::test]
async fn without_the_option_an_anonymous_client_is_refused() {
    let ca = TestCa::new("test ca");
    let handler = Handler::default();
    let server = server(&ca, None, handler.clone()).await;
    let addr = server.local_addr();

    let mut raw = raw_anonymous(&ca, addr).await;
    raw.write_all(&[0, 0, 0, 8, 1, 0, 5, b'h', b'e', b'l', b'l', b'o'])
        .await
        .unwrap();
    raw.flush().await.unwrap();
    assert_closed_by_server(&mut raw).await;
    let anonymous = transport(ca.anonymous_client_config(), addr);
    assert!(
        anonymous
            .call(SERVER, Bytes::from_static(b"join"))
            .await
            .is_err()
    );
    assert_eq!(handler.calls.load(Ordering::SeqCst), 0);

    // Members are served as before.
    let member = transport(ca.client_config(MEMBER), addr);
    let answer = member.call(SERVER, Bytes::from_static(b"raft")).await;
    assert_eq!(answer.unwrap(), "1:4");
}

#[tokio::test]
async fn a_member_certificate_naming_the_anonymous_id_is_refused() {
    let ca = TestCa::new("test ca");
    let handler = Handler::default();
    let server = server(&ca, Some(ANONYMOUS), handler.clone()).await;
    let impostor = transport(ca.client_config(ANONYMOUS), server.local_addr());
    assert!(
        impostor
            .call(SERVER, Bytes::from_static(b"join"))
            .await
            .is_err()
    );
    assert_eq!(handler.calls.load(Ordering::SeqCst), 0);
    assert_eq!(server.connections_of(ANONYMOUS), 0);
}

#[tokio::test]
async fn an_anonymous_frame_above_its_limit_cuts_only_that_connection() {
    let ca = TestCa::new("test ca");
    let handler = Handler::default();
    let server = server(&ca, Some(ANONYMOUS), handler.clone()).await;
    let addr = server.local_addr();
    let other_anonymous = transport(ca.anonymous_client_config(), addr);
    assert!(other_anonymous.call(SERVER, Bytes::new()).await.is_ok());

    // A frame announced one byte above the anonymous limit (far below MAX_FRAME_BYTES).
    let mut raw = raw_anonymous(&ca, addr).await;
    request_answered(&mut raw).await;
    let len = u32::try_from(MAX_ANONYMOUS_FRAME_BYTES + 1).unwrap();
    raw.write_all(&len.to_be_bytes()).await.unwrap();
    raw.write_all(&[1, 0]).await.unwrap();
    raw.flush().await.unwrap();
    assert_closed_by_server(&mut raw).await;

    // The other anonymous connection is still served, and a member may send larger frames.
    assert_eq!(
        other_anonymous.call(SERVER, Bytes::new()).await.unwrap(),
        "999:0"
    );
    assert_eq!(server.connections_of(ANONYMOUS), 1);
    let member = transport(ca.client_config(MEMBER), addr);
    let large = Bytes::from(vec![7u8; 2 * MAX_ANONYMOUS_FRAME_BYTES]);
    assert_eq!(
        member.call(SERVER, large).await.unwrap(),
        format!("1:{}", 2 * MAX_ANONYMOUS_FRAME_BYTES)
    );
}

#[tokio::test]
async fn a_new_anonymous_connection_beyond_the_limit_closes_the_oldest() {
    let ca = TestCa::new("test ca");
    let server = server(&ca, Some(ANONYMOUS), Handler::default()).await;
    let addr = server.local_addr();
    let member = transport(ca.client_config(MEMBER), addr);
    assert!(member.call(SERVER, Bytes::new()).await.is_ok());

    let mut connections = Vec::new();
    for _ in 0..MAX_ANONYMOUS_CONNECTIONS + 1 {
        let mut tls = raw_anonymous(&ca, addr).await;
        request_answered(&mut tls).await;
        connections.push(tls);
    }
    assert_eq!(server.connections_of(ANONYMOUS), MAX_ANONYMOUS_CONNECTIONS);
    assert_closed_by_server(&mut connections[0]).await;
    // The others, the newest included, are still served.
    request_answered(&mut connections[1]).await;
    request_answered(&mut connections[MAX_ANONYMOUS_CONNECTIONS]).await;
    // Members do not share the anonymous limit.
    assert_eq!(server.connections_of(MEMBER), 1);
    assert_eq!(member.call(SERVER, Bytes::new()).await.unwrap(), "1:0");
}
