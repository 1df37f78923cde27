//! The test CA's identity scheme: the member id in the certificate's common name. For tests
//! only: it ignores roles, and no production CA issues such names (members running with
//! swarm-secrets' CA use [`manager_identifier`](crate::transport::tcp::manager_identifier)).

use crate::transport::MemberId;
use crate::transport::tcp::{PeerIdentifier, PeerRefused};
use rustls_pki_types::CertificateDer;
use std::sync::Arc;

/// Reads the member id from the certificate's subject common name, written as a decimal number
/// (`"7"`) or as [`MemberId`]'s display form (`"member-7"`), as [`TestCa::identity`] issues
/// them.
///
/// [`TestCa::identity`]: super::TestCa::identity
///
/// # Example
/// ```
/// use swarm_store::testkit::member_id_from_common_name;
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

/// [`member_id_from_common_name`] as a [`PeerIdentifier`], for the test CA's member
/// certificates.
pub fn common_name_identifier() -> PeerIdentifier {
    Arc::new(|cert: &CertificateDer<'_>| {
        member_id_from_common_name(cert)
            .ok_or_else(|| PeerRefused::new("the certificate's common name is not a member id"))
    })
}
