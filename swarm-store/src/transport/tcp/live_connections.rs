//! The connections a server serves, by peer: to close a peer's oldest connection beyond its
//! limit ([`MAX_CONNECTIONS_PER_PEER`](super::config::MAX_CONNECTIONS_PER_PEER) for a member,
//! [`MAX_ANONYMOUS_CONNECTIONS`](super::config::MAX_ANONYMOUS_CONNECTIONS) for the anonymous
//! id), to close every connection of a peer, and to have every connection check its peer's
//! certificate again.

use crate::transport::MemberId;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

#[derive(Default)]
struct Table {
    next_seq: u64,
    /// Each peer's connections, oldest (lowest sequence number) first.
    by_peer: BTreeMap<MemberId, BTreeMap<u64, CancellationToken>>,
}

/// The registry of a server's authenticated connections.
pub(crate) struct LiveConnections {
    table: Mutex<Table>,
    /// Bumped to have every connection ask the identifier about its peer again.
    recheck: watch::Sender<u64>,
}

/// One connection's place in the registry; dropping it (the connection ended) frees the place.
pub(crate) struct Registration {
    live: Arc<LiveConnections>,
    peer: MemberId,
    seq: u64,
    /// Cancelled when the server closes this connection (its peer disconnected, or too many
    /// connections of its peer).
    pub(crate) cancel: CancellationToken,
    /// Changes when every connection must check its peer again.
    pub(crate) recheck: watch::Receiver<u64>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut table = self.live.lock();
        if let Some(connections) = table.by_peer.get_mut(&self.peer) {
            connections.remove(&self.seq);
            if connections.is_empty() {
                table.by_peer.remove(&self.peer);
            }
        }
    }
}

impl LiveConnections {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(LiveConnections {
            table: Mutex::new(Table::default()),
            recheck: watch::Sender::new(0),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        self.table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers a new connection of `peer`; closes the peer's oldest connections beyond
    /// `limit` (at least one: the new connection stays) and returns how many it closed.
    pub(crate) fn register(
        self: &Arc<Self>,
        peer: MemberId,
        limit: usize,
    ) -> (Registration, usize) {
        let limit = limit.max(1);
        let cancel = CancellationToken::new();
        let mut table = self.lock();
        let seq = table.next_seq;
        table.next_seq += 1;
        let connections = table.by_peer.entry(peer).or_default();
        connections.insert(seq, cancel.clone());
        let mut evicted = 0;
        while connections.len() > limit {
            if let Some((_, oldest)) = connections.pop_first() {
                oldest.cancel();
                evicted += 1;
            }
        }
        drop(table);
        let registration = Registration {
            live: self.clone(),
            peer,
            seq,
            cancel,
            recheck: self.recheck.subscribe(),
        };
        (registration, evicted)
    }

    /// Closes every connection of `peer`; returns how many.
    pub(crate) fn disconnect(&self, peer: MemberId) -> usize {
        let connections = self.lock().by_peer.remove(&peer).unwrap_or_default();
        for cancel in connections.values() {
            cancel.cancel();
        }
        connections.len()
    }

    /// How many connections `peer` holds.
    pub(crate) fn count(&self, peer: MemberId) -> usize {
        self.lock().by_peer.get(&peer).map_or(0, BTreeMap::len)
    }

    /// Has every connection check its peer again now.
    pub(crate) fn recheck_all(&self) {
        self.recheck
            .send_modify(|generation| *generation = generation.wrapping_add(1));
    }
}
