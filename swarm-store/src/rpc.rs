//! The request handler a transport serves for this member.

use crate::member::Member;
use crate::raft::wire::decode_request;
use crate::transport::{MemberId, RpcHandler};
use bytes::Bytes;
use std::sync::{Arc, OnceLock};

/// Serves other members' requests (Raft messages, snapshot chunks, forwarded writes and
/// reads) for one [`Store`](crate::Store).
///
/// Create it first, give a clone to the transport that receives for this member, then pass it
/// to [`Store::open`](crate::Store::open), which attaches the member to it. Requests arriving
/// before that are refused (the sender retries).
#[derive(Clone, Default)]
pub struct StoreRpc {
    member: Arc<OnceLock<Arc<Member>>>,
}

impl std::fmt::Debug for StoreRpc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreRpc")
            .field("attached", &self.member.get().is_some())
            .finish()
    }
}

impl StoreRpc {
    /// A handler not yet attached to a store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Attaches the started member; false if another member is already attached.
    pub(crate) fn attach(&self, member: Arc<Member>) -> bool {
        self.member.set(member).is_ok()
    }
}

impl RpcHandler for StoreRpc {
    async fn handle(&self, from: MemberId, request: Bytes) -> Result<Bytes, String> {
        let Some(member) = self.member.get() else {
            return Err("the store member is not started yet".into());
        };
        let received = decode_request(&request)
            .map_err(|e| format!("undecodable request from {from}: {e}"))?;
        let response = member
            .handle_received(from, received.request, received.entry_bytes)
            .await?;
        postcard::to_allocvec(&response)
            .map(Bytes::from)
            .map_err(|e| format!("cannot encode response: {e}"))
    }
}
