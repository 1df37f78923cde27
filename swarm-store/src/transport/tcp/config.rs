//! Settings and limits of the TCP transport.
//!
//! # What one peer can make a server hold, and for how long
//!
//! | bound | what happens when it is passed |
//! |---|---|
//! | [`TcpConfig::frame_read_timeout`] from a frame's first byte to its last | the connection is closed (a frame announced and never sent) |
//! | [`TcpConfig::idle_timeout`] with no frame either way and no request in flight | the connection is closed (the client reconnects on its next call) |
//! | [`TcpConfig::peer_recheck_interval`] between two checks of a peer's certificate | a peer the [`PeerIdentifier`](super::PeerIdentifier) no longer accepts (revoked, removed) loses every connection |
//! | [`MAX_CONNECTIONS_PER_PEER`] authenticated connections of one member | its oldest connection is closed |
//! | [`MAX_BUFFERED_REQUEST_BYTES_PER_CONNECTION`] bytes of requests read and not yet answered on one connection | the server stops reading that connection until answers free some |
//! | [`MAX_BUFFERED_REQUEST_BYTES`] such bytes over all connections | the server stops reading any connection that needs more |
//! | [`MAX_IN_FLIGHT_PER_CONNECTION`] requests being handled on one connection | the server stops reading that connection until one completes |
//! | [`MAX_SERVER_CONNECTIONS`] authenticated connections in all | a new one is closed |
//! | [`MAX_ANONYMOUS_CONNECTIONS`] connections without a client certificate (only with [`TcpConfig::anonymous_peer`]) | the oldest of them is closed |
//! | [`MAX_ANONYMOUS_FRAME_BYTES`] in one request frame of an anonymous client | that connection is closed |
//! | [`MAX_ANONYMOUS_BUFFERED_REQUEST_BYTES_PER_CONNECTION`] bytes of requests read and not yet answered on one anonymous connection | the server stops reading that connection until answers free some |
//! | [`MAX_ANONYMOUS_IN_FLIGHT_PER_CONNECTION`] requests being handled on one anonymous connection | the server stops reading that connection until one completes |
//!
//! Worst case, request bytes held by a server: [`MAX_BUFFERED_REQUEST_BYTES`] (256 MiB) in all,
//! at most [`MAX_BUFFERED_REQUEST_BYTES_PER_CONNECTION`] × [`MAX_CONNECTIONS_PER_PEER`]
//! (256 MiB) of it for one member, plus a read buffer of 16 KiB per connection; a frame's body
//! is allocated only once its bytes are charged. Responses are the handler's own (the store's
//! are small) and are charged to the request they answer until written.
//!
//! Anonymous clients (served only when [`TcpConfig::anonymous_peer`] is set) are counted apart
//! from members: they never take a place among [`MAX_SERVER_CONNECTIONS`] nor among a member's
//! [`MAX_CONNECTIONS_PER_PEER`], and hold at most [`MAX_ANONYMOUS_CONNECTIONS`] connections of
//! their own. Worst case, request bytes they make a server hold: [`MAX_ANONYMOUS_CONNECTIONS`]
//! × [`MAX_ANONYMOUS_BUFFERED_REQUEST_BYTES_PER_CONNECTION`] (4 MiB, within
//! [`MAX_BUFFERED_REQUEST_BYTES`]), and at most [`MAX_ANONYMOUS_CONNECTIONS`] ×
//! [`MAX_ANONYMOUS_IN_FLIGHT_PER_CONNECTION`] (64) handler calls at once. They have the frame
//! read and idle timeouts; there is no certificate to check again.

use crate::transport::MemberId;
use std::time::Duration;

/// Default time a call waits for its response.
pub const DEFAULT_TCP_CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time allowed to open a TCP connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Default time allowed for a TLS handshake (both sides).
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Default first wait before reconnecting after a failed connection.
pub const DEFAULT_RECONNECT_BACKOFF_MIN: Duration = Duration::from_millis(50);
/// Default longest wait between reconnection attempts (the wait doubles up to this).
pub const DEFAULT_RECONNECT_BACKOFF_MAX: Duration = Duration::from_secs(2);
/// The most calls in flight on one connection, on each side: further callers wait for a slot,
/// and a server stops reading a connection until one of its requests completes.
pub const MAX_IN_FLIGHT_PER_CONNECTION: usize = 1024;
/// The most authenticated connections a [`TcpServer`](super::TcpServer) serves at once; one
/// authenticated beyond it is closed. Connections still in their TLS handshake are counted
/// apart, under their own small limit (see [`TcpServer`](super::TcpServer)).
pub const MAX_SERVER_CONNECTIONS: usize = 1024;
/// The most frames written before a flush, so one busy connection cannot starve its reader.
pub const MAX_FRAMES_PER_FLUSH: usize = 256;
/// The most authenticated connections one member (one id the
/// [`PeerIdentifier`](super::PeerIdentifier) gives) holds to a server at once. A member's
/// transport opens one per server; the rest is room for a reconnection racing the close of the
/// previous connection. A connection beyond it closes that member's oldest one.
pub const MAX_CONNECTIONS_PER_PEER: usize = 4;
/// The most bytes of request frames one connection may have read and not yet answered
/// (including the frame being read, charged from its header on). A frame that does not fit
/// waits, unread, until answers free enough. Four of the largest frames
/// ([`MAX_FRAME_BYTES`](crate::transport::MAX_FRAME_BYTES)).
pub const MAX_BUFFERED_REQUEST_BYTES_PER_CONNECTION: usize = 4 * crate::transport::MAX_FRAME_BYTES;
/// The most bytes of request frames a server holds over all its connections, charged as for
/// [`MAX_BUFFERED_REQUEST_BYTES_PER_CONNECTION`].
pub const MAX_BUFFERED_REQUEST_BYTES: usize = 256 * 1024 * 1024;
/// The most connections without a client certificate a [`TcpServer`](super::TcpServer) serves
/// at once (only with [`TcpConfig::anonymous_peer`]); a new one beyond it closes the oldest.
/// They count neither among [`MAX_SERVER_CONNECTIONS`] nor among any member's
/// [`MAX_CONNECTIONS_PER_PEER`]. Joining nodes connect once each, briefly.
pub const MAX_ANONYMOUS_CONNECTIONS: usize = 16;
/// The largest request frame an anonymous client may send (a join request: a token and a
/// certificate signing request); a larger one closes its connection.
pub const MAX_ANONYMOUS_FRAME_BYTES: usize = 64 * 1024;
/// The most bytes of request frames one anonymous connection may have read and not yet
/// answered, charged as for [`MAX_BUFFERED_REQUEST_BYTES_PER_CONNECTION`]: four of the largest
/// anonymous frames.
pub const MAX_ANONYMOUS_BUFFERED_REQUEST_BYTES_PER_CONNECTION: usize =
    4 * MAX_ANONYMOUS_FRAME_BYTES;
/// The most requests of one anonymous connection being handled at once; the server stops
/// reading that connection until one completes.
pub const MAX_ANONYMOUS_IN_FLIGHT_PER_CONNECTION: usize = 4;
/// Default [`TcpConfig::frame_read_timeout`]: the largest frame at 4.5 Mbit/s.
pub const DEFAULT_FRAME_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Default [`TcpConfig::idle_timeout`].
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// Default [`TcpConfig::peer_recheck_interval`].
pub const DEFAULT_PEER_RECHECK_INTERVAL: Duration = Duration::from_secs(1);

const _: () =
    assert!(MAX_BUFFERED_REQUEST_BYTES_PER_CONNECTION >= crate::transport::MAX_FRAME_BYTES);
const _: () = assert!(MAX_BUFFERED_REQUEST_BYTES >= MAX_BUFFERED_REQUEST_BYTES_PER_CONNECTION);
const _: () = assert!(MAX_ANONYMOUS_FRAME_BYTES <= crate::transport::MAX_FRAME_BYTES);
const _: () =
    assert!(MAX_ANONYMOUS_BUFFERED_REQUEST_BYTES_PER_CONNECTION >= MAX_ANONYMOUS_FRAME_BYTES);
const _: () = assert!(
    MAX_ANONYMOUS_CONNECTIONS * MAX_ANONYMOUS_BUFFERED_REQUEST_BYTES_PER_CONNECTION
        <= MAX_BUFFERED_REQUEST_BYTES
);
const _: () = assert!(MAX_ANONYMOUS_IN_FLIGHT_PER_CONNECTION <= MAX_IN_FLIGHT_PER_CONNECTION);
// Semaphores count permits in u32 when acquiring many.
const _: () = assert!(MAX_BUFFERED_REQUEST_BYTES <= u32::MAX as usize);

/// Settings of a [`TcpTransport`](super::TcpTransport) and a [`TcpServer`](super::TcpServer).
#[derive(Clone, Debug)]
pub struct TcpConfig {
    /// How long a call waits for its response.
    pub call_timeout: Duration,
    /// How long opening a TCP connection may take.
    pub connect_timeout: Duration,
    /// How long a TLS handshake may take.
    pub handshake_timeout: Duration,
    /// First wait before reconnecting after a failure; calls made while waiting fail at once
    /// with [`Unreachable`](crate::transport::TransportError::Unreachable).
    pub reconnect_backoff_min: Duration,
    /// Longest wait between reconnection attempts.
    pub reconnect_backoff_max: Duration,
    /// How long a server waits for the rest of a frame once its first byte arrived (not
    /// counting time the server itself spends waiting for buffer budget): a peer that
    /// announces a frame and does not send it is cut off after this.
    pub frame_read_timeout: Duration,
    /// How long a server keeps a connection on which no frame went either way and no request
    /// is in flight.
    pub idle_timeout: Duration,
    /// How often each connection (on both sides) asks the
    /// [`PeerIdentifier`](super::PeerIdentifier) again about the certificate its peer
    /// presented at the handshake: a peer it no longer accepts (revoked, removed from the
    /// names) is cut off within this, or at once after
    /// [`TcpServer::recheck_peers`](super::TcpServer::recheck_peers) /
    /// [`TcpTransport::recheck_peers`](super::TcpTransport::recheck_peers). At least 1 ms.
    pub peer_recheck_interval: Duration,
    /// Servers only: the member id a client that completed the TLS handshake *without* a
    /// certificate is served as (the `from` its requests reach the handler with). `None` (the
    /// default): such a client is closed. A client without a certificate can complete the
    /// handshake only when the server's `ServerConfig` makes client certificates optional
    /// (e.g. swarm-secrets' `tls::server_config_accepting_joins`).
    ///
    /// **Such a caller is not authenticated.** The handler must allow a request from this id
    /// only what anyone reaching the port may do (e.g. present a join token and a certificate
    /// signing request), never a member's calls: route this id's requests away from the
    /// store's [`StoreRpc`](crate::StoreRpc) (a member being added takes Raft messages from the
    /// sender they name). The id must be one no member has: a client whose certificate the
    /// [`PeerIdentifier`](super::PeerIdentifier) maps to it is refused.
    /// Anonymous clients have their own, smaller limits ([`MAX_ANONYMOUS_CONNECTIONS`],
    /// [`MAX_ANONYMOUS_FRAME_BYTES`], [`MAX_ANONYMOUS_BUFFERED_REQUEST_BYTES_PER_CONNECTION`],
    /// [`MAX_ANONYMOUS_IN_FLIGHT_PER_CONNECTION`]) and the frame read and idle timeouts.
    pub anonymous_peer: Option<MemberId>,
}

impl Default for TcpConfig {
    fn default() -> Self {
        TcpConfig {
            call_timeout: DEFAULT_TCP_CALL_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            reconnect_backoff_min: DEFAULT_RECONNECT_BACKOFF_MIN,
            reconnect_backoff_max: DEFAULT_RECONNECT_BACKOFF_MAX,
            frame_read_timeout: DEFAULT_FRAME_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            peer_recheck_interval: DEFAULT_PEER_RECHECK_INTERVAL,
            anonymous_peer: None,
        }
    }
}

impl TcpConfig {
    /// [`TcpConfig::peer_recheck_interval`], at least 1 ms (a timer cannot tick at zero).
    pub(crate) fn recheck_interval(&self) -> Duration {
        self.peer_recheck_interval.max(Duration::from_millis(1))
    }
}

/// What one served connection may hold: a member's limits, or an anonymous client's.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnectionLimits {
    /// The largest request frame; a larger one closes the connection.
    pub(crate) max_frame_bytes: usize,
    /// Request bytes read and not yet answered.
    pub(crate) buffered_request_bytes: usize,
    /// Requests being handled at once.
    pub(crate) in_flight: usize,
}

impl ConnectionLimits {
    /// A member's connection (identified by its certificate).
    pub(crate) const MEMBER: ConnectionLimits = ConnectionLimits {
        max_frame_bytes: crate::transport::MAX_FRAME_BYTES,
        buffered_request_bytes: MAX_BUFFERED_REQUEST_BYTES_PER_CONNECTION,
        in_flight: MAX_IN_FLIGHT_PER_CONNECTION,
    };
    /// An anonymous client's connection (no certificate; see [`TcpConfig::anonymous_peer`]).
    pub(crate) const ANONYMOUS: ConnectionLimits = ConnectionLimits {
        max_frame_bytes: MAX_ANONYMOUS_FRAME_BYTES,
        buffered_request_bytes: MAX_ANONYMOUS_BUFFERED_REQUEST_BYTES_PER_CONNECTION,
        in_flight: MAX_ANONYMOUS_IN_FLIGHT_PER_CONNECTION,
    };
}

/// The length-prefixed codec both sides use: a 4-byte big-endian length, frames of at most
/// [`MAX_FRAME_BYTES`](crate::transport::MAX_FRAME_BYTES).
pub(crate) fn codec() -> tokio_util::codec::LengthDelimitedCodec {
    tokio_util::codec::LengthDelimitedCodec::builder()
        .length_field_type::<u32>()
        .max_frame_length(crate::transport::MAX_FRAME_BYTES)
        .new_codec()
}
