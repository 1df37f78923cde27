//! Settings and limits of the TCP transport.

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
}

impl Default for TcpConfig {
    fn default() -> Self {
        TcpConfig {
            call_timeout: DEFAULT_TCP_CALL_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            reconnect_backoff_min: DEFAULT_RECONNECT_BACKOFF_MIN,
            reconnect_backoff_max: DEFAULT_RECONNECT_BACKOFF_MAX,
        }
    }
}

/// The length-prefixed codec both sides use: a 4-byte big-endian length, frames of at most
/// [`MAX_FRAME_BYTES`](crate::transport::MAX_FRAME_BYTES).
pub(crate) fn codec() -> tokio_util::codec::LengthDelimitedCodec {
    tokio_util::codec::LengthDelimitedCodec::builder()
        .length_field_type::<u32>()
        .max_frame_length(crate::transport::MAX_FRAME_BYTES)
        .new_codec()
}
