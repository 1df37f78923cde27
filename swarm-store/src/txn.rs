//! Multi-operation transactions with per-operation preconditions.

use crate::blob::Blob;
use crate::collection::Collection;
use crate::error::StoreError;
use crate::request_ids::RequestIds;
use crate::state::command::{OpKind, RequestId, TxnOp, TxnRequest};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// The most operations one transaction may hold.
pub const MAX_TXN_OPS: usize = 256;
/// The longest collection name, in bytes.
pub const MAX_COLLECTION_BYTES: usize = 128;
/// The longest document key, in bytes.
pub const MAX_KEY_BYTES: usize = 512;
/// The largest encoded document, in bytes.
pub const MAX_VALUE_BYTES: usize = 256 * 1024;
/// The largest transaction, in bytes of its wire (postcard) encoding: operations, names, values
/// and request id together. The per-field limits alone would allow ~64 MiB
/// ([`MAX_TXN_OPS`] × [`MAX_VALUE_BYTES`]); this bound keeps any one transaction within one
/// Raft entry's byte budget ([`MAX_BATCH_BYTES_LIMIT`](crate::MAX_BATCH_BYTES_LIMIT)), so it
/// always fits an append-entries frame and can always be replicated.
pub const MAX_TXN_BYTES: usize = 1024 * 1024;

/// What must be true of a document for an operation to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Precondition {
    /// Nothing is required.
    Any,
    /// The document must not exist.
    Absent,
    /// The document must exist, at any version.
    Exists,
    /// The document must exist at exactly this version (compare-and-swap).
    Version(u64),
}

impl Precondition {
    /// Whether a document at `current` version (`None`: absent) satisfies this.
    pub fn holds(&self, current: Option<u64>) -> bool {
        match self {
            Precondition::Any => true,
            Precondition::Absent => current.is_none(),
            Precondition::Exists => current.is_some(),
            Precondition::Version(v) => current == Some(*v),
        }
    }
}

/// A transaction: every operation applies, or none does (when a precondition fails, the store is
/// unchanged and the error names the first failing operation's document).
///
/// Operations name their documents through a typed [`Collection`]: the value of a write must be
/// of the collection's document type, and the collection's name is the one it was opened with,
/// so a transaction cannot write a document of one type into another collection by a typo.
/// Operations see the effects of the earlier operations of the same transaction.
///
/// A `Txn` gets its request id the first time it is submitted ([`Store::submit`]) and keeps it:
/// submitting the same `Txn` again after an [`Indeterminate`](StoreError::Indeterminate) outcome
/// is the same request, applied at most once. Adding an operation gives it a new identity (a
/// fresh id at the next submission).
///
/// [`Store::submit`]: crate::Store::submit
///
/// ```no_run
/// # async fn demo(store: swarm_store::Store) -> Result<(), swarm_store::StoreError> {
/// use swarm_store::{Precondition, Txn};
/// let services = store.collection::<String>("services");
/// let nodes = store.collection::<u32>("nodes");
/// let txn = Txn::new()
///     .create(&services, "web", &"nginx".to_string())
///     .update(&services, "db", &"postgres".to_string(), 3)
///     .check(&nodes, "n1", Precondition::Exists);
/// assert_eq!(txn.len(), 3);
/// store.txn(txn).await?;
/// # Ok(()) }
/// ```
///
/// A value of another type than the collection's does not compile:
///
/// ```compile_fail
/// # fn demo(store: swarm_store::Store) {
/// let services = store.collection::<String>("services");
/// let _ = swarm_store::Txn::new().put(&services, "web", &42);
/// # }
/// ```
#[derive(Debug, Default)]
pub struct Txn {
    ops: Vec<TxnOp>,
    /// The first encoding failure: (collection, key, serde error).
    error: Option<(String, String, String)>,
    /// The request id, assigned at the first submission and kept for retries.
    id: OnceLock<RequestId>,
}

/// The result of a committed transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnOutcome {
    /// The store revision after the transaction (the same as before if it changed nothing).
    pub revision: u64,
    /// For each operation, in order: the document's version after it (`None`: absent).
    pub versions: Vec<Option<u64>>,
}

impl Txn {
    /// An empty transaction.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the transaction has no operation.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Bytes of the operations' collection names, keys and values: within a few bytes per
    /// operation of the encoded size that [`MAX_TXN_BYTES`] bounds, so a caller splitting a
    /// large change into transactions can keep each below the limit.
    pub fn payload_bytes(&self) -> usize {
        self.ops
            .iter()
            .map(|op| {
                let value = match &op.kind {
                    OpKind::Put(blob) => blob.0.len(),
                    OpKind::Delete | OpKind::Check => 0,
                };
                op.collection.len() + op.key.len() + value
            })
            .sum()
    }

    /// Appends the operations of `other` after this one's (one transaction: all apply or
    /// none). The first encoding failure of either is kept.
    ///
    /// ```
    /// use swarm_store::Txn;
    /// # fn demo(store: swarm_store::Store) {
    /// let services = store.collection::<String>("services");
    /// let a = Txn::new().put(&services, "web", &"nginx".to_string());
    /// let b = Txn::new().put(&services, "db", &"postgres".to_string());
    /// assert_eq!(a.append(b).len(), 2);
    /// # }
    /// ```
    pub fn append(mut self, other: Txn) -> Self {
        if self.error.is_none() {
            self.error = other.error;
        }
        self.ops.extend(other.ops);
        self.id = OnceLock::new();
        self
    }

    /// Creates document `key` of `collection`; fails with `AlreadyExists` if it exists.
    pub fn create<T: Serialize>(self, collection: &Collection<T>, key: &str, value: &T) -> Self {
        self.put_with(collection, key, value, Precondition::Absent)
    }

    /// Replaces document `key` of `collection` at exactly `expected_version`; fails with
    /// `Conflict` otherwise.
    pub fn update<T: Serialize>(
        self,
        collection: &Collection<T>,
        key: &str,
        value: &T,
        expected_version: u64,
    ) -> Self {
        self.put_with(
            collection,
            key,
            value,
            Precondition::Version(expected_version),
        )
    }

    /// Creates or replaces document `key` of `collection`, whatever its version.
    pub fn put<T: Serialize>(self, collection: &Collection<T>, key: &str, value: &T) -> Self {
        self.put_with(collection, key, value, Precondition::Any)
    }

    /// Writes document `key` of `collection` if `precondition` holds.
    pub fn put_with<T: Serialize>(
        self,
        collection: &Collection<T>,
        key: &str,
        value: &T,
        precondition: Precondition,
    ) -> Self {
        self.put_named(collection.name(), key, value, precondition)
    }

    /// Deletes document `key` of `collection` at exactly `expected_version`.
    pub fn delete<T>(self, collection: &Collection<T>, key: &str, expected_version: u64) -> Self {
        self.delete_with(collection, key, Precondition::Version(expected_version))
    }

    /// Deletes document `key` of `collection` if `precondition` holds (with
    /// [`Precondition::Any`], deleting an absent document changes nothing).
    pub fn delete_with<T>(
        self,
        collection: &Collection<T>,
        key: &str,
        precondition: Precondition,
    ) -> Self {
        self.push_raw(collection.name(), key, precondition, OpKind::Delete)
    }

    /// Changes nothing but makes the transaction fail unless `precondition` holds for document
    /// `key` of `collection`.
    pub fn check<T>(
        self,
        collection: &Collection<T>,
        key: &str,
        precondition: Precondition,
    ) -> Self {
        self.push_raw(collection.name(), key, precondition, OpKind::Check)
    }

    /// Writes `value` to the collection named `collection`: the untyped form behind the typed
    /// operations, for this crate's own tests.
    pub(crate) fn put_named<V: Serialize + ?Sized>(
        mut self,
        collection: &str,
        key: &str,
        value: &V,
        precondition: Precondition,
    ) -> Self {
        match serde_json::to_vec(value) {
            Ok(bytes) => self.push_raw(
                collection,
                key,
                precondition,
                OpKind::Put(Blob(Bytes::from(bytes))),
            ),
            Err(e) => {
                self.error
                    .get_or_insert((collection.to_string(), key.to_string(), e.to_string()));
                self.id = OnceLock::new();
                self
            }
        }
    }

    fn push_raw(
        mut self,
        collection: &str,
        key: &str,
        precondition: Precondition,
        kind: OpKind,
    ) -> Self {
        self.ops.push(TxnOp {
            collection: collection.to_string(),
            key: key.to_string(),
            precondition,
            kind,
        });
        // Another operation: another transaction, so another request id.
        self.id = OnceLock::new();
        self
    }

    /// The request id this transaction was submitted with, if it was (for logs: it shows as
    /// `member/incarnation#seq`).
    pub fn request_id(&self) -> Option<String> {
        self.id.get().map(ToString::to_string)
    }

    fn builder_error(&self) -> Option<StoreError> {
        self.error
            .as_ref()
            .map(|(collection, key, detail)| StoreError::Codec {
                action: "encode",
                collection: collection.clone(),
                key: key.clone(),
                detail: detail.clone(),
            })
    }

    /// Validates and returns the wire form, carrying request id `id` (tests; the store takes
    /// ids through [`Txn::into_new_request`]).
    #[cfg(test)]
    pub(crate) fn into_request(self, id: RequestId) -> Result<TxnRequest, StoreError> {
        if let Some(e) = self.builder_error() {
            return Err(e);
        }
        let request = TxnRequest { id, ops: self.ops };
        validate_request(&request)?;
        Ok(request)
    }

    /// Validates, then returns the wire form carrying a new request id of `ids`. A
    /// transaction refused here takes no id, so refusals leave no gap in the origin's sequence
    /// numbers: past [`MAX_DEDUP_GAPS_PER_ORIGIN`](crate::MAX_DEDUP_GAPS_PER_ORIGIN) gaps the
    /// origin's dedup floor rises, and an older request still in flight would then be refused
    /// as `Indeterminate` although it never applied.
    ///
    /// The size check runs with the largest id `ids` can give, so the id taken afterwards can
    /// only make the encoding smaller.
    pub(crate) fn into_new_request(self, ids: &RequestIds) -> Result<TxnRequest, StoreError> {
        if let Some(e) = self.builder_error() {
            return Err(e);
        }
        let mut request = TxnRequest {
            id: ids.largest(),
            ops: self.ops,
        };
        validate_request(&request)?;
        request.id = ids.next();
        Ok(request)
    }

    /// Validates and returns the wire form with this transaction's request id, taking a new
    /// one from `ids` at the first call that passes validation; later calls reuse it. As with
    /// [`Txn::into_new_request`], a refused transaction takes no id.
    pub(crate) fn to_request(&self, ids: &RequestIds) -> Result<TxnRequest, StoreError> {
        if let Some(e) = self.builder_error() {
            return Err(e);
        }
        let mut request = TxnRequest {
            id: self.id.get().copied().unwrap_or_else(|| ids.largest()),
            ops: self.ops.clone(),
        };
        validate_request(&request)?;
        request.id = *self.id.get_or_init(|| ids.next());
        Ok(request)
    }
}

/// The size of `request`'s wire (postcard) encoding, in bytes.
pub(crate) fn encoded_txn_bytes(request: &TxnRequest) -> Result<usize, StoreError> {
    postcard::experimental::serialized_size(request).map_err(|e| StoreError::Invalid {
        field: "txn",
        detail: format!("cannot size the encoding: {e}"),
    })
}

/// Checks every limit on a transaction: operation count, names, values and the encoded size
/// ([`MAX_TXN_BYTES`]). Run on the member a client calls, and again on the leader for writes
/// a follower forwards.
pub(crate) fn validate_request(request: &TxnRequest) -> Result<(), StoreError> {
    if request.ops.is_empty() {
        return Err(StoreError::Invalid {
            field: "txn",
            detail: "a transaction needs at least one operation".into(),
        });
    }
    if request.ops.len() > MAX_TXN_OPS {
        return Err(StoreError::Invalid {
            field: "txn",
            detail: format!(
                "{} operations exceed the limit of {MAX_TXN_OPS}",
                request.ops.len()
            ),
        });
    }
    for op in &request.ops {
        validate_name("collection", &op.collection, MAX_COLLECTION_BYTES)?;
        validate_name("key", &op.key, MAX_KEY_BYTES)?;
        if let OpKind::Put(v) = &op.kind {
            if v.0.len() > MAX_VALUE_BYTES {
                return Err(StoreError::Invalid {
                    field: "value",
                    detail: format!(
                        "{}/{}: {} bytes exceed the limit of {MAX_VALUE_BYTES}",
                        op.collection,
                        op.key,
                        v.0.len()
                    ),
                });
            }
        }
    }
    let bytes = encoded_txn_bytes(request)?;
    if bytes > MAX_TXN_BYTES {
        return Err(StoreError::Invalid {
            field: "txn",
            detail: format!(
                "{bytes} bytes encoded ({} operations) exceed the limit of {MAX_TXN_BYTES} \
                 (MAX_TXN_BYTES); split it into smaller transactions",
                request.ops.len()
            ),
        });
    }
    Ok(())
}

/// Checks a collection name or key.
pub(crate) fn validate_name(
    field: &'static str,
    name: &str,
    max_bytes: usize,
) -> Result<(), StoreError> {
    if name.is_empty() {
        return Err(StoreError::Invalid {
            field,
            detail: "must not be empty".into(),
        });
    }
    if name.len() > max_bytes {
        return Err(StoreError::Invalid {
            field,
            detail: format!("{} bytes exceed the limit of {max_bytes}", name.len()),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::command::TxnOrigin;

    fn id() -> RequestId {
        RequestId {
            origin: TxnOrigin {
                member: 1,
                incarnation: 1,
            },
            seq: 1,
        }
    }

    #[test]
    fn append_keeps_order_and_payload_bytes_count_names_keys_and_values() {
        let a = Txn::new().put_named("services", "web", &"nginx", Precondition::Any);
        let b = Txn::new()
            .put_named("tasks", "t1", &7, Precondition::Absent)
            .put_named("", "bad", &1, Precondition::Any);
        // "services" + "web" + "\"nginx\"" = 8 + 3 + 7; "tasks" + "t1" + "7" = 5 + 2 + 1.
        assert_eq!(a.payload_bytes(), 18);
        let both = a.append(b);
        assert_eq!(both.len(), 3);
        assert_eq!(both.payload_bytes(), 18 + 8 + 3 + 1);
        let request = both
            .into_request(id())
            .expect_err("the empty collection name is kept");
        assert!(
            matches!(
                request,
                StoreError::Invalid {
                    field: "collection",
                    ..
                }
            ),
            "{request:?}"
        );
    }

    #[test]
    fn validation_names_the_field() {
        let e = Txn::new()
            .put_named("", "k", &1, Precondition::Any)
            .into_request(id())
            .expect_err("empty");
        assert!(matches!(
            e,
            StoreError::Invalid {
                field: "collection",
                ..
            }
        ));
        let long = "k".repeat(MAX_KEY_BYTES + 1);
        let e = Txn::new()
            .put_named("c", &long, &1, Precondition::Any)
            .into_request(id())
            .expect_err("long");
        assert!(matches!(e, StoreError::Invalid { field: "key", .. }));
        let e = Txn::new().into_request(id()).expect_err("empty txn");
        assert!(matches!(e, StoreError::Invalid { field: "txn", .. }));
        let big = "x".repeat(MAX_VALUE_BYTES);
        let e = Txn::new()
            .put_named("c", "k", &big, Precondition::Any)
            .into_request(id())
            .expect_err("big");
        assert!(matches!(e, StoreError::Invalid { field: "value", .. }));
    }

    #[test]
    fn a_transaction_over_max_txn_bytes_is_refused_naming_the_limit() {
        // Every value is within MAX_VALUE_BYTES, but together they are not within MAX_TXN_BYTES.
        let value = "v".repeat(MAX_VALUE_BYTES - 64);
        let mut txn = Txn::new();
        for i in 0..5 {
            txn = txn.put_named("c", &format!("k{i}"), &value, Precondition::Any);
        }
        let e = txn.into_request(id()).expect_err("over MAX_TXN_BYTES");
        match &e {
            StoreError::Invalid { field, detail } => {
                assert_eq!(*field, "txn");
                assert!(detail.contains("MAX_TXN_BYTES"), "{detail}");
            }
            other => panic!("unexpected {other:?}"),
        }
        // Just under the limit is accepted, and its measured size is the real encoding's.
        let mut txn = Txn::new();
        for i in 0..3 {
            txn = txn.put_named("c", &format!("k{i}"), &value, Precondition::Any);
        }
        let request = txn.into_request(id()).expect("within the limit");
        let encoded = postcard::to_allocvec(&request).unwrap().len();
        assert_eq!(encoded_txn_bytes(&request).unwrap(), encoded);
        assert!(encoded <= MAX_TXN_BYTES);
    }

    #[test]
    fn the_leader_check_refuses_what_a_follower_should_not_have_sent() {
        let value = vec![7u8; 200 * 1024];
        let ops = (0..8)
            .map(|i| TxnOp {
                collection: "c".into(),
                key: format!("k{i}"),
                precondition: Precondition::Any,
                kind: OpKind::Put(Blob(Bytes::from(value.clone()))),
            })
            .collect();
        let e = validate_request(&TxnRequest { id: id(), ops }).expect_err("too big");
        assert!(matches!(e, StoreError::Invalid { field: "txn", .. }), "{e}");
        let e = validate_request(&TxnRequest {
            id: id(),
            ops: Vec::new(),
        })
        .expect_err("empty");
        assert!(matches!(e, StoreError::Invalid { field: "txn", .. }), "{e}");
    }

    #[test]
    fn preconditions() {
        assert!(Precondition::Any.holds(None));
        assert!(Precondition::Absent.holds(None));
        assert!(!Precondition::Absent.holds(Some(1)));
        assert!(Precondition::Exists.holds(Some(4)));
        assert!(Precondition::Version(4).holds(Some(4)));
        assert!(!Precondition::Version(4).holds(Some(5)));
        assert!(!Precondition::Version(4).holds(None));
    }
}
