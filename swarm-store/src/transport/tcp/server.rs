//! The serving side: accepts TLS connections and hands requests to an [`RpcHandler`].

use super::config::{
    MAX_FRAMES_PER_FLUSH, MAX_IN_FLIGHT_PER_CONNECTION, MAX_SERVER_CONNECTIONS, TcpConfig, codec,
};
use super::envelope::{self, EnvelopeError, Kind};
use super::identity::PeerIdentifier;
use crate::transport::handler::SharedHandler;
use crate::transport::{MemberId, RpcHandler};
use bytes::Bytes;
use futures::stream::FuturesUnordered;
use futures::{SinkExt, StreamExt};
use rustls::ServerConfig;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;
use tokio_util::codec::{FramedRead, FramedWrite};
use tokio_util::sync::CancellationToken;

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
/// - The client's certificate (verified by the caller's `ServerConfig`, which must require
///   client authentication) is mapped to a member id by the [`PeerIdentifier`]; a client it
///   maps to no member is disconnected. That id is the `from` the handler sees.
/// - Requests on one connection are handled concurrently, up to
///   [`MAX_IN_FLIGHT_PER_CONNECTION`]; beyond that the server stops reading the connection.
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
///   authenticated beyond that is closed. Unauthenticated connections never count against it.
///
/// Dropping the server (or [`shutdown`](Self::shutdown)) stops accepting and closes every
/// connection.
pub struct TcpServer {
    local_addr: SocketAddr,
    accept: JoinHandle<()>,
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
        let handler: SharedHandler = Arc::new(handler);
        let accept = tokio::spawn(accept_loop(
            listener,
            TlsAcceptor::from(server_config),
            identify,
            config,
            handler,
        ));
        Ok(TcpServer { local_addr, accept })
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

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    identify: PeerIdentifier,
    config: TcpConfig,
    handler: SharedHandler,
) {
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
        connections.spawn(serve_connection(
            tcp,
            remote,
            acceptor.clone(),
            identify.clone(),
            config.clone(),
            handler.clone(),
            Admission {
                slot,
                authenticated: authenticated.clone(),
            },
        ));
        p.tasks.insert(seq, cancel);
    }
}

async fn serve_connection(
    tcp: TcpStream,
    remote: SocketAddr,
    acceptor: TlsAcceptor,
    identify: PeerIdentifier,
    config: TcpConfig,
    handler: SharedHandler,
    admission: Admission,
) {
    let Admission {
        slot,
        authenticated,
    } = admission;
    let _ = tcp.set_nodelay(true);
    let handshake = tokio::time::timeout(config.handshake_timeout, acceptor.accept(tcp));
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
    let peer = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .and_then(|cert| identify(cert));
    drop(slot);
    let Some(peer) = peer else {
        tracing::warn!(%remote, "client certificate names no member; closing");
        return;
    };
    let _permit: OwnedSemaphorePermit = match authenticated.try_acquire_owned() {
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
    let (rd, wr) = tokio::io::split(tls);
    let mut reader = FramedRead::new(rd, codec());
    let mut writer = FramedWrite::new(wr, codec());
    let (responses_tx, mut responses_rx) = mpsc::channel::<Bytes>(MAX_IN_FLIGHT_PER_CONNECTION);

    let write_loop = async {
        while let Some(frame) = responses_rx.recv().await {
            let mut batch = 1usize;
            let mut item = Some(frame);
            while let Some(frame) = item.take() {
                writer.feed(frame).await?;
                if batch < MAX_FRAMES_PER_FLUSH {
                    item = responses_rx.try_recv().ok();
                    batch += 1;
                }
            }
            SinkExt::<Bytes>::flush(&mut writer).await?;
        }
        Ok::<(), std::io::Error>(())
    };

    let read_loop = async {
        // Handlers run inside this connection's task (not one spawned task each): a response
        // is encoded and queued by the task its waker already points at, saving a task
        // hand-off per request; closing the connection drops them.
        let mut handlers = FuturesUnordered::new();
        loop {
            tokio::select! {
                biased;
                Some(frame) = handlers.next(), if !handlers.is_empty() => {
                    // The channel holds MAX_IN_FLIGHT_PER_CONNECTION frames, as many as there
                    // can be handlers, so this waits only for a stalled writer.
                    if responses_tx.send(frame).await.is_err() {
                        return;
                    }
                }
                next = reader.next(), if handlers.len() < MAX_IN_FLIGHT_PER_CONNECTION => {
                    let frame = match next {
                        None => return,
                        Some(Err(error)) => {
                            tracing::warn!(%remote, %peer, %error, "bad frame; closing connection");
                            return;
                        }
                        Some(Ok(frame)) => frame.freeze(),
                    };
                    let env = match envelope::decode(frame) {
                        Ok(env) if env.kind == Kind::Request => env,
                        Ok(env) => {
                            tracing::warn!(%remote, %peer, kind = ?env.kind, "client sent a non-request; closing connection");
                            return;
                        }
                        Err(error) => {
                            tracing::warn!(%remote, %peer, %error, "undecodable envelope; closing connection");
                            return;
                        }
                    };
                    let handler = handler.clone();
                    handlers.push(async move {
                        respond(&handler, peer, env.request_id, env.body).await
                    });
                }
            }
        }
    };

    tokio::select! {
        result = write_loop => {
            if let Err(error) = result {
                tracing::debug!(%remote, %peer, %error, "write failed; closing connection");
            }
        }
        () = read_loop => {}
    }
}

/// Runs the handler and encodes its outcome as a response frame.
async fn respond(handler: &SharedHandler, peer: MemberId, request_id: u64, body: Bytes) -> Bytes {
    let encoded = match handler.handle_boxed(peer, body).await {
        Ok(response) => envelope::encode(request_id, Kind::Response, &response),
        Err(detail) => {
            // An error message is trimmed rather than refused.
            let limit = crate::transport::MAX_FRAME_BYTES / 2;
            let detail = if detail.len() > limit {
                let mut end = limit;
                while !detail.is_char_boundary(end) {
                    end -= 1;
                }
                &detail[..end]
            } else {
                &detail
            };
            envelope::encode(request_id, Kind::Failed, detail.as_bytes())
        }
    };
    match encoded {
        Ok(frame) => frame,
        Err(EnvelopeError::TooLarge(bytes)) => too_large(request_id, bytes),
        Err(EnvelopeError::Malformed(detail)) => {
            envelope::encode(request_id, Kind::Failed, detail.as_bytes()).unwrap_or_default()
        }
    }
}

/// The frame telling the caller its response of `bytes` bytes exceeded the frame limit. Small
/// envelopes always encode; an empty frame (which the client treats as garbage and disconnects)
/// is the unreachable fallback.
fn too_large(request_id: u64, bytes: usize) -> Bytes {
    let size = postcard::to_allocvec(&(bytes as u64)).unwrap_or_default();
    envelope::encode(request_id, Kind::TooLarge, &size).unwrap_or_default()
}
