//! What a failed attempt of a write or membership operation says about its outcome, and the
//! error the operation returns once one attempt's outcome is unknown.

use crate::error::StoreError;

/// What a failed attempt of a write or membership operation that left this member (handed to
/// the local proposer or Raft, or forwarded to a leader) says about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AttemptFailure {
    /// The leader refused it before proposing anything: this attempt added no log entry.
    Refused,
    /// The state machine answered its request id (a refused precondition): the final answer,
    /// even when an earlier attempt's copy reached the log first (the dedup table then answers
    /// the recorded reply).
    Answered,
    /// It may have been proposed and no outcome came back: it may have applied, or still may.
    Unknown,
}

/// Classifies the failure `e` of an attempt that left this member. Exhaustive on purpose: a new
/// [`StoreError`] variant must be placed in a class here.
fn attempt_failure(e: &StoreError) -> AttemptFailure {
    match e {
        StoreError::Conflict { .. }
        | StoreError::NotFound { .. }
        | StoreError::AlreadyExists { .. } => AttemptFailure::Answered,
        StoreError::NotLeader { .. }
        | StoreError::NoLeader
        | StoreError::Invalid { .. }
        | StoreError::QuorumRisk { .. }
        | StoreError::NotAuthorized { .. }
        | StoreError::Membership(_) => AttemptFailure::Refused,
        StoreError::Indeterminate(_)
        | StoreError::Timeout { .. }
        | StoreError::Transport(_)
        | StoreError::Protocol { .. }
        | StoreError::Storage(_)
        | StoreError::Shutdown
        | StoreError::Codec { .. }
        | StoreError::Compacted { .. } => AttemptFailure::Unknown,
    }
}

/// The error a write or membership operation returns, given its last failure and whether an
/// attempt ended with an [`AttemptFailure::Unknown`] outcome (`unsettled`). Once one may have
/// been proposed, only the state machine's own answer is definite: everything else, a later
/// refusal included (it says nothing about the earlier copy), is
/// [`StoreError::Indeterminate`], so the caller never retries as a new request something that
/// may apply.
pub(super) fn settle(
    last: StoreError,
    unsettled: bool,
    what: &dyn std::fmt::Display,
) -> StoreError {
    if unsettled && attempt_failure(&last) != AttemptFailure::Answered {
        StoreError::Indeterminate(format!(
            "{what} left this member but no outcome came back ({last}); read back, or resubmit \
             the same request"
        ))
    } else {
        last
    }
}

/// Records the failure `e` of an attempt that left this member into `unsettled` and returns it.
pub(super) fn note(unsettled: &mut bool, e: StoreError) -> StoreError {
    if attempt_failure(&e) == AttemptFailure::Unknown {
        *unsettled = true;
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{MemberId, TransportError};

    /// One of every [`StoreError`] variant, with the class [`attempt_failure`] must give it.
    fn every_error() -> Vec<(StoreError, AttemptFailure)> {
        use AttemptFailure::{Answered, Refused, Unknown};
        let peer = MemberId(2);
        vec![
            (StoreError::NotLeader { leader: Some(peer) }, Refused),
            (StoreError::NoLeader, Refused),
            (
                StoreError::Conflict {
                    collection: "c".into(),
                    key: "k".into(),
                    expected: 1,
                    actual: Some(2),
                },
                Answered,
            ),
            (
                StoreError::NotFound {
                    collection: "c".into(),
                    key: "k".into(),
                },
                Answered,
            ),
            (
                StoreError::AlreadyExists {
                    collection: "c".into(),
                    key: "k".into(),
                    version: 1,
                },
                Answered,
            ),
            (
                StoreError::Compacted {
                    requested: 1,
                    compacted: 2,
                },
                Unknown,
            ),
            (
                StoreError::Invalid {
                    field: "txn",
                    detail: "x".into(),
                },
                Refused,
            ),
            (
                StoreError::Codec {
                    action: "decode",
                    collection: "c".into(),
                    key: "k".into(),
                    detail: "x".into(),
                },
                Unknown,
            ),
            (
                StoreError::QuorumRisk {
                    reachable: 1,
                    quorum: 2,
                    unreachable: Vec::new(),
                },
                Refused,
            ),
            (
                StoreError::NotAuthorized {
                    peer,
                    reason: "x".into(),
                },
                Refused,
            ),
            (StoreError::Membership("x".into()), Refused),
            (StoreError::Indeterminate("x".into()), Unknown),
            (StoreError::Timeout { timeout_ms: 1 }, Unknown),
            (
                StoreError::Transport(TransportError::Timeout(peer)),
                Unknown,
            ),
            (
                StoreError::Transport(TransportError::Unreachable {
                    peer,
                    detail: "x".into(),
                }),
                Unknown,
            ),
            (
                StoreError::Transport(TransportError::Remote {
                    peer,
                    detail: "x".into(),
                }),
                Unknown,
            ),
            (
                StoreError::Transport(TransportError::Protocol {
                    peer,
                    detail: "x".into(),
                }),
                Unknown,
            ),
            (
                StoreError::Transport(TransportError::FrameTooLarge {
                    peer,
                    bytes: 2,
                    limit: 1,
                }),
                Unknown,
            ),
            (
                StoreError::Transport(TransportError::Auth {
                    peer,
                    detail: "x".into(),
                }),
                Unknown,
            ),
            (
                StoreError::Transport(TransportError::UnknownPeer(peer)),
                Unknown,
            ),
            (StoreError::Transport(TransportError::Shutdown), Unknown),
            (StoreError::raft_stopped("x"), Unknown),
            (
                StoreError::Protocol {
                    peer,
                    detail: "x".into(),
                },
                Unknown,
            ),
            (StoreError::Shutdown, Unknown),
        ]
    }

    /// Before, a write that had left this member came back as `Indeterminate` only when its
    /// last error was retryable or `Protocol`: a leader's fatal error (`Transport(Remote)`), a
    /// broken connection's `Transport(Protocol | Shutdown | FrameTooLarge)` and `Storage` passed
    /// through, documented as "nothing was applied". Now only the state machine's answer stays
    /// definite once an attempt's outcome is unknown.
    #[test]
    fn after_an_unknown_attempt_only_the_state_machines_answer_is_definite() {
        let what = "request 1";
        for (e, class) in every_error() {
            assert_eq!(attempt_failure(&e), class, "{e}");
            let shown = e.to_string();
            // Nothing may have been proposed: the error is returned unchanged.
            let settled = settle(e, false, &what);
            assert_eq!(settled.to_string(), shown);
            let (e, _) = every_error()
                .into_iter()
                .find(|(e, _)| e.to_string() == shown)
                .expect("the same list");
            let settled = settle(e, true, &what);
            if class == AttemptFailure::Answered {
                assert_eq!(settled.to_string(), shown);
            } else {
                assert!(settled.is_indeterminate(), "{shown} -> {settled}");
                assert!(settled.to_string().contains(&shown), "{settled}");
            }
        }
        // An attempt that failed with an unknown outcome makes the operation unsettled; a
        // refusal or an answer does not.
        for (e, class) in every_error() {
            let mut unsettled = false;
            let _ = note(&mut unsettled, e);
            assert_eq!(unsettled, class == AttemptFailure::Unknown);
        }
    }
}
