//! How managers watch agents: the heartbeat period and grace.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Our default agent heartbeat period: 500 ms (SwarmKit's is 5 s).
///
/// Chosen with [`DEFAULT_HEARTBEAT_GRACE_MULTIPLIER`] for the cluster's targets: a dead worker
/// marked down within 3 s (Docker with SwarmKit's 5 s × 3: 13.4 s measured), and no false "down"
/// while a 2-core machine runs `cargo build`. See [`DispatcherConfig`] for the formulas; the
/// figure will be measured by the `cluster_bench` binary (`worker_down_detect_ms`).
pub const DEFAULT_HEARTBEAT_PERIOD: Duration = Duration::from_millis(500);
/// Our default grace multiplier: a node is down after 4 announced periods without a heartbeat
/// (SwarmKit's is 3, on a 5 s period).
pub const DEFAULT_HEARTBEAT_GRACE_MULTIPLIER: u32 = 4;

/// How managers watch agents.
///
/// The dispatcher announces to each agent, with every answer, the period after which to send its
/// next heartbeat: `P ± P/10` (`P` = `heartbeat_period`, the jitter is SwarmKit's ±10 %, drawn
/// from the randomness the caller passes in), and expects that heartbeat within
/// `M × announced period` (`M` = `heartbeat_grace_multiplier`). Hence, `J = P/10`:
///
/// * **worst-case detection** of a dead node, counted from its last heartbeat:
///   `M × (P + J)`, plus the time the manager's loop takes to run the expiry and commit the
///   write. Defaults: 4 × 550 ms = **2.2 s**, within the 3 s target.
/// * **stall tolerance** (no false "down"): an agent or manager may stall, or heartbeats be lost,
///   for up to `(M − 1) × (P − J)` after a heartbeat is due. Defaults: 3 × 450 ms = **1.35 s**,
///   that is two lost heartbeats and a third up to a period late.
/// * **after a leader change** nodes get twice the grace (SwarmKit's factor), to reconnect to the
///   new leader: `2 × M × (P + J)` = 4.4 s with the defaults.
///
/// The cost of the short period is two small heartbeat calls per node and second on the leader.
/// SwarmKit's defaults (5 s × 3) give 16.5 s worst-case detection; set them here for large
/// clusters that prefer fewer heartbeats to fast detection. The default figures will be measured
/// by the `cluster_bench` binary and recorded in BENCHMARKS.md.
///
/// ```
/// use std::time::Duration;
/// use swarm_core::model::DispatcherConfig;
///
/// let config = DispatcherConfig::default();
/// assert_eq!(config.heartbeat_period, Duration::from_millis(500));
/// assert_eq!(config.heartbeat_grace_period(), Duration::from_secs(2));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DispatcherConfig {
    /// How often agents heartbeat (before the ±10 % jitter).
    pub heartbeat_period: Duration,
    /// A node is marked down after `heartbeat_grace_multiplier × announced period` without a
    /// heartbeat, and its tasks are replaced elsewhere.
    pub heartbeat_grace_multiplier: u32,
}

impl DispatcherConfig {
    /// Time without a heartbeat after which a node is down, on the nominal period (the announced
    /// period is within ±10 % of it).
    pub fn heartbeat_grace_period(&self) -> Duration {
        self.heartbeat_period
            .saturating_mul(self.heartbeat_grace_multiplier)
    }
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        DispatcherConfig {
            heartbeat_period: DEFAULT_HEARTBEAT_PERIOD,
            heartbeat_grace_multiplier: DEFAULT_HEARTBEAT_GRACE_MULTIPLIER,
        }
    }
}
