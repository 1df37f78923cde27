//! Serving one connection (of a member, or of an anonymous client): a reader that enforces the
//! frame size limit, the frame timeout, the idle timeout and the buffer budget; handlers run
//! concurrently up to the connection's in-flight limit; a writer; and, for a member, a guard
//! that closes the connection when its peer is no longer accepted.

use super::config::{ConnectionLimits, MAX_FRAMES_PER_FLUSH, TcpConfig, codec};
use super::envelope::{self, EnvelopeError, Kind};
use super::identity::PeerIdentifier;
use super::live_connections::Registration;
use super::peer_recheck::until_peer_refused;
use crate::transport::handler::SharedHandler;
use crate::transport::{MAX_FRAME_BYTES, MemberId};
use bytes::{Bytes, BytesMut};
use futures::stream::FuturesUnordered;
use futures::{SinkExt, StreamExt};
use rustls_pki_types::CertificateDer;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, BufReader};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::Instant;
use tokio_util::codec::FramedWrite;

/// The read buffer of a connection.
const READ_BUFFER_BYTES: usize = 16 * 1024;

/// The bytes a request is charged against the connection's and the server's budgets, held
/// until its response is written.
struct Charge {
    _connection: OwnedSemaphorePermit,
    _server: OwnedSemaphorePermit,
}

/// What the connection's parts share: when something last happened and how many requests are
/// in flight (read and not yet answered), for the idle timeout.
struct Activity {
    opened: Instant,
    /// Milliseconds after `opened` of the last frame read or written.
    last_ms: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn touch(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.opened.elapsed().saturating_sub(last)
    }
}

/// Why the reader stopped.
enum ReadEnd {
    /// The peer closed the connection.
    Closed,
    /// Cut off: the reason is logged as a warning.
    CutOff(String),
    /// Nothing happened for the idle timeout.
    Idle(Duration),
}

/// Everything one connection needs besides its stream.
pub(crate) struct ConnectionContext {
    pub(crate) remote: SocketAddr,
    pub(crate) peer: MemberId,
    /// The certificate the peer presented, asked about again every recheck interval; `None`
    /// for an anonymous client (nothing to recheck).
    pub(crate) cert: Option<CertificateDer<'static>>,
    /// A member's limits, or an anonymous client's.
    pub(crate) limits: ConnectionLimits,
    pub(crate) identify: PeerIdentifier,
    pub(crate) config: TcpConfig,
    pub(crate) handler: SharedHandler,
    pub(crate) registration: Registration,
    /// The server's budget of buffered request bytes.
    pub(crate) server_budget: Arc<Semaphore>,
}

/// Serves one connection until it closes, or is cut off (the reason logged).
pub(crate) async fn serve_connection<S>(stream: S, ctx: ConnectionContext)
where
    S: AsyncRead + AsyncWrite + Send + Unpin,
{
    let ConnectionContext {
        remote,
        peer,
        cert,
        limits,
        identify,
        config,
        handler,
        registration,
        server_budget,
    } = ctx;
    let (rd, wr) = tokio::io::split(stream);
    let mut writer = FramedWrite::new(wr, codec());
    let activity = Activity {
        opened: Instant::now(),
        last_ms: AtomicU64::new(0),
        in_flight: AtomicUsize::new(0),
    };
    let connection_budget = Arc::new(Semaphore::new(limits.buffered_request_bytes));
    let (requests_tx, mut requests_rx) = mpsc::channel::<(envelope::Envelope, Charge)>(1);
    let (responses_tx, mut responses_rx) = mpsc::channel::<(Bytes, Charge)>(limits.in_flight);

    let read_loop = async {
        let mut rd = BufReader::with_capacity(READ_BUFFER_BYTES, rd);
        loop {
            let frame = match read_frame(
                &mut rd,
                &config,
                limits.max_frame_bytes,
                &activity,
                &connection_budget,
                &server_budget,
            )
            .await
            {
                Ok(frame) => frame,
                Err(end) => return end,
            };
            let (body, charge) = frame;
            let env = match envelope::decode(body) {
                Ok(env) if env.kind == Kind::Request => env,
                Ok(env) => {
                    return ReadEnd::CutOff(format!("client sent a non-request ({:?})", env.kind));
                }
                Err(error) => return ReadEnd::CutOff(format!("undecodable envelope: {error}")),
            };
            activity.in_flight.fetch_add(1, Ordering::Relaxed);
            if requests_tx.send((env, charge)).await.is_err() {
                return ReadEnd::Closed;
            }
        }
    };

    let dispatch_loop = async {
        // Handlers run inside this connection's task (not one spawned task each): a response
        // is encoded and queued by the task its waker already points at, saving a task
        // hand-off per request; closing the connection drops them.
        let mut handlers = FuturesUnordered::new();
        loop {
            tokio::select! {
                biased;
                Some(answered) = handlers.next(), if !handlers.is_empty() => {
                    // The channel holds `limits.in_flight` frames, as many as there
                    // can be handlers, so this waits only for a stalled writer.
                    if responses_tx.send(answered).await.is_err() {
                        return;
                    }
                }
                next = requests_rx.recv(), if handlers.len() < limits.in_flight => {
                    let Some((env, charge)) = next else { return };
                    let handler = handler.clone();
                    handlers.push(async move {
                        let frame = respond(&handler, peer, env.request_id, env.body).await;
                        (frame, charge)
                    });
                }
            }
        }
    };

    let write_loop = async {
        while let Some((frame, charge)) = responses_rx.recv().await {
            let mut batch = 1usize;
            let mut item = Some((frame, charge));
            while let Some((frame, charge)) = item.take() {
                writer.feed(frame).await?;
                drop(charge);
                activity.in_flight.fetch_sub(1, Ordering::Relaxed);
                if batch < MAX_FRAMES_PER_FLUSH {
                    item = responses_rx.try_recv().ok();
                    batch += 1;
                }
            }
            SinkExt::<Bytes>::flush(&mut writer).await?;
            activity.touch();
        }
        Ok::<(), std::io::Error>(())
    };

    let guard = async {
        match &cert {
            Some(cert) => {
                until_peer_refused(
                    cert,
                    peer,
                    &identify,
                    config.recheck_interval(),
                    registration.recheck.clone(),
                )
                .await
            }
            // An anonymous client presented nothing to check again.
            None => std::future::pending().await,
        }
    };

    tokio::select! {
        end = read_loop => match end {
            ReadEnd::Closed => {}
            ReadEnd::Idle(idle) => {
                tracing::info!(%remote, %peer, idle_ms = idle.as_millis(), "connection idle; closing");
            }
            ReadEnd::CutOff(reason) => {
                tracing::warn!(%remote, %peer, %reason, "peer cut off");
            }
        },
        () = dispatch_loop => {}
        result = write_loop => {
            if let Err(error) = result {
                tracing::debug!(%remote, %peer, %error, "write failed; closing connection");
            }
        }
        reason = guard => {
            tracing::warn!(%remote, %peer, %reason, "peer no longer accepted; closing its connection");
        }
        () = registration.cancel.cancelled() => {
            tracing::warn!(%remote, %peer, "connection closed by the server (peer disconnected, or a newer connection of the same peer beyond the limit)");
        }
    }
}

/// Reads one frame of at most `max_frame_bytes`: waits (up to the idle timeout, while nothing
/// is in flight) for its first byte, then requires the rest within the frame timeout, not
/// counting the wait for budget.
async fn read_frame<R: AsyncRead + Unpin>(
    rd: &mut R,
    config: &TcpConfig,
    max_frame_bytes: usize,
    activity: &Activity,
    connection_budget: &Arc<Semaphore>,
    server_budget: &Arc<Semaphore>,
) -> Result<(Bytes, Charge), ReadEnd> {
    let first = loop {
        let wait = config.idle_timeout.saturating_sub(activity.idle_for());
        match tokio::time::timeout(wait, rd.read_u8()).await {
            Ok(Ok(byte)) => break byte,
            Ok(Err(_)) => return Err(ReadEnd::Closed),
            Err(_) => {
                let idle = activity.idle_for();
                if activity.in_flight.load(Ordering::Relaxed) == 0 && idle >= config.idle_timeout {
                    return Err(ReadEnd::Idle(idle));
                }
                if activity.in_flight.load(Ordering::Relaxed) > 0 {
                    // Busy: not idle; look again after another full period.
                    activity.touch();
                }
            }
        }
    };
    let started = Instant::now();
    let mut deadline = started + config.frame_read_timeout;
    let too_slow = |what: &str| {
        ReadEnd::CutOff(format!(
            "{what} not received within {} ms of its first byte",
            config.frame_read_timeout.as_millis()
        ))
    };
    let mut header = [first, 0, 0, 0];
    match tokio::time::timeout_at(deadline, rd.read_exact(&mut header[1..])).await {
        Ok(Ok(_)) => {}
        Ok(Err(_)) => return Err(ReadEnd::Closed),
        Err(_) => return Err(too_slow("frame header")),
    }
    let len = u32::from_be_bytes(header) as usize;
    if len > max_frame_bytes {
        return Err(ReadEnd::CutOff(format!(
            "frame of {len} bytes announced, above the limit of {max_frame_bytes}"
        )));
    }
    // Both budgets are at least the connection's frame limit, at most MAX_FRAME_BYTES, which
    // fits u32 (checked in config.rs).
    let permits = u32::try_from(len).unwrap_or(u32::MAX);
    let waiting = Instant::now();
    let charge = Charge {
        _connection: connection_budget
            .clone()
            .acquire_many_owned(permits)
            .await
            .map_err(|_| ReadEnd::Closed)?,
        _server: server_budget
            .clone()
            .acquire_many_owned(permits)
            .await
            .map_err(|_| ReadEnd::Closed)?,
    };
    // The server's own wait for budget is not the peer's delay.
    deadline += waiting.elapsed();
    let mut body = BytesMut::zeroed(len);
    match tokio::time::timeout_at(deadline, rd.read_exact(&mut body)).await {
        Ok(Ok(_)) => {}
        Ok(Err(_)) => return Err(ReadEnd::Closed),
        Err(_) => return Err(too_slow(&format!("frame of {len} bytes"))),
    }
    activity.touch();
    Ok((body.freeze(), charge))
}

/// Runs the handler and encodes its outcome as a response frame.
async fn respond(handler: &SharedHandler, peer: MemberId, request_id: u64, body: Bytes) -> Bytes {
    let encoded = match handler.handle_boxed(peer, body).await {
        Ok(response) => envelope::encode(request_id, Kind::Response, &response),
        Err(detail) => {
            // An error message is trimmed rather than refused.
            let limit = MAX_FRAME_BYTES / 2;
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
