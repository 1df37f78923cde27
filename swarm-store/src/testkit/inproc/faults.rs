//! Fault settings of the in-process network.

use std::time::Duration;

/// How long a [`Transport::call`](crate::transport::Transport::call) waits for its response by
/// default before failing with [`TransportError::Timeout`](crate::transport::TransportError::Timeout):
/// the store's default request deadline ([`StoreConfig::new`](crate::StoreConfig::new)'s
/// `request_timeout_ms`, 5 s), so a call is never cut off before the request it serves gives
/// up. The store itself calls
/// [`Transport::call_within`](crate::transport::Transport::call_within) with what is left of
/// each request's deadline (or openraft's per-RPC timeout), which this network honours exactly;
/// this default only bounds plain `call`s.
pub const DEFAULT_INPROC_CALL_TIMEOUT: Duration = Duration::from_millis(5_000);

/// The most handler invocations a member may have pending (delivered or delayed) at once; further
/// requests are dropped as by a full receive queue. Bounds memory under heavy duplication.
pub const MAX_PENDING_DELIVERIES_PER_MEMBER: usize = 4096;

/// Settings of an [`InProcNetwork`](super::InProcNetwork).
#[derive(Clone, Debug)]
pub struct InProcConfig {
    /// How long [`Transport::call`](crate::transport::Transport::call) waits for a response
    /// ([`Transport::call_within`](crate::transport::Transport::call_within) takes the caller's
    /// timeout instead).
    pub call_timeout: Duration,
}

impl Default for InProcConfig {
    fn default() -> Self {
        InProcConfig {
            call_timeout: DEFAULT_INPROC_CALL_TIMEOUT,
        }
    }
}

/// Faults applied to the messages travelling one way over one link (requests from `a` to `b`,
/// or responses from `b` back to `a`, each direction has its own settings).
///
/// Every decision is drawn from the network's seeded generator, so a run replays exactly given
/// its seed and the same order of calls.
///
/// # Example
/// ```
/// use std::time::Duration;
/// use swarm_store::testkit::inproc::LinkFaults;
/// let flaky = LinkFaults::none()
///     .with_drop_probability(0.1)
///     .with_delay(Duration::from_millis(1), Duration::from_millis(20))
///     .with_duplicate_probability(0.05);
/// assert!(flaky.validate().is_ok());
/// assert!(LinkFaults::none().with_drop_probability(1.5).validate().is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct LinkFaults {
    /// Probability in `[0, 1]` that a message is lost.
    pub drop_probability: f64,
    /// Smallest delay added to a message.
    pub delay_min: Duration,
    /// Largest delay added to a message (uniform between `delay_min` and this).
    pub delay_max: Duration,
    /// Probability in `[0, 1]` that a request is delivered twice (the handler runs twice; the
    /// caller sees one response). Applies to requests only.
    pub duplicate_probability: f64,
}

impl Default for LinkFaults {
    fn default() -> Self {
        LinkFaults::none()
    }
}

impl LinkFaults {
    /// A perfect link: no loss, no delay, no duplicates.
    pub const fn none() -> Self {
        LinkFaults {
            drop_probability: 0.0,
            delay_min: Duration::ZERO,
            delay_max: Duration::ZERO,
            duplicate_probability: 0.0,
        }
    }

    /// Sets the probability of losing a message.
    pub fn with_drop_probability(mut self, p: f64) -> Self {
        self.drop_probability = p;
        self
    }

    /// Sets the delay range.
    pub fn with_delay(mut self, min: Duration, max: Duration) -> Self {
        self.delay_min = min;
        self.delay_max = max;
        self
    }

    /// Sets the probability of delivering a request twice.
    pub fn with_duplicate_probability(mut self, p: f64) -> Self {
        self.duplicate_probability = p;
        self
    }

    /// Checks the settings; the error names the offending field.
    pub fn validate(&self) -> Result<(), String> {
        for (name, p) in [
            ("drop_probability", self.drop_probability),
            ("duplicate_probability", self.duplicate_probability),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("{name} must be within [0, 1], got {p}"));
            }
        }
        if self.delay_min > self.delay_max {
            return Err(format!(
                "delay_min ({:?}) must not exceed delay_max ({:?})",
                self.delay_min, self.delay_max
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemberId, StoreConfig};

    #[test]
    fn default_call_timeout_is_the_default_request_deadline() {
        let store = StoreConfig::new(MemberId(1), "m1");
        assert_eq!(
            DEFAULT_INPROC_CALL_TIMEOUT,
            Duration::from_millis(store.request_timeout_ms)
        );
    }
}
