//! The last failure of a call to each peer, recorded by a wrapper around the transport every
//! call of this member goes through (Raft's messages, forwarded writes and reads): what
//! `status()` and `QuorumRisk` report, so a misconfigured peer (wrong certificate, wrong
//! address) names itself.

use super::network::DynTransport;
use crate::transport::{MemberId, TransportError};
use bytes::Bytes;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// While calls to a peer keep failing, its failure is logged when it starts and then at most
/// once per this interval.
pub(crate) const PEER_ERROR_LOG_INTERVAL: Duration = Duration::from_secs(30);

struct Failure {
    detail: String,
    logged_at: Instant,
}

/// Each peer's last call failure, cleared by its next success.
#[derive(Default)]
pub(crate) struct PeerErrors {
    failures: Mutex<BTreeMap<u64, Failure>>,
}

impl PeerErrors {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<u64, Failure>> {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn succeeded(&self, peer: MemberId) {
        if self.lock().remove(&peer.0).is_some() {
            tracing::info!(%peer, "calls to the peer succeed again");
        }
    }

    fn failed(&self, peer: MemberId, error: &TransportError) {
        if matches!(error, TransportError::Shutdown) {
            return;
        }
        let now = Instant::now();
        let mut failures = self.lock();
        // A timeout says less than the failure before it (a refused certificate, a refused
        // connection): keep that one, which is what the operator must fix.
        let detail = match (error, failures.get(&peer.0)) {
            (TransportError::Timeout(_), Some(previous)) => previous.detail.clone(),
            _ => error.to_string(),
        };
        let log = failures.get(&peer.0).is_none_or(|previous| {
            now.duration_since(previous.logged_at) >= PEER_ERROR_LOG_INTERVAL
        });
        let logged_at = match failures.get(&peer.0) {
            Some(previous) if !log => previous.logged_at,
            _ => now,
        };
        failures.insert(
            peer.0,
            Failure {
                detail: detail.clone(),
                logged_at,
            },
        );
        drop(failures);
        if log {
            tracing::warn!(%peer, error = %detail, "call to a peer failed");
        }
    }

    /// The last failure of a call to `peer` since its last success.
    pub(crate) fn last_error(&self, peer: u64) -> Option<String> {
        self.lock().get(&peer).map(|f| f.detail.clone())
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A transport that records each call's outcome in a [`PeerErrors`].
pub(crate) struct RecordingTransport {
    inner: Arc<dyn DynTransport>,
    errors: Arc<PeerErrors>,
}

impl RecordingTransport {
    pub(crate) fn new(inner: Arc<dyn DynTransport>, errors: Arc<PeerErrors>) -> Self {
        RecordingTransport { inner, errors }
    }
}

impl DynTransport for RecordingTransport {
    fn call_dyn(
        &self,
        to: MemberId,
        request: Bytes,
        timeout: Duration,
    ) -> BoxFuture<'_, Result<Bytes, TransportError>> {
        Box::pin(async move {
            let result = self.inner.call_dyn(to, request, timeout).await;
            match &result {
                Ok(_) => self.errors.succeeded(to),
                Err(e) => self.errors.failed(to, e),
            }
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_kept_until_the_next_success() {
        let errors = PeerErrors::default();
        let auth = TransportError::Auth {
            peer: MemberId(2),
            detail: "role swarm-worker".into(),
        };
        errors.failed(MemberId(2), &auth);
        let e = errors.last_error(2).expect("recorded");
        assert!(e.contains("member-2") && e.contains("swarm-worker"), "{e}");
        assert_eq!(errors.last_error(3), None);
        errors.failed(MemberId(2), &TransportError::Timeout(MemberId(2)));
        let kept = errors.last_error(2).expect("recorded");
        assert!(
            kept.contains("swarm-worker"),
            "a timeout hid the cause: {kept}"
        );
        errors.succeeded(MemberId(2));
        assert_eq!(errors.last_error(2), None);
        errors.failed(MemberId(2), &TransportError::Shutdown);
        assert_eq!(
            errors.last_error(2),
            None,
            "our own shutdown is not the peer's"
        );
    }
}
