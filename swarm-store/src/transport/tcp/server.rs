//! The serving side: accepts TLS connections and hands requests to an [`RpcHandler`].

use super::REFUSAL_REQUEST_ID;
use super::config::{
    ConnectionLimits, MAX_ANONYMOUS_CONNECTIONS, MAX_BUFFERED_REQUEST_BYTES,
    MAX_CONNECTIONS_PER_PEER, MAX_SERVER_CONNECTIONS, TcpConfig, codec,
};
use super::envelope::{self, Kind};
use super::identity::PeerIdentifier;
use super::live_connections::LiveConnections;
use super::server_connection::{ConnectionContext, serve_connection};
use crate::transport::handler::SharedHandler;
use crate::transport::{MemberId, RpcHandler};
use futures::SinkExt;
use rustls::ServerConfig;
use rustls_pki_types::CertificateDer;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;
use tokio_util::codec::FramedWrite;
use tokio_util::sync::CancellationToken;

/// What every connection of a server shares.
struct ServerShared {
    local_addr: SocketAddr,
    identify: PeerIdentifier,
    config: TcpConfig,
    handler: SharedHandler,
    live: Arc<LiveConnections>,
    /// [`MAX_BUFFERED_REQUEST_BYTES`] of request frames over all connections.
    budget: Arc<Semaphore>,
}

/// The most connections in the TLS handshake (accepted, not yet authenticated) at once; a new
/// one beyond it evicts the oldest (see [`TcpServer`]).
pub(crate) const MAX_PENDING_HANDSHAKES: usize = 64;

/// The connections still in their handshake, oldest first, so the oldest can be evicted.
#[derive(Default)]
struct PendingHandshakes {
    next_seq: u64,
    /// Cancels a connection's handshake; it has no effect once the handshake is over.
    tasks: BTreeMap<u64, CancellationToken>,
}

/// A connection's place among the pending handshakes; leaving it (or dropping it, when the
/// task ends or is aborted) frees the place.
struct HandshakeSlot {
    seq: u64,
    pending: Arc<Mutex<PendingHandshakes>>,
    /// Cancelled when the connection is evicted during its handshake.
    cancel: CancellationToken,
}

impl Drop for HandshakeSlot {
    fn drop(&mut self) {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .tasks
            .remove(&self.seq);
    }
}

/// What a new connection needs to be admitted: its handshake slot, then an authenticated
/// connection permit.
struct Admission {
    slot: HandshakeSlot,
    authenticated: Arc<Semaphore>,
}

/// Accepts mutually authenticated TLS connections and serves their requests with an
/// [`RpcHandler`].
///
/// - The client's certificate (verified by the caller's `ServerConfig`) is mapped to a member
///   id by the [`PeerIdentifier`]; a client it maps to no member is disconnected. That id is
///   the `from` the handler sees.
/// - A client that presents no certificate (possible only when the `ServerConfig` makes client
///   authentication optional) is disconnected, unless [`TcpConfig::anonymous_peer`] names the
///   id to serve it as: then its requests reach the handler from that id, which the handler
///   must allow only what an unauthenticated caller may do (e.g. a join request). Anonymous
///   clients hold at most [`MAX_ANONYMOUS_CONNECTIONS`] connections (a newer one closes the
///   oldest), apart from members' limits, send frames of at most
///   [`MAX_ANONYMOUS_FRAME_BYTES`](super::MAX_ANONYMOUS_FRAME_BYTES) (a larger one closes the
///   connection) and have smaller buffer and in-flight limits (see the table in
///   [`TcpConfig`]'s module). A client whose certificate the identifier maps to the anonymous
///   id is refused, so the handler never mistakes a member for an anonymous caller or back.
/// - A client the identifier refuses gets one `Failed` frame (request id 0) saying why, then
///   the connection closes.
/// - Every connection asks the identifier again about its peer's certificate every
///   [`TcpConfig::peer_recheck_interval`] (1 s by default) and at once after
///   [`recheck_peers`](Self::recheck_peers), and closes when it is refused: with an identifier
///   that consults a revocation list (or a names table a removed member leaves), a revoked
///   peer loses its open connections within that interval. [`disconnect`](Self::disconnect)
///   closes a member's connections at once.
/// - Requests on one connection are handled concurrently, up to
///   [`MAX_IN_FLIGHT_PER_CONNECTION`](super::MAX_IN_FLIGHT_PER_CONNECTION), and hold at most
///   [`MAX_BUFFERED_REQUEST_BYTES_PER_CONNECTION`](super::MAX_BUFFERED_REQUEST_BYTES_PER_CONNECTION)
///   bytes ([`MAX_BUFFERED_REQUEST_BYTES`] over all connections); beyond that the server stops
///   reading the connection until answers free room.
/// - A frame must arrive whole within [`TcpConfig::frame_read_timeout`] of its first byte, and
///   a connection with nothing in flight closes after [`TcpConfig::idle_timeout`] without a
///   frame; a member holds at most [`MAX_CONNECTIONS_PER_PEER`] connections (a newer one closes
///   its oldest). Each cut is logged with its reason.
/// - A client that sends a frame longer than
///   [`MAX_FRAME_BYTES`](crate::transport::MAX_FRAME_BYTES), an undecodable envelope or
///   anything but a request is disconnected; other connections are unaffected.
/// - Connections still in the TLS handshake (not yet authenticated) have their own limit,
///   `MAX_PENDING_HANDSHAKES` (64), and each gets [`TcpConfig::handshake_timeout`] to finish.
///   When the limit is reached, a new connection evicts the oldest pending handshake (which is
///   closed) rather than being refused, so a slow flood of half-open connections cannot lock
///   members out: a member's handshake completes in milliseconds, faster than such a flood
///   cycles through the whole pending set. A flood opening more than about
///   `MAX_PENDING_HANDSHAKES` connections per handshake time (thousands per second on a LAN)
///   can still evict members' handshakes; the defence against that is below this library
///   (firewalling the member port to known addresses). Eviction cancels only the handshake: a
///   connection that finished authenticating is never closed by it.
/// - At most [`MAX_SERVER_CONNECTIONS`] *authenticated* connections are served at once; one
///   authenticated beyond that is closed. Connections still in their handshake and anonymous
///   connections never count against it.
///
/// Dropping the server (or [`shutdown`](Self::shutdown)) stops accepting and closes every
/// connection.
pub struct TcpServer {
    local_addr: SocketAddr,
    accept: JoinHandle<()>,
    live: Arc<LiveConnections>,
}

impl std::fmt::Debug for TcpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpServer")
            .field("local_addr", &self.local_addr)
            .finish()
    }
}

impl TcpServer {
    /// Binds `addr` and serves `handler` there.
    pub async fn bind<H: RpcHandler>(
        addr: SocketAddr,
        server_config: Arc<ServerConfig>,
        identify: PeerIdentifier,
        config: TcpConfig,
        handler: H,
    ) -> std::io::Result<TcpServer> {
        let listener = TcpListener::bind(addr).await?;
        Self::serve(listener, server_config, identify, config, handler)
    }

    /// Serves `handler` on an already bound listener.
    pub fn serve<H: RpcHandler>(
        listener: TcpListener,
        server_config: Arc<ServerConfig>,
        identify: PeerIdentifier,
        config: TcpConfig,
        handler: H,
    ) -> std::io::Result<TcpServer> {
        let local_addr = listener.local_addr()?;
        let live = LiveConnections::new();
        let shared = Arc::new(ServerShared {
            local_addr,
            identify,
            config,
            handler: Arc::new(handler),
            live: live.clone(),
            budget: Arc::new(Semaphore::new(MAX_BUFFERED_REQUEST_BYTES)),
        });
        let accept = tokio::spawn(accept_loop(
            listener,
            TlsAcceptor::from(server_config),
            shared,
        ));
        Ok(TcpServer {
            local_addr,
            accept,
            live,
        })
    }

    /// Has every open connection ask the identifier about its peer's certificate again now,
    /// closing those it refuses: call it after a revocation (or after removing a member from
    /// the names) instead of waiting up to [`TcpConfig::peer_recheck_interval`].
    pub fn recheck_peers(&self) {
        self.live.recheck_all();
    }

    /// Closes every open connection of `member` now; returns how many. New connections are
    /// still accepted if the identifier accepts them: make it refuse the member first.
    pub fn disconnect(&self, member: MemberId) -> usize {
        self.live.disconnect(member)
    }

    /// How many connections `member` holds to this server (for the
    /// [`TcpConfig::anonymous_peer`] id: how many anonymous connections are served).
    pub fn connections_of(&self, member: MemberId) -> usize {
        self.live.count(member)
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, closes every connection and waits until the listener is released.
    pub async fn shutdown(self) {
        self.accept.abort();
        let accept = &mut { self }.accept;
        let _ = accept.await;
    }
}

impl Drop for TcpServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn accept_loop(listener: TcpListener, acceptor: TlsAcceptor, shared: Arc<ServerShared>) {
    // Owning the connections here means aborting this task closes them all.
    let mut connections = JoinSet::new();
    let pending = Arc::new(Mutex::new(PendingHandshakes::default()));
    let authenticated = Arc::new(Semaphore::new(MAX_SERVER_CONNECTIONS));
    loop {
        while connections.try_join_next().is_some() {}
        let (tcp, remote) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Usually out of file descriptors: wait a little instead of spinning.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        // Held while the task is spawned and registered, so its slot is in the map before the
        // task can leave it.
        let mut p = pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if p.tasks.len() >= MAX_PENDING_HANDSHAKES {
            if let Some((_, oldest)) = p.tasks.pop_first() {
                tracing::warn!(
                    %remote,
                    limit = MAX_PENDING_HANDSHAKES,
                    "too many pending TLS handshakes; closing the oldest"
                );
                // Cancels only a handshake still in progress: a connection that has just
                // authenticated (and is about to leave the map) is not touched.
                oldest.cancel();
            }
        }
        let seq = p.next_seq;
        p.next_seq += 1;
        let cancel = CancellationToken::new();
        let slot = HandshakeSlot {
            seq,
            pending: pending.clone(),
            cancel: cancel.clone(),
        };
        connections.spawn(accept_connection(
            tcp,
            remote,
            acceptor.clone(),
            shared.clone(),
            Admission {
                slot,
                authenticated: authenticated.clone(),
            },
        ));
        p.tasks.insert(seq, cancel);
    }
}

async fn accept_connection(
    tcp: TcpStream,
    remote: SocketAddr,
    acceptor: TlsAcceptor,
    shared: Arc<ServerShared>,
    admission: Admission,
) {
    let Admission {
        slot,
        authenticated,
    } = admission;
    let _ = tcp.set_nodelay(true);
    let handshake = tokio::time::timeout(shared.config.handshake_timeout, acceptor.accept(tcp));
    let outcome = tokio::select! {
        biased;
        () = slot.cancel.cancelled() => {
            tracing::warn!(%remote, "TLS handshake evicted by newer connections; closing");
            return;
        }
        outcome = handshake => outcome,
    };
    let tls = match outcome {
        Ok(Ok(tls)) => tls,
        Ok(Err(error)) => {
            tracing::warn!(%remote, %error, "TLS handshake failed; closing");
            return;
        }
        Err(_) => {
            tracing::warn!(%remote, "TLS handshake timed out; closing");
            return;
        }
    };
    drop(slot);
    let cert = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(|cert| cert.clone().into_owned());
    match cert {
        Some(cert) => serve_member(tls, remote, cert, &shared, &authenticated).await,
        None => serve_anonymous(tls, remote, &shared).await,
    }
}

/// Identifies a client by its certificate and serves it as that member.
async fn serve_member<S>(
    mut tls: S,
    remote: SocketAddr,
    cert: CertificateDer<'static>,
    shared: &ServerShared,
    authenticated: &Arc<Semaphore>,
) where
    S: AsyncRead + AsyncWrite + Send + Unpin,
{
    let identified = (shared.identify)(&cert).and_then(|peer| {
        if shared.config.anonymous_peer == Some(peer) {
            Err(super::PeerRefused::new(format!(
                "the certificate names {peer}, the id this server gives clients without a \
                 certificate"
            )))
        } else {
            Ok(peer)
        }
    });
    let peer = match identified {
        Ok(peer) => peer,
        Err(refused) => {
            tracing::warn!(%remote, reason = %refused, "client certificate refused; closing");
            // Tell the client why, so a misconfigured member names its problem.
            let detail = format!("refused by the server at {}: {refused}", shared.local_addr);
            if let Ok(frame) = envelope::encode(REFUSAL_REQUEST_ID, Kind::Failed, detail.as_bytes())
            {
                let mut writer = FramedWrite::new(&mut tls, codec());
                let _ =
                    tokio::time::timeout(shared.config.handshake_timeout, writer.send(frame)).await;
            }
            let _ = tokio::time::timeout(shared.config.handshake_timeout, tls.shutdown()).await;
            return;
        }
    };
    let _permit: OwnedSemaphorePermit = match authenticated.clone().try_acquire_owned() {
        Ok(permit) => permit,
        Err(_) => {
            tracing::warn!(
                %remote,
                %peer,
                limit = MAX_SERVER_CONNECTIONS,
                "too many authenticated connections; closing"
            );
            return;
        }
    };
    let (registration, evicted) = shared.live.register(peer, MAX_CONNECTIONS_PER_PEER);
    if evicted > 0 {
        tracing::warn!(
            %remote,
            %peer,
            limit = MAX_CONNECTIONS_PER_PEER,
            evicted,
            "too many connections from one member; closing its oldest"
        );
    }
    serve_connection(
        tls,
        ConnectionContext {
            remote,
            peer,
            cert: Some(cert),
            limits: ConnectionLimits::MEMBER,
            identify: shared.identify.clone(),
            config: shared.config.clone(),
            handler: shared.handler.clone(),
            registration,
            server_budget: shared.budget.clone(),
        },
    )
    .await;
}

/// Serves a client that presented no certificate as [`TcpConfig::anonymous_peer`], or closes
/// it when that is not set.
async fn serve_anonymous<S>(tls: S, remote: SocketAddr, shared: &ServerShared)
where
    S: AsyncRead + AsyncWrite + Send + Unpin,
{
    let Some(peer) = shared.config.anonymous_peer else {
        tracing::warn!(%remote, "client presented no certificate; closing");
        return;
    };
    // Anonymous connections are bounded by their own limit under their own id, apart from
    // every member's connections and from MAX_SERVER_CONNECTIONS.
    let (registration, evicted) = shared.live.register(peer, MAX_ANONYMOUS_CONNECTIONS);
    if evicted > 0 {
        tracing::warn!(
            %remote,
            %peer,
            limit = MAX_ANONYMOUS_CONNECTIONS,
            evicted,
            "too many connections without a certificate; closing the oldest"
        );
    }
    tracing::debug!(%remote, %peer, "serving a client without a certificate");
    serve_connection(
        tls,
        ConnectionContext {
            remote,
            peer,
            cert: None,
            limits: ConnectionLimits::ANONYMOUS,
            identify: shared.identify.clone(),
            config: shared.config.clone(),
            handler: shared.handler.clone(),
            registration,
            server_budget: shared.budget.clone(),
        },
    )
    .await;
}
