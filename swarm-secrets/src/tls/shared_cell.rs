//! A value shared between threads and replaced as a whole, read without copying it.

use std::sync::{Arc, PoisonError, RwLock};

/// A shared, replaceable `Arc<T>`: readers take the current `Arc` (a reference count, the
/// lock held only for that), a replacement swaps it for the next reader; a reader still
/// holding the old `Arc` keeps it until it drops it.
pub(super) struct SharedCell<T> {
    value: Arc<RwLock<Arc<T>>>,
}

impl<T> Clone for SharedCell<T> {
    fn clone(&self) -> Self {
        SharedCell {
            value: self.value.clone(),
        }
    }
}

impl<T> SharedCell<T> {
    pub(super) fn new(value: T) -> Self {
        SharedCell {
            value: Arc::new(RwLock::new(Arc::new(value))),
        }
    }

    /// The current value.
    pub(super) fn get(&self) -> Arc<T> {
        // A poisoned lock still holds a whole value: a writer only checks, then assigns.
        self.value
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the value with `new` if `check(current, &new)` accepts it; the check and the
    /// swap happen under one write lock, so two replaces cannot both check the same current.
    pub(super) fn replace_if<E>(
        &self,
        new: T,
        check: impl FnOnce(&T, &T) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut current = self.value.write().unwrap_or_else(PoisonError::into_inner);
        check(&current, &new)?;
        *current = Arc::new(new);
        Ok(())
    }
}
