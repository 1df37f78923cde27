//! The calling side: connections to peers by address, pipelined calls, reconnection.

use super::REFUSAL_REQUEST_ID;
use super::config::{MAX_FRAMES_PER_FLUSH, MAX_IN_FLIGHT_PER_CONNECTION, TcpConfig, codec};
use super::envelope::{self, EnvelopeError, Kind};
use super::identity::PeerIdentifier;
use super::peer_address::PeerAddress;
use super::peer_recheck::until_peer_refused;
use crate::transport::{MAX_FRAME_BYTES, MemberId, Transport, TransportError};
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use rustls::ClientConfig;
use rustls_pki_types::CertificateDer;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::{Notify, Semaphore, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_util::codec::{FramedRead, FramedWrite};

type Reply = Result<Bytes, TransportError>;
type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Reply>>>>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A request waiting to be written.
struct Outgoing {
    request_id: u64,
    frame: Bytes,
}

/// The calls and connection of one peer.
struct PeerLink {
    slots: Arc<Semaphore>,
    queue: mpsc::Sender<Outgoing>,
    pending: Pending,
    /// Poked when a caller gives up waiting, so the connection can check whether the peer went
    /// silent.
    timeouts: Arc<GiveUps>,
    driver: JoinHandle<()>,
}

/// Callers that gave up waiting for an answer, for the connection's watchdog.
#[derive(Default)]
struct GiveUps {
    poke: Notify,
    /// When the earliest abandoned call (since the watchdog last looked) was sent.
    earliest_sent: Mutex<Option<Instant>>,
}

impl GiveUps {
    fn record(&self, sent: Instant) {
        let mut earliest = lock(&self.earliest_sent);
        if earliest.is_none_or(|e| sent < e) {
            *earliest = Some(sent);
        }
        drop(earliest);
        self.poke.notify_one();
    }

    fn take(&self) -> Option<Instant> {
        lock(&self.earliest_sent).take()
    }
}

impl Drop for PeerLink {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

struct Shared {
    local: MemberId,
    tls: TlsConnector,
    identify: PeerIdentifier,
    config: TcpConfig,
    peers: RwLock<HashMap<MemberId, PeerAddress>>,
    /// Bumped to have every connection ask the identifier about its server again.
    recheck: watch::Sender<u64>,
}

/// The calling side of the TCP transport: implements [`Transport`] over mutually authenticated
/// TLS connections, one per peer, opened on first use.
///
/// - Frames are length-prefixed (4 bytes) and hold a postcard envelope
///   `{request_id, kind, body}`; requests larger than
///   [`MAX_FRAME_BYTES`] are refused before sending.
/// - Up to [`MAX_IN_FLIGHT_PER_CONNECTION`] calls share one connection at once (pipelining);
///   responses are matched by request id.
/// - When the server's certificate maps (through the [`PeerIdentifier`]) to another member
///   than the one called, or to none, the connection is refused with
///   [`TransportError::Auth`] saying why; so is a connection whose server refused this
///   member's certificate (the server says why). An open connection asks the identifier again
///   every [`TcpConfig::peer_recheck_interval`] and at once after
///   [`recheck_peers`](Self::recheck_peers), and closes when its server is refused (revoked).
/// - A connection whose peer stays silent for [`TcpConfig::call_timeout`] while callers give
///   up waiting is presumed dead (host gone, traffic black-holed) and abandoned.
/// - A broken connection fails its calls in flight with [`TransportError::Unreachable`]; the
///   next call reconnects. After a failed attempt the transport waits (from
///   [`TcpConfig::reconnect_backoff_min`], doubling to [`TcpConfig::reconnect_backoff_max`]),
///   failing calls at once in the meantime.
///
/// Build the `ClientConfig` with a client certificate, for example
/// `ClientConfig::builder().with_root_certificates(roots).with_client_auth_cert(chain, key)`:
/// `builder()` takes the process's crypto provider, which is ring when ring is the only provider
/// rustls is built with (as in this crate), or the one installed with
/// `CryptoProvider::install_default`.
pub struct TcpTransport {
    shared: Arc<Shared>,
    links: Mutex<HashMap<MemberId, Arc<PeerLink>>>,
    next_request_id: AtomicU64,
}

impl std::fmt::Debug for TcpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpTransport")
            .field("local", &self.shared.local)
            .finish_non_exhaustive()
    }
}

impl TcpTransport {
    /// A transport that calls peers as `local`, presenting the client certificate of
    /// `client_config`, and identifies servers with `identify`.
    pub fn new(
        local: MemberId,
        client_config: Arc<ClientConfig>,
        identify: PeerIdentifier,
        config: TcpConfig,
    ) -> Self {
        TcpTransport {
            shared: Arc::new(Shared {
                local,
                tls: TlsConnector::from(client_config),
                identify,
                config,
                peers: RwLock::new(HashMap::new()),
                recheck: watch::Sender::new(0),
            }),
            links: Mutex::new(HashMap::new()),
            next_request_id: AtomicU64::new(1),
        }
    }

    /// The member this transport calls for.
    pub fn local(&self) -> MemberId {
        self.shared.local
    }

    /// Sets (or changes) the address of `member`. Changing it closes the current connection;
    /// its calls in flight fail with [`TransportError::Unreachable`].
    pub fn set_peer(&self, member: MemberId, address: PeerAddress) {
        let changed = {
            let mut peers = self
                .shared
                .peers
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            peers.insert(member, address.clone()) != Some(address)
        };
        if changed {
            lock(&self.links).remove(&member);
        }
    }

    /// Forgets `member`: closes its connection; later calls fail with
    /// [`TransportError::UnknownPeer`].
    pub fn remove_peer(&self, member: MemberId) {
        self.shared
            .peers
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(&member);
        lock(&self.links).remove(&member);
    }

    /// Has every open connection ask the identifier about its server's certificate again now,
    /// closing those it refuses (after a revocation).
    pub fn recheck_peers(&self) {
        self.shared
            .recheck
            .send_modify(|generation| *generation = generation.wrapping_add(1));
    }

    /// The address table.
    pub fn peers(&self) -> HashMap<MemberId, PeerAddress> {
        self.shared
            .peers
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn link(&self, to: MemberId) -> Result<Arc<PeerLink>, TransportError> {
        if !self
            .shared
            .peers
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains_key(&to)
        {
            return Err(TransportError::UnknownPeer(to));
        }
        let mut links = lock(&self.links);
        if let Some(link) = links.get(&to) {
            if !link.driver.is_finished() {
                return Ok(link.clone());
            }
        }
        let (queue, rx) = mpsc::channel(MAX_IN_FLIGHT_PER_CONNECTION);
        let pending: Pending = Arc::default();
        let timeouts = Arc::new(GiveUps::default());
        let driver = tokio::spawn(drive(
            self.shared.clone(),
            to,
            rx,
            pending.clone(),
            timeouts.clone(),
        ));
        let link = Arc::new(PeerLink {
            slots: Arc::new(Semaphore::new(MAX_IN_FLIGHT_PER_CONNECTION)),
            queue,
            pending,
            timeouts,
            driver,
        });
        links.insert(to, link.clone());
        Ok(link)
    }

    /// Like [`Transport::call`] with an explicit timeout instead of
    /// [`TcpConfig::call_timeout`].
    pub async fn call_with_timeout(
        &self,
        to: MemberId,
        request: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, TransportError> {
        let deadline = Instant::now() + timeout;
        let request_id = self.next_request_id.fetch_add(1, Ordering::Relaxed);
        let frame = envelope::encode(request_id, Kind::Request, &request).map_err(|e| match e {
            EnvelopeError::TooLarge(bytes) => TransportError::FrameTooLarge {
                peer: to,
                bytes,
                limit: MAX_FRAME_BYTES,
            },
            EnvelopeError::Malformed(detail) => TransportError::Protocol { peer: to, detail },
        })?;
        let link = self.link(to)?;
        let call = async {
            let _slot = link
                .slots
                .acquire()
                .await
                .map_err(|_| TransportError::Shutdown)?;
            let (tx, rx) = oneshot::channel();
            lock(&link.pending).insert(request_id, tx);
            let _forget = ForgetOnDrop {
                pending: &link.pending,
                request_id,
                sent: Instant::now(),
                timeouts: &link.timeouts,
            };
            link.queue
                .send(Outgoing { request_id, frame })
                .await
                .map_err(|_| TransportError::Unreachable {
                    peer: to,
                    detail: "connection task ended".to_owned(),
                })?;
            rx.await.unwrap_or_else(|_| {
                Err(TransportError::Unreachable {
                    peer: to,
                    detail: "connection closed".to_owned(),
                })
            })
        };
        tokio::time::timeout_at(deadline, call)
            .await
            .unwrap_or(Err(TransportError::Timeout(to)))
    }
}

impl Transport for TcpTransport {
    async fn call(&self, to: MemberId, request: Bytes) -> Result<Bytes, TransportError> {
        self.call_with_timeout(to, request, self.shared.config.call_timeout)
            .await
    }
}

/// Removes a call's entry when the caller stops waiting (response, timeout or cancellation).
/// A caller that gives up before any answer (its own deadline, or ours) pokes the connection's
/// watchdog.
struct ForgetOnDrop<'a> {
    pending: &'a Pending,
    request_id: u64,
    sent: Instant,
    timeouts: &'a GiveUps,
}

impl Drop for ForgetOnDrop<'_> {
    fn drop(&mut self) {
        if lock(self.pending).remove(&self.request_id).is_some() {
            self.timeouts.record(self.sent);
        }
    }
}

fn fail(pending: &Pending, request_id: u64, error: TransportError) {
    if let Some(tx) = lock(pending).remove(&request_id) {
        let _ = tx.send(Err(error));
    }
}

fn fail_all(pending: &Pending, to: MemberId, outcome: &ConnectionOutcome) {
    let waiting: Vec<_> = lock(pending).drain().collect();
    for (_, tx) in waiting {
        let detail = outcome.detail.clone();
        let _ = tx.send(Err(if outcome.refused {
            TransportError::Auth { peer: to, detail }
        } else {
            TransportError::Unreachable { peer: to, detail }
        }));
    }
}

/// Owns the connection to one peer: connects on demand, writes queued requests, reads
/// responses, reconnects with backoff.
async fn drive(
    shared: Arc<Shared>,
    to: MemberId,
    mut queue: mpsc::Receiver<Outgoing>,
    pending: Pending,
    timeouts: Arc<GiveUps>,
) {
    let min = shared.config.reconnect_backoff_min;
    let max = shared.config.reconnect_backoff_max.max(min);
    let mut backoff = min;
    // When to try again, why the last attempt failed, and whether it was an authentication
    // failure (calls failed meanwhile keep its kind).
    let mut retry_at: Option<(Instant, String, bool)> = None;
    while let Some(first) = queue.recv().await {
        if !lock(&pending).contains_key(&first.request_id) {
            continue; // the caller gave up already
        }
        if let Some((at, why, auth)) = &retry_at {
            let now = Instant::now();
            if now < *at {
                let wait_ms = at.duration_since(now).as_millis();
                let detail = format!("{why}; next connection attempt in {wait_ms} ms");
                let error = if *auth {
                    TransportError::Auth { peer: to, detail }
                } else {
                    TransportError::Unreachable { peer: to, detail }
                };
                fail(&pending, first.request_id, error);
                continue;
            }
        }
        match connect(&shared, to).await {
            Err(error) => {
                tracing::debug!(peer = %to, %error, "connection failed");
                let auth = matches!(error, TransportError::Auth { .. });
                retry_at = Some((Instant::now() + backoff, error.to_string(), auth));
                backoff = (backoff * 2).min(max);
                fail(&pending, first.request_id, error);
            }
            Ok((stream, cert)) => {
                let outcome = run_connection(
                    stream, first, &mut queue, &pending, to, &timeouts, &shared, cert,
                )
                .await;
                if outcome.refused {
                    tracing::warn!(peer = %to, detail = %outcome.detail, "connection refused");
                } else {
                    tracing::debug!(peer = %to, detail = %outcome.detail, "connection closed");
                }
                fail_all(&pending, to, &outcome);
                if outcome.answered {
                    backoff = min;
                    retry_at = None;
                } else {
                    retry_at = Some((Instant::now() + backoff, outcome.detail, outcome.refused));
                    backoff = (backoff * 2).min(max);
                }
            }
        }
    }
}

async fn connect(
    shared: &Shared,
    to: MemberId,
) -> Result<(TlsStream<TcpStream>, CertificateDer<'static>), TransportError> {
    let address = shared
        .peers
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(&to)
        .cloned()
        .ok_or(TransportError::UnknownPeer(to))?;
    let unreachable = |detail: String| TransportError::Unreachable { peer: to, detail };
    let tcp = tokio::time::timeout(
        shared.config.connect_timeout,
        TcpStream::connect(address.addr),
    )
    .await
    .map_err(|_| unreachable(format!("connecting to {} timed out", address.addr)))?
    .map_err(|e| unreachable(format!("connecting to {}: {e}", address.addr)))?;
    tcp.set_nodelay(true)
        .map_err(|e| unreachable(format!("setting TCP_NODELAY: {e}")))?;
    let tls = tokio::time::timeout(
        shared.config.handshake_timeout,
        shared.tls.connect(address.server_name.clone(), tcp),
    )
    .await
    .map_err(|_| unreachable(format!("TLS handshake with {} timed out", address.addr)))?
    .map_err(|e| {
        if e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) {
            TransportError::Auth {
                peer: to,
                detail: format!("TLS handshake with {}: {e}", address.addr),
            }
        } else {
            unreachable(format!("TLS handshake with {}: {e}", address.addr))
        }
    })?;
    let Some(cert) = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(|cert| cert.clone().into_owned())
    else {
        return Err(TransportError::Auth {
            peer: to,
            detail: format!("server at {} presented no certificate", address.addr),
        });
    };
    match (shared.identify)(&cert) {
        Ok(id) if id == to => Ok((tls, cert)),
        Ok(other) => Err(TransportError::Auth {
            peer: to,
            detail: format!(
                "server at {} presented the certificate of {other}",
                address.addr
            ),
        }),
        Err(refused) => Err(TransportError::Auth {
            peer: to,
            detail: format!(
                "server at {} presented a certificate this member refuses: {refused}",
                address.addr
            ),
        }),
    }
}

struct ConnectionOutcome {
    /// Whether at least one response arrived (the connection really worked).
    answered: bool,
    /// Whether the connection ended because one side refused the other's certificate.
    refused: bool,
    detail: String,
}

/// Runs one connection until it breaks. It is also abandoned when a caller gives up waiting
/// (timeout or cancellation) while the peer has sent nothing for `silence_limit`: a peer that
/// vanished without closing (host down, connection black-holed) would otherwise keep every later
/// call waiting for its timeout. It also ends when the identifier no longer accepts the
/// server's certificate `cert` (revoked), or when the server refuses this member's.
#[allow(clippy::too_many_arguments)]
async fn run_connection(
    stream: TlsStream<TcpStream>,
    first: Outgoing,
    queue: &mut mpsc::Receiver<Outgoing>,
    pending: &Pending,
    to: MemberId,
    timeouts: &GiveUps,
    shared: &Shared,
    cert: CertificateDer<'static>,
) -> ConnectionOutcome {
    let silence_limit = shared.config.call_timeout;
    let (rd, wr) = tokio::io::split(stream);
    let mut reader = FramedRead::new(rd, codec());
    let mut writer = FramedWrite::new(wr, codec());
    let mut answered = false;
    let mut refused_by_server = false;
    let opened = Instant::now();
    // Milliseconds after `opened` of the last frame received.
    let last_frame_ms = AtomicU64::new(0);
    let ms_since_opened = |at: Instant| {
        u64::try_from(at.saturating_duration_since(opened).as_millis()).unwrap_or(u64::MAX)
    };

    // A caller gave up on a call sent at `sent`: if nothing at all came back since then and
    // that was at least `silence_limit` ago, the peer is presumed gone.
    let watchdog = async {
        loop {
            timeouts.poke.notified().await;
            let Some(sent) = timeouts.take() else {
                continue;
            };
            let waited = sent.elapsed();
            if last_frame_ms.load(Ordering::Relaxed) <= ms_since_opened(sent)
                && waited >= silence_limit
            {
                return format!(
                    "the peer sent nothing for {} ms while calls went unanswered: connection presumed dead",
                    waited.as_millis()
                );
            }
        }
    };

    let write_loop = async {
        let mut next = Some(first);
        loop {
            let out = match next.take() {
                Some(out) => out,
                None => match queue.recv().await {
                    Some(out) => out,
                    None => return "transport dropped".to_owned(),
                },
            };
            let mut batch = 0usize;
            let mut item = Some(out);
            while let Some(out) = item.take() {
                if lock(pending).contains_key(&out.request_id) {
                    if let Err(e) = writer.feed(out.frame).await {
                        return format!("write failed: {e}");
                    }
                    batch += 1;
                }
                if batch < MAX_FRAMES_PER_FLUSH {
                    item = queue.try_recv().ok();
                }
            }
            if let Err(e) = SinkExt::<Bytes>::flush(&mut writer).await {
                return format!("write failed: {e}");
            }
        }
    };

    let read_loop = async {
        loop {
            let frame = match reader.next().await {
                None => return "closed by peer".to_owned(),
                Some(Err(e)) => return format!("read failed: {e}"),
                Some(Ok(frame)) => frame.freeze(),
            };
            last_frame_ms.store(ms_since_opened(Instant::now()), Ordering::Relaxed);
            let env = match envelope::decode(frame) {
                Ok(env) => env,
                Err(e) => {
                    tracing::warn!(peer = %to, error = %e, "peer sent garbage; closing");
                    return format!("protocol error: {e}");
                }
            };
            if env.kind == Kind::Failed && env.request_id == REFUSAL_REQUEST_ID {
                refused_by_server = true;
                return String::from_utf8_lossy(&env.body).into_owned();
            }
            let reply = match env.kind {
                Kind::Response => Ok(env.body),
                Kind::Failed => Err(TransportError::Remote {
                    peer: to,
                    detail: String::from_utf8_lossy(&env.body).into_owned(),
                }),
                Kind::TooLarge => Err(TransportError::FrameTooLarge {
                    peer: to,
                    bytes: postcard::from_bytes::<u64>(&env.body)
                        .ok()
                        .and_then(|n| usize::try_from(n).ok())
                        .unwrap_or(usize::MAX),
                    limit: MAX_FRAME_BYTES,
                }),
                Kind::Request => {
                    tracing::warn!(peer = %to, "server sent a request; closing");
                    return "protocol error: server sent a request".to_owned();
                }
            };
            answered = true;
            if let Some(tx) = lock(pending).remove(&env.request_id) {
                let _ = tx.send(reply);
            }
        }
    };

    let guard = until_peer_refused(
        &cert,
        to,
        &shared.identify,
        shared.config.recheck_interval(),
        shared.recheck.subscribe(),
    );

    let (detail, refused_here) = tokio::select! {
        detail = write_loop => (detail, false),
        detail = read_loop => (detail, false),
        detail = watchdog => (detail, false),
        detail = guard => (detail, true),
    };
    ConnectionOutcome {
        answered,
        refused: refused_here || refused_by_server,
        detail,
    }
}
