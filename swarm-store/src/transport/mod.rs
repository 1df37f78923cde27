//! Message RPC between members, addressed by member id.
//!
//! The Raft layer (and later swarm-core's dispatcher) encodes its requests to bytes and calls
//! [`Transport::call`]; the receiving side hands them to its [`RpcHandler`]. Implementation: TCP
//! with length-prefixed frames and mutual TLS ([`tcp`]). The in-process network with seeded
//! fault injection and the transport conformance suite are test support, in `testkit` (cargo
//! feature `testkit`).

pub mod error;
pub(crate) mod handler;
pub mod member_id;
pub mod tcp;

pub use error::TransportError;
pub use member_id::MemberId;

use bytes::Bytes;
use std::future::Future;
use std::time::Duration;

/// The most bytes one request or response frame may carry. Larger frames are refused by the
/// sender and cut off by the receiver. Snapshots are sent in chunks below this size.
pub const MAX_FRAME_BYTES: usize = 16 * 1024 * 1024;

/// Sends requests to other members and waits for their responses.
///
/// # Contract
/// - A call either returns the handler's response or an error; it never returns another call's
///   response.
/// - A call may fail without the request being delivered, or after it was delivered and
///   handled (the response was lost): callers make requests idempotent or tolerate this, as Raft
///   does.
/// - Calls to one member may be pipelined: several may be in flight at once.
/// - Requests or responses larger than [`MAX_FRAME_BYTES`] fail with
///   [`TransportError::FrameTooLarge`].
pub trait Transport: Send + Sync + 'static {
    /// Sends `request` to member `to` and waits for its response.
    fn call(
        &self,
        to: MemberId,
        request: Bytes,
    ) -> impl Future<Output = Result<Bytes, TransportError>> + Send;

    /// Like [`call`](Self::call), but the caller's `timeout` bounds the wait instead of the
    /// transport's own default: the store passes what is left of a request's deadline, so a
    /// slow forwarded write gets all of it. Fails with [`TransportError::Timeout`] when it
    /// passes.
    ///
    /// The provided implementation bounds [`call`](Self::call) by `timeout`, so a transport
    /// whose own per-call timeout is shorter still cuts the call off at its own; transports
    /// with a configurable per-call timeout override this to use `timeout` instead.
    fn call_within(
        &self,
        to: MemberId,
        request: Bytes,
        timeout: Duration,
    ) -> impl Future<Output = Result<Bytes, TransportError>> + Send {
        let call = self.call(to, request);
        async move {
            tokio::time::timeout(timeout, call)
                .await
                .unwrap_or(Err(TransportError::Timeout(to)))
        }
    }
}

/// Serves requests that arrive for this member.
///
/// The transport calls `handle` concurrently for concurrent requests. `from` is the peer's
/// authenticated member id when the transport authenticates peers (mutual TLS), or the id it
/// claimed otherwise (in-process).
pub trait RpcHandler: Send + Sync + 'static {
    /// Handles one request; `Err` is sent back to the caller as [`TransportError::Remote`].
    fn handle(
        &self,
        from: MemberId,
        request: Bytes,
    ) -> impl Future<Output = Result<Bytes, String>> + Send;
}

/// A shared transport is a transport.
impl<T: Transport> Transport for std::sync::Arc<T> {
    fn call(
        &self,
        to: MemberId,
        request: Bytes,
    ) -> impl Future<Output = Result<Bytes, TransportError>> + Send {
        (**self).call(to, request)
    }

    fn call_within(
        &self,
        to: MemberId,
        request: Bytes,
        timeout: Duration,
    ) -> impl Future<Output = Result<Bytes, TransportError>> + Send {
        (**self).call_within(to, request, timeout)
    }
}
