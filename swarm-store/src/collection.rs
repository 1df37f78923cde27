//! Typed access to one collection of documents.

use crate::error::StoreError;
use crate::state::doc::Doc;
use crate::store::Store;
use crate::txn::{Precondition, Txn};
use crate::watch::Watch;
use crate::watch_position::WatchPosition;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

/// A document with its version and revisions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Versioned<T> {
    /// The document's key.
    pub key: String,
    /// The document.
    pub value: T,
    /// 1 when created, +1 per update: pass it to [`Collection::update`] /
    /// [`Collection::delete`] for compare-and-swap.
    pub version: u64,
    /// The store revision that created it.
    pub create_revision: u64,
    /// The store revision of its last change.
    pub mod_revision: u64,
}

/// Documents listed at one revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing<T> {
    /// The revision the listing reflects: watch from it to follow later changes.
    pub revision: u64,
    /// The documents, in key order.
    pub items: Vec<Versioned<T>>,
}

/// A typed view of collection `name`; documents are stored as JSON. Open one with
/// [`Store::collection`]; pass it to [`Txn`]'s operations to write several documents at once.
///
/// Reads named `*_local` are served from this member's state machine without contacting the
/// leader: fast, but possibly stale. The others are linearizable.
pub struct Collection<T> {
    store: Store,
    name: String,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for Collection<T> {
    fn clone(&self) -> Self {
        Collection {
            store: self.store.clone(),
            name: self.name.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Collection<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collection")
            .field("name", &self.name)
            .finish()
    }
}

impl<T> Collection<T> {
    /// The collection's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl<T: Serialize + DeserializeOwned> Collection<T> {
    pub(crate) fn new(store: Store, name: &str) -> Self {
        Collection {
            store,
            name: name.to_string(),
            _type: PhantomData,
        }
    }

    fn decode(&self, key: &str, doc: &Doc) -> Result<Versioned<T>, StoreError> {
        let value = serde_json::from_slice(&doc.value.0).map_err(|e| StoreError::Codec {
            action: "decode",
            collection: self.name.clone(),
            key: key.to_string(),
            detail: e.to_string(),
        })?;
        Ok(Versioned {
            key: key.to_string(),
            value,
            version: doc.version,
            create_revision: doc.create_revision,
            mod_revision: doc.mod_revision,
        })
    }

    async fn write_one(&self, txn: Txn) -> Result<u64, StoreError> {
        let outcome = self.store.txn(txn).await?;
        Ok(outcome.versions.first().copied().flatten().unwrap_or(0))
    }

    /// Creates `key`; fails with [`StoreError::AlreadyExists`] if it exists. Returns the version
    /// (1).
    pub async fn create(&self, key: &str, value: &T) -> Result<u64, StoreError> {
        self.write_one(Txn::new().create(self, key, value)).await
    }

    /// Replaces `key` if its version is `expected_version` ([`StoreError::Conflict`] otherwise,
    /// [`StoreError::NotFound`] if absent). Returns the new version.
    pub async fn update(
        &self,
        key: &str,
        value: &T,
        expected_version: u64,
    ) -> Result<u64, StoreError> {
        self.write_one(Txn::new().update(self, key, value, expected_version))
            .await
    }

    /// Creates or replaces `key` whatever its version. Returns the new version.
    pub async fn put(&self, key: &str, value: &T) -> Result<u64, StoreError> {
        self.write_one(Txn::new().put(self, key, value)).await
    }

    /// Deletes `key` if its version is `expected_version`.
    pub async fn delete(&self, key: &str, expected_version: u64) -> Result<(), StoreError> {
        self.store
            .txn(Txn::new().delete(self, key, expected_version))
            .await
            .map(|_| ())
    }

    /// Deletes `key` if it exists ([`StoreError::NotFound`] otherwise).
    pub async fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.store
            .txn(Txn::new().delete_with(self, key, Precondition::Exists))
            .await
            .map(|_| ())
    }

    /// Reads `key` linearizably.
    pub async fn get(&self, key: &str) -> Result<Option<Versioned<T>>, StoreError> {
        self.store.member.read_barrier().await?;
        self.get_local(key)
    }

    /// Reads `key` from this member's state machine (possibly stale).
    pub fn get_local(&self, key: &str) -> Result<Option<Versioned<T>>, StoreError> {
        let table = self.store.member.shared.read();
        table
            .get(&self.name, key)
            .map(|d| self.decode(key, d))
            .transpose()
    }

    /// Lists documents whose key starts with `prefix` (all with `""`), linearizably.
    pub async fn list(&self, prefix: &str) -> Result<Listing<T>, StoreError> {
        self.store.member.read_barrier().await?;
        self.list_local(prefix)
    }

    /// Lists from this member's state machine (possibly stale).
    pub fn list_local(&self, prefix: &str) -> Result<Listing<T>, StoreError> {
        self.list_local_filtered(prefix, |_| true)
    }

    /// Lists documents under `prefix` for which `filter` returns true, linearizably.
    pub async fn list_filtered(
        &self,
        prefix: &str,
        filter: impl FnMut(&Versioned<T>) -> bool,
    ) -> Result<Listing<T>, StoreError> {
        self.store.member.read_barrier().await?;
        self.list_local_filtered(prefix, filter)
    }

    /// Lists with a filter from this member's state machine (possibly stale).
    pub fn list_local_filtered(
        &self,
        prefix: &str,
        mut filter: impl FnMut(&Versioned<T>) -> bool,
    ) -> Result<Listing<T>, StoreError> {
        let table = self.store.member.shared.read();
        let mut items = Vec::new();
        for (key, doc) in table.list(&self.name, prefix) {
            let v = self.decode(key, doc)?;
            if filter(&v) {
                items.push(v);
            }
        }
        Ok(Listing {
            revision: table.revision(),
            items,
        })
    }

    /// Follows changes to documents under `prefix` made after revision `after_revision` (use a
    /// [`Listing::revision`]). Served from this member's state machine, in commit order.
    ///
    /// To resume a watch, prefer [`Collection::watch_from`] with [`Watch::position`]: a
    /// revision cannot say that the watch stopped in the middle of a transaction's changes.
    pub fn watch(&self, prefix: &str, after_revision: u64) -> Watch<T> {
        self.watch_from(prefix, WatchPosition::after_revision(after_revision))
    }

    /// Follows changes to documents under `prefix` made after `position` (a
    /// [`Watch::position`], or a listing's revision as `WatchPosition::from(revision)`):
    /// resuming a watch from its position returns every change exactly once.
    pub fn watch_from(&self, prefix: &str, position: WatchPosition) -> Watch<T> {
        Watch::new(
            self.store.member.shared.clone(),
            self.name.clone(),
            prefix.to_string(),
            position,
        )
    }
}
