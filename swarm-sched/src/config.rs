//! Engine settings and the ranking strategy.

/// How the nodes that pass every filter are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Strategy {
    /// SwarmKit's default: spread over preference groups, then fewest tasks of the service,
    /// then fewest tasks in total.
    #[default]
    Spread,
    /// Most allocated node first (Nomad's bin-packing score on CPU and memory), so that
    /// nodes fill up one after the other and whole nodes stay free.
    Binpack,
}

/// Engine settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct EngineConfig {
    /// Ranking strategy.
    pub strategy: Strategy,
    /// A node with at least this many recent failures of a service is ranked last for it
    /// (SwarmKit: 5).
    pub max_recent_failures: u32,
    /// How long a task failure counts as recent, in milliseconds (SwarmKit: 5 minutes).
    pub failure_window_ms: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            strategy: Strategy::Spread,
            max_recent_failures: 5,
            failure_window_ms: 5 * 60 * 1000,
        }
    }
}
