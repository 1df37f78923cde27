//! How often one node may register: a fixed window per node (SwarmKit's rate limit).

/// Registrations one node may make per window (SwarmKit: 3).
pub const MAX_REGISTRATIONS_PER_WINDOW: u32 = 3;
/// The window, in milliseconds (SwarmKit: 8 s).
pub const REGISTRATION_WINDOW_MS: u64 = 8_000;

/// One node's registrations in the current window. A refused attempt does not extend the
/// window, so an agent that keeps retrying is let in again once the window has passed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RegistrationWindow {
    started_ms: u64,
    count: u32,
}

impl RegistrationWindow {
    /// Counts a registration at `now_ms`: `Ok` if allowed, else `Err(retry_after_ms)`.
    pub(crate) fn admit(&mut self, now_ms: u64) -> Result<(), u64> {
        if self.count == 0 || now_ms.saturating_sub(self.started_ms) >= REGISTRATION_WINDOW_MS {
            self.started_ms = now_ms;
            self.count = 0;
        }
        if self.count >= MAX_REGISTRATIONS_PER_WINDOW {
            let ends_ms = self.started_ms.saturating_add(REGISTRATION_WINDOW_MS);
            return Err(ends_ms.saturating_sub(now_ms));
        }
        self.count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_per_window_then_refused_until_the_window_ends() {
        let mut w = RegistrationWindow::default();
        assert_eq!(w.admit(1_000), Ok(()));
        assert_eq!(w.admit(2_000), Ok(()));
        assert_eq!(w.admit(3_000), Ok(()));
        assert_eq!(w.admit(3_500), Err(5_500));
        // Refusals do not extend the window.
        assert_eq!(w.admit(8_999), Err(1));
        assert_eq!(w.admit(9_000), Ok(()));
        assert_eq!(w.admit(9_001), Ok(()));
        assert_eq!(w.admit(9_002), Ok(()));
        assert_eq!(w.admit(9_003), Err(7_997));
    }

    #[test]
    fn time_going_backwards_does_not_underflow() {
        let mut w = RegistrationWindow::default();
        for _ in 0..3 {
            assert_eq!(w.admit(10_000), Ok(()));
        }
        assert_eq!(w.admit(5_000), Err(13_000));
    }
}
