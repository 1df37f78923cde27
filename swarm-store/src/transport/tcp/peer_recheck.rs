//! Asking the identifier again, on an open connection, about the certificate its peer
//! presented at the handshake: how a revocation (or a removal from the names) reaches
//! connections that are already open.

use super::identity::PeerIdentifier;
use crate::transport::MemberId;
use rustls_pki_types::CertificateDer;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

/// Returns (why) once `identify` no longer maps `cert` to `peer`: checked every `interval` and
/// whenever `recheck` changes. Never returns while the peer stays accepted.
pub(crate) async fn until_peer_refused(
    cert: &CertificateDer<'static>,
    peer: MemberId,
    identify: &PeerIdentifier,
    interval: Duration,
    mut recheck: watch::Receiver<u64>,
) -> String {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // The first tick is immediate; the handshake has just checked the peer.
    ticker.tick().await;
    let mut recheck_open = true;
    loop {
        tokio::select! {
            biased;
            changed = recheck.changed(), if recheck_open => {
                // The sender is gone only when the server or transport is: keep the timer.
                recheck_open = changed.is_ok();
            }
            _ = ticker.tick() => {}
        }
        match identify(cert) {
            Ok(id) if id == peer => {}
            Ok(other) => {
                return format!("the peer's certificate now names {other}, not {peer}");
            }
            Err(refused) => {
                return format!("the peer's certificate is no longer accepted: {refused}");
            }
        }
    }
}
