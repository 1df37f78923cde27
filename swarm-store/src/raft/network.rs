//! openraft's network traits over a byte-level [`Transport`].

use super::append_pipeline::{AppendCall, AppendOutcome, AppendPipeline};
use super::entry_cache::EntryCache;
use super::runtime::StoreRuntime;
use super::types::{C, Snapshot, Vote};
use super::wire::{APPEND_ENTRIES_TAG, RpcRequest, RpcResponse, SnapshotChunk};
use crate::blob::Blob;
use crate::transport::{MAX_FRAME_BYTES, MemberId, Transport, TransportError};
use bytes::Bytes;
use futures::Stream;
use openraft::errors::{NetworkError, RPCError, ReplicationClosed, StreamingError, Unreachable};
use openraft::network::{RPCOption, RaftNetworkFactory, RaftNetworkV2};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, TransferLeaderRequest,
    TransferLeaderResponse, VoteRequest, VoteResponse,
};
use openraft::{BasicNode, OptionalSend};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
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
    call_encoded(transport, to, Bytes::from(bytes), timeout).await
}

/// [`call`] with the request already encoded.
async fn call_encoded(
    transport: &dyn DynTransport,
    to: MemberId,
    request: Bytes,
    timeout: Duration,
) -> Result<RpcResponse, CallError> {
    let fut = transport.call_dyn(to, request, timeout);
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

/// Encodes `RpcRequest::AppendEntries(rpc)` exactly as postcard would, but writes each entry
/// the log adapter's cache holds as the record payload it was already encoded into (a record's
/// payload is the postcard encoding of its entry, the same bytes the message carries), so an
/// entry is encoded once on the leader, not once more per follower.
fn encode_append_entries(
    rpc: &AppendEntriesRequest<C>,
    cache: &Mutex<EntryCache>,
) -> Result<Bytes, CallError> {
    let encoded: Vec<Bytes> = {
        let cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
        rpc.entries
            .iter()
            .map(|entry| match cache.encoded(entry) {
                Some(bytes) => Ok(bytes),
                None => postcard::to_allocvec(entry).map(Bytes::from),
            })
            .collect::<Result<_, _>>()
            .map_err(CallError::Encode)?
    };
    let head = postcard::experimental::serialized_size(&rpc.vote).map_err(CallError::Encode)?
        + postcard::experimental::serialized_size(&rpc.prev_log_id).map_err(CallError::Encode)?
        + postcard::experimental::serialized_size(&rpc.entries.len()).map_err(CallError::Encode)?;
    let tail =
        postcard::experimental::serialized_size(&rpc.leader_commit).map_err(CallError::Encode)?;
    let body: usize = encoded.iter().map(Bytes::len).sum();
    let mut out = Vec::with_capacity(1 + head + body + tail);
    out.push(APPEND_ENTRIES_TAG);
    // A postcard struct is its fields in declaration order; a sequence is its length (varint)
    // and then its elements.
    let mut out = postcard::to_extend(&rpc.vote, out).map_err(CallError::Encode)?;
    out = postcard::to_extend(&rpc.prev_log_id, out).map_err(CallError::Encode)?;
    out = postcard::to_extend(&rpc.entries.len(), out).map_err(CallError::Encode)?;
    for bytes in &encoded {
        out.extend_from_slice(bytes);
    }
    out = postcard::to_extend(&rpc.leader_commit, out).map_err(CallError::Encode)?;
    Ok(Bytes::from(out))
}

/// Sends one AppendEntries to `target` within `timeout`. The request is encoded before the
/// returned future is first polled (so requests are queued in the order they were made); the
/// future owns what it needs.
fn send_append_entries(
    transport: Arc<dyn DynTransport>,
    target: MemberId,
    cache: &Mutex<EntryCache>,
    rpc: AppendEntriesRequest<C>,
    timeout: Duration,
) -> AppendCall {
    let request = encode_append_entries(&rpc, cache);
    drop(rpc);
    Box::pin(async move {
        let request = request.map_err(rpc_error)?;
        let response = call_encoded(transport.as_ref(), target, request, timeout)
            .await
            .map_err(rpc_error)?;
        match response {
            RpcResponse::AppendEntries(r) => Ok(r),
            _ => Err(unexpected(target, "append-entries")),
        }
    })
}

/// Creates a [`PeerNetwork`] per target member.
pub(crate) struct NetworkFactory {
    transport: Arc<dyn DynTransport>,
    transfer_seq: Arc<AtomicU64>,
    /// The log adapter's entries, encoded and decoded.
    cache: Arc<Mutex<EntryCache>>,
    /// AppendEntries kept unanswered per follower (`StoreConfig::max_appends_in_flight`).
    max_appends_in_flight: usize,
    /// How long a commit notice is held (`StoreConfig::commit_notice_hold_ms`).
    commit_notice_hold: Duration,
}

impl NetworkFactory {
    /// A factory sending through `transport`. Call it where openraft's randomness is seeded for
    /// this member (see [`StoreRuntime::seeded`]), if it is.
    pub(crate) fn new(
        transport: Arc<dyn DynTransport>,
        cache: Arc<Mutex<EntryCache>>,
        max_appends_in_flight: usize,
        commit_notice_hold: Duration,
    ) -> Self {
        // Transfer ids only need to differ between the transfers of this sender; starting at a
        // random point keeps a restarted sender from reusing a receiver's in-progress id. The
        // draw comes from the Raft runtime, so a seeded simulation replays it.
        let start = StoreRuntime::random_u64();
        NetworkFactory {
            transport,
            transfer_seq: Arc::new(AtomicU64::new(start)),
            cache,
            max_appends_in_flight,
            commit_notice_hold,
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
            cache: self.cache.clone(),
            max_appends_in_flight: self.max_appends_in_flight,
            commit_notice_hold: self.commit_notice_hold,
        }
    }
}

/// Raft RPCs to one member.
pub(crate) struct PeerNetwork {
    transport: Arc<dyn DynTransport>,
    target: MemberId,
    transfer_seq: Arc<AtomicU64>,
    cache: Arc<Mutex<EntryCache>>,
    max_appends_in_flight: usize,
    commit_notice_hold: Duration,
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
        send_append_entries(
            self.transport.clone(),
            self.target,
            &self.cache,
            rpc,
            option.hard_ttl(),
        )
        .await
    }

    /// Pipelined ([`AppendPipeline`]): each request goes out as openraft makes it, up to
    /// `StoreConfig::max_appends_in_flight` unanswered, instead of openraft's default of one
    /// round trip at a time.
    fn stream_append<'s, S>(
        &'s mut self,
        input: S,
        option: RPCOption,
    ) -> openraft::base::BoxFuture<
        's,
        Result<openraft::base::BoxStream<'s, AppendOutcome>, RPCError<C>>,
    >
    where
        S: Stream<Item = AppendEntriesRequest<C>> + OptionalSend + Unpin + 'static,
    {
        let transport = self.transport.clone();
        let cache = self.cache.clone();
        let target = self.target;
        let timeout = option.hard_ttl();
        // Encoded when openraft hands the request over, so requests are queued in its order.
        let send = move |rpc: AppendEntriesRequest<C>| {
            send_append_entries(transport.clone(), target, &cache, rpc, timeout)
        };
        let responses: openraft::base::BoxStream<'s, AppendOutcome> =
            Box::pin(AppendPipeline::new(
                input,
                send,
                self.max_appends_in_flight,
                self.commit_notice_hold,
            ));
        Box::pin(std::future::ready(Ok(responses)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::log_store::encode_entry;
    use crate::raft::test_entries::batch_entry;
    use crate::raft::types::{Entry, log_id};

    fn request(entries: Vec<Entry>) -> AppendEntriesRequest<C> {
        AppendEntriesRequest {
            vote: Vote::new_committed(4, 2),
            prev_log_id: Some(log_id(4, 20)),
            entries,
            leader_commit: Some(log_id(4, 19)),
        }
    }

    #[test]
    fn append_entries_are_encoded_exactly_as_postcard_does() {
        let cache = Mutex::new(EntryCache::default());
        let cached = batch_entry(4, 21);
        cache.lock().expect("lock").insert(
            encode_entry(&cached).expect("encode").payload,
            cached.clone(),
        );
        let blank = openraft::Entry {
            log_id: log_id(4, 23),
            payload: openraft::EntryPayload::Blank,
        };
        for entries in [
            vec![],
            vec![cached.clone()],
            vec![cached, batch_entry(4, 22), blank],
        ] {
            let rpc = request(entries);
            let ours = encode_append_entries(&rpc, &cache).expect("encode");
            let theirs = postcard::to_allocvec(&RpcRequest::AppendEntries(rpc)).expect("encode");
            assert_eq!(&ours[..], &theirs[..]);
        }
    }

    #[test]
    fn a_cached_entry_is_written_from_its_record_not_encoded_again() {
        let cache = Mutex::new(EntryCache::default());
        let e = batch_entry(4, 21);
        // Bytes only the cache can have put there.
        let marker = Bytes::from_static(b"the record's own bytes");
        cache
            .lock()
            .expect("lock")
            .insert(marker.clone(), e.clone());
        let message = encode_append_entries(&request(vec![e]), &cache).expect("encode");
        assert!(message.windows(marker.len()).any(|w| w == &marker[..]));
    }
}
