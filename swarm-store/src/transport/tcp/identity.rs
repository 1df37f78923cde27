//! Mapping a peer's TLS certificate to its member id.

use crate::transport::MemberId;
use rustls_pki_types::CertificateDer;
use std::sync::Arc;

/// Maps the end-entity certificate a peer presented (already verified by rustls against the
/// caller's trust roots) to the member it belongs to, or `None` to refuse the peer.
///
/// The transport calls it on both sides: the server learns who a client is (the `from` given to
/// the [`RpcHandler`](crate::transport::RpcHandler)), and the client checks that the server it
/// reached is the member it meant to call.
pub type PeerIdentifier = Arc<dyn Fn(&CertificateDer<'_>) -> Option<MemberId> + Send + Sync>;

/// A [`PeerIdentifier`] that reads the member id from the certificate's subject common name,
/// written as a decimal number (`"7"`) or as [`MemberId`]'s display form (`"member-7"`).
///
/// # Example
/// ```
/// use swarm_store::transport::tcp::member_id_from_common_name;
/// use rustls_pki_types::CertificateDer;
/// // Not a certificate: refused, no panic.
/// assert_eq!(member_id_from_common_name(&CertificateDer::from(vec![1, 2, 3])), None);
/// ```
pub fn member_id_from_common_name(cert: &CertificateDer<'_>) -> Option<MemberId> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let mut names = parsed.subject().iter_common_name();
    let cn = names.next()?.as_str().ok()?;
    if names.next().is_some() {
        // Two common names: ambiguous, refuse.
        return None;
    }
    let digits = cn.strip_prefix("member-").unwrap_or(cn);
    digits.parse::<u64>().ok().map(MemberId)
}

/// [`member_id_from_common_name`] as a [`PeerIdentifier`].
pub fn common_name_identifier() -> PeerIdentifier {
    Arc::new(member_id_from_common_name)
}
