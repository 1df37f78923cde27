//! One subscription's state in the broker: its parts per node, its buffer, its problems.

use super::{LogEnd, LogMessage, LogRequest, LogSelector, MAX_LOG_END_REASONS};
use crate::model::{NodeId, TaskId};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::SystemTime;

/// Where a node's part of a subscription stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Part {
    /// The node is to publish; last heard from at that time (a poll or a publication).
    Open { last_heard: SystemTime },
    /// The node published its part and closed it.
    Closed,
    /// The node went down or silent; a reason was recorded.
    Failed,
}

/// A subscription held by the broker.
#[derive(Debug)]
pub(super) struct Subscription {
    pub(super) selector: LogSelector,
    pub(super) request: LogRequest,
    pub(super) parts: BTreeMap<NodeId, Part>,
    /// Tasks named by the selector that have no node yet.
    pub(super) unscheduled: BTreeSet<TaskId>,
    pub(super) buffer: VecDeque<LogMessage>,
    pub(super) buffered_bytes: usize,
    pub(super) last_read: SystemTime,
    /// Why parts failed (at most [`MAX_LOG_END_REASONS`]; later ones are counted).
    pub(super) problems: Vec<String>,
    pub(super) problems_dropped: usize,
}

impl Subscription {
    pub(super) fn new(selector: LogSelector, request: LogRequest, now: SystemTime) -> Self {
        Subscription {
            selector,
            request,
            parts: BTreeMap::new(),
            unscheduled: BTreeSet::new(),
            buffer: VecDeque::new(),
            buffered_bytes: 0,
            last_read: now,
            problems: Vec::new(),
            problems_dropped: 0,
        }
    }

    /// Opens a part for `node` unless it has one (open, closed or failed).
    pub(super) fn add_part(&mut self, node: &NodeId, now: SystemTime) -> bool {
        if self.parts.contains_key(node) {
            return false;
        }
        self.parts
            .insert(node.clone(), Part::Open { last_heard: now });
        true
    }

    /// Marks `node`'s part failed for `reason`.
    pub(super) fn fail_part(&mut self, node: &NodeId, reason: String) {
        self.parts.insert(node.clone(), Part::Failed);
        if self.problems.len() < MAX_LOG_END_REASONS {
            self.problems.push(reason);
        } else {
            self.problems_dropped += 1;
        }
    }

    pub(super) fn is_open_for(&self, node: &NodeId) -> bool {
        matches!(self.parts.get(node), Some(Part::Open { .. }))
    }

    /// A subscription that does not follow is finished once no part is open.
    pub(super) fn is_finished(&self) -> bool {
        !self.request.follow && self.parts.values().all(|p| !matches!(p, Part::Open { .. }))
    }

    /// Why it ended incomplete, if it did.
    pub(super) fn end(&self) -> LogEnd {
        let mut incomplete = self.problems.clone();
        let mut dropped = self.problems_dropped;
        for task in &self.unscheduled {
            if incomplete.len() < MAX_LOG_END_REASONS {
                incomplete.push(format!("task {task} has not been scheduled"));
            } else {
                dropped += 1;
            }
        }
        if dropped > 0 {
            incomplete.push(format!("and {dropped} more"));
        }
        LogEnd { incomplete }
    }
}
