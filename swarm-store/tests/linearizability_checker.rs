//! The linearizability checker on known histories, on random valid histories, and against a
//! brute-force search on small random ones.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on setup errors

use swarm_store::testkit::SplitMix64;
use swarm_store::testkit::check::{
    CheckConfig, History, Op, Operation, Outcome, Output, Verdict, check,
};

type H = History<&'static str, u32>;

fn op(
    client: u64,
    key: &'static str,
    op: Op<u32>,
    at: u64,
    outcome: Outcome<u32>,
) -> Operation<&'static str, u32> {
    Operation {
        client,
        key,
        op,
        invoked_at: at,
        outcome,
    }
}

fn done(at: u64) -> Outcome<u32> {
    Outcome::Returned {
        at,
        output: Output::Done,
    }
}

fn read(at: u64, v: Option<u32>) -> Outcome<u32> {
    Outcome::Returned {
        at,
        output: Output::Read(v),
    }
}

fn cas(at: u64, ok: bool) -> Outcome<u32> {
    Outcome::Returned {
        at,
        output: Output::Cas(ok),
    }
}

fn build(ops: Vec<Operation<&'static str, u32>>) -> H {
    let mut h = History::new();
    for o in ops {
        h.push(o).unwrap();
    }
    h
}

fn verdict(h: &H) -> Verdict<&'static str> {
    check(h, &CheckConfig::default())
}

fn assert_violation(h: &H, key: &str) {
    match verdict(h) {
        Verdict::NotLinearizable(v) => {
            assert_eq!(v.key, key);
            assert!(!v.stuck.is_empty());
            let text = v.to_string();
            assert!(text.contains("not linearizable"), "{text}");
        }
        other => panic!("expected a violation on {key}, got {other:?}"),
    }
}

#[test]
fn sequential_history_is_linearizable() {
    let h = build(vec![
        op(1, "k", Op::Read, 0, read(1, None)),
        op(1, "k", Op::Write(1), 2, done(3)),
        op(2, "k", Op::Read, 4, read(5, Some(1))),
        op(
            2,
            "k",
            Op::Cas {
                expected: Some(1),
                new: Some(2),
            },
            6,
            cas(7, true),
        ),
        op(
            1,
            "k",
            Op::Cas {
                expected: Some(1),
                new: Some(3),
            },
            8,
            cas(9, false),
        ),
        op(1, "k", Op::Read, 10, read(11, Some(2))),
        op(2, "k", Op::Delete, 12, done(13)),
        op(1, "k", Op::Read, 14, read(15, None)),
    ]);
    assert_eq!(verdict(&h), Verdict::Linearizable);
}

#[test]
fn stale_read_is_caught() {
    // 1 then 2 written one after the other; a later read returns 1.
    let h = build(vec![
        op(1, "k", Op::Write(1), 0, done(1)),
        op(1, "k", Op::Write(2), 2, done(3)),
        op(2, "k", Op::Read, 4, read(5, Some(1))),
    ]);
    assert_violation(&h, "k");
}

#[test]
fn lost_acknowledged_write_is_caught() {
    let h = build(vec![
        op(1, "k", Op::Write(7), 0, done(1)),
        op(2, "k", Op::Read, 10, read(11, None)),
    ]);
    assert_violation(&h, "k");
}

#[test]
fn read_of_a_value_never_written_is_caught() {
    let h = build(vec![
        op(1, "k", Op::Write(1), 0, done(5)),
        op(2, "k", Op::Read, 1, read(2, Some(9))),
    ]);
    assert_violation(&h, "k");
}

#[test]
fn a_write_that_never_returned_may_or_may_not_have_happened() {
    for seen in [None, Some(1)] {
        let h = build(vec![
            op(1, "k", Op::Write(1), 0, Outcome::Pending),
            op(2, "k", Op::Read, 10, read(11, seen)),
            op(2, "k", Op::Read, 12, read(13, seen)),
        ]);
        assert_eq!(verdict(&h), Verdict::Linearizable, "seen {seen:?}");
    }
    // But once seen it stays.
    let h = build(vec![
        op(1, "k", Op::Write(1), 0, Outcome::Pending),
        op(2, "k", Op::Read, 10, read(11, Some(1))),
        op(2, "k", Op::Read, 12, read(13, None)),
    ]);
    assert_violation(&h, "k");
    // And it cannot take effect before it was invoked.
    let h = build(vec![
        op(2, "k", Op::Read, 0, read(1, Some(1))),
        op(1, "k", Op::Write(1), 5, Outcome::Pending),
    ]);
    assert_violation(&h, "k");
}

#[test]
fn a_failed_write_had_no_effect() {
    let h = build(vec![
        op(1, "k", Op::Write(1), 0, Outcome::Failed),
        op(2, "k", Op::Read, 10, read(11, Some(1))),
    ]);
    assert_violation(&h, "k");
}

#[test]
fn two_successful_cas_from_the_same_value_are_caught() {
    let h = build(vec![
        op(
            1,
            "k",
            Op::Cas {
                expected: None,
                new: Some(1),
            },
            0,
            cas(10, true),
        ),
        op(
            2,
            "k",
            Op::Cas {
                expected: None,
                new: Some(2),
            },
            0,
            cas(10, true),
        ),
    ]);
    assert_violation(&h, "k");
    let h = build(vec![
        op(
            1,
            "k",
            Op::Cas {
                expected: None,
                new: Some(1),
            },
            0,
            cas(10, true),
        ),
        op(
            2,
            "k",
            Op::Cas {
                expected: None,
                new: Some(2),
            },
            0,
            cas(10, false),
        ),
        op(3, "k", Op::Read, 11, read(12, Some(1))),
    ]);
    assert_eq!(verdict(&h), Verdict::Linearizable);
}

#[test]
fn reordering_within_overlap_is_allowed() {
    // W1 spans everything; W2 is short. R1 sees 2, then R2 sees 1: W2 < R1 < W1 < R2.
    let h = build(vec![
        op(1, "k", Op::Write(1), 0, done(20)),
        op(2, "k", Op::Write(2), 1, done(2)),
        op(3, "k", Op::Read, 3, read(4, Some(2))),
        op(3, "k", Op::Read, 5, read(6, Some(1))),
    ]);
    assert_eq!(verdict(&h), Verdict::Linearizable);
    // If W1 returned before R1, R1 cannot see 2 after... W1 could come before W2 though:
    // W1 [0,2], W2 [1,3], R [4,5] sees 1 → W2 < W1 < R: fine.
    let h = build(vec![
        op(1, "k", Op::Write(1), 0, done(2)),
        op(2, "k", Op::Write(2), 1, done(3)),
        op(3, "k", Op::Read, 4, read(5, Some(1))),
    ]);
    assert_eq!(verdict(&h), Verdict::Linearizable);
    // But not when W2 started after W1 returned.
    let h = build(vec![
        op(1, "k", Op::Write(1), 0, done(2)),
        op(2, "k", Op::Write(2), 3, done(4)),
        op(3, "k", Op::Read, 5, read(6, Some(1))),
    ]);
    assert_violation(&h, "k");
}

#[test]
fn keys_are_independent_and_the_bad_key_is_named() {
    let h = build(vec![
        op(1, "a", Op::Write(1), 0, done(1)),
        op(1, "b", Op::Write(1), 0, done(1)),
        op(2, "a", Op::Read, 2, read(3, Some(1))),
        op(2, "b", Op::Read, 2, read(3, None)),
    ]);
    assert_violation(&h, "b");
}

/// A random history from a real (atomic) register: every operation takes effect at a random
/// point inside its interval, so the history is linearizable by construction.
fn random_valid_history(rng: &mut SplitMix64, ops: usize, keys: &[&'static str]) -> H {
    struct Planned {
        client: u64,
        key: &'static str,
        op: Op<u32>,
        invoked_at: u64,
        effect_at: u64,
        returned_at: u64,
        pending: bool,
    }
    let mut planned = Vec::new();
    for i in 0..ops {
        let invoked_at = rng.below(1000);
        let effect_at = invoked_at + rng.below(30);
        let returned_at = effect_at + rng.below(30);
        let key = keys[rng.below(keys.len() as u64) as usize];
        let value = i as u32 + 1;
        let op = match rng.below(4) {
            0 | 1 => Op::Read,
            2 => Op::Write(value),
            _ => Op::Cas {
                expected: if rng.chance(0.5) {
                    None
                } else {
                    Some(rng.between(1, ops as u64) as u32)
                },
                new: Some(value),
            },
        };
        planned.push(Planned {
            client: rng.below(5),
            key,
            op,
            invoked_at,
            effect_at,
            returned_at,
            pending: rng.chance(0.05),
        });
    }
    // Apply effects in effect order (ties broken by index) to real registers.
    let mut order: Vec<usize> = (0..planned.len()).collect();
    order.sort_by_key(|&i| (planned[i].effect_at, i));
    let mut registers: std::collections::HashMap<&str, Option<u32>> = Default::default();
    let mut outputs: Vec<Option<Output<u32>>> = vec![None; planned.len()];
    for &i in &order {
        let p = &planned[i];
        let reg = registers.entry(p.key).or_default();
        let output = match &p.op {
            Op::Read => Output::Read(*reg),
            Op::Write(v) => {
                *reg = Some(*v);
                Output::Done
            }
            Op::Delete => {
                *reg = None;
                Output::Done
            }
            Op::Cas { expected, new } => {
                if reg == expected {
                    *reg = *new;
                    Output::Cas(true)
                } else {
                    Output::Cas(false)
                }
            }
        };
        outputs[i] = Some(output);
    }
    let mut h = History::new();
    for (p, output) in planned.into_iter().zip(outputs) {
        let id = h.invoke(p.client, p.key, p.op, p.invoked_at);
        if !p.pending {
            h.complete(id, output.unwrap(), p.returned_at).unwrap();
        }
    }
    h
}

#[test]
fn random_valid_histories_are_linearizable() {
    let mut rng = SplitMix64::new(2024);
    for round in 0..200 {
        let h = random_valid_history(&mut rng, 60, &["a", "b", "c"]);
        let v = verdict(&h);
        assert_eq!(v, Verdict::Linearizable, "round {round}: {v}");
    }
}

#[test]
fn random_valid_histories_with_a_corrupted_read_are_caught() {
    let mut rng = SplitMix64::new(77);
    let mut caught = 0;
    for _ in 0..100 {
        let h = random_valid_history(&mut rng, 40, &["a", "b"]);
        // Make one completed read return a value no one ever wrote.
        let mut ops: Vec<_> = h.ops().to_vec();
        let Some(victim) = ops.iter_mut().find(|o| {
            matches!(
                o.outcome,
                Outcome::Returned {
                    output: Output::Read(_),
                    ..
                }
            )
        }) else {
            continue;
        };
        if let Outcome::Returned { output, .. } = &mut victim.outcome {
            *output = Output::Read(Some(999_999));
        }
        let bad = build(ops);
        assert!(matches!(verdict(&bad), Verdict::NotLinearizable(_)));
        caught += 1;
    }
    assert!(caught > 50);
}

/// Brute force: some subset of the pending operations plus every returned one, in some order
/// that respects real time, replays on a register with the recorded outputs.
fn brute_force(h: &H) -> bool {
    let ops: Vec<&Operation<&str, u32>> = h
        .ops()
        .iter()
        .filter(|o| !matches!(o.outcome, Outcome::Failed))
        .collect();
    let pending: Vec<usize> = (0..ops.len())
        .filter(|&i| matches!(ops[i].outcome, Outcome::Pending))
        .collect();
    let returned_at = |o: &Operation<&str, u32>| match o.outcome {
        Outcome::Returned { at, .. } => at,
        _ => u64::MAX,
    };
    for mask in 0..(1u32 << pending.len()) {
        let chosen: Vec<usize> = (0..ops.len())
            .filter(|&i| match pending.iter().position(|&p| p == i) {
                Some(bit) => mask & (1 << bit) != 0,
                None => true,
            })
            .collect();
        let mut perm = chosen.clone();
        if permute(&mut perm, 0, &|order: &[usize]| {
            // Real time.
            for (x, &a) in order.iter().enumerate() {
                for &b in &order[x + 1..] {
                    if returned_at(ops[b]) < ops[a].invoked_at {
                        return false;
                    }
                }
            }
            // Register semantics, per key.
            let mut regs: std::collections::HashMap<&str, Option<u32>> = Default::default();
            for &i in order {
                let o = ops[i];
                let reg = regs.entry(o.key).or_default();
                let expected_output = match &o.op {
                    Op::Read => Output::Read(*reg),
                    Op::Write(v) => {
                        *reg = Some(*v);
                        Output::Done
                    }
                    Op::Delete => {
                        *reg = None;
                        Output::Done
                    }
                    Op::Cas { expected, new } => {
                        if reg == expected {
                            *reg = *new;
                            Output::Cas(true)
                        } else {
                            Output::Cas(false)
                        }
                    }
                };
                if let Outcome::Returned { output, .. } = &o.outcome {
                    if *output != expected_output {
                        return false;
                    }
                }
            }
            true
        }) {
            return true;
        }
    }
    false
}

fn permute(items: &mut Vec<usize>, k: usize, ok: &dyn Fn(&[usize]) -> bool) -> bool {
    if k == items.len() {
        return ok(items);
    }
    for i in k..items.len() {
        items.swap(k, i);
        if permute(items, k + 1, ok) {
            return true;
        }
        items.swap(k, i);
    }
    false
}

#[test]
fn agrees_with_brute_force_on_small_random_histories() {
    brute_force_agreement(9, 3000, 1, 7);
}

#[test]
fn agrees_with_brute_force_when_many_writes_never_returned() {
    brute_force_agreement(10, 2000, 4, 6);
}

/// Compares the checker with brute force on `rounds` random histories of up to `max_ops`
/// operations, `pending_in_10` in ten of which never return.
fn brute_force_agreement(seed: u64, rounds: usize, pending_in_10: u64, max_ops: u64) {
    let mut rng = SplitMix64::new(seed);
    let (mut yes, mut no) = (0, 0);
    for round in 0..rounds {
        let mut h: H = History::new();
        let n = 1 + rng.below(max_ops) as usize;
        for _ in 0..n {
            let key = if rng.chance(0.8) { "a" } else { "b" };
            let invoked_at = rng.below(12);
            let returned_at = invoked_at + rng.below(6);
            let mut rng2 = SplitMix64::new(rng.next_u64());
            let v = 1 + rng2.below(3) as u32;
            let (op, output) = match rng2.below(5) {
                0 | 1 => (
                    Op::Read,
                    Output::Read(if rng2.chance(0.3) { None } else { Some(v) }),
                ),
                2 => (Op::Write(v), Output::Done),
                3 => (Op::Delete, Output::Done),
                _ => (
                    Op::Cas {
                        expected: if rng2.chance(0.3) {
                            None
                        } else {
                            Some(1 + rng2.below(3) as u32)
                        },
                        new: Some(v),
                    },
                    Output::Cas(rng2.chance(0.5)),
                ),
            };
            let fate = rng2.below(10);
            let outcome = match fate {
                f if f < pending_in_10 => Outcome::Pending,
                f if f == pending_in_10 => Outcome::Failed,
                _ => Outcome::Returned {
                    at: returned_at,
                    output,
                },
            };
            h.push(op_of(rng.below(3), key, op, invoked_at, outcome))
                .unwrap();
        }
        let expected = brute_force(&h);
        let got = verdict(&h);
        assert_eq!(
            got.is_linearizable(),
            expected,
            "round {round}: checker says {got}, brute force says {expected}\n{h:#?}"
        );
        if expected {
            yes += 1;
        } else {
            no += 1;
        }
    }
    // Both answers were exercised.
    assert!(yes > rounds / 10 && no > rounds / 10, "yes {yes} no {no}");
}

fn op_of(
    client: u64,
    key: &'static str,
    op: Op<u32>,
    at: u64,
    outcome: Outcome<u32>,
) -> Operation<&'static str, u32> {
    Operation {
        client,
        key,
        op,
        invoked_at: at,
        outcome,
    }
}
