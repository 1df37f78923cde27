//! Documents by collection and key, each with a version, plus the store's global revision.

use super::command::{OpKind, TxnAnswer, TxnApplied, TxnRejected, TxnRequest};
use super::dedup::{DedupCheck, DedupTable};
use super::doc::{Doc, Docs};
use super::history::{Change, History};
use super::snapshot_format::{SnapshotDecodeError, SnapshotView, decode_image};
use crate::txn::Precondition;
use std::collections::{BTreeMap, HashMap};

/// The state machine's data.
///
/// Collections are kept in shared copy-on-write pages
/// ([`PagedMap`](super::paged_map::PagedMap)), so a snapshot takes a consistent view in
/// O(pages) under the lock and encodes it outside; a write afterwards copies at most one page.
#[derive(Debug)]
pub(crate) struct DocTable {
    collections: BTreeMap<String, Docs>,
    revision: u64,
    history: History,
    /// The replies of recently applied request ids.
    dedup: DedupTable,
}

impl DocTable {
    /// An empty table keeping up to `history_changes` recent changes for watches.
    pub(crate) fn new(history_changes: usize) -> Self {
        DocTable {
            collections: BTreeMap::new(),
            revision: 0,
            history: History::new(history_changes, 0),
            dedup: DedupTable::default(),
        }
    }

    /// The revision of the last change.
    pub(crate) fn revision(&self) -> u64 {
        self.revision
    }

    /// The change history.
    pub(crate) fn history(&self) -> &History {
        &self.history
    }

    /// Number of documents (all collections).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.collections.values().map(|d| d.len()).sum()
    }

    /// The document at `collection`/`key`.
    pub(crate) fn get(&self, collection: &str, key: &str) -> Option<&Doc> {
        self.collections.get(collection)?.get(key)
    }

    /// Documents of `collection` whose key starts with `prefix`, in key order.
    pub(crate) fn list<'a>(
        &'a self,
        collection: &str,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a Doc)> + 'a {
        self.collections
            .get(collection)
            .into_iter()
            .flat_map(move |docs| {
                docs.range_from(prefix)
                    .take_while(move |(k, _)| k.starts_with(prefix))
            })
    }

    /// Applies a client's transaction, found in the log entry at `index`, at most once per
    /// request id: a transaction whose id applied before is not applied again and gets the
    /// recorded reply; one whose outcome the table no longer knows (below its origin's window,
    /// or applied with its reply evicted) is not applied ([`TxnAnswer::Expired`]). Deterministic: depends only on the table and the arguments.
    pub(crate) fn apply_request(&mut self, index: u64, txn: &TxnRequest) -> TxnAnswer {
        match self.dedup.check(&txn.id) {
            DedupCheck::Duplicate(reply) => TxnAnswer::Reply(reply),
            // Not applied now; whether an earlier copy applied is unknown (expired) or its
            // outcome is (forgotten): either way the caller must read back.
            DedupCheck::Expired | DedupCheck::Forgotten => TxnAnswer::Expired(txn.id),
            DedupCheck::New => {
                let reply = self.apply_txn(txn);
                self.dedup.record(txn.id, index, reply.clone());
                TxnAnswer::Reply(reply)
            }
        }
    }

    /// Applies a transaction as [`DocTable::apply_request`] does, for an entry no caller waits
    /// on (every follower's, and a leader's own without a responder): the table ends in the
    /// same state and the reply is recorded for deduplication, but none is copied out.
    pub(crate) fn apply_unanswered(&mut self, index: u64, txn: &TxnRequest) {
        if let DedupCheck::New = self.dedup.check(&txn.id) {
            let reply = self.apply_txn(txn);
            self.dedup.record(txn.id, index, reply);
        }
    }

    /// Applies a transaction (without deduplication): checks every precondition against the state as the earlier
    /// operations of the same transaction leave it, then applies all operations or none.
    fn apply_txn(&mut self, txn: &TxnRequest) -> Result<TxnApplied, TxnRejected> {
        // Check phase, against an overlay of the transaction's own effects.
        let mut overlay: HashMap<(&str, &str), Option<u64>> = HashMap::new();
        let mut changes = false;
        for (op_index, op) in txn.ops.iter().enumerate() {
            let slot = (op.collection.as_str(), op.key.as_str());
            let last = op_index + 1 == txn.ops.len();
            let current = match overlay.get(&slot) {
                Some(v) => *v,
                // The last operation's version is read only for its precondition (no later
                // operation reads the overlay) and is read again when it applies: an
                // unconditional write (most puts) skips the lookup here.
                None if last && op.precondition == Precondition::Any => None,
                None => self.get(&op.collection, &op.key).map(|d| d.version),
            };
            if !op.precondition.holds(current) {
                return Err(TxnRejected {
                    op_index,
                    collection: op.collection.clone(),
                    key: op.key.clone(),
                    expected: op.precondition,
                    actual: current,
                });
            }
            let after = match &op.kind {
                OpKind::Put(_) => {
                    changes = true;
                    Some(current.map_or(1, |v| v + 1))
                }
                OpKind::Delete => {
                    // An unconditional last delete was not looked up above.
                    changes |=
                        current.is_some() || (last && self.get(&op.collection, &op.key).is_some());
                    None
                }
                OpKind::Check => current,
            };
            // Only a later operation reads the overlay: a one-operation transaction (most
            // writes) allocates none.
            if !last {
                overlay.insert(slot, after);
            }
        }
        // Apply phase: cannot fail.
        let revision = if changes {
            self.revision + 1
        } else {
            self.revision
        };
        let mut versions = Vec::with_capacity(txn.ops.len());
        for (op_index, op) in (0u32..).zip(&txn.ops) {
            match &op.kind {
                OpKind::Put(value) => {
                    // Look the collection up by reference: its name is copied only when the
                    // collection is new.
                    let docs = match self.collections.get_mut(op.collection.as_str()) {
                        Some(docs) => docs,
                        None => self.collections.entry(op.collection.clone()).or_default(),
                    };
                    let mut version = 1;
                    docs.upsert(&op.key, |old| {
                        let create_revision = match old {
                            Some(d) => {
                                version = d.version + 1;
                                d.create_revision
                            }
                            None => revision,
                        };
                        Doc {
                            value: value.clone(),
                            version,
                            create_revision,
                            mod_revision: revision,
                        }
                    });
                    self.history.push(Change {
                        revision,
                        collection: op.collection.clone(),
                        key: op.key.clone(),
                        value: Some(value.clone()),
                        version,
                        op_index,
                    });
                    versions.push(Some(version));
                }
                OpKind::Delete => {
                    let removed = match self.collections.get_mut(&op.collection) {
                        Some(docs) => {
                            let removed = docs.remove(&op.key);
                            if docs.is_empty() {
                                self.collections.remove(&op.collection);
                            }
                            removed
                        }
                        None => None,
                    };
                    if let Some(doc) = removed {
                        self.history.push(Change {
                            revision,
                            collection: op.collection.clone(),
                            key: op.key.clone(),
                            value: None,
                            version: doc.version,
                            op_index,
                        });
                    }
                    versions.push(None);
                }
                OpKind::Check => {
                    versions.push(self.get(&op.collection, &op.key).map(|d| d.version));
                }
            }
        }
        self.revision = revision;
        Ok(TxnApplied { revision, versions })
    }

    /// A consistent view of the documents and revision, cheap to take under the lock.
    pub(crate) fn snapshot_view(&self) -> SnapshotView {
        SnapshotView {
            revision: self.revision,
            collections: self.collections.clone(),
            dedup: self.dedup.clone(),
        }
    }

    /// Rebuilds a table from a snapshot image: the current format ([`SnapshotView::encode`])
    /// or an older one, each decoded explicitly ([`SnapshotFormat`]); nothing in the image is
    /// ever dropped silently. The history starts empty at the snapshot's revision.
    ///
    /// [`SnapshotFormat`]: super::snapshot_format::SnapshotFormat
    pub(crate) fn decode_snapshot(
        bytes: &[u8],
        history_changes: usize,
    ) -> Result<Self, SnapshotDecodeError> {
        let (format, revision, collections, dedup) = decode_image(bytes)?;
        dedup.validate().map_err(SnapshotDecodeError::DedupTable)?;
        tracing::debug!(?format, revision, "snapshot image decoded");
        Ok(DocTable {
            collections,
            revision,
            history: History::new(history_changes, revision),
            dedup,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blob::Blob;
    use crate::state::command::{RequestId, TxnOp, TxnOrigin};
    use crate::txn::Precondition;
    use bytes::Bytes;

    fn put(key: &str, v: &str, pre: Precondition) -> TxnOp {
        TxnOp {
            collection: "c".into(),
            key: key.into(),
            precondition: pre,
            kind: OpKind::Put(Blob(Bytes::copy_from_slice(v.as_bytes()))),
        }
    }

    fn del(key: &str, pre: Precondition) -> TxnOp {
        TxnOp {
            collection: "c".into(),
            key: key.into(),
            precondition: pre,
            kind: OpKind::Delete,
        }
    }

    fn txn(ops: Vec<TxnOp>) -> TxnRequest {
        txn_id(1, ops)
    }

    fn txn_id(seq: u64, ops: Vec<TxnOp>) -> TxnRequest {
        TxnRequest {
            id: RequestId {
                origin: TxnOrigin {
                    member: 1,
                    incarnation: 42,
                },
                seq,
            },
            ops,
        }
    }

    #[test]
    fn create_update_delete_with_versions_and_revisions() {
        let mut t = DocTable::new(100);
        let a = t
            .apply_txn(&txn(vec![put("a", "1", Precondition::Absent)]))
            .expect("create");
        assert_eq!((a.revision, a.versions.clone()), (1, vec![Some(1)]));
        let err = t
            .apply_txn(&txn(vec![put("a", "x", Precondition::Absent)]))
            .expect_err("exists");
        assert_eq!(err.actual, Some(1));
        let b = t
            .apply_txn(&txn(vec![put("a", "2", Precondition::Version(1))]))
            .expect("cas");
        assert_eq!((b.revision, b.versions), (2, vec![Some(2)]));
        let err = t
            .apply_txn(&txn(vec![put("a", "3", Precondition::Version(1))]))
            .expect_err("stale");
        assert_eq!(
            (err.expected, err.actual),
            (Precondition::Version(1), Some(2))
        );
        let d = t
            .apply_txn(&txn(vec![del("a", Precondition::Version(2))]))
            .expect("delete");
        assert_eq!(d.revision, 3);
        assert!(t.get("c", "a").is_none());
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn unconditional_writes_count_versions_and_revisions_as_conditional_ones() {
        // The last operation of a transaction with no precondition is not looked up before it
        // applies: its version, creation revision and the revision must not change for it.
        let mut t = DocTable::new(100);
        let a = t
            .apply_txn(&txn(vec![put("a", "1", Precondition::Any)]))
            .expect("create");
        assert_eq!((a.revision, a.versions), (1, vec![Some(1)]));
        let b = t
            .apply_txn(&txn(vec![put("a", "2", Precondition::Any)]))
            .expect("replace");
        assert_eq!((b.revision, b.versions), (2, vec![Some(2)]));
        let doc = t.get("c", "a").expect("a");
        assert_eq!((doc.create_revision, doc.mod_revision), (1, 2));
        let none = t
            .apply_txn(&txn(vec![del("b", Precondition::Any)]))
            .expect("delete of nothing");
        assert_eq!(none.revision, 2, "deleting nothing makes no revision");
        let gone = t
            .apply_txn(&txn(vec![
                put("b", "1", Precondition::Any),
                del("a", Precondition::Any),
            ]))
            .expect("put then delete");
        assert_eq!((gone.revision, gone.versions), (3, vec![Some(1), None]));
        assert!(t.get("c", "a").is_none());
        let only = t
            .apply_txn(&txn(vec![del("b", Precondition::Any)]))
            .expect("delete");
        assert_eq!(only.revision, 4, "deleting a document makes a revision");
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn txn_is_all_or_nothing_and_sees_its_own_writes() {
        let mut t = DocTable::new(100);
        t.apply_txn(&txn(vec![put("a", "1", Precondition::Absent)]))
            .expect("create");
        let err = t
            .apply_txn(&txn(vec![
                put("b", "1", Precondition::Absent),
                put("a", "2", Precondition::Version(7)),
            ]))
            .expect_err("second op fails");
        assert_eq!(err.op_index, 1);
        assert!(t.get("c", "b").is_none(), "first op must not apply");
        assert_eq!(t.revision(), 1);
        let ok = t
            .apply_txn(&txn(vec![
                put("b", "1", Precondition::Absent),
                put("b", "2", Precondition::Version(1)),
                del("a", Precondition::Exists),
            ]))
            .expect("own writes visible");
        assert_eq!(ok.versions, vec![Some(1), Some(2), None]);
        assert_eq!(t.get("c", "b").map(|d| d.version), Some(2));
        assert_eq!(t.revision(), 2);
    }

    #[test]
    fn list_by_prefix_and_snapshot_round_trip() {
        let mut t = DocTable::new(100);
        for k in ["app/1", "app/2", "apq", "b"] {
            t.apply_txn(&txn(vec![put(k, k, Precondition::Any)]))
                .expect("put");
        }
        let keys: Vec<_> = t.list("c", "app/").map(|(k, _)| k.clone()).collect();
        assert_eq!(keys, vec!["app/1", "app/2"]);
        assert_eq!(t.list("missing", "").count(), 0);
        let view = t.snapshot_view();
        // Writes after the view do not change it.
        t.apply_txn(&txn(vec![put("late", "x", Precondition::Any)]))
            .expect("put");
        let bytes = view.encode().expect("encode");
        let u = DocTable::decode_snapshot(&bytes, 100).expect("decode");
        assert_eq!(u.revision(), 4);
        assert_eq!(u.get("c", "apq"), t.get("c", "apq"));
        assert!(u.get("c", "late").is_none());
        assert!(t.get("c", "late").is_some());
        assert_eq!(u.history().floor(), 4);
    }
}

#[cfg(test)]
mod dedup_tests {
    use super::*;
    use crate::blob::Blob;
    use crate::state::command::{RequestId, TxnOp, TxnOrigin, TxnReply};
    use crate::state::snapshot_format::{CollectionsRef, SNAPSHOT_MAGIC, SnapshotFormat};
    use crate::txn::Precondition;
    use bytes::Bytes;
    use serde::Serialize;

    fn request(seq: u64, key: &str, v: &str, pre: Precondition) -> TxnRequest {
        TxnRequest {
            id: RequestId {
                origin: TxnOrigin {
                    member: 3,
                    incarnation: 0xfeed,
                },
                seq,
            },
            ops: vec![TxnOp {
                collection: "c".into(),
                key: key.into(),
                precondition: pre,
                kind: OpKind::Put(Blob(Bytes::copy_from_slice(v.as_bytes()))),
            }],
        }
    }

    fn reply(answer: TxnAnswer) -> TxnReply {
        match answer {
            TxnAnswer::Reply(r) => r,
            TxnAnswer::Expired(id) => panic!("{id} expired"),
        }
    }

    #[test]
    fn the_same_request_id_applies_once_and_gets_the_first_reply() {
        let mut t = DocTable::new(100);
        let blind = request(1, "k", "a", Precondition::Any);
        let first = reply(t.apply_request(10, &blind)).expect("applies");
        assert_eq!((first.revision, first.versions.clone()), (1, vec![Some(1)]));
        // Another write in between, then the duplicate of the first arrives late.
        let cas = reply(t.apply_request(11, &request(2, "k", "b", Precondition::Version(1))))
            .expect("cas applies");
        assert_eq!(cas.revision, 2);
        let again = reply(t.apply_request(12, &blind)).expect("recorded reply");
        assert_eq!(again, first, "the duplicate gets the first reply");
        assert_eq!(t.revision(), 2, "revision unchanged by the duplicate");
        let doc = t.get("c", "k").expect("doc");
        assert_eq!((doc.version, &doc.value.0[..]), (2, &b"b"[..]));
        // One watch event per applied write: the duplicate added none.
        let (events, _) = t
            .history()
            .since(0, t.revision(), 100, |_| true)
            .expect("history");
        assert_eq!(events.len(), 2, "{events:?}");
        // A refused transaction's refusal is recorded too: a retry does not apply it later.
        let stale = request(3, "k", "c", Precondition::Version(1));
        let refused = reply(t.apply_request(13, &stale)).expect_err("stale cas");
        assert_eq!(refused.actual, Some(2));
        t.apply_request(14, &request(4, "k", "d", Precondition::Any));
        assert_eq!(
            reply(t.apply_request(15, &request(3, "k", "c", Precondition::Version(3)))),
            Err(refused),
            "the same id gets its recorded refusal even if it would now succeed"
        );
        assert_eq!(t.get("c", "k").map(|d| d.version), Some(3));
    }

    /// A follower applies without answering: its table (documents, revision, dedup table,
    /// watch history) must be the one a leader answering the same entries has.
    #[test]
    fn applying_unanswered_leaves_the_same_table_as_answering() {
        let entries = [
            request(1, "k", "a", Precondition::Any),
            request(2, "k", "b", Precondition::Version(1)),
            request(3, "k", "c", Precondition::Version(1)),
            request(1, "k", "a", Precondition::Any),
            request(4, "j", "d", Precondition::Absent),
        ];
        let mut answered = DocTable::new(100);
        let mut unanswered = DocTable::new(100);
        for (index, txn) in (10u64..).zip(&entries) {
            answered.apply_request(index, txn);
            unanswered.apply_unanswered(index, txn);
        }
        assert_eq!(unanswered.revision(), 3);
        assert_eq!(unanswered.dedup, answered.dedup);
        assert_eq!(
            unanswered.snapshot_view().encode().expect("encode"),
            answered.snapshot_view().encode().expect("encode")
        );
        let history = |t: &DocTable| t.history().since(0, t.revision(), 100, |_| true);
        assert_eq!(
            history(&unanswered).expect("history"),
            history(&answered).expect("history")
        );
        // The refusal was recorded too: a later copy gets it, not an application.
        let again = reply(unanswered.apply_request(20, &entries[2])).expect_err("refused");
        assert_eq!(again.actual, Some(2));
        assert_eq!(unanswered.revision(), 3);
    }

    #[test]
    fn snapshot_round_trip_keeps_the_dedup_table() {
        let mut t = DocTable::new(100);
        let w = request(1, "k", "a", Precondition::Any);
        let first = reply(t.apply_request(5, &w)).expect("applies");
        let bytes = t.snapshot_view().encode().expect("encode");
        let mut u = DocTable::decode_snapshot(&bytes, 100).expect("decode");
        assert_eq!(u.dedup, t.dedup);
        assert_eq!(
            reply(u.apply_request(6, &w)),
            Ok(first),
            "deduplicated after install"
        );
        assert_eq!(u.revision(), 1);
        let fresh = reply(u.apply_request(7, &request(2, "k", "b", Precondition::Any)));
        assert_eq!(fresh.expect("new id applies").revision, 2);
    }

    #[test]
    fn snapshots_written_before_the_dedup_table_still_load() {
        let mut t = DocTable::new(100);
        reply(t.apply_request(5, &request(1, "k", "a", Precondition::Any))).expect("applies");
        #[derive(Serialize)]
        struct OldImage<'a> {
            revision: u64,
            collections: CollectionsRef<'a>,
        }
        let old = postcard::to_allocvec(&OldImage {
            revision: t.revision,
            collections: CollectionsRef(&t.collections),
        })
        .expect("encode");
        let u = DocTable::decode_snapshot(&old, 100).expect("old format decodes");
        assert_eq!((u.revision(), u.get("c", "k")), (1, t.get("c", "k")));
        assert_eq!(u.dedup, DedupTable::default());
        let e = DocTable::decode_snapshot(&old[..old.len() - 1], 100).expect_err("truncated");
        assert!(
            matches!(e, SnapshotDecodeError::UnknownLegacy { .. }),
            "{e}"
        );
    }

    /// The format-1 image: revision, collections, then the first dedup table (per origin: last
    /// index, eviction mark, replies by sequence number).
    fn format1_image(t: &DocTable, replies: &[(u64, TxnReply)]) -> Vec<u8> {
        #[derive(Serialize)]
        struct Session<'a> {
            last_index: u64,
            evicted_through: u64,
            replies: BTreeMap<u64, &'a TxnReply>,
        }
        #[derive(Serialize)]
        struct Table<'a> {
            origins: BTreeMap<TxnOrigin, Session<'a>>,
        }
        #[derive(Serialize)]
        struct Image<'a> {
            revision: u64,
            collections: CollectionsRef<'a>,
            dedup: Table<'a>,
        }
        let origin = request(1, "k", "a", Precondition::Any).id.origin;
        postcard::to_allocvec(&Image {
            revision: t.revision,
            collections: CollectionsRef(&t.collections),
            dedup: Table {
                origins: BTreeMap::from([(
                    origin,
                    Session {
                        last_index: 5,
                        evicted_through: 0,
                        replies: replies.iter().map(|(s, r)| (*s, r)).collect(),
                    },
                )]),
            },
        })
        .expect("encode")
    }

    /// Before: a format-1 image whose dedup table did not decode as the current table fell
    /// back to the format-0 reading (postcard ignores trailing bytes) and loaded with an empty
    /// table, so a retried request applied twice after the install.
    #[test]
    fn format1_snapshots_keep_their_dedup_table_and_damaged_ones_are_refused() {
        let mut t = DocTable::new(100);
        let w = request(1, "k", "a", Precondition::Any);
        let first = reply(t.apply_request(5, &w)).expect("applies");
        let old = format1_image(&t, &[(1, Ok(first.clone()))]);
        let mut u = DocTable::decode_snapshot(&old, 100).expect("format 1 decodes");
        assert_eq!(
            reply(u.apply_request(6, &w)),
            Ok(first),
            "the table came through: the retry is deduplicated"
        );
        assert_eq!(u.revision(), 1, "not applied twice");
        // A damaged dedup table (cut short) is an error naming both legacy readings, never a
        // table silently dropped.
        let e = DocTable::decode_snapshot(&old[..old.len() - 2], 100).expect_err("damaged");
        assert!(
            matches!(e, SnapshotDecodeError::UnknownLegacy { .. }),
            "{e}"
        );
    }

    #[test]
    fn versioned_images_name_their_format_and_unknown_versions_are_refused() {
        let mut t = DocTable::new(100);
        reply(t.apply_request(5, &request(1, "k", "a", Precondition::Any))).expect("applies");
        let bytes = t.snapshot_view().encode().expect("encode");
        assert_eq!(bytes[..4], SNAPSHOT_MAGIC);
        let mut future = SNAPSHOT_MAGIC.to_vec();
        future.push(3);
        future.extend_from_slice(&bytes[5..]);
        let e = DocTable::decode_snapshot(&future, 100).expect_err("version 3");
        assert!(
            matches!(e, SnapshotDecodeError::UnsupportedVersion { found: 3 }),
            "{e}"
        );
        let mut trailing = bytes.clone();
        trailing.push(0);
        let e = DocTable::decode_snapshot(&trailing, 100).expect_err("trailing byte");
        assert!(
            matches!(
                e,
                SnapshotDecodeError::Malformed {
                    format: SnapshotFormat::V2,
                    ..
                }
            ),
            "{e}"
        );
    }
}
