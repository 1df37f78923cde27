//! Dense per-slot arrays a placement fills and clears again, kept between calls so a group
//! allocates nothing per node.

/// Per node slot, the values one placement works with. Outside a placement, `svc` and
/// `fail` are all zero.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scratch {
    /// Tasks of the group's service on the node.
    pub(crate) svc: Vec<u32>,
    /// The node's recent-failure rank for the group's service (0 below the configured
    /// maximum).
    pub(crate) fail: Vec<u8>,
    /// The last group (by `seq`) that placed a task on the node.
    pub(crate) stamp: Vec<u32>,
    /// Number of the current group; never 0 once a group has started.
    seq: u32,
}

impl Scratch {
    /// Makes room for `slots` node slots (new entries zero).
    pub(crate) fn fit(&mut self, slots: usize) {
        if self.svc.len() < slots {
            self.svc.resize(slots, 0);
            self.fail.resize(slots, 0);
            self.stamp.resize(slots, 0);
        }
    }

    /// Starts a new group and returns its number: a stamp equal to it means "this group
    /// already placed a task here". On wrap-around every stamp is cleared.
    pub(crate) fn next_group(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        if self.seq == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.seq = 1;
        }
        self.seq
    }
}
