//! The server-certificate verifier of cluster clients.

use std::fmt;

use rustls::CertificateError;
use rustls::client::danger::{ServerCertVerified, ServerCertVerifier};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use super::{ClusterTrust, LiveTrust};
use crate::error::Result;
use crate::node_id::Role;

/// Verifies server certificates with the trust current at each handshake: WebPKI against the
/// cluster's root CA(s) (including the server name), then cluster id, revocation, and the name
/// asked for: when it is a role, the certificate's role; otherwise, the certificate's node id
/// (CN). The name is compared in lowercase, as TLS compares names without case and node ids
/// are lowercase.
pub struct ClusterServerCertVerifier {
    trust: LiveTrust,
}

impl ClusterServerCertVerifier {
    /// A verifier of servers of the cluster, with `trust` as it is now.
    pub fn new(trust: &ClusterTrust) -> Result<Self> {
        Ok(Self::live(&LiveTrust::new(trust.clone())))
    }

    /// A verifier that reads `trust` at every handshake, so that [`LiveTrust::replace`] applies
    /// to the next one.
    pub fn live(trust: &LiveTrust) -> Self {
        ClusterServerCertVerifier {
            trust: trust.clone(),
        }
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
        let peer = self.trust.snapshot().verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
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

    verify_handshake_signatures!();
}
