//! openraft's network traits over a byte-level [`Transport`].

use super::runtime::StoreRuntime;
use super::types::{C, Snapshot, Vote};
use super::wire::{RpcRequest, RpcResponse, SnapshotChunk};
use crate::blob::Blob;
use crate::transport::{MAX_FRAME_BYTES, MemberId, Transport, TransportError};
use bytes::Bytes;
use openraft::errors::{NetworkError, RPCError, ReplicationClosed, StreamingError, Unreachable};
use openraft::network::{RPCOption, RaftNetworkFactory, RaftNetworkV2};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, TransferLeaderRequest,
    TransferLeaderResponse, VoteRequest, VoteResponse,
};
use openraft::{BasicNode, OptionalSend};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Snapshots are sent in chunks of at most this many bytes (well below
/// [`MAX_FRAME_BYTES`]).
pub(crate) const SNAPSHOT_CHUNK_BYTES: usize = 1024 * 1024;

const _: () = assert!(SNAPSHOT_CHUNK_BYTES * 2 < MAX_FRAME_BYTES);

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An object-safe view of a [`Transport`].
pub(crate) trait DynTransport: Send + Sync + 'static {
    /// [`Transport::call_within`]: the caller's timeout bounds the call.
    fn call_dyn(
        &self,
        to: MemberId,
        request: Bytes,
        timeout: Duration,
    ) -> BoxFuture<'_, Result<Bytes, TransportError>>;
}

impl<T: Transport> DynTransport for T {
    fn call_dyn(
        &self,
        to: MemberId,
        request: Bytes,
        timeout: Duration,
    ) -> BoxFuture<'_, Result<Bytes, TransportError>> {
        Box::pin(self.call_within(to, request, timeout))
    }
}

/// Why a call to a peer failed, before mapping to openraft's or the store's errors.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CallError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("no response from {peer} within {timeout_ms} ms")]
    Timeout { peer: MemberId, timeout_ms: u64 },
    #[error("cannot encode request: {0}")]
    Encode(postcard::Error),
    #[error("{peer} sent an undecodable response: {detail}")]
    Decode { peer: MemberId, detail: String },
}

/// Sends one request and decodes the response, within `timeout`: the caller's deadline (what is
/// left of a client request's, or openraft's per-RPC time to live). The transport is handed the
/// same timeout ([`Transport::call_within`]), so its own default per-call timeout never cuts a
/// call shorter than the caller allows; the timer here is only a guard against a transport that
/// overruns it.
pub(crate) async fn call(
    transport: &dyn DynTransport,
    to: MemberId,
    request: &RpcRequest,
    timeout: Duration,
) -> Result<RpcResponse, CallError> {
    // Sized first, so the message is allocated once rather than grown (and copied) by doubling.
    let size = postcard::experimental::serialized_size(request).map_err(CallError::Encode)?;
    let bytes =
        postcard::to_extend(request, Vec::with_capacity(size)).map_err(CallError::Encode)?;
    let fut = transport.call_dyn(to, Bytes::from(bytes), timeout);
    let timed_out = || CallError::Timeout {
        peer: to,
        timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
    };
    let response = match tokio::time::timeout(timeout, fut).await {
        Ok(Ok(r)) => r,
        Ok(Err(TransportError::Timeout(_))) | Err(_) => return Err(timed_out()),
        Ok(Err(e)) => return Err(e.into()),
    };
    postcard::from_bytes(&response).map_err(|e| CallError::Decode {
        peer: to,
        detail: e.to_string(),
    })
}

/// Creates a [`PeerNetwork`] per target member.
pub(crate) struct NetworkFactory {
    transport: Arc<dyn DynTransport>,
    transfer_seq: Arc<AtomicU64>,
}

impl NetworkFactory {
    /// A factory sending through `transport`. Call it where openraft's randomness is seeded for
    /// this member (see [`StoreRuntime::seeded`]), if it is.
    pub(crate) fn new(transport: Arc<dyn DynTransport>) -> Self {
        // Transfer ids only need to differ between the transfers of this sender; starting at a
        // random point keeps a restarted sender from reusing a receiver's in-progress id. The
        // draw comes from the Raft runtime, so a seeded simulation replays it.
        let start = StoreRuntime::random_u64();
        NetworkFactory {
            transport,
            transfer_seq: Arc::new(AtomicU64::new(start)),
        }
    }
}

impl RaftNetworkFactory<C> for NetworkFactory {
    type Network = PeerNetwork;

    async fn new_client(&mut self, target: u64, _node: &BasicNode) -> PeerNetwork {
        PeerNetwork {
            transport: self.transport.clone(),
            target: MemberId(target),
            transfer_seq: self.transfer_seq.clone(),
        }
    }
}

/// Raft RPCs to one member.
pub(crate) struct PeerNetwork {
    transport: Arc<dyn DynTransport>,
    target: MemberId,
    transfer_seq: Arc<AtomicU64>,
}

fn rpc_error(e: CallError) -> RPCError<C> {
    match e {
        CallError::Transport(t) if !t.is_retryable() => RPCError::Network(NetworkError::new(&t)),
        CallError::Transport(t) => RPCError::Unreachable(Unreachable::new(&t)),
        e @ CallError::Timeout { .. } => RPCError::Unreachable(Unreachable::new(&e)),
        e => RPCError::Network(NetworkError::new(&e)),
    }
}

fn unexpected(peer: MemberId, what: &str) -> RPCError<C> {
    RPCError::Network(NetworkError::from_string(format!(
        "{peer} answered a {what} request with another response type"
    )))
}

fn streaming_error(e: RPCError<C>) -> StreamingError<C> {
    match e {
        RPCError::Timeout(t) => StreamingError::Timeout(t),
        RPCError::Unreachable(u) => StreamingError::Unreachable(u),
        RPCError::Network(n) => StreamingError::Network(n),
        RPCError::RemoteError(r) => {
            StreamingError::Network(NetworkError::from_string(r.to_string()))
        }
    }
}

impl PeerNetwork {
    async fn rpc(
        &self,
        request: &RpcRequest,
        option: &RPCOption,
    ) -> Result<RpcResponse, RPCError<C>> {
        call(
            self.transport.as_ref(),
            self.target,
            request,
            option.hard_ttl(),
        )
        .await
        .map_err(rpc_error)
    }

    async fn send_snapshot(
        &self,
        vote: Vote,
        snapshot: Snapshot,
        option: &RPCOption,
    ) -> Result<SnapshotResponse<C>, RPCError<C>> {
        let data = snapshot.snapshot;
        let total = data.len();
        let transfer_id = self.transfer_seq.fetch_add(1, Ordering::Relaxed);
        let mut offset = 0usize;
        loop {
            let end = (offset + SNAPSHOT_CHUNK_BYTES).min(total);
            let request = RpcRequest::SnapshotChunk(SnapshotChunk {
                vote,
                meta: snapshot.meta.clone(),
                transfer_id,
                offset: offset as u64,
                total_bytes: total as u64,
                data: Blob(data.slice(offset..end)),
            });
            let last = end == total;
            match self.rpc(&request, option).await? {
                RpcResponse::SnapshotChunkStored if !last => offset = end,
                RpcResponse::SnapshotInstalled(r) if last => return Ok(r),
                _ => return Err(unexpected(self.target, "snapshot chunk")),
            }
        }
    }
}

impl RaftNetworkV2<C> for PeerNetwork {
    type SnapshotData = Bytes;

    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<C>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<C>, RPCError<C>> {
        match self.rpc(&RpcRequest::AppendEntries(rpc), &option).await? {
            RpcResponse::AppendEntries(r) => Ok(r),
            _ => Err(unexpected(self.target, "append-entries")),
        }
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<C>,
        option: RPCOption,
    ) -> Result<VoteResponse<C>, RPCError<C>> {
        match self.rpc(&RpcRequest::Vote(rpc), &option).await? {
            RpcResponse::Vote(r) => Ok(r),
            _ => Err(unexpected(self.target, "vote")),
        }
    }

    async fn pre_vote(
        &mut self,
        rpc: VoteRequest<C>,
        option: RPCOption,
    ) -> Result<VoteResponse<C>, RPCError<C>> {
        match self.rpc(&RpcRequest::PreVote(rpc), &option).await? {
            RpcResponse::Vote(r) => Ok(r),
            _ => Err(unexpected(self.target, "pre-vote")),
        }
    }

    async fn full_snapshot(
        &mut self,
        vote: Vote,
        snapshot: Snapshot,
        cancel: impl Future<Output = ReplicationClosed> + OptionalSend + 'static,
        option: RPCOption,
    ) -> Result<SnapshotResponse<C>, StreamingError<C>> {
        tokio::select! {
            // Fixed order (no random pick among ready branches): a closed stream wins, and a
            // seeded simulation replays the same choice.
            biased;
            closed = cancel => Err(StreamingError::Closed(closed)),
            r = self.send_snapshot(vote, snapshot, &option) => r.map_err(streaming_error),
        }
    }

    async fn transfer_leader(
        &mut self,
        req: TransferLeaderRequest<C>,
        option: RPCOption,
    ) -> Result<TransferLeaderResponse<C>, RPCError<C>> {
        match self.rpc(&RpcRequest::TransferLeader(req), &option).await? {
            RpcResponse::TransferLeader(r) => Ok(r),
            _ => Err(unexpected(self.target, "transfer-leader")),
        }
    }
}
