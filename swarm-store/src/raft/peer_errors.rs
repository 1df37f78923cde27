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

/// While calls to a peer keep failing, its failure is logged at most once per this interval
/// (and at once when it starts failing or its error changes kind).
pub(crate) const PEER_ERROR_LOG_INTERVAL: Duration = Duration::from_secs(30);

struct Failure {
    detail: String,
    /// The variant of the error, to log a change of kind at once.
    kind: &'static str,
    logged_at: Instant,
}

/// Each peer's last call failure, cleared by its next success.
#[derive(Default)]
pub(crate) struct PeerErrors {
    failures: Mutex<BTreeMap<u64, Failure>>,
}

fn kind(e: &TransportError) -> &'static str {
    match e {
        TransportError::UnknownPeer(_) => "unknown peer",
        TransportError::Unreachable { .. } => "unreachable",
        TransportError::Timeout(_) => "timeout",
        TransportError::FrameTooLarge { .. } => "frame too large",
        TransportError::Protocol { .. } => "protocol",
        TransportError::Auth { .. } => "authentication",
        TransportError::Remote { .. } => "refused or failed by the peer",
        TransportError::Shutdown => "shutdown",
    }
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
        let kind = kind(error);
        let detail = error.to_string();
        let mut failures = self.lock();
        let log = match failures.get(&peer.0) {
            None => true,
            Some(previous) => {
                previous.kind != kind
                    || now.duration_since(previous.logged_at) >= PEER_ERROR_LOG_INTERVAL
            }
        };
        let logged_at = match failures.get(&peer.0) {
            Some(previous) if !log => previous.logged_at,
            _ => now,
        };
        failures.insert(
            peer.0,
            Failure {
                detail: detail.clone(),
                kind,
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
