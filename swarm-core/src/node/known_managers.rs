//! Every manager the agent has learned of, most recently listed first, so that an agent whose
//! current managers all fail can try the ones it knew before.
//!
//! A worker cut off while every manager it then knew was demoted (and others promoted) would
//! otherwise keep calling nodes that no longer listen as managers: the new managers are
//! only announced by managers. A former manager often is one again, or the agent knew a
//! current manager before a later list left it out (the cluster's seed 264 of the
//! simulation). A node that never knew any current manager still needs a new join.

use crate::manager::dispatcher::MAX_MANAGERS;
use crate::model::NodeId;
use crate::node::wire::ManagerAddr;

/// The most managers remembered; the least recently listed is forgotten beyond. A cluster has
/// at most a handful of managers at once, so 64 covers many changes of them; the memory is a
/// few KiB at worst.
pub(crate) const MAX_KNOWN_MANAGERS: usize = 64;

/// The managers learned from configuration and from every answer, with their node ids,
/// most recently listed first, at most [`MAX_KNOWN_MANAGERS`].
#[derive(Clone, Debug, Default)]
pub(crate) struct KnownManagers {
    list: Vec<(String, NodeId)>,
}

impl KnownManagers {
    /// Remembers `managers` (a list the cluster sent, or the node's own), ahead of the ones
    /// known before; forgets the oldest beyond [`MAX_KNOWN_MANAGERS`].
    pub(crate) fn remember(&mut self, managers: &[ManagerAddr]) {
        let mut fresh: Vec<(String, NodeId)> = Vec::new();
        for m in managers {
            if fresh.len() < MAX_KNOWN_MANAGERS && !fresh.iter().any(|(a, _)| *a == m.addr) {
                fresh.push((m.addr.clone(), m.node.clone()));
            }
        }
        let older: Vec<(String, NodeId)> = std::mem::take(&mut self.list)
            .into_iter()
            .filter(|(a, _)| !fresh.iter().any(|(f, _)| f == a))
            .collect();
        fresh.extend(older);
        fresh.truncate(MAX_KNOWN_MANAGERS);
        self.list = fresh;
    }

    /// The node id of the manager at `addr`, if known.
    pub(crate) fn node_of(&self, addr: &str) -> Option<&NodeId> {
        self.list.iter().find(|(a, _)| a == addr).map(|(_, n)| n)
    }

    /// The addresses to try when `current` all failed: `current` first, then every other
    /// manager known, most recently listed first, at most [`MAX_MANAGERS`] (what a session
    /// takes).
    pub(crate) fn widened(&self, current: &[ManagerAddr]) -> Vec<String> {
        let mut addrs: Vec<String> = Vec::new();
        let all = current
            .iter()
            .map(|m| m.addr.as_str())
            .chain(self.list.iter().map(|(a, _)| a.as_str()));
        for addr in all {
            if addrs.len() == MAX_MANAGERS {
                break;
            }
            if !addrs.iter().any(|a| a == addr) {
                addrs.push(addr.to_owned());
            }
        }
        addrs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manager(name: &str) -> ManagerAddr {
        ManagerAddr {
            node: NodeId::from(format!("id-{name}")),
            raft_id: 1,
            addr: format!("{name}:2377"),
        }
    }

    #[test]
    fn a_manager_left_out_of_later_lists_is_still_tried_when_the_current_ones_fail() {
        let mut known = KnownManagers::default();
        known.remember(&[manager("m1"), manager("m2"), manager("m3")]);
        // m2 and m3 demoted: the cluster now lists m1 only.
        known.remember(&[manager("m1")]);
        assert_eq!(
            known.node_of("m2:2377"),
            Some(&NodeId::from("id-m2".to_owned()))
        );
        assert_eq!(
            known.widened(&[manager("m1")]),
            ["m1:2377", "m2:2377", "m3:2377"]
        );
    }

    #[test]
    fn the_memory_is_bounded_and_forgets_the_least_recently_listed() {
        let mut known = KnownManagers::default();
        for i in 0..MAX_KNOWN_MANAGERS + 10 {
            known.remember(&[manager(&format!("n{i}"))]);
        }
        assert_eq!(known.list.len(), MAX_KNOWN_MANAGERS);
        assert!(known.node_of("n0:2377").is_none());
        assert!(
            known
                .node_of(&format!("n{}:2377", MAX_KNOWN_MANAGERS + 9))
                .is_some()
        );
        assert_eq!(
            known.widened(&[]).len(),
            MAX_MANAGERS.min(MAX_KNOWN_MANAGERS)
        );
        assert_eq!(
            known.widened(&[]).first().map(String::as_str),
            Some(format!("n{}:2377", MAX_KNOWN_MANAGERS + 9).as_str())
        );
    }
}
