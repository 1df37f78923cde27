//! The store's transport on the shared listener: store requests carry the store tag.

use crate::node::network::Link;
use crate::node::wire::encode_store;
use bytes::Bytes;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use swarm_store::MemberId;
use swarm_store::transport::{Transport, TransportError};

/// The transport a manager's store calls other managers' stores through: the TCP transport
/// to their listeners, each request tagged as store traffic.
#[derive(Clone)]
pub(crate) struct StoreLink(pub(crate) Arc<Link>);

impl Transport for StoreLink {
    fn call(
        &self,
        to: MemberId,
        request: Bytes,
    ) -> impl Future<Output = Result<Bytes, TransportError>> + Send {
        self.0.call(to, encode_store(&request))
    }

    fn call_within(
        &self,
        to: MemberId,
        request: Bytes,
        timeout: Duration,
    ) -> impl Future<Output = Result<Bytes, TransportError>> + Send {
        self.0.call_within(to, encode_store(&request), timeout)
    }
}
