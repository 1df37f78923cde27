//! The status as this member sees it: role, indexes and each member's reachability.

use super::Member;
use crate::membership::{MemberRole, MemberStatus, Role, StoreStatus};
use crate::transport::MemberId;
use openraft::ServerState;
use openraft::async_runtime::WatchReceiver;
use std::collections::BTreeSet;
use std::time::Duration;

impl Member {
    /// The status as this member sees it.
    pub(crate) fn status(&self) -> StoreStatus {
        let m = self.raft.metrics().borrow_watched().clone();
        let membership = m.membership_config.membership().clone();
        let voters: BTreeSet<u64> = membership.voter_ids().collect();
        let is_leader = m.state == ServerState::Leader;
        let contacts = self.reachable();
        let members = membership
            .nodes()
            .map(|(id, node)| {
                let last_contact = if *id == self.id {
                    Some(Duration::ZERO)
                } else if is_leader {
                    contacts.get(id).cloned().flatten()
                } else {
                    None
                };
                MemberStatus {
                    id: MemberId(*id),
                    addr: node.addr.clone(),
                    role: if voters.contains(id) {
                        MemberRole::Voter
                    } else {
                        MemberRole::Learner
                    },
                    reachable: if *id == self.id {
                        Some(true)
                    } else if is_leader {
                        Some(self.is_reachable(&contacts, *id))
                    } else {
                        None
                    },
                    last_contact,
                    last_error: if *id == self.id {
                        None
                    } else {
                        self.peer_errors.last_error(*id)
                    },
                    matched_index: m
                        .replication
                        .as_ref()
                        .and_then(|r| r.get(id).cloned().flatten())
                        .map(|l| l.index),
                }
            })
            .collect();
        StoreStatus {
            member: MemberId(self.id),
            role: match m.state {
                ServerState::Leader => Role::Leader,
                ServerState::Candidate => Role::Candidate,
                ServerState::Follower => Role::Follower,
                ServerState::Learner => Role::Learner,
                ServerState::Shutdown => Role::Stopped,
            },
            leader: m.current_leader.map(MemberId),
            term: m.current_term,
            last_log_index: m.last_log_index,
            commit_index: m.local_committed.map(|l| l.index),
            applied_index: m.last_applied.map(|l| l.index),
            snapshot_index: m.snapshot.map(|l| l.index),
            purged_index: m.purged.map(|l| l.index),
            revision: self.shared.applied().revision,
            members,
            joint: membership.get_joint_config().len() > 1,
        }
    }
}
