//! Wing & Gong's search for a linearization, with Lowe's memoization, over one key's
//! operations.

use super::history::{Op, Outcome, Output};
use super::model::{Reg, step};
use std::collections::HashSet;
use std::hash::Hash;

/// One operation as the search sees it.
pub(crate) struct SearchOp<'a, V> {
    pub(crate) op: &'a Op<V>,
    /// `None` for operations that never returned: any output is accepted.
    pub(crate) output: Option<&'a Output<V>>,
    pub(crate) invoked_at: u64,
    /// `u64::MAX` for operations that never returned.
    pub(crate) returned_at: u64,
    /// For a pending write of a value nothing observed: its rank among such writes by
    /// invocation time. These writes have the same effect (a [`Reg::Hidden`] value) and the
    /// earlier-invoked one can always stand in for a later one, so the search uses them in rank
    /// order only.
    pub(crate) hidden_rank: Option<usize>,
}

impl<'a, V> SearchOp<'a, V> {
    /// The search view of an operation; `None` for operations to leave out (failed ones, and
    /// pending reads, which cannot affect anything).
    pub(crate) fn of(op: &'a Op<V>, invoked_at: u64, outcome: &'a Outcome<V>) -> Option<Self> {
        match outcome {
            Outcome::Failed => None,
            Outcome::Pending if matches!(op, Op::Read) => None,
            Outcome::Pending => Some(SearchOp {
                op,
                output: None,
                invoked_at,
                returned_at: u64::MAX,
                hidden_rank: None,
            }),
            Outcome::Returned { at, output } => Some(SearchOp {
                op,
                output: Some(output),
                invoked_at,
                returned_at: *at,
                hidden_rank: None,
            }),
        }
    }
}

/// The result of searching one key.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SearchResult {
    /// A linearization exists.
    Linearizable,
    /// None exists. `best` is the longest linearizable prefix found (indices into the ops),
    /// `stuck` the operations that must come next, none of which fits.
    Violation { best: Vec<usize>, stuck: Vec<usize> },
    /// The step budget ran out.
    Unknown { steps: u64 },
}

const NONE: usize = usize::MAX;

struct Node {
    op: usize,
    is_call: bool,
    /// For a call node, its return node.
    partner: usize,
    prev: usize,
    next: usize,
}

/// A fixed-size set of operation indices.
#[derive(Clone, PartialEq, Eq, Hash)]
struct BitSet(Vec<u64>);

impl BitSet {
    fn new(n: usize) -> Self {
        BitSet(vec![0; n.div_ceil(64)])
    }
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn clear(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }
}

/// Searches for a linearization of `ops` starting from an absent key, taking at most
/// `max_steps` steps.
pub(crate) fn search<V: Clone + Eq + Hash>(
    ops: &[SearchOp<'_, V>],
    max_steps: u64,
) -> SearchResult {
    let n = ops.len();
    // Events: (time, is_return, op). Calls sort before returns at equal times, so operations
    // whose intervals touch count as concurrent.
    let mut events: Vec<(u64, bool, usize)> = Vec::with_capacity(2 * n);
    for (i, op) in ops.iter().enumerate() {
        events.push((op.invoked_at, false, i));
        events.push((op.returned_at, true, i));
    }
    events.sort_unstable();
    // Node 0 is the list head; event k is node k + 1.
    let mut nodes: Vec<Node> = Vec::with_capacity(events.len() + 1);
    nodes.push(Node {
        op: NONE,
        is_call: false,
        partner: NONE,
        prev: NONE,
        next: if events.is_empty() { NONE } else { 1 },
    });
    let mut return_node = vec![NONE; n];
    for (k, &(_, is_return, op)) in events.iter().enumerate() {
        let id = k + 1;
        nodes.push(Node {
            op,
            is_call: !is_return,
            partner: NONE,
            prev: k,
            next: if id == events.len() { NONE } else { id + 1 },
        });
        if is_return {
            return_node[op] = id;
        }
    }
    for node in nodes.iter_mut().skip(1) {
        if node.is_call {
            node.partner = return_node[node.op];
        }
    }

    let mut state: Reg<V> = Reg::Absent;
    let mut linearized = BitSet::new(n);
    let mut cache: HashSet<(BitSet, Reg<V>)> = HashSet::new();
    let mut stack: Vec<(usize, Reg<V>)> = Vec::new();
    // How many hidden writes are linearized (always those of the lowest ranks).
    let mut hidden_used = 0usize;
    let mut best: Vec<usize> = Vec::new();
    let mut entry = nodes[0].next;
    let mut steps = 0u64;
    while nodes[0].next != NONE {
        steps += 1;
        if steps > max_steps {
            return SearchResult::Unknown { steps: max_steps };
        }
        // The list always ends with a return node, so `entry` stays in range; give up
        // rather than panic if that were ever wrong.
        let Some(node) = nodes.get(entry) else {
            return SearchResult::Unknown { steps };
        };
        if node.is_call {
            let op = &ops[node.op];
            let next = match op.hidden_rank {
                Some(rank) if rank != hidden_used => None,
                Some(_) => Some(Reg::Hidden),
                None => step(&state, op.op, op.output),
            };
            if let Some(next_state) = next {
                linearized.set(node.op);
                if op.hidden_rank.is_some() {
                    hidden_used += 1;
                }
                if cache.insert((linearized.clone(), next_state.clone())) {
                    stack.push((entry, std::mem::replace(&mut state, next_state)));
                    if stack.len() > best.len() {
                        best = stack.iter().map(|&(e, _)| nodes[e].op).collect();
                    }
                    lift(&mut nodes, entry);
                    entry = nodes[0].next;
                    continue;
                }
                linearized.clear(node.op);
                if op.hidden_rank.is_some() {
                    hidden_used -= 1;
                }
            }
            entry = node.next;
        } else {
            // An operation returned before we could place it: undo the last choice.
            let Some((call, previous)) = stack.pop() else {
                return SearchResult::Violation {
                    stuck: stuck_after(ops, &best),
                    best,
                };
            };
            linearized.clear(nodes[call].op);
            if ops[nodes[call].op].hidden_rank.is_some() {
                hidden_used -= 1;
            }
            state = previous;
            unlift(&mut nodes, call);
            entry = nodes[call].next;
        }
    }
    SearchResult::Linearizable
}

/// Unlinks a call node and its return node.
fn lift(nodes: &mut [Node], call: usize) {
    for id in [call, nodes[call].partner] {
        let (prev, next) = (nodes[id].prev, nodes[id].next);
        nodes[prev].next = next;
        if next != NONE {
            nodes[next].prev = prev;
        }
    }
}

/// Relinks what [`lift`] unlinked (return first, the reverse order).
fn unlift(nodes: &mut [Node], call: usize) {
    for id in [nodes[call].partner, call] {
        let (prev, next) = (nodes[id].prev, nodes[id].next);
        nodes[prev].next = id;
        if next != NONE {
            nodes[next].prev = id;
        }
    }
}

/// The operations not in `best` that are minimal (invoked before every other one returned):
/// one of them had to come next.
fn stuck_after<V>(ops: &[SearchOp<'_, V>], best: &[usize]) -> Vec<usize> {
    let placed: HashSet<usize> = best.iter().copied().collect();
    let rest: Vec<usize> = (0..ops.len()).filter(|i| !placed.contains(i)).collect();
    let first_return = rest
        .iter()
        .map(|&i| ops[i].returned_at)
        .min()
        .unwrap_or(u64::MAX);
    rest.into_iter()
        .filter(|&i| ops[i].invoked_at <= first_return)
        .collect()
}
