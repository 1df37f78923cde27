//! Checks on a finished history beyond linearizability: no acknowledged write lost, and the
//! history's fingerprint.

use super::Kv;
use std::collections::BTreeMap;
use swarm_store::testkit::check::{Op, Outcome, Output};

/// No write acknowledged to a client is missing at the end. Values are unique, so each key's
/// final value (read by the liveness phase) names the write that produced it; a write that was
/// acknowledged and started after that one had returned should have replaced it: it was lost.
/// (Clients never delete, so an absent key with an acknowledged write is a loss too.) This is
/// implied by linearizability; it is checked on its own for a direct message.
pub fn check_no_lost_write(history: &Kv) -> Result<(), String> {
    let ops = history.ops();
    let mut final_read: BTreeMap<&str, Option<u64>> = BTreeMap::new();
    for op in ops {
        if let (
            0,
            Op::Read,
            Outcome::Returned {
                output: Output::Read(v),
                ..
            },
        ) = (op.client, &op.op, &op.outcome)
        {
            final_read.insert(&op.key, *v);
        }
    }
    let writes_value = |op: &Op<u64>, v: u64| match op {
        Op::Write(w) => *w == v,
        Op::Cas { new, .. } => *new == Some(v),
        _ => false,
    };
    for (key, value) in final_read {
        let producer = match value {
            Some(v) => match ops.iter().find(|o| o.key == key && writes_value(&o.op, v)) {
                Some(p) => Some(p),
                None => return Err(format!("key {key} holds {v}, which no client wrote")),
            },
            None => None,
        };
        let producer_returned = producer.map(|p| match p.outcome {
            Outcome::Returned { at, .. } => at,
            _ => u64::MAX,
        });
        for o in ops.iter().filter(|o| o.key == key) {
            let acknowledged = matches!(
                (&o.op, &o.outcome),
                (Op::Write(_), Outcome::Returned { .. })
                    | (
                        Op::Cas { .. },
                        Outcome::Returned {
                            output: Output::Cas(true),
                            ..
                        }
                    )
            );
            if !acknowledged {
                continue;
            }
            match producer_returned {
                None => {
                    return Err(format!(
                        "lost write: key {key} is absent at the end, but {:?} by client {} was acknowledged",
                        o.op, o.client
                    ));
                }
                Some(returned) if o.invoked_at > returned => {
                    return Err(format!(
                        "lost write: key {key} ends with {value:?}, but {:?} by client {} started after that value was written and was acknowledged",
                        o.op, o.client
                    ));
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

/// A digest of the whole client history (every operation with its client, key, arguments,
/// outcome and logical times): FNV-1a over its debug form, stable across processes, platforms
/// and toolchains, so fingerprints printed by different runs compare.
pub fn fingerprint(history: &Kv) -> u64 {
    const FNV_OFFSET: u64 = 0xCBF2_9CE4_8422_2325;
    const FNV_PRIME: u64 = 0x0000_0100_0000_01B3;
    format!("{:?}", history.ops())
        .bytes()
        .fold(FNV_OFFSET, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(FNV_PRIME)
        })
}
