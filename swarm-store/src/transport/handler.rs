//! An object-safe view of [`RpcHandler`] so transports can keep handlers of any type.

use super::{MemberId, RpcHandler};
use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The future a boxed handler returns.
pub(crate) type HandlerFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Bytes, String>> + Send + 'a>>;

/// [`RpcHandler`] with a boxed future, so it can live behind `Arc<dyn DynHandler>`.
pub(crate) trait DynHandler: Send + Sync + 'static {
    /// Calls [`RpcHandler::handle`].
    fn handle_boxed(&self, from: MemberId, request: Bytes) -> HandlerFuture<'_>;
}

impl<H: RpcHandler> DynHandler for H {
    fn handle_boxed(&self, from: MemberId, request: Bytes) -> HandlerFuture<'_> {
        Box::pin(self.handle(from, request))
    }
}

/// A shared, type-erased handler.
pub(crate) type SharedHandler = Arc<dyn DynHandler>;
