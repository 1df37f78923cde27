//! Transport errors.

use super::member_id::MemberId;

/// Why a [`Transport::call`](super::Transport::call) failed.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The member is not known to this transport (no address).
    #[error("unknown peer {0}")]
    UnknownPeer(MemberId),
    /// The peer could not be reached, or the connection broke; the request may or may not have
    /// been handled. Retryable.
    #[error("peer {peer} unreachable: {detail}")]
    Unreachable {
        /// The peer.
        peer: MemberId,
        /// What failed.
        detail: String,
    },
    /// No response within the deadline. Retryable.
    #[error("call to {0} timed out")]
    Timeout(MemberId),
    /// A frame exceeded [`MAX_FRAME_BYTES`](super::MAX_FRAME_BYTES).
    #[error("frame of {bytes} bytes to or from {peer} exceeds the limit of {limit} bytes")]
    FrameTooLarge {
        /// The peer.
        peer: MemberId,
        /// The frame's size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The peer sent bytes that are not a valid frame; the connection was closed.
    #[error("peer {peer} sent an invalid frame: {detail}")]
    Protocol {
        /// The peer.
        peer: MemberId,
        /// What was wrong.
        detail: String,
    },
    /// The peer's identity did not check out (TLS).
    #[error("peer {peer} failed authentication: {detail}")]
    Auth {
        /// The peer.
        peer: MemberId,
        /// What failed.
        detail: String,
    },
    /// The peer's handler returned an error.
    #[error("peer {peer} failed the request: {detail}")]
    Remote {
        /// The peer.
        peer: MemberId,
        /// The handler's error.
        detail: String,
    },
    /// This transport was shut down.
    #[error("transport is shut down")]
    Shutdown,
}

impl TransportError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            TransportError::Unreachable { .. } | TransportError::Timeout(_)
        )
    }
}
