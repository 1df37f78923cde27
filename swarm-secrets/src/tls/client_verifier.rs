//! The client-certificate verifier of cluster servers.

use std::fmt;
use std::sync::Arc;

use rustls::DistinguishedName;
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls_pki_types::{CertificateDer, UnixTime};

use super::{ClusterTrust, log_chain_failure, provider};
use crate::error::{Result, SecretsError};

/// Verifies client certificates: WebPKI against the cluster CA, then cluster id and revocation.
pub struct ClusterClientCertVerifier {
    inner: Arc<dyn ClientCertVerifier>,
    trust: ClusterTrust,
    mandatory: bool,
}

impl ClusterClientCertVerifier {
    /// A verifier requiring (or, with `mandatory = false`, accepting the absence of) a client
    /// certificate from the cluster CA.
    pub fn new(trust: &ClusterTrust, mandatory: bool) -> Result<Self> {
        let mut builder =
            WebPkiClientVerifier::builder_with_provider(trust.roots.clone(), provider());
        if !mandatory {
            builder = builder.allow_unauthenticated();
        }
        let inner = builder
            .build()
            .map_err(|e| SecretsError::Certificate(format!("client verifier: {e}")))?;
        Ok(ClusterClientCertVerifier {
            inner,
            trust: trust.clone(),
            mandatory,
        })
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
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.inner
            .verify_client_cert(end_entity, intermediates, now)
            .inspect_err(|e| log_chain_failure("client", end_entity, e))?;
        self.trust.check_identity(end_entity)?;
        Ok(ClientCertVerified::assertion())
    }

    delegate_handshake_signatures!();
}
