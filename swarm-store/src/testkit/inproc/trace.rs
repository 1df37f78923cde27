//! A bounded record of what the in-process network did with each message, to find where two
//! runs of one seed part ways.

use crate::transport::MemberId;
use std::time::Duration;
use tokio::time::Instant;

/// The most events a network keeps in its trace (about 64 bytes each; a simulated seed makes a
/// few thousand); later events are counted, not kept.
pub const MAX_TRACE_EVENTS: usize = 1 << 18;

/// What happened to one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceKind {
    /// A request was sent; it arrives after the delay.
    Sent {
        /// The delay drawn for it.
        delay: Duration,
    },
    /// A request or response was lost (partition, random drop or a full receive queue).
    Lost,
    /// A request was sent a second time; it arrives after the delay.
    Duplicated {
        /// The delay drawn for the copy.
        delay: Duration,
    },
    /// A request reached the destination's handler.
    Delivered,
    /// A response was sent back; it arrives after the delay.
    Answered {
        /// The delay drawn for it.
        delay: Duration,
    },
}

/// One message event, at the network's (possibly paused) tokio clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEvent {
    /// When it happened.
    pub at: Instant,
    /// The sender (of a response: the member answering).
    pub from: MemberId,
    /// The receiver.
    pub to: MemberId,
    /// The message's size.
    pub bytes: usize,
    /// FNV-1a digest of the message's bytes.
    pub digest: u64,
    /// What happened.
    pub kind: TraceKind,
}

impl TraceEvent {
    pub(crate) fn new(from: MemberId, to: MemberId, bytes: &[u8], kind: TraceKind) -> Self {
        const FNV_OFFSET: u64 = 0xCBF2_9CE4_8422_2325;
        const FNV_PRIME: u64 = 0x0000_0100_0000_01B3;
        TraceEvent {
            at: Instant::now(),
            from,
            to,
            bytes: bytes.len(),
            digest: bytes.iter().fold(FNV_OFFSET, |h, &b| {
                (h ^ u64::from(b)).wrapping_mul(FNV_PRIME)
            }),
            kind,
        }
    }
}

/// The events recorded so far, at most [`MAX_TRACE_EVENTS`].
#[derive(Clone, Debug, Default)]
pub(crate) struct Trace {
    pub(crate) events: Vec<TraceEvent>,
    pub(crate) missed: u64,
}

impl Trace {
    pub(crate) fn push(&mut self, event: TraceEvent) {
        if self.events.len() < MAX_TRACE_EVENTS {
            self.events.push(event);
        } else {
            self.missed += 1;
        }
    }
}
