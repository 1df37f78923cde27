//! Cluster status as a member sees it, and the quorum rule membership changes obey.

use crate::transport::MemberId;
use std::collections::BTreeSet;
use std::time::Duration;

/// What a member is doing in the Raft group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// It leads: writes and linearizable reads are served here.
    Leader,
    /// It is standing for election.
    Candidate,
    /// It is a voter following a leader.
    Follower,
    /// It replicates the log without voting.
    Learner,
    /// It has stopped.
    Stopped,
}

/// Whether a member votes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberRole {
    /// Counts towards quorum.
    Voter,
    /// Receives the log but does not vote.
    Learner,
}

/// One member of the membership.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberStatus {
    /// The member.
    pub id: MemberId,
    /// Its address as recorded in the membership.
    pub addr: String,
    /// Voter or learner.
    pub role: MemberRole,
    /// Whether it acknowledged the leader recently (`None`: unknown, asked of a non-leader).
    pub reachable: Option<bool>,
    /// Time since its last acknowledgement to the leader (`None`: never, or not the leader).
    pub last_contact: Option<Duration>,
    /// The last log index the leader knows it holds (`None`: unknown).
    pub matched_index: Option<u64>,
    /// The last failure of a call from the answering member to it (a refused certificate, a
    /// connection refused, a timeout, ...), cleared by the next call that succeeds; `None` for
    /// the answering member itself and while calls succeed (or none was made).
    pub last_error: Option<String>,
}

/// A member's view of the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreStatus {
    /// The member answering.
    pub member: MemberId,
    /// Its role.
    pub role: Role,
    /// The leader it knows of.
    pub leader: Option<MemberId>,
    /// Its current term.
    pub term: u64,
    /// Its last log index.
    pub last_log_index: Option<u64>,
    /// The highest index it knows to be committed.
    pub commit_index: Option<u64>,
    /// The highest index its state machine applied.
    pub applied_index: Option<u64>,
    /// The last index included in its snapshot.
    pub snapshot_index: Option<u64>,
    /// The last index purged from its log.
    pub purged_index: Option<u64>,
    /// The store revision of its state machine.
    pub revision: u64,
    /// Voters and learners of the membership.
    pub members: Vec<MemberStatus>,
    /// Whether a change of voters is between its two steps (joint consensus: the old voters
    /// and the new ones must each agree). [`StoreStatus::voters`] already lists the new voters
    /// then, but the group tolerates only what the old voters tolerate: a two-voter group
    /// promoting a third still needs both of the first two until this is `false`.
    pub joint: bool,
}

impl StoreStatus {
    /// Whether the membership is settled: no change of voters in progress and no learner
    /// waiting to be promoted or removed.
    pub fn is_settled(&self) -> bool {
        !self.joint && self.members.iter().all(|m| m.role == MemberRole::Voter)
    }

    /// The voters.
    pub fn voters(&self) -> Vec<MemberId> {
        self.members
            .iter()
            .filter(|m| m.role == MemberRole::Voter)
            .map(|m| m.id)
            .collect()
    }

    /// The learners.
    pub fn learners(&self) -> Vec<MemberId> {
        self.members
            .iter()
            .filter(|m| m.role == MemberRole::Learner)
            .map(|m| m.id)
            .collect()
    }
}

/// Why a member refused a membership operation another member asked of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum MembershipAuthError {
    /// The asking member is not a voter of the effective membership: learners (and members
    /// already removed) may not change the membership, even with a valid certificate.
    #[error(
        "membership change asked by {peer} refused: only a current voter may change the \
         membership, and {peer} is not one"
    )]
    NotAVoter {
        /// The member that asked.
        peer: MemberId,
    },
    /// A forced change (which skips the quorum guard) came from another member, and this
    /// member's operator did not allow that
    /// ([`Store::allow_forced_membership_from_peers`](crate::Store::allow_forced_membership_from_peers)).
    #[error(
        "forced membership change asked by {peer} refused: force is accepted only from this \
         member's own operator (run it on the leader, or allow forced changes from peers there)"
    )]
    RemoteForce {
        /// The member that asked.
        peer: MemberId,
    },
}

/// Whether `peer` may ask this member (the leader) to carry out a membership operation:
/// membership-changing operations need a current voter, and a forced one also needs the local
/// operator's consent (`allow_remote_force`). `force` is the operation's flag; `voters` the
/// effective membership's voters.
pub(crate) fn authorize_remote(
    peer: MemberId,
    voters: &BTreeSet<u64>,
    force: bool,
    allow_remote_force: bool,
) -> Result<(), MembershipAuthError> {
    if !voters.contains(&peer.0) {
        return Err(MembershipAuthError::NotAVoter { peer });
    }
    if force && !allow_remote_force {
        return Err(MembershipAuthError::RemoteForce { peer });
    }
    Ok(())
}

/// Checks that a configuration with `new_voters` keeps a reachable quorum. Returns
/// `(reachable, quorum)` when it does not.
pub(crate) fn check_quorum(
    new_voters: &BTreeSet<u64>,
    reachable: impl Fn(u64) -> bool,
) -> Result<(), (usize, usize)> {
    let quorum = new_voters.len() / 2 + 1;
    let up = new_voters.iter().filter(|id| reachable(**id)).count();
    if up >= quorum {
        Ok(())
    } else {
        Err((up, quorum))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_voters_change_membership_and_force_needs_local_consent() {
        let voters: BTreeSet<u64> = [1, 2, 3].into();
        assert_eq!(
            authorize_remote(MemberId(4), &voters, false, true),
            Err(MembershipAuthError::NotAVoter { peer: MemberId(4) }),
            "a learner, even with force allowed"
        );
        assert_eq!(authorize_remote(MemberId(2), &voters, false, false), Ok(()));
        assert_eq!(
            authorize_remote(MemberId(2), &voters, true, false),
            Err(MembershipAuthError::RemoteForce { peer: MemberId(2) })
        );
        assert_eq!(authorize_remote(MemberId(2), &voters, true, true), Ok(()));
        let e = MembershipAuthError::NotAVoter { peer: MemberId(4) }.to_string();
        assert!(e.contains("member-4"), "{e}");
    }

    #[test]
    fn quorum_rule() {
        let three: BTreeSet<u64> = [1, 2, 3].into();
        assert_eq!(check_quorum(&three, |_| true), Ok(()));
        assert_eq!(check_quorum(&three, |id| id != 3), Ok(()));
        assert_eq!(check_quorum(&three, |id| id == 1), Err((1, 2)));
        // Promoting an unreachable fourth voter to {1,2,3} with 3 down: 2 of 4 < quorum 3.
        let four: BTreeSet<u64> = [1, 2, 3, 4].into();
        assert_eq!(check_quorum(&four, |id| id <= 2), Err((2, 3)));
        // Removing a dead voter from {1,2,3} leaves {1,2}, both up.
        let two: BTreeSet<u64> = [1, 2].into();
        assert_eq!(check_quorum(&two, |id| id <= 2), Ok(()));
    }
}
