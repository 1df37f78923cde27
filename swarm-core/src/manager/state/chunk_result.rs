//! How one transaction of [`ManagerStore::apply_chunked`](super::ManagerStore::apply_chunked)
//! ended.

use crate::manager::state::state_error::StateError;
use std::ops::Range;
use swarm_store::TxnOutcome;

/// The writes one transaction held (ranges of the writes given to
/// [`ManagerStore::apply_chunked`](super::ManagerStore::apply_chunked)) and how it ended:
/// all of them committed, or none.
#[derive(Debug)]
pub struct ChunkResult {
    /// The writes, as ranges in increasing order (a transaction sent again without a refused
    /// group holds the writes before and after it).
    pub writes: Vec<Range<usize>>,
    /// The commit, or why nothing of `writes` was written.
    pub result: Result<TxnOutcome, StateError>,
}

impl ChunkResult {
    /// The indexes of the writes it held.
    pub fn indexes(&self) -> impl Iterator<Item = usize> + '_ {
        self.writes.iter().flat_map(|r| r.clone())
    }
}
