//! Refusals and failures of the managers' store.

use swarm_store::StoreError;

/// Why applying writes to, or reading from, the managers' store failed.
///
/// New variants may be added: a `match` needs a `_` arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// A version check failed: the object changed since the step read it (or a created
    /// object exists, or a replaced one is gone). Nothing was written: re-read and call the
    /// step again ([`StateError::is_conflict`]).
    #[error(
        "{collection}/{key} changed since it was read (expected version {}, found {}): re-read and retry",
        expected.map_or_else(|| "none".to_owned(), |v| v.to_string()),
        actual.map_or_else(|| "none".to_owned(), |v| v.to_string())
    )]
    Conflict {
        /// The collection.
        collection: String,
        /// The document key (a node id, a cluster id).
        key: String,
        /// The version the write expected (`None`: it expected no document).
        expected: Option<u64>,
        /// The version found (`None`: no document).
        actual: Option<u64>,
    },
    /// The store holds what the managers never write (e.g. two cluster objects).
    #[error("managers' store is inconsistent: {detail}")]
    Inconsistent {
        /// What was found.
        detail: String,
    },
    /// Writes kept landing between the collection reads of a whole-state read, every time it
    /// was tried: no consistent view was read (retry later).
    #[error(
        "the managers' store changed during each of {attempts} reads of the whole state; retry"
    )]
    Unsettled {
        /// Reads tried.
        attempts: usize,
    },
    /// The store failed; [`StoreError`]'s classes say whether to retry, re-read or stop.
    #[error(transparent)]
    Store(StoreError),
}

impl StateError {
    /// Whether the caller should re-read the state and call the step again.
    pub fn is_conflict(&self) -> bool {
        matches!(self, StateError::Conflict { .. })
    }

    /// Whether the write failed because another manager took the orchestration fence
    /// ([`OrchestrationFence`](super::OrchestrationFence)): this manager's writes as leader
    /// can no longer apply; it must take the fence again and re-read the state.
    pub fn is_fence_lost(&self) -> bool {
        matches!(self, StateError::Conflict { collection, key, .. }
            if collection == super::LEADERSHIP && key == super::ORCHESTRATION_FENCE_KEY)
    }

    /// Whether the same call may succeed later unchanged (nothing was applied).
    pub fn is_retryable(&self) -> bool {
        match self {
            StateError::Store(e) => e.is_retryable(),
            StateError::Unsettled { .. } => true,
            _ => false,
        }
    }

    /// Whether the writes may or may not have applied: re-read before anything else.
    pub fn is_indeterminate(&self) -> bool {
        matches!(self, StateError::Store(e) if e.is_indeterminate())
    }
}

impl From<StoreError> for StateError {
    /// Precondition refusals become [`StateError::Conflict`]; everything else stays a
    /// [`StateError::Store`].
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict {
                collection,
                key,
                expected,
                actual,
            } => StateError::Conflict {
                collection,
                key,
                expected: Some(expected),
                actual,
            },
            StoreError::AlreadyExists {
                collection,
                key,
                version,
            } => StateError::Conflict {
                collection,
                key,
                expected: None,
                actual: Some(version),
            },
            StoreError::NotFound { collection, key } => StateError::Conflict {
                collection,
                key,
                expected: None,
                actual: None,
            },
            e => StateError::Store(e),
        }
    }
}
