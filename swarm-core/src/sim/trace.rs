//! The record of a simulated run: what the workload and the faults did, and what the network
//! did with every message; its hash identifies the run.

use std::time::Duration;
use swarm_store::testkit::inproc::{TraceEvent, TraceKind};

/// How many of the last trace lines a failure shows.
pub const TRACE_TAIL_LINES: usize = 40;

const FNV_OFFSET: u64 = 0xCBF2_9CE4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01B3;

/// The simulation's trace: its lines (simulated milliseconds, then the event) and a running
/// FNV-1a hash over them and over the network's events.
#[derive(Clone, Debug)]
pub struct SimTrace {
    lines: Vec<String>,
    hash: u64,
    /// Whether each line is also printed to stderr as it is made (environment variable
    /// [`TRACE_LIVE_ENV`] set: to see where a run that does not end is).
    live: bool,
}

/// The environment variable that prints the trace's lines to stderr as they are made.
pub const TRACE_LIVE_ENV: &str = "SWARM_SIM_TRACE_LIVE";

impl Default for SimTrace {
    fn default() -> Self {
        SimTrace {
            lines: Vec::new(),
            hash: FNV_OFFSET,
            live: std::env::var_os(TRACE_LIVE_ENV).is_some(),
        }
    }
}

impl SimTrace {
    fn mix(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.hash = (self.hash ^ u64::from(b)).wrapping_mul(FNV_PRIME);
        }
    }

    /// Records `event` at simulated time `at`.
    pub fn line(&mut self, at: Duration, event: impl Into<String>) {
        let line = format!("{:>9} ms  {}", at.as_millis(), event.into());
        self.mix(line.as_bytes());
        self.mix(b"\n");
        if self.live {
            eprintln!("{line}");
        }
        self.lines.push(line);
    }

    /// Hashes the network's events (times relative to `start`): when, between whom and what
    /// happened to each message, not its bytes (key material and signatures are random).
    /// With `lines`, every event also becomes a trace line.
    pub fn network(
        &mut self,
        start: tokio::time::Instant,
        events: &[TraceEvent],
        missed: u64,
        lines: bool,
    ) {
        for e in events {
            if lines {
                self.lines.push(format!(
                    "{:>12} us  net {} -> {} {:?} {} bytes",
                    e.at.saturating_duration_since(start).as_micros(),
                    e.from.0,
                    e.to.0,
                    e.kind,
                    e.bytes
                ));
            }
            let at = e.at.saturating_duration_since(start).as_micros();
            let kind: (u8, u128) = match e.kind {
                TraceKind::Sent { delay } => (1, delay.as_micros()),
                TraceKind::Lost => (2, 0),
                TraceKind::Duplicated { delay } => (3, delay.as_micros()),
                TraceKind::Delivered => (4, 0),
                TraceKind::Answered { delay } => (5, delay.as_micros()),
            };
            self.mix(&at.to_le_bytes());
            self.mix(&e.from.0.to_le_bytes());
            self.mix(&e.to.0.to_le_bytes());
            self.mix(&[kind.0]);
            self.mix(&kind.1.to_le_bytes());
        }
        self.mix(&missed.to_le_bytes());
        let count = events.len();
        self.lines.push(format!(
            "network: {count} message events ({missed} not kept)"
        ));
    }

    /// The hash so far.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// Every line.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// The last [`TRACE_TAIL_LINES`] lines.
    pub fn tail(&self) -> Vec<String> {
        let from = self.lines.len().saturating_sub(TRACE_TAIL_LINES);
        self.lines[from..].to_vec()
    }
}
