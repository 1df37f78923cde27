//! Error mapping between the caller's [`StoreError`] and the wire's [`WireError`] (and a
//! failed call's [`CallError`]), and from a refused transaction to its caller's error.

use crate::error::StoreError;
use crate::raft::network::CallError;
use crate::raft::wire::WireError;
use crate::state::command::TxnRejected;
use crate::transport::{MemberId, TransportError};
use crate::txn::Precondition;

/// Maps a refused transaction to the caller's error.
pub(crate) fn rejected_error(r: TxnRejected) -> StoreError {
    match (r.expected, r.actual) {
        (Precondition::Absent, Some(version)) => StoreError::AlreadyExists {
            collection: r.collection,
            key: r.key,
            version,
        },
        (_, None) => StoreError::NotFound {
            collection: r.collection,
            key: r.key,
        },
        (Precondition::Version(expected), actual) => StoreError::Conflict {
            collection: r.collection,
            key: r.key,
            expected,
            actual,
        },
        (_, actual) => StoreError::Conflict {
            collection: r.collection,
            key: r.key,
            expected: 0,
            actual,
        },
    }
}

pub(super) fn from_wire(peer: MemberId, e: WireError) -> StoreError {
    match e {
        WireError::NotLeader { leader } => StoreError::NotLeader {
            leader: leader.map(MemberId),
        },
        WireError::NoLeader => StoreError::NoLeader,
        WireError::Rejected(r) => rejected_error(r),
        WireError::Indeterminate(s) => StoreError::Indeterminate(s),
        WireError::QuorumRisk {
            reachable,
            quorum,
            unreachable,
        } => StoreError::QuorumRisk {
            reachable: reachable as usize,
            quorum: quorum as usize,
            unreachable: unreachable
                .into_iter()
                .map(|(id, why)| (MemberId(id), why))
                .collect(),
        },
        WireError::Membership(s) => StoreError::Membership(s),
        WireError::NotAuthorized { peer, reason } => StoreError::NotAuthorized {
            peer: MemberId(peer),
            reason,
        },
        WireError::Timeout { timeout_ms } => StoreError::Timeout { timeout_ms },
        WireError::Fatal(detail) => StoreError::Transport(TransportError::Remote { peer, detail }),
        WireError::Invalid(detail) => StoreError::Invalid {
            field: "request",
            detail: format!("refused by {peer}: {detail}"),
        },
    }
}

pub(super) fn from_call(e: CallError) -> StoreError {
    match e {
        CallError::Transport(t) => StoreError::Transport(t),
        CallError::Timeout { timeout_ms, .. } => StoreError::Timeout { timeout_ms },
        CallError::Encode(e) => StoreError::Invalid {
            field: "request",
            detail: e.to_string(),
        },
        CallError::Decode { peer, detail } => StoreError::Protocol { peer, detail },
    }
}

/// The wire form of a membership operation's failure on the leader. Refusals made before
/// anything was proposed keep their kind; every other failure (a storage fault after the change
/// was submitted, ...) is [`WireError::Indeterminate`]: the change may have been made.
pub(super) fn to_wire(e: StoreError) -> WireError {
    match e {
        StoreError::NotLeader { leader } => WireError::NotLeader {
            leader: leader.map(|m| m.0),
        },
        StoreError::NoLeader => WireError::NoLeader,
        StoreError::QuorumRisk {
            reachable,
            quorum,
            unreachable,
        } => WireError::QuorumRisk {
            reachable: reachable as u64,
            quorum: quorum as u64,
            unreachable: unreachable.into_iter().map(|(m, why)| (m.0, why)).collect(),
        },
        StoreError::Membership(s) => WireError::Membership(s),
        StoreError::NotAuthorized { peer, reason } => WireError::NotAuthorized {
            peer: peer.0,
            reason,
        },
        StoreError::Timeout { timeout_ms } => WireError::Timeout { timeout_ms },
        StoreError::Indeterminate(s) => WireError::Indeterminate(s),
        StoreError::Invalid { field, detail } => WireError::Invalid(format!("{field}: {detail}")),
        other => WireError::Indeterminate(format!(
            "the leader failed after the operation may have been started: {other}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::attempt_failure::{note, settle};
    use super::*;
    use crate::proposer::write_error;
    use openraft::errors::RaftError;

    /// The scenario of the review: the leader appended the entry, then went fatal. Its answer
    /// must reach the forwarding member's caller as `Indeterminate`, not `Transport(Remote)`.
    #[test]
    fn a_leader_that_fails_after_proposing_answers_indeterminate() {
        let fatal = write_error(RaftError::Fatal(openraft::errors::Fatal::Stopped));
        let e = from_wire(MemberId(2), fatal);
        assert!(e.is_indeterminate(), "{e}");
        let mut unsettled = false;
        let e = note(&mut unsettled, e);
        assert!(unsettled);
        assert!(settle(e, unsettled, &"request 1").is_indeterminate());

        // The wire form of a membership operation's failure after it was submitted.
        let e = from_wire(MemberId(2), to_wire(StoreError::raft_stopped("disk gone")));
        assert!(e.is_indeterminate(), "{e}");
        // A refusal before proposing keeps its kind across the wire.
        let e = from_wire(
            MemberId(2),
            to_wire(StoreError::Invalid {
                field: "txn",
                detail: "empty".into(),
            }),
        );
        assert!(matches!(e, StoreError::Invalid { .. }), "{e}");
        let e = from_wire(MemberId(2), to_wire(StoreError::Membership("x".into())));
        assert!(matches!(e, StoreError::Membership(_)), "{e}");
    }
}
