//! openraft's state machine trait over the document table and a
//! [`SnapshotStore`](crate::storage::SnapshotStore).

use super::snapshot_saver::SnapshotSaver;
use super::snapshot_store::{DynSnapshotStore, decode_meta, invalid};
use super::types::{C, LogId, Snapshot, SnapshotMeta, StoredMembership};
use crate::state::command::BatchReply;
use crate::state::doc_table::DocTable;
use crate::state::shared::{AppliedMark, SharedState};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use openraft::storage::{EntryResponder, RaftSnapshotBuilder, RaftStateMachine};
use openraft::{EntryPayload, OptionalSend};
use std::io;
use std::sync::Arc;

/// The applied position and membership, kept beside the table and updated under its lock.
#[derive(Clone, Debug, Default)]
struct AppliedMeta {
    last_applied: Option<LogId>,
    membership: StoredMembership,
}

/// The state machine openraft drives. Reads go to the [`SharedState`] directly.
pub(crate) struct StateMachineAdapter {
    shared: Arc<SharedState>,
    meta: Arc<std::sync::Mutex<AppliedMeta>>,
    snapshots: Arc<SnapshotSaver>,
}

impl StateMachineAdapter {
    pub(crate) fn new(shared: Arc<SharedState>, snapshots: Arc<dyn DynSnapshotStore>) -> Self {
        StateMachineAdapter {
            shared,
            meta: Arc::default(),
            snapshots: Arc::new(SnapshotSaver::new(snapshots)),
        }
    }

    fn meta(&self) -> std::sync::MutexGuard<'_, AppliedMeta> {
        // The meta is replaced by single assignments; a poisoned lock still holds a whole value.
        self.meta
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for StateMachineAdapter {
    /// openraft drops the state machine when its worker ends: the Raft core stopped (shut down,
    /// or failed), so nothing will be applied any more.
    fn drop(&mut self) {
        self.shared.close();
    }
}

impl RaftStateMachine<C> for StateMachineAdapter {
    type SnapshotData = Bytes;
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), io::Error> {
        let meta = self.meta().clone();
        Ok((meta.last_applied, meta.membership))
    }

    async fn apply<Strm>(&mut self, mut entries: Strm) -> Result<(), io::Error>
    where
        Strm: Stream<Item = Result<EntryResponder<C>, io::Error>> + Unpin + OptionalSend,
    {
        while let Some(item) = entries.next().await {
            let (entry, responder) = item?;
            let mut reply = BatchReply::default();
            let revision = {
                let mut table = self.shared.write();
                if let EntryPayload::Normal(batch) = &entry.payload {
                    let index = entry.log_id.index;
                    if responder.is_some() {
                        reply.replies = batch
                            .txns
                            .iter()
                            .map(|t| table.apply_request(index, t))
                            .collect();
                    } else {
                        // Nobody waits for this entry's answers (a follower's entry): build none.
                        for t in batch.txns.iter() {
                            table.apply_unanswered(index, t);
                        }
                    }
                }
                let mut meta = self.meta();
                if let EntryPayload::Membership(m) = &entry.payload {
                    meta.membership = StoredMembership::new(Some(entry.log_id), m.clone());
                }
                meta.last_applied = Some(entry.log_id);
                table.revision()
            };
            self.shared.publish(AppliedMark {
                index: entry.log_id.index,
                revision,
            });
            if let Some(responder) = responder {
                responder.send(reply);
            }
        }
        Ok(())
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        SnapshotBuilder {
            shared: self.shared.clone(),
            meta: self.meta.clone(),
            snapshots: self.snapshots.clone(),
        }
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Bytes,
    ) -> Result<(), io::Error> {
        let table = DocTable::decode_snapshot(&snapshot, self.shared.history_changes())
            .map_err(|e| invalid("cannot decode snapshot", e))?;
        // Durable first: if saving fails the state machine is untouched. The saver skips the
        // save when the store already holds this snapshot or a newer one (the restore at startup
        // installs the stored snapshot again).
        self.snapshots.save(meta, snapshot).await?;
        let revision = table.revision();
        {
            let mut current = self.shared.write();
            *current = table;
            let mut m = self.meta();
            m.last_applied = meta.last_log_id;
            m.membership = meta.last_membership.clone();
        }
        self.shared.publish(AppliedMark {
            index: meta.last_log_id.map_or(0, |l| l.index),
            revision,
        });
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot>, io::Error> {
        match self
            .snapshots
            .store()
            .load_dyn()
            .await
            .map_err(io::Error::other)?
        {
            None => Ok(None),
            Some(stored) => Ok(Some(Snapshot {
                meta: decode_meta(&stored.meta)?,
                snapshot: stored.data,
            })),
        }
    }
}

/// Builds a snapshot of the table as it is when building starts, and saves it.
pub(crate) struct SnapshotBuilder {
    shared: Arc<SharedState>,
    meta: Arc<std::sync::Mutex<AppliedMeta>>,
    snapshots: Arc<SnapshotSaver>,
}

impl RaftSnapshotBuilder<C> for SnapshotBuilder {
    type SnapshotData = Bytes;

    async fn build_snapshot(&mut self) -> Result<Snapshot, io::Error> {
        let (view, applied) = {
            let table = self.shared.read();
            let applied = self
                .meta
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            (table.snapshot_view(), applied)
        };
        // Encode off the lock and off the async workers, at a lower priority: applies go on
        // meanwhile (inline in a seeded simulation, where a thread's timing would make the run
        // unrepeatable).
        let started = std::time::Instant::now();
        let data = super::runtime::StoreRuntime::run_background("snapshot", move || view.encode())
            .await
            .map_err(|e| invalid("snapshot encoder failed", e))?
            .map_err(|e| invalid("cannot encode snapshot", e))?;
        let data = Bytes::from(data);
        let meta = SnapshotMeta {
            last_log_id: applied.last_applied,
            last_membership: applied.membership,
        };
        // Not saved when an install or a faster build already saved this point or a later one:
        // the saved snapshot never goes backwards (openraft ignores a built snapshot older than
        // the one it holds).
        let encoded = started.elapsed();
        self.snapshots.save(&meta, data.clone()).await?;
        tracing::debug!(
            bytes = data.len(),
            encode_ms = encoded.as_millis() as u64,
            save_ms = (started.elapsed() - encoded).as_millis() as u64,
            "snapshot built"
        );
        Ok(Snapshot {
            meta,
            snapshot: data,
        })
    }
}
