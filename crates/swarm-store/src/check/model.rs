//! The sequential specification: one register per key.

use super::history::{Op, Output};

/// Applies `op` to a register holding `state`; with a known `output`, checks that the register
/// would have produced it. Returns the register's next state, or `None` when the output is
/// impossible from `state`.
pub(crate) fn step<V: Clone + Eq>(
    state: &Option<V>,
    op: &Op<V>,
    output: Option<&Output<V>>,
) -> Option<Option<V>> {
    match (op, output) {
        (Op::Read, None) => Some(state.clone()),
        (Op::Read, Some(Output::Read(seen))) => (seen == state).then(|| state.clone()),
        (Op::Write(v), None | Some(Output::Done)) => Some(Some(v.clone())),
        (Op::Delete, None | Some(Output::Done)) => Some(None),
        (Op::Cas { expected, new }, output) => {
            let matched = expected == state;
            match output {
                Some(Output::Cas(claimed)) if *claimed != matched => None,
                None | Some(Output::Cas(_)) => {
                    Some(if matched { new.clone() } else { state.clone() })
                }
                Some(_) => None,
            }
        }
        // Outputs of the wrong shape are refused when recorded; never linearizable here.
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_semantics() {
        let empty: Option<u32> = None;
        assert_eq!(
            step(&empty, &Op::Read, Some(&Output::Read(None))),
            Some(None)
        );
        assert_eq!(step(&empty, &Op::Read, Some(&Output::Read(Some(1)))), None);
        assert_eq!(
            step(&empty, &Op::Write(3), Some(&Output::Done)),
            Some(Some(3))
        );
        assert_eq!(step(&Some(3), &Op::Delete, None), Some(None));
        let cas = Op::Cas {
            expected: Some(3),
            new: Some(4),
        };
        assert_eq!(
            step(&Some(3), &cas, Some(&Output::Cas(true))),
            Some(Some(4))
        );
        assert_eq!(step(&Some(3), &cas, Some(&Output::Cas(false))), None);
        assert_eq!(
            step(&Some(5), &cas, Some(&Output::Cas(false))),
            Some(Some(5))
        );
        assert_eq!(step(&Some(5), &cas, None), Some(Some(5)));
        assert_eq!(step(&Some(3), &cas, None), Some(Some(4)));
        assert_eq!(
            step(&Some(3), &Op::Write(1), Some(&Output::Cas(true))),
            None
        );
    }
}
