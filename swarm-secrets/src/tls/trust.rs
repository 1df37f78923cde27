//! What a node trusts: the cluster root CA, the cluster id and the revocation list.

use std::fmt;
use std::sync::Arc;

use rustls::{CertificateError, RootCertStore};
use rustls_pki_types::CertificateDer;

use super::PeerIdentity;
use crate::cert_info::{NodeCertInfo, parse_x509};
use crate::error::{Result, SecretsError};
use crate::join_token::JoinToken;
use crate::node_id::ClusterId;
use crate::revocation::RevocationList;

/// What a node trusts: the cluster root CA, the cluster id and the revocation list.
#[derive(Clone)]
pub struct ClusterTrust {
    ca_cert: CertificateDer<'static>,
    pub(super) roots: Arc<RootCertStore>,
    pub(super) cluster_id: ClusterId,
    pub(super) revocations: RevocationList,
}

impl ClusterTrust {
    /// Trust the CA certificate `ca_cert_der` for cluster `cluster_id`, refusing the node ids
    /// in `revocations` (shared: later revocations apply to later handshakes).
    pub fn new(
        ca_cert_der: &[u8],
        cluster_id: ClusterId,
        revocations: RevocationList,
    ) -> Result<Self> {
        let ca_cert = CertificateDer::from(ca_cert_der.to_vec());
        let mut roots = RootCertStore::empty();
        roots
            .add(ca_cert.clone())
            .map_err(|e| SecretsError::Certificate(format!("root CA not usable: {e}")))?;
        Ok(ClusterTrust {
            ca_cert,
            roots: Arc::new(roots),
            cluster_id,
            revocations,
        })
    }

    /// Also trusts `ca_cert_der` — for a root CA rotation: while nodes move to certificates of
    /// the new root, every node trusts both roots; once all have renewed, build the trust from
    /// the new root alone (and re-pin the join tokens with [`crate::JoinTokens::set_ca_digest`]).
    /// [`ClusterTrust::ca_cert_der`] stays the first root.
    pub fn with_additional_root(mut self, ca_cert_der: &[u8]) -> Result<Self> {
        let mut roots = (*self.roots).clone();
        roots
            .add(CertificateDer::from(ca_cert_der.to_vec()))
            .map_err(|e| {
                SecretsError::Certificate(format!("additional root CA not usable: {e}"))
            })?;
        self.roots = Arc::new(roots);
        Ok(self)
    }

    /// Trust for a node that is joining: checks the downloaded root CA certificate against the
    /// digest pinned in its join token (constant time) before trusting it, and takes the
    /// cluster id from the CA certificate's organization.
    pub fn for_join(
        token: &JoinToken,
        downloaded_ca_cert_der: &[u8],
        revocations: RevocationList,
    ) -> Result<Self> {
        token.verify_ca(downloaded_ca_cert_der)?;
        let ca = parse_x509(downloaded_ca_cert_der)?;
        if !ca.is_ca() {
            return Err(SecretsError::Certificate(
                "root is not a CA certificate".into(),
            ));
        }
        let cluster = ca
            .subject()
            .iter_organization()
            .next()
            .and_then(|o| o.as_str().ok())
            .ok_or_else(|| {
                SecretsError::Certificate("root CA names no cluster (organization)".into())
            })?;
        ClusterTrust::new(
            downloaded_ca_cert_der,
            ClusterId::new(cluster)?,
            revocations,
        )
    }

    /// The trusted root CA certificate.
    pub fn ca_cert_der(&self) -> &CertificateDer<'static> {
        &self.ca_cert
    }

    /// The cluster id every peer certificate must carry.
    pub fn cluster_id(&self) -> &ClusterId {
        &self.cluster_id
    }

    /// The shared revocation list.
    pub fn revocations(&self) -> &RevocationList {
        &self.revocations
    }

    /// Checks the identity in an already chain-verified certificate.
    pub(super) fn check_identity(
        &self,
        end_entity: &CertificateDer<'_>,
    ) -> Result<PeerIdentity, rustls::Error> {
        let info = NodeCertInfo::parse(end_entity).map_err(|e| {
            tracing::warn!(error = %e, "TLS peer refused: certificate carries no node identity");
            rustls::Error::InvalidCertificate(CertificateError::BadEncoding)
        })?;
        if info.cluster_id != self.cluster_id {
            tracing::warn!(
                node_id = %info.node_id,
                peer_cluster = %info.cluster_id,
                cluster = %self.cluster_id,
                "TLS peer refused: certificate of another cluster"
            );
            return Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ));
        }
        if self.revocations.is_revoked(&info.node_id) {
            tracing::warn!(node_id = %info.node_id, role = %info.role, "TLS peer refused: node is revoked");
            return Err(rustls::Error::InvalidCertificate(CertificateError::Revoked));
        }
        Ok(PeerIdentity {
            node_id: info.node_id,
            role: info.role,
            cluster_id: info.cluster_id,
        })
    }
}

impl fmt::Debug for ClusterTrust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterTrust")
            .field("cluster_id", &self.cluster_id)
            .field("revoked_nodes", &self.revocations.len())
            .finish_non_exhaustive()
    }
}
