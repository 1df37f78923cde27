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
}

impl StoreStatus {
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
