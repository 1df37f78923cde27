//! The engine's record of every task it accounts, by task ID.
//!
//! A placement inserts one record per task, so this is the largest structure a placement
//! writes to. It is kept compact: records are appended to a dense array (sequential writes),
//! and the hash index over them holds 4-byte slots (an 8-bit hash fragment and a 24-bit
//! record number), at most 7/8 full (linear probing stays within a cache line or two), so
//! a 100,000-task index takes 512 KiB instead of the 4 MiB of a general-purpose map keyed
//! by the ID. The records of each node are also chained in a doubly linked list (8 bytes per
//! record, beside it), so removing a node reads its own tasks only.

use crate::hash::FxBuild;
use crate::ids::TaskId;
use crate::limits::MAX_TASKS;
use std::hash::BuildHasher;

/// What the engine remembers of a placed task (16 bytes: the task index is the largest
/// structure a placement writes to).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TaskRecord {
    pub(crate) node: u32,
    pub(crate) svc: u32,
    /// Index in [`Demands`](crate::demand::Demands): the CPU and memory reserved.
    pub(crate) demand: u32,
    /// The task also holds generic resources or ports, kept in `Engine::extras`.
    pub(crate) has_extras: bool,
}

const EMPTY: u32 = 0;
/// End of a node's list of records.
const NIL: u32 = u32::MAX;
const TOMBSTONE: u32 = 1;
const REC_BITS: u32 = 24;
const REC_MASK: u32 = (1 << REC_BITS) - 1;

// Record numbers are stored plus 2 (0 and 1 mark empty and removed entries) in 24 bits, so
// the engine's bound on accounted tasks must leave room for them.
const _: () = assert!(MAX_TASKS + 2 < 1 << REC_BITS);

#[derive(Debug, Clone)]
struct Slot {
    id: Option<TaskId>,
    rec: TaskRecord,
    hash: u32,
}

/// A record's neighbours in its node's list.
#[derive(Debug, Clone, Copy)]
struct Link {
    prev: u32,
    next: u32,
}

/// A free place found by [`TaskIndex::vacant`], valid until the index is next changed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Vacant {
    pos: usize,
    hash: u32,
}

/// Task ID → record, open addressing with linear probing.
#[derive(Debug, Clone, Default)]
pub(crate) struct TaskIndex {
    index: Vec<u32>,
    slots: Vec<Slot>,
    /// Per record (beside `slots`): its neighbours in its node's list.
    links: Vec<Link>,
    /// Per node slot: the first record of its list, or `NIL`.
    heads: Vec<u32>,
    free: Vec<u32>,
    len: usize,
    tombstones: usize,
    build: FxBuild,
}

impl TaskIndex {
    fn hash(&self, id: &TaskId) -> u32 {
        let h = self.build.hash_one(id);
        (h ^ (h >> 32)) as u32
    }

    #[inline]
    fn frag(hash: u32) -> u32 {
        (hash >> 24) << REC_BITS
    }

    /// Number of records.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Makes room for `additional` more records without rebuilding the index.
    pub(crate) fn reserve(&mut self, additional: usize) {
        self.slots
            .reserve(additional.saturating_sub(self.free.len()));
        let need = self.len + self.tombstones + additional;
        if need * 8 > self.index.len() * 7 || self.index.is_empty() {
            self.rebuild((self.len + additional) * 8 / 7 + 1);
        }
    }

    fn rebuild(&mut self, min_slots: usize) {
        let cap = min_slots.max(16).next_power_of_two();
        let mask = cap - 1;
        let mut index = vec![EMPTY; cap];
        for (n, s) in self.slots.iter().enumerate() {
            if s.id.is_some() {
                let mut pos = s.hash as usize & mask;
                while index[pos] != EMPTY {
                    pos = (pos + 1) & mask;
                }
                index[pos] = Self::frag(s.hash) | (n as u32 + 2);
            }
        }
        self.index = index;
        self.tombstones = 0;
    }

    /// Position in `index` and record number of `id`, if present.
    fn find(&self, id: &TaskId, hash: u32) -> Option<(usize, usize)> {
        if self.index.is_empty() {
            return None;
        }
        let mask = self.index.len() - 1;
        let frag = Self::frag(hash);
        let mut pos = hash as usize & mask;
        loop {
            let e = self.index[pos];
            if e == EMPTY {
                return None;
            }
            if e != TOMBSTONE && e & !REC_MASK == frag {
                let n = (e & REC_MASK) as usize - 2;
                if self.slots[n].id.as_ref() == Some(id) {
                    return Some((pos, n));
                }
            }
            pos = (pos + 1) & mask;
        }
    }

    /// The record of `id`.
    pub(crate) fn get(&self, id: &TaskId) -> Option<TaskRecord> {
        self.find(id, self.hash(id)).map(|(_, n)| self.slots[n].rec)
    }

    /// Whether `id` has a record.
    pub(crate) fn contains(&self, id: &TaskId) -> bool {
        self.find(id, self.hash(id)).is_some()
    }

    /// Where `id` would go, or `None` if it is present. Call [`TaskIndex::reserve`] first:
    /// the index is not grown here.
    #[inline]
    pub(crate) fn vacant(&mut self, id: &TaskId) -> Option<Vacant> {
        if (self.len + self.tombstones + 1) * 8 > self.index.len() * 7 {
            self.reserve(1);
        }
        let hash = self.hash(id);
        let mask = self.index.len() - 1;
        let frag = Self::frag(hash);
        let mut pos = hash as usize & mask;
        let mut first_tomb: Option<usize> = None;
        loop {
            let e = self.index[pos];
            if e == EMPTY {
                return Some(Vacant {
                    pos: first_tomb.unwrap_or(pos),
                    hash,
                });
            }
            if e == TOMBSTONE {
                first_tomb.get_or_insert(pos);
            } else if e & !REC_MASK == frag {
                let n = (e & REC_MASK) as usize - 2;
                if self.slots[n].id.as_ref() == Some(id) {
                    return None;
                }
            }
            pos = (pos + 1) & mask;
        }
    }

    /// Stores a record at a place returned by [`TaskIndex::vacant`].
    #[inline]
    pub(crate) fn fill(&mut self, v: Vacant, id: TaskId, rec: TaskRecord) {
        let slot = Slot {
            id: Some(id),
            rec,
            hash: v.hash,
        };
        let node = rec.node as usize;
        let n = match self.free.pop() {
            Some(n) => {
                self.slots[n as usize] = slot;
                n as usize
            }
            None => {
                self.slots.push(slot);
                self.links.push(Link {
                    prev: NIL,
                    next: NIL,
                });
                self.slots.len() - 1
            }
        };
        if self.heads.len() <= node {
            self.heads.resize(node + 1, NIL);
        }
        let head = self.heads[node];
        self.links[n] = Link {
            prev: NIL,
            next: head,
        };
        if head != NIL {
            self.links[head as usize].prev = n as u32;
        }
        self.heads[node] = n as u32;
        if self.index[v.pos] == TOMBSTONE {
            self.tombstones -= 1;
        }
        self.index[v.pos] = Self::frag(v.hash) | (n as u32 + 2);
        self.len += 1;
    }

    /// Inserts a record; false (and nothing changed) if `id` is present.
    pub(crate) fn insert_new(&mut self, id: TaskId, rec: TaskRecord) -> bool {
        match self.vacant(&id) {
            Some(v) => {
                self.fill(v, id, rec);
                true
            }
            None => false,
        }
    }

    /// Takes record `n` out of its node's list.
    fn unlink(&mut self, n: usize) {
        let Link { prev, next } = self.links[n];
        if prev == NIL {
            self.heads[self.slots[n].rec.node as usize] = next;
        } else {
            self.links[prev as usize].next = next;
        }
        if next != NIL {
            self.links[next as usize].prev = prev;
        }
    }

    fn remove_at(&mut self, pos: usize, n: usize) -> TaskRecord {
        self.unlink(n);
        self.index[pos] = TOMBSTONE;
        self.tombstones += 1;
        self.slots[n].id = None;
        self.free.push(n as u32);
        self.len -= 1;
        self.slots[n].rec
    }

    /// Removes and returns the record of `id`.
    pub(crate) fn remove(&mut self, id: &TaskId) -> Option<TaskRecord> {
        let (pos, n) = self.find(id, self.hash(id))?;
        Some(self.remove_at(pos, n))
    }

    /// Removes every record of node slot `node` and returns them, reading only that node's
    /// records.
    pub(crate) fn take_node(&mut self, node: u32) -> Vec<(TaskId, TaskRecord)> {
        let mut out = Vec::new();
        let mut n = self.heads.get(node as usize).copied().unwrap_or(NIL);
        while n != NIL {
            crate::probe::hit(crate::probe::Probe::NodeRemovalVisits, 1);
            let next = self.links[n as usize].next;
            let s = &self.slots[n as usize];
            if let Some(id) = s.id.clone() {
                if let Some((pos, found)) = self.find(&id, s.hash) {
                    out.push((id, self.remove_at(pos, found)));
                }
            }
            n = next;
        }
        out
    }

    /// The records of node slot `node`, most recent first.
    pub(crate) fn on_node(&self, node: u32) -> impl Iterator<Item = (&TaskId, &TaskRecord)> {
        let mut n = self.heads.get(node as usize).copied().unwrap_or(NIL);
        std::iter::from_fn(move || {
            while n != NIL {
                let s = &self.slots[n as usize];
                n = self.links[n as usize].next;
                if let Some(id) = &s.id {
                    return Some((id, &s.rec));
                }
            }
            None
        })
    }

    /// Every record.
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&TaskId, &TaskRecord)> {
        self.slots
            .iter()
            .filter_map(|s| s.id.as_ref().map(|id| (id, &s.rec)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn rec(n: u32) -> TaskRecord {
        TaskRecord {
            node: n,
            svc: n + 1,
            demand: n + 2,
            has_extras: n % 2 == 0,
        }
    }

    proptest! {
        #[test]
        fn behaves_like_a_map(ops in proptest::collection::vec((0u8..5, 0u32..64), 0..400)) {
            let mut ix = TaskIndex::default();
            let mut model: HashMap<String, u32> = HashMap::new();
            for (op, k) in ops {
                let id = TaskId::new(format!("task{:05}.{:05}", k / 8, k % 8));
                match op {
                    0 | 1 => {
                        let inserted = ix.insert_new(id.clone(), rec(k));
                        prop_assert_eq!(inserted, !model.contains_key(id.as_str()));
                        model.entry(id.to_string()).or_insert(k);
                    }
                    2 => prop_assert_eq!(ix.remove(&id).map(|r| r.node), model.remove(id.as_str())),
                    3 => {
                        let node = k % 3;
                        let mut taken: Vec<String> = ix.take_node(node).into_iter().map(|(id, r)| {
                            assert_eq!(r.node, node);
                            id.to_string()
                        }).collect();
                        taken.sort();
                        let mut want: Vec<String> = model.iter().filter(|(_, v)| **v == node).map(|(id, _)| id.clone()).collect();
                        want.sort();
                        prop_assert_eq!(taken, want);
                        model.retain(|_, v| *v != node);
                    }
                    _ => {
                        ix.reserve(k as usize);
                    }
                }
                prop_assert_eq!(ix.len(), model.len());
                prop_assert_eq!(ix.get(&id).map(|r| r.node), model.get(id.as_str()).copied());
                prop_assert_eq!(ix.contains(&id), model.contains_key(id.as_str()));
                let node = k % 3;
                let mut listed: Vec<String> = ix.on_node(node).map(|(id, r)| {
                    assert_eq!(r.node, node);
                    id.to_string()
                }).collect();
                listed.sort();
                let mut want: Vec<String> = model.iter().filter(|(_, v)| **v == node).map(|(id, _)| id.clone()).collect();
                want.sort();
                prop_assert_eq!(listed, want);
            }
            let mut all: Vec<(String, u32)> = ix.iter().map(|(id, r)| (id.to_string(), r.node)).collect();
            all.sort();
            let mut want: Vec<(String, u32)> = model.into_iter().collect();
            want.sort();
            prop_assert_eq!(all, want);
        }
    }

    #[test]
    fn tombstones_do_not_fill_the_index() {
        let mut ix = TaskIndex::default();
        for round in 0..50u32 {
            for k in 0..100u32 {
                ix.insert_new(TaskId::new(format!("r{round}.{k}")), rec(k));
            }
            for k in 0..100u32 {
                ix.remove(&TaskId::new(format!("r{round}.{k}")));
            }
        }
        assert_eq!(ix.len(), 0);
        assert!(ix.index.len() <= 1024, "index grew to {}", ix.index.len());
    }
}
