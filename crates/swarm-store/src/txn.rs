//! Multi-operation transactions with per-operation preconditions.

use crate::blob::Blob;
use crate::error::StoreError;
use crate::state::command::{OpKind, RequestId, TxnOp, TxnRequest};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// The most operations one transaction may hold.
pub const MAX_TXN_OPS: usize = 256;
/// The longest collection name, in bytes.
pub const MAX_COLLECTION_BYTES: usize = 128;
/// The longest document key, in bytes.
pub const MAX_KEY_BYTES: usize = 512;
/// The largest encoded document, in bytes.
pub const MAX_VALUE_BYTES: usize = 256 * 1024;

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
/// Operations see the effects of the earlier operations of the same transaction.
///
/// ```
/// use swarm_store::{Precondition, Txn};
/// let txn = Txn::new()
///     .create("services", "web", &"v1")
///     .update("services", "db", &"v2", 3)
///     .check("nodes", "n1", Precondition::Exists);
/// assert_eq!(txn.len(), 3);
/// ```
#[derive(Debug, Default)]
pub struct Txn {
    ops: Vec<TxnOp>,
    error: Option<StoreError>,
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

    /// Creates a document; fails with `AlreadyExists` if it exists.
    pub fn create<T: Serialize + ?Sized>(self, collection: &str, key: &str, value: &T) -> Self {
        self.put_with(collection, key, value, Precondition::Absent)
    }

    /// Replaces a document at exactly `expected_version`; fails with `Conflict` otherwise.
    pub fn update<T: Serialize + ?Sized>(
        self,
        collection: &str,
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

    /// Creates or replaces a document, whatever its version.
    pub fn put<T: Serialize + ?Sized>(self, collection: &str, key: &str, value: &T) -> Self {
        self.put_with(collection, key, value, Precondition::Any)
    }

    /// Writes a document if `precondition` holds.
    pub fn put_with<T: Serialize + ?Sized>(
        mut self,
        collection: &str,
        key: &str,
        value: &T,
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
                self.error.get_or_insert(StoreError::Codec {
                    action: "encode",
                    collection: collection.to_string(),
                    key: key.to_string(),
                    detail: e.to_string(),
                });
                self
            }
        }
    }

    /// Deletes a document at exactly `expected_version`.
    pub fn delete(self, collection: &str, key: &str, expected_version: u64) -> Self {
        self.push_raw(
            collection,
            key,
            Precondition::Version(expected_version),
            OpKind::Delete,
        )
    }

    /// Deletes a document if `precondition` holds (with [`Precondition::Any`], deleting an absent
    /// document changes nothing).
    pub fn delete_with(self, collection: &str, key: &str, precondition: Precondition) -> Self {
        self.push_raw(collection, key, precondition, OpKind::Delete)
    }

    /// Changes nothing but makes the transaction fail unless `precondition` holds.
    pub fn check(self, collection: &str, key: &str, precondition: Precondition) -> Self {
        self.push_raw(collection, key, precondition, OpKind::Check)
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
        self
    }

    /// Validates and returns the wire form, carrying request id `id`.
    pub(crate) fn into_request(self, id: RequestId) -> Result<TxnRequest, StoreError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.ops.is_empty() {
            return Err(StoreError::Invalid {
                field: "txn",
                detail: "a transaction needs at least one operation".into(),
            });
        }
        if self.ops.len() > MAX_TXN_OPS {
            return Err(StoreError::Invalid {
                field: "txn",
                detail: format!(
                    "{} operations exceed the limit of {MAX_TXN_OPS}",
                    self.ops.len()
                ),
            });
        }
        for op in &self.ops {
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
        Ok(TxnRequest { id, ops: self.ops })
    }
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
    fn validation_names_the_field() {
        let e = Txn::new()
            .put("", "k", &1)
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
            .put("c", &long, &1)
            .into_request(id())
            .expect_err("long");
        assert!(matches!(e, StoreError::Invalid { field: "key", .. }));
        let e = Txn::new().into_request(id()).expect_err("empty txn");
        assert!(matches!(e, StoreError::Invalid { field: "txn", .. }));
        let big = "x".repeat(MAX_VALUE_BYTES);
        let e = Txn::new()
            .put("c", "k", &big)
            .into_request(id())
            .expect_err("big");
        assert!(matches!(e, StoreError::Invalid { field: "value", .. }));
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
