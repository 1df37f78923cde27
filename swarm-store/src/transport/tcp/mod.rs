//! TCP transport: length-prefixed postcard frames over mutually authenticated TLS (rustls with
//! the ring provider), pipelined calls, reconnection with backoff.
//!
//! A member runs a [`TcpServer`] for its [`RpcHandler`](crate::transport::RpcHandler) and a
//! [`TcpTransport`] to call the others. TLS configuration comes from the caller: the server's
//! `ServerConfig` must require client certificates, the client's `ClientConfig` must present
//! one; a [`PeerIdentifier`] maps a verified certificate to a [`MemberId`](crate::transport::MemberId).
//!
//! Wire format: every frame is a 4-byte big-endian length followed by that many bytes (at most
//! [`MAX_FRAME_BYTES`](crate::transport::MAX_FRAME_BYTES)), holding the postcard encoding of
//! `{request_id: varint u64, kind: Request | Response | Failed | TooLarge, body: bytes}`.

mod client;
mod config;
mod envelope;
mod identity;
mod peer_address;
mod server;

pub use client::TcpTransport;
pub use config::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_RECONNECT_BACKOFF_MAX,
    DEFAULT_RECONNECT_BACKOFF_MIN, DEFAULT_TCP_CALL_TIMEOUT, MAX_FRAMES_PER_FLUSH,
    MAX_IN_FLIGHT_PER_CONNECTION, MAX_SERVER_CONNECTIONS, TcpConfig,
};
pub use identity::{PeerIdentifier, common_name_identifier, member_id_from_common_name};
pub use peer_address::{InvalidServerName, PeerAddress};
pub use server::TcpServer;
