//! TCP transport: length-prefixed postcard frames over mutually authenticated TLS (rustls with
//! the ring provider), pipelined calls, reconnection with backoff.
//!
//! A member runs a [`TcpServer`] for its [`RpcHandler`](crate::transport::RpcHandler) and a
//! [`TcpTransport`] to call the others. TLS configuration comes from the caller: the server's
//! `ServerConfig` must require client certificates (or make them optional, for a server that
//! also serves clients without one as [`TcpConfig::anonymous_peer`]), the client's
//! `ClientConfig` must present one; a [`PeerIdentifier`] maps a verified certificate to a [`MemberId`](crate::transport::MemberId).
//! With certificates of swarm-secrets' cluster CA (CN = node id, OU = role), use
//! [`manager_identifier`] over a [`MemberNames`] table and name each peer by its node id
//! ([`PeerAddress::new`]).
//!
//! Wire format: every frame is a 4-byte big-endian length followed by that many bytes (at most
//! [`MAX_FRAME_BYTES`](crate::transport::MAX_FRAME_BYTES)), holding the postcard encoding of
//! `{request_id: varint u64, kind: Request | Response | Failed | TooLarge, body: bytes}`. A
//! server that refuses a client's certificate sends one `Failed` frame with request id 0 (never
//! a call's) saying why, then closes.

mod client;
mod config;
mod envelope;
mod identity;
mod live_connections;
mod member_names;
mod peer_address;
mod peer_recheck;
mod server;
mod server_connection;

pub use client::TcpTransport;
pub use config::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_FRAME_READ_TIMEOUT, DEFAULT_HANDSHAKE_TIMEOUT,
    DEFAULT_IDLE_TIMEOUT, DEFAULT_PEER_RECHECK_INTERVAL, DEFAULT_RECONNECT_BACKOFF_MAX,
    DEFAULT_RECONNECT_BACKOFF_MIN, DEFAULT_TCP_CALL_TIMEOUT,
    MAX_ANONYMOUS_BUFFERED_REQUEST_BYTES_PER_CONNECTION, MAX_ANONYMOUS_CONNECTIONS,
    MAX_ANONYMOUS_FRAME_BYTES, MAX_ANONYMOUS_IN_FLIGHT_PER_CONNECTION, MAX_BUFFERED_REQUEST_BYTES,
    MAX_BUFFERED_REQUEST_BYTES_PER_CONNECTION, MAX_CONNECTIONS_PER_PEER, MAX_FRAMES_PER_FLUSH,
    MAX_IN_FLIGHT_PER_CONNECTION, MAX_SERVER_CONNECTIONS, TcpConfig,
};
pub use identity::{
    MANAGER_ROLE_OU, PeerIdentifier, PeerRefused, manager_identifier, node_id_identifier,
};
pub use member_names::{MemberNames, NodeIdError};
pub use peer_address::{InvalidServerName, PeerAddress};
pub use server::TcpServer;

/// The request id of the frame a server sends a client whose certificate it refused (calls
/// number from 1).
pub(crate) const REFUSAL_REQUEST_ID: u64 = 0;
