//! The checker's answer.

use std::fmt::{self, Debug, Display};

/// Why a key's history is not linearizable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation<K> {
    /// The key.
    pub key: K,
    /// The longest sequence of this key's operations (indices into
    /// [`History::ops`](super::History::ops)) that could be linearized.
    pub linearized: Vec<usize>,
    /// The operations one of which had to come next, none of which fits.
    pub stuck: Vec<usize>,
    /// A human-readable account listing those operations.
    pub explanation: String,
}

impl<K: Debug> Display for Violation<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "key {:?} is not linearizable: {}",
            self.key, self.explanation
        )
    }
}

/// The result of [`check`](super::check).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict<K> {
    /// Every key's history has a linearization.
    Linearizable,
    /// Some key's history has none (the first such key found, in key order).
    NotLinearizable(Violation<K>),
    /// The search budget ran out on a key before an answer (and no key was found not
    /// linearizable).
    Unknown {
        /// The first key whose search gave up.
        key: K,
        /// Steps spent on it.
        steps: u64,
    },
}

impl<K> Verdict<K> {
    /// Whether the history is known to be linearizable.
    pub fn is_linearizable(&self) -> bool {
        matches!(self, Verdict::Linearizable)
    }
}

impl<K: Debug> Display for Verdict<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Linearizable => write!(f, "linearizable"),
            Verdict::NotLinearizable(v) => Display::fmt(v, f),
            Verdict::Unknown { key, steps } => write!(
                f,
                "unknown: the search on key {key:?} gave up after {steps} steps"
            ),
        }
    }
}
