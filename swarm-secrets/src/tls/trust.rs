//! What a node trusts: the cluster root CA, the cluster id and the revocation list.

use std::fmt;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;
use rustls::{CertificateError, RootCertStore};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use super::verified_certs::VerifiedCerts;
use super::{PeerIdentity, log_chain_failure, provider};
use crate::cert_info::{NodeCertInfo, parse_x509};
use crate::error::{Result, SecretsError};
use crate::join_token::JoinToken;
use crate::node_id::{ClusterId, NodeId, Role};
use crate::revocation::RevocationList;

/// Why a chain-verified certificate's identity is refused.
enum Refusal {
    /// It carries no node identity (CN, OU, O) this crate accepts.
    NoIdentity(SecretsError),
    /// It names another cluster.
    OtherCluster {
        node_id: NodeId,
        peer_cluster: ClusterId,
    },
    /// Its node id is revoked.
    Revoked { node_id: NodeId, role: Role },
}

/// What a node trusts: the cluster root CA, the cluster id and the revocation list.
///
/// Cheap to clone (the roots, their chain verifiers and the revocation list are shared). To
/// change what running TLS configs trust, hold it in a [`LiveTrust`](super::LiveTrust).
#[derive(Clone)]
pub struct ClusterTrust {
    ca_cert: CertificateDer<'static>,
    roots: Arc<RootCertStore>,
    /// WebPKI chain checks of client certificates against `roots` (certificate required).
    client_chain: Arc<dyn ClientCertVerifier>,
    /// WebPKI chain and server-name checks of server certificates against `roots`.
    server_chain: Arc<WebPkiServerVerifier>,
    pub(super) cluster_id: ClusterId,
    pub(super) revocations: RevocationList,
    /// Certificates [`ClusterTrust::identify_certificate`] found chaining to `roots` (shared by
    /// clones, which have the same roots; a trust with other roots gets its own).
    pub(super) verified: Arc<VerifiedCerts>,
}

/// The WebPKI verifiers (ring provider) of certificate chains ending at `roots`.
fn chain_verifiers(
    roots: &Arc<RootCertStore>,
) -> Result<(Arc<dyn ClientCertVerifier>, Arc<WebPkiServerVerifier>)> {
    let client = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider())
        .build()
        .map_err(|e| SecretsError::Certificate(format!("client verifier: {e}")))?;
    let server = WebPkiServerVerifier::builder_with_provider(roots.clone(), provider())
        .build()
        .map_err(|e| SecretsError::Certificate(format!("server verifier: {e}")))?;
    Ok((client, server))
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
        let roots = Arc::new(roots);
        let (client_chain, server_chain) = chain_verifiers(&roots)?;
        Ok(ClusterTrust {
            ca_cert,
            roots,
            client_chain,
            server_chain,
            cluster_id,
            revocations,
            verified: Arc::default(),
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
        (self.client_chain, self.server_chain) = chain_verifiers(&self.roots)?;
        self.verified = Arc::default();
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

    /// The verified `(node id, role)` a peer's end-entity certificate carries, checked now as
    /// the TLS verifiers check it at a handshake: chain to a trusted root, validity period and
    /// client-authentication use (WebPKI, ring), then a node identity of this cluster (CN =
    /// node id in lowercase, OU = role, O = cluster id) whose node id is not revoked.
    ///
    /// This is the function for transports that hand over the peer's certificate rather than
    /// a rustls connection (e.g. a store transport's peer identifier): it reads the role from
    /// the certificate's OU, which only the cluster CA sets, so a caller can require the
    /// manager role and then map the node id to its own ids. Refusals:
    /// [`SecretsError::Certificate`] (another CA, expired, no node identity, another cluster),
    /// [`SecretsError::Revoked`].
    ///
    /// The chain check of a certificate seen before is remembered (by its SHA-256, with its
    /// validity period, at most [`MAX_VERIFIED_CERTS`](super::MAX_VERIFIED_CERTS)): asked
    /// again about the same bytes inside that period, this trust skips the ECDSA verification
    /// and checks the rest (cluster, revocation) as the first time.
    pub fn identify_certificate(&self, end_entity: &CertificateDer<'_>) -> Result<PeerIdentity> {
        self.identify_certificate_at(end_entity, UnixTime::now())
    }

    /// [`ClusterTrust::identify_certificate`] at time `now`.
    pub(super) fn identify_certificate_at(
        &self,
        end_entity: &CertificateDer<'_>,
        now: UnixTime,
    ) -> Result<PeerIdentity> {
        let key = VerifiedCerts::digest(end_entity);
        let now_time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(now.as_secs());
        let known = match self.verified.get(&key, now_time) {
            Some(info) => Ok(info),
            None => {
                self.client_chain
                    .verify_client_cert(end_entity, &[], now)
                    .map_err(|e| {
                        SecretsError::Certificate(format!(
                            "not a valid certificate of the cluster CA: {e}"
                        ))
                    })?;
                let parsed = NodeCertInfo::parse(end_entity);
                if let Ok(info) = &parsed {
                    self.verified.insert(key, info.clone());
                }
                parsed.map_err(Refusal::NoIdentity)
            }
        };
        known
            .and_then(|info| self.accept(info))
            .map_err(|refusal| match refusal {
                Refusal::NoIdentity(e) => e,
                Refusal::OtherCluster {
                    node_id,
                    peer_cluster,
                } => SecretsError::Certificate(format!(
                    "node {node_id} belongs to cluster {peer_cluster}, not {}",
                    self.cluster_id
                )),
                Refusal::Revoked { node_id, .. } => SecretsError::Revoked(node_id),
            })
    }

    /// [`ClusterTrust::identify_certificate`], then requires a role in `allowed_roles`
    /// ([`SecretsError::RoleNotAllowed`] otherwise): e.g. `&[Role::Manager]` for a peer that
    /// must be a manager.
    ///
    /// ```
    /// use swarm_secrets::tls::ClusterTrust;
    /// use swarm_secrets::{CertPolicy, ClusterCa, ClusterId, NodeId, NodeKey, RevocationList, Role};
    /// let ca = ClusterCa::generate(ClusterId::new("prod")?, CertPolicy::default())?;
    /// let trust = ClusterTrust::new(ca.cert_der(), ClusterId::new("prod")?, RevocationList::new())?;
    /// let key = NodeKey::generate()?;
    /// let manager = ca.issue(&key.csr_der()?, &NodeId::new("m1")?, Role::Manager)?;
    /// let peer = trust.authorize_certificate(&manager.cert_der, &[Role::Manager])?;
    /// assert_eq!((peer.node_id.as_str(), peer.role), ("m1", Role::Manager));
    /// let worker = ca.issue(&key.csr_der()?, &NodeId::new("w1")?, Role::Worker)?;
    /// assert!(trust.authorize_certificate(&worker.cert_der, &[Role::Manager]).is_err());
    /// # Ok::<(), swarm_secrets::SecretsError>(())
    /// ```
    pub fn authorize_certificate(
        &self,
        end_entity: &CertificateDer<'_>,
        allowed_roles: &[Role],
    ) -> Result<PeerIdentity> {
        let peer = self.identify_certificate(end_entity)?;
        if !allowed_roles.contains(&peer.role) {
            return Err(SecretsError::RoleNotAllowed {
                node_id: peer.node_id,
                role: peer.role,
                allowed: allowed_roles.to_vec(),
            });
        }
        Ok(peer)
    }

    /// The identity in an already chain-verified certificate, if this cluster accepts it.
    fn identity(&self, end_entity: &[u8]) -> Result<PeerIdentity, Refusal> {
        let info = NodeCertInfo::parse(end_entity).map_err(Refusal::NoIdentity)?;
        self.accept(info)
    }

    /// The identity a chain-verified certificate carries, if this cluster accepts it now.
    fn accept(&self, info: NodeCertInfo) -> Result<PeerIdentity, Refusal> {
        if info.cluster_id != self.cluster_id {
            return Err(Refusal::OtherCluster {
                node_id: info.node_id,
                peer_cluster: info.cluster_id,
            });
        }
        if self.revocations.is_revoked(&info.node_id) {
            return Err(Refusal::Revoked {
                node_id: info.node_id,
                role: info.role,
            });
        }
        Ok(PeerIdentity {
            node_id: info.node_id,
            role: info.role,
            cluster_id: info.cluster_id,
        })
    }

    /// What the client-certificate verifier checks at a handshake: the chain to one of these
    /// roots (WebPKI: validity, client-authentication use, signatures), then the identity.
    pub(super) fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<PeerIdentity, rustls::Error> {
        self.client_chain
            .verify_client_cert(end_entity, intermediates, now)
            .inspect_err(|e| log_chain_failure("client", end_entity, e))?;
        self.check_identity(end_entity)
    }

    /// What the server-certificate verifier checks at a handshake: the chain to one of these
    /// roots (WebPKI: validity, server-authentication use, signatures, `server_name` among the
    /// certificate's DNS names), then the identity.
    pub(super) fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<PeerIdentity, rustls::Error> {
        self.server_chain
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .inspect_err(|e| log_chain_failure("server", end_entity, e))?;
        self.check_identity(end_entity)
    }

    /// Checks the identity in an already chain-verified certificate, for the TLS verifiers.
    fn check_identity(
        &self,
        end_entity: &CertificateDer<'_>,
    ) -> Result<PeerIdentity, rustls::Error> {
        self.identity(end_entity).map_err(|refusal| match refusal {
            Refusal::NoIdentity(e) => {
                tracing::warn!(error = %e, "TLS peer refused: certificate carries no node identity");
                rustls::Error::InvalidCertificate(CertificateError::BadEncoding)
            }
            Refusal::OtherCluster {
                node_id,
                peer_cluster,
            } => {
                tracing::warn!(
                    node_id = %node_id,
                    peer_cluster = %peer_cluster,
                    cluster = %self.cluster_id,
                    "TLS peer refused: certificate of another cluster"
                );
                rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure)
            }
            Refusal::Revoked { node_id, role } => {
                tracing::warn!(node_id = %node_id, role = %role, "TLS peer refused: node is revoked");
                rustls::Error::InvalidCertificate(CertificateError::Revoked)
            }
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
