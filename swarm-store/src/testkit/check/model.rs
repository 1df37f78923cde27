//! The sequential specification: one register per key.

use super::history::{Op, Output};

/// What a register holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Reg<V> {
    /// Nothing (the key is absent).
    Absent,
    /// A value.
    Value(V),
    /// A value written by a pending write that nothing ever observed: it equals no value any
    /// read returned or any compare-and-swap expected.
    Hidden,
}

impl<V: Eq> Reg<V> {
    fn matches(&self, v: &Option<V>) -> bool {
        match (self, v) {
            (Reg::Absent, None) => true,
            (Reg::Value(a), Some(b)) => a == b,
            _ => false,
        }
    }
}

fn of<V: Clone>(v: &Option<V>) -> Reg<V> {
    match v {
        None => Reg::Absent,
        Some(v) => Reg::Value(v.clone()),
    }
}

/// Applies `op` to a register holding `state`; with a known `output`, checks that the register
/// would have produced it. Returns the register's next state, or `None` when the output is
/// impossible from `state`.
pub(crate) fn step<V: Clone + Eq>(
    state: &Reg<V>,
    op: &Op<V>,
    output: Option<&Output<V>>,
) -> Option<Reg<V>> {
    match (op, output) {
        (Op::Read, None) => Some(state.clone()),
        (Op::Read, Some(Output::Read(seen))) => state.matches(seen).then(|| state.clone()),
        (Op::Write(v), None | Some(Output::Done)) => Some(Reg::Value(v.clone())),
        (Op::Delete, None | Some(Output::Done)) => Some(Reg::Absent),
        (Op::Cas { expected, new }, output) => {
            let matched = state.matches(expected);
            match output {
                Some(Output::Cas(claimed)) if *claimed != matched => None,
                None | Some(Output::Cas(_)) => Some(if matched { of(new) } else { state.clone() }),
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
        let empty: Reg<u32> = Reg::Absent;
        let three = Reg::Value(3);
        assert_eq!(
            step(&empty, &Op::Read, Some(&Output::Read(None))),
            Some(Reg::Absent)
        );
        assert_eq!(step(&empty, &Op::Read, Some(&Output::Read(Some(1)))), None);
        assert_eq!(
            step(&empty, &Op::Write(3), Some(&Output::Done)),
            Some(three.clone())
        );
        assert_eq!(step(&three, &Op::Delete, None), Some(Reg::Absent));
        let cas = Op::Cas {
            expected: Some(3),
            new: Some(4),
        };
        assert_eq!(
            step(&three, &cas, Some(&Output::Cas(true))),
            Some(Reg::Value(4))
        );
        assert_eq!(step(&three, &cas, Some(&Output::Cas(false))), None);
        assert_eq!(
            step(&Reg::Value(5), &cas, Some(&Output::Cas(false))),
            Some(Reg::Value(5))
        );
        assert_eq!(step(&Reg::Value(5), &cas, None), Some(Reg::Value(5)));
        assert_eq!(step(&three, &cas, None), Some(Reg::Value(4)));
        assert_eq!(step(&three, &Op::Write(1), Some(&Output::Cas(true))), None);
        // A hidden value matches nothing.
        let hidden: Reg<u32> = Reg::Hidden;
        assert_eq!(step(&hidden, &Op::Read, Some(&Output::Read(None))), None);
        assert_eq!(
            step(&hidden, &cas, Some(&Output::Cas(false))),
            Some(Reg::Hidden)
        );
        let create = Op::Cas {
            expected: None,
            new: Some(1),
        };
        assert_eq!(
            step(&hidden, &create, Some(&Output::Cas(false))),
            Some(Reg::Hidden)
        );
    }
}
