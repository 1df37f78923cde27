//! A linearizability checker for histories of key-value operations.
//!
//! Record what clients did ([`History`]: each operation's invocation time, and its response
//! and return time, or that it never returned), then [`check`] whether some total order of
//! the operations (a *linearization*) respects real time (an operation that returned before
//! another was invoked comes first) and the sequential behaviour of one register per key
//! (reads see the last write; compare-and-swap succeeds exactly when the value matches).
//!
//! Operations that never returned (timeouts, crashes) may or may not have taken effect: the
//! checker may place them anywhere after their invocation, or effectively never. Operations
//! recorded as [`Outcome::Failed`] definitely had no effect and are ignored.
//!
//! Linearizability is local: a history is linearizable exactly when each key's sub-history
//! is, so the checker searches key by key (Wing & Gong's algorithm with Lowe's memoization of
//! (linearized set, register state)). The search is exponential in the worst case; it stops
//! after [`CheckConfig::max_steps_per_key`] steps with [`Verdict::Unknown`].
//!
//! Pending writes of values that no read returned and no compare-and-swap expected are
//! interchangeable (each leaves a value nothing observes), so the search uses them in order of
//! invocation only: histories with many timed-out writes stay cheap to check. Unique written
//! values make the search much faster.
//!
//! # Example
//! ```
//! use swarm_store::testkit::check::{check, CheckConfig, History, Op, Output, Verdict};
//!
//! // Client 1 writes 1 then client 2 reads: fine if it sees 1...
//! let mut h = History::new();
//! let w = h.invoke(1, "k", Op::Write(1), 0);
//! h.complete(w, Output::Done, 1).unwrap();
//! let r = h.invoke(2, "k", Op::Read, 2);
//! h.complete(r, Output::Read(Some(1)), 3).unwrap();
//! assert_eq!(check(&h, &CheckConfig::default()), Verdict::Linearizable);
//!
//! // ...but a stale read of the old (absent) value after the write returned is not.
//! let r = h.invoke(3, "k", Op::Read, 4);
//! h.complete(r, Output::Read(None), 5).unwrap();
//! let verdict = check(&h, &CheckConfig::default());
//! assert!(matches!(verdict, Verdict::NotLinearizable(_)), "{verdict}");
//! ```

mod history;
mod model;
mod search;
mod verdict;

pub use history::{History, HistoryError, Op, OpId, Operation, Outcome, Output};
pub use verdict::{Verdict, Violation};

use search::{SearchOp, SearchResult};
use std::collections::{BTreeMap, HashSet};
use std::fmt::Debug;
use std::hash::Hash;

/// Default search budget per key: enough for hundreds of concurrent operations on one key in
/// typical histories, bounded to about a second of work.
pub const DEFAULT_MAX_SEARCH_STEPS_PER_KEY: u64 = 2_000_000;

/// The most operations listed in a [`Violation`]'s explanation.
pub const MAX_OPS_EXPLAINED: usize = 24;

/// Settings of [`check`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckConfig {
    /// Steps of the search allowed per key before giving up with [`Verdict::Unknown`].
    pub max_steps_per_key: u64,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            max_steps_per_key: DEFAULT_MAX_SEARCH_STEPS_PER_KEY,
        }
    }
}

/// Checks whether `history` is linearizable with respect to one register per key, each
/// initially absent.
///
/// Keys are checked in order; the first violation found is returned. If no key is found not
/// linearizable but some search gave up, the verdict is [`Verdict::Unknown`].
pub fn check<K, V>(history: &History<K, V>, config: &CheckConfig) -> Verdict<K>
where
    K: Ord + Clone + Debug,
    V: Clone + Eq + Hash + Debug,
{
    let mut by_key: BTreeMap<&K, Vec<usize>> = BTreeMap::new();
    for (i, op) in history.ops().iter().enumerate() {
        by_key.entry(&op.key).or_default().push(i);
    }
    let mut unknown: Option<Verdict<K>> = None;
    for (key, indices) in by_key {
        // Values some operation observed: read results and compare-and-swap expectations.
        let mut observed: HashSet<&V> = HashSet::new();
        for &i in &indices {
            let op = &history.ops()[i];
            if let Op::Cas {
                expected: Some(v), ..
            } = &op.op
            {
                observed.insert(v);
            }
            if let Outcome::Returned {
                output: Output::Read(Some(v)),
                ..
            } = &op.outcome
            {
                observed.insert(v);
            }
        }
        let mut kept: Vec<usize> = Vec::with_capacity(indices.len());
        let mut search_ops = Vec::with_capacity(indices.len());
        let mut hidden: Vec<(u64, usize)> = Vec::new();
        for i in indices {
            let op = &history.ops()[i];
            if let Some(s) = SearchOp::of(&op.op, op.invoked_at, &op.outcome) {
                if let (Op::Write(v), Outcome::Pending) = (&op.op, &op.outcome) {
                    if !observed.contains(v) {
                        hidden.push((op.invoked_at, search_ops.len()));
                    }
                }
                kept.push(i);
                search_ops.push(s);
            }
        }
        hidden.sort_unstable();
        for (rank, &(_, j)) in hidden.iter().enumerate() {
            search_ops[j].hidden_rank = Some(rank);
        }
        match search::search(&search_ops, config.max_steps_per_key) {
            SearchResult::Linearizable => {}
            SearchResult::Unknown { steps } => {
                if unknown.is_none() {
                    unknown = Some(Verdict::Unknown {
                        key: key.clone(),
                        steps,
                    });
                }
            }
            SearchResult::Violation { best, stuck } => {
                let linearized: Vec<usize> = best.iter().map(|&j| kept[j]).collect();
                let stuck: Vec<usize> = stuck.iter().map(|&j| kept[j]).collect();
                let explanation = explain(history, &linearized, &stuck);
                return Verdict::NotLinearizable(Violation {
                    key: key.clone(),
                    linearized,
                    stuck,
                    explanation,
                });
            }
        }
    }
    unknown.unwrap_or(Verdict::Linearizable)
}

fn describe<K: Debug, V: Debug>(history: &History<K, V>, i: usize) -> String {
    let op = &history.ops()[i];
    let end = match &op.outcome {
        Outcome::Returned { at, output } => format!("returned {output:?} at {at}"),
        Outcome::Pending => "never returned".to_owned(),
        Outcome::Failed => "failed".to_owned(),
    };
    format!(
        "#{i} client {} {:?} invoked at {}, {end}",
        op.client, op.op, op.invoked_at
    )
}

fn explain<K: Debug, V: Debug>(
    history: &History<K, V>,
    linearized: &[usize],
    stuck: &[usize],
) -> String {
    let mut out = format!(
        "after linearizing {} operation(s), none of the {} operation(s) that must come next fits the register.",
        linearized.len(),
        stuck.len()
    );
    let skip = linearized.len().saturating_sub(MAX_OPS_EXPLAINED / 2);
    out.push_str("\n  linearized");
    if skip > 0 {
        out.push_str(&format!(" (last {} shown)", linearized.len() - skip));
    }
    out.push(':');
    for &i in &linearized[skip..] {
        out.push_str("\n    ");
        out.push_str(&describe(history, i));
    }
    out.push_str("\n  cannot come next:");
    for &i in stuck.iter().take(MAX_OPS_EXPLAINED / 2) {
        out.push_str("\n    ");
        out.push_str(&describe(history, i));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ret<V>(at: u64, output: Output<V>) -> Outcome<V> {
        Outcome::Returned { at, output }
    }

    fn history(ops: Vec<(u64, Op<u32>, u64, Outcome<u32>)>) -> History<&'static str, u32> {
        let mut h = History::new();
        for (client, op, invoked_at, outcome) in ops {
            h.push(Operation {
                client,
                key: "k",
                op,
                invoked_at,
                outcome,
            })
            .unwrap();
        }
        h
    }

    #[test]
    fn empty_history_is_linearizable() {
        let h: History<u8, u8> = History::new();
        assert_eq!(check(&h, &CheckConfig::default()), Verdict::Linearizable);
    }

    #[test]
    fn concurrent_read_may_see_either_value() {
        // Write 1 over [0, 10]; reads during it may see nothing or 1.
        for seen in [None, Some(1)] {
            let h = history(vec![
                (1, Op::Write(1), 0, ret(10, Output::Done)),
                (2, Op::Read, 2, ret(3, Output::Read(seen))),
            ]);
            assert!(check(&h, &CheckConfig::default()).is_linearizable());
        }
    }

    #[test]
    fn new_then_old_read_is_a_violation_with_explanation() {
        // Two sequential reads during a write: once the new value is seen, the old cannot be.
        let h = history(vec![
            (1, Op::Write(1), 0, ret(10, Output::Done)),
            (2, Op::Read, 1, ret(2, Output::Read(Some(1)))),
            (2, Op::Read, 3, ret(4, Output::Read(None))),
        ]);
        match check(&h, &CheckConfig::default()) {
            Verdict::NotLinearizable(v) => {
                assert_eq!(v.key, "k");
                assert!(v.stuck.contains(&2), "{v:?}");
                assert!(v.explanation.contains("#2"), "{}", v.explanation);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn step_budget_gives_unknown() {
        // Many concurrent writes and a read of an impossible value: exhaustive and expensive.
        let mut ops: Vec<(u64, Op<u32>, u64, Outcome<u32>)> = (0..14)
            .map(|i| (i, Op::Write(i as u32), 0, ret(100, Output::Done)))
            .collect();
        ops.push((99, Op::Read, 0, ret(100, Output::Read(Some(1000)))));
        let h = history(ops);
        let verdict = check(
            &h,
            &CheckConfig {
                max_steps_per_key: 1000,
            },
        );
        assert!(
            matches!(verdict, Verdict::Unknown { steps: 1000, .. }),
            "{verdict:?}"
        );
    }

    #[test]
    fn recording_errors_name_the_problem() {
        let mut h: History<&str, u32> = History::new();
        let id = h.invoke(1, "k", Op::Read, 5);
        assert!(matches!(
            h.complete(id, Output::Read(None), 4),
            Err(HistoryError::ReturnBeforeInvoke { .. })
        ));
        assert!(matches!(
            h.complete(id, Output::Cas(true), 6),
            Err(HistoryError::OutputMismatch { .. })
        ));
        h.complete(id, Output::Read(None), 6).unwrap();
        assert_eq!(
            h.complete(id, Output::Read(None), 7),
            Err(HistoryError::AlreadyEnded(id))
        );
        assert_eq!(h.fail(OpId(9)), Err(HistoryError::UnknownOp(OpId(9))));
    }
}
