//! The client-certificate verifier of cluster servers.

use std::fmt;

use rustls::DistinguishedName;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls_pki_types::{CertificateDer, UnixTime};

use super::{ClusterTrust, LiveTrust};
use crate::error::Result;

/// Verifies client certificates with the trust current at each handshake: WebPKI against the
/// cluster's root CA(s), then cluster id and revocation.
///
/// It sends no CA names in its certificate request: the roots may change between handshakes,
/// and a node of the cluster has one certificate to present anyway.
pub struct ClusterClientCertVerifier {
    trust: LiveTrust,
    mandatory: bool,
}

impl ClusterClientCertVerifier {
    /// A verifier of `trust` as it is now, requiring (or, with `mandatory = false`, accepting
    /// the absence of) a client certificate from the cluster CA.
    pub fn new(trust: &ClusterTrust, mandatory: bool) -> Result<Self> {
        Ok(Self::live(&LiveTrust::new(trust.clone()), mandatory))
    }

    /// A verifier that reads `trust` at every handshake, so that [`LiveTrust::replace`] applies
    /// to the next one; `mandatory` as for [`ClusterClientCertVerifier::new`].
    pub fn live(trust: &LiveTrust, mandatory: bool) -> Self {
        ClusterClientCertVerifier {
            trust: trust.clone(),
            mandatory,
        }
    }
}

impl fmt::Debug for ClusterClientCertVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterClientCertVerifier")
            .field("trust", &self.trust)
            .field("mandatory", &self.mandatory)
            .finish()
    }
}

impl ClientCertVerifier for ClusterClientCertVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.trust
            .snapshot()
            .verify_client_cert(end_entity, intermediates, now)?;
        Ok(ClientCertVerified::assertion())
    }

    verify_handshake_signatures!();
}
