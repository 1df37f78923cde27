//! Receiving a chunked snapshot: each chunk goes through the [`SnapshotInbox`], the whole
//! image is installed when the last one arrives, and an abandoned transfer is swept once idle.

use super::Member;
use super::snapshot_inbox::{ChunkIn, ChunkStored, SNAPSHOT_TRANSFER_IDLE_MIN, SnapshotInbox};
use crate::config::StoreConfig;
use crate::raft::types::Snapshot;
use crate::raft::wire::{RpcResponse, SnapshotChunk};
use crate::transport::MemberId;
use bytes::Bytes;
use openraft::async_runtime::WatchReceiver;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The shortest per-chunk timeout a snapshot sender uses (openraft's
/// `install_snapshot_timeout`, set by `Store::open` to the larger of this and the request
/// timeout).
pub(crate) const SNAPSHOT_CHUNK_TIMEOUT_MIN_MS: u64 = 10_000;

/// How long a snapshot transfer may go without a chunk before its buffer is dropped: the
/// larger of [`SNAPSHOT_TRANSFER_IDLE_MIN`] and twice the sender's per-chunk timeout.
pub(super) fn snapshot_idle_timeout(config: &StoreConfig) -> Duration {
    let chunk_ms = config.request_timeout_ms.max(SNAPSHOT_CHUNK_TIMEOUT_MIN_MS);
    Duration::from_millis(chunk_ms.saturating_mul(2)).max(SNAPSHOT_TRANSFER_IDLE_MIN)
}

/// Drops an abandoned snapshot transfer once it is idle past the timeout, waking when a
/// transfer starts; ends when the member is dropped.
pub(super) async fn sweep_idle_transfers(
    inbox: std::sync::Weak<Mutex<SnapshotInbox>>,
    wake: Arc<Notify>,
) {
    loop {
        let deadline = {
            let Some(inbox) = inbox.upgrade() else {
                return;
            };
            let guard = inbox
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            guard.idle_deadline()
        };
        match deadline {
            Some(deadline) => {
                tokio::select! {
                    () = tokio::time::sleep_until(Instant::from_std(deadline)) => {}
                    () = wake.notified() => {}
                }
            }
            None => wake.notified().await,
        }
        let Some(inbox) = inbox.upgrade() else {
            return;
        };
        let dropped = inbox
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .expire(Instant::now().into_std());
        if let Some(from) = dropped {
            tracing::warn!(%from, "snapshot transfer idle past the timeout; buffer dropped");
        }
    }
}

impl Member {
    /// Stores one snapshot chunk; installs the snapshot when the last one arrives. The
    /// [`SnapshotInbox`] decides what is accepted (vote, size, one transfer at a time).
    pub(super) async fn snapshot_chunk(
        &self,
        from: MemberId,
        chunk: SnapshotChunk,
    ) -> Result<RpcResponse, String> {
        let ours = self.raft.metrics().borrow_watched().vote;
        let stored = {
            let mut inbox = self
                .inbox
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let was_idle = inbox.idle_deadline().is_none();
            let stored = inbox
                .receive(
                    from,
                    ChunkIn {
                        vote: chunk.vote,
                        meta: &chunk.meta,
                        transfer_id: chunk.transfer_id,
                        offset: chunk.offset,
                        total_bytes: chunk.total_bytes,
                        data: &chunk.data.0,
                    },
                    &ours,
                    Instant::now().into_std(),
                )
                .map_err(|e| e.to_string())?;
            if was_idle && inbox.idle_deadline().is_some() {
                self.inbox_wake.notify_one();
            }
            stored
        };
        match stored {
            ChunkStored::Partial => Ok(RpcResponse::SnapshotChunkStored),
            ChunkStored::Complete(buf) => {
                let snapshot = Snapshot {
                    meta: chunk.meta,
                    snapshot: Bytes::from(buf),
                };
                self.raft
                    .install_full_snapshot(chunk.vote, snapshot)
                    .await
                    .map(RpcResponse::SnapshotInstalled)
                    .map_err(|e| e.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::start;
    use crate::raft::wire::{RpcRequest, RpcResponse, SnapshotChunk};
    use crate::testkit::inproc::InProcNetwork;
    use crate::transport::MemberId;
    use bytes::Bytes;
    use openraft::async_runtime::WatchReceiver;

    /// A snapshot chunk is checked against this member's vote before anything is buffered.
    /// Before, a first chunk from any sender was accepted and buffered whatever its vote.
    #[tokio::test]
    async fn a_snapshot_chunk_from_a_stale_leader_is_refused_before_buffering() {
        let net = InProcNetwork::new(5);
        let one = start(&net, 1).await;
        one.bootstrap().await.expect("bootstrap");
        // Member 7 is a learner (never started): only members may send chunks at all.
        one.add_learner(MemberId(7), "member-7")
            .await
            .expect("add 7");
        let ours = one.member.raft.metrics().borrow_watched().vote;
        let chunk = |vote| {
            RpcRequest::SnapshotChunk(SnapshotChunk {
                vote,
                meta: crate::raft::types::SnapshotMeta::default(),
                transfer_id: 1,
                offset: 0,
                total_bytes: 8,
                data: crate::blob::Blob(Bytes::from_static(b"abcd")),
            })
        };
        // A deposed leader of an older term (member 7 led term 0).
        let stale = crate::raft::types::Vote::new_committed(0, 7);
        assert!(stale < ours);
        let e = match one.member.handle(MemberId(7), chunk(stale)).await {
            Err(e) => e,
            Ok(_) => panic!("a stale leader's chunk was stored"),
        };
        assert!(e.contains("member-7") && e.contains("older"), "{e}");
        let buffered = one
            .member
            .inbox
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .buffered_bytes();
        assert_eq!(buffered, 0);
        // A leader with this member's own (current) vote may start one.
        let started = one.member.handle(MemberId(1), chunk(ours)).await;
        assert!(matches!(started, Ok(RpcResponse::SnapshotChunkStored)));
    }
}
