//! The server-certificate verifier of cluster clients.

use std::fmt;
use std::sync::Arc;

use rustls::CertificateError;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{ServerCertVerified, ServerCertVerifier};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use super::{ClusterTrust, log_chain_failure, provider};
use crate::error::{Result, SecretsError};
use crate::node_id::Role;

/// Verifies server certificates: WebPKI against the cluster CA (including the server name),
/// then cluster id, revocation, and the name asked for: when it is a role, the certificate's
/// role; otherwise, the certificate's node id (CN). The name is compared in lowercase, as TLS
/// compares names without case and node ids are lowercase.
pub struct ClusterServerCertVerifier {
    inner: Arc<WebPkiServerVerifier>,
    trust: ClusterTrust,
}

impl ClusterServerCertVerifier {
    /// A verifier for servers of the cluster.
    pub fn new(trust: &ClusterTrust) -> Result<Self> {
        let inner = WebPkiServerVerifier::builder_with_provider(trust.roots.clone(), provider())
            .build()
            .map_err(|e| SecretsError::Certificate(format!("server verifier: {e}")))?;
        Ok(ClusterServerCertVerifier {
            inner,
            trust: trust.clone(),
        })
    }
}

impl fmt::Debug for ClusterServerCertVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterServerCertVerifier")
            .field("trust", &self.trust)
            .finish()
    }
}

impl ServerCertVerifier for ClusterServerCertVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .inspect_err(|e| log_chain_failure("server", end_entity, e))?;
        let peer = self.trust.check_identity(end_entity)?;
        if let ServerName::DnsName(name) = server_name {
            let name = name.as_ref().to_ascii_lowercase();
            let matches = match Role::from_ou(&name) {
                Ok(role) => role == peer.role,
                Err(_) => name == peer.node_id.as_str(),
            };
            if !matches {
                tracing::warn!(
                    node_id = %peer.node_id,
                    role = %peer.role,
                    server_name = %name,
                    "TLS server refused: its certificate is not for the name asked for"
                );
                return Err(rustls::Error::InvalidCertificate(
                    CertificateError::NotValidForName,
                ));
            }
        }
        Ok(ServerCertVerified::assertion())
    }

    delegate_handshake_signatures!();
}
